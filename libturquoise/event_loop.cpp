// event_loop.cpp — epoll reactor and timers for the pool.
#include "event_loop.hpp"

#include <turquoise/guarded_lock.hpp>

#include <cerrno>
#include <stdexcept>
#include <ctime>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <system_error>
#include <unistd.h>

namespace turquoise {
namespace {

std::uint64_t monotonic_ns() {
	timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return std::uint64_t(ts.tv_sec) * 1000000000u + std::uint64_t(ts.tv_nsec);
}

[[noreturn]] void throw_errno(const char *what) {
	throw std::system_error(errno, std::generic_category(), what);
}

// Sentinels in epoll_event.data.u64 (fds are small non-negative ints).
constexpr std::uint64_t wake_tag = ~std::uint64_t{0};
constexpr std::uint64_t timer_tag = ~std::uint64_t{0} - 1;

} // namespace

event_loop::event_loop(pool &owner) : owner_(owner) {
	epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
	wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	timer_fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (epoll_fd_ < 0 || wake_fd_ < 0 || timer_fd_ < 0)
		throw_errno("turquoise: event loop set-up");
	epoll_event ev{};
	ev.events = EPOLLIN;
	ev.data.u64 = wake_tag;
	epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
	ev.data.u64 = timer_tag;
	epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, timer_fd_, &ev);
	thread_ = std::thread([this] { loop(); });
}

event_loop::~event_loop() {
	stop();
	close(epoll_fd_);
	close(wake_fd_);
	close(timer_fd_);
}

void event_loop::stop() {
	{
		guarded_lock lock(mutex_);
		if (stopped_)
			return;
		stopped_ = true;
	}
	std::uint64_t one = 1;
	[[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof one);
	if (thread_.joinable())
		thread_.join();
	// Destroy the dropped callbacks outside the lock: their captures may call back into us.
	std::unordered_map<int, watcher> watchers;
	std::unordered_map<pool::timer_id, unique_function<void()>> timers;
	{
		guarded_lock lock(mutex_);
		for (auto &[fd, w] : watchers_)
			epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
		watchers.swap(watchers_);
		timers.swap(timers_);
		heap_ = {};
	}
}

void event_loop::post(unique_function<void()> fn) {
	try {
		owner_.post(std::move(fn));
	} catch (const std::exception &) {
		// The pool is shutting down: the callback is dropped, like every pending one.
	}
}

pool::timer_id event_loop::add_timer(std::chrono::nanoseconds delay, unique_function<void()> fn) {
	std::uint64_t when = monotonic_ns() + static_cast<std::uint64_t>(std::max<std::int64_t>(0, delay.count()));
	guarded_lock lock(mutex_);
	if (stopped_)
		throw std::logic_error("turquoise: after() on a pool that is shutting down");
	pool::timer_id id = next_timer_++;
	timers_.emplace(id, std::move(fn));
	heap_.push({when, id});
	if (timerfd_armed_ns_ == 0 || when < timerfd_armed_ns_)
		arm_timerfd(when);
	return id;
}

// Callbacks leave the maps under the lock but are destroyed after it is released: their
// captures may hold the last reference to a promise, whose callbacks may call back into us.
bool event_loop::cancel_timer(pool::timer_id id) {
	unique_function<void()> dropped;
	guarded_lock lock(mutex_);
	auto it = timers_.find(id);
	if (it == timers_.end())
		return false;
	dropped = std::move(it->second);
	timers_.erase(it); // its heap entry is skipped when it comes up
	return true;
}

void event_loop::arm_timerfd(std::uint64_t when_ns) {
	itimerspec spec{};
	spec.it_value.tv_sec = static_cast<time_t>(when_ns / 1000000000u);
	spec.it_value.tv_nsec = static_cast<long>(when_ns % 1000000000u);
	if (spec.it_value.tv_sec == 0 && spec.it_value.tv_nsec == 0)
		spec.it_value.tv_nsec = 1;
	timerfd_settime(timer_fd_, TFD_TIMER_ABSTIME, &spec, nullptr);
	timerfd_armed_ns_ = when_ns;
}

void event_loop::fire_timers() {
	std::uint64_t expirations;
	[[maybe_unused]] ssize_t n = read(timer_fd_, &expirations, sizeof expirations);
	std::vector<unique_function<void()>> ready;
	{
		guarded_lock lock(mutex_);
		timerfd_armed_ns_ = 0;
		std::uint64_t now = monotonic_ns();
		while (!heap_.empty() && heap_.top().when_ns <= now) {
			auto it = timers_.find(heap_.top().id);
			heap_.pop();
			if (it != timers_.end()) {
				ready.push_back(std::move(it->second));
				timers_.erase(it);
			}
		}
		while (!heap_.empty() && !timers_.count(heap_.top().id))
			heap_.pop(); // cancelled
		if (!heap_.empty())
			arm_timerfd(heap_.top().when_ns);
	}
	for (auto &fn : ready) // in due order, so in order of posting
		post(std::move(fn));
}

// A watched fd stays in the epoll set between waits (EPOLLONESHOT only disables it), so a new
// wait is a MOD. The fd may have been closed (and its number reused) without forget(): then
// the kernel has dropped it, MOD says ENOENT, and it is added afresh; and the other way round.
void event_loop::rearm_fd(int fd, const watcher &w, bool added) {
	epoll_event ev{};
	ev.events = EPOLLONESHOT | (w.on_readable ? EPOLLIN | EPOLLRDHUP : 0u) | (w.on_writable ? EPOLLOUT : 0u);
	ev.data.u64 = static_cast<std::uint64_t>(fd);
	int op = added ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
	if (epoll_ctl(epoll_fd_, op, fd, &ev) == 0)
		return;
	if ((op == EPOLL_CTL_MOD && errno == ENOENT) || (op == EPOLL_CTL_ADD && errno == EEXIST)) {
		op = op == EPOLL_CTL_MOD ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
		if (epoll_ctl(epoll_fd_, op, fd, &ev) == 0)
			return;
	}
	throw_errno("turquoise: epoll_ctl");
}

void event_loop::watch(int fd, interest what, unique_function<void()> fn) {
	unique_function<void()> previous, rejected; // destroyed after unlocking
	guarded_lock lock(mutex_);
	if (stopped_)
		throw std::logic_error("turquoise: fd wait on a pool that is shutting down");
	auto [it, added] = watchers_.try_emplace(fd);
	unique_function<void()> &slot = what == readable ? it->second.on_readable : it->second.on_writable;
	previous = std::move(slot);
	slot = std::move(fn);
	try {
		rearm_fd(fd, it->second, !it->second.registered);
		it->second.registered = true;
	} catch (...) {
		rejected = std::move(slot);
		slot = std::move(previous);
		if (added)
			watchers_.erase(it);
		throw;
	}
}

void event_loop::forget(int fd) {
	watcher dropped; // destroyed after unlocking: its callbacks' captures may call back into us
	guarded_lock lock(mutex_);
	auto it = watchers_.find(fd);
	if (it == watchers_.end())
		return;
	dropped = std::move(it->second);
	watchers_.erase(it);
	epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
}

void event_loop::dispatch(int fd, std::uint32_t events) {
	unique_function<void()> read_cb, write_cb;
	watcher gone; // an fd that vanished: its other wait is dropped after unlocking
	{
		guarded_lock lock(mutex_);
		auto it = watchers_.find(fd);
		if (it == watchers_.end())
			return;
		watcher &w = it->second;
		bool trouble = events & (EPOLLERR | EPOLLHUP);
		if (events & (EPOLLIN | EPOLLRDHUP) || trouble)
			read_cb = std::move(w.on_readable);
		if (events & EPOLLOUT || trouble)
			write_cb = std::move(w.on_writable);
		if (w.on_readable || w.on_writable) {
			try {
				rearm_fd(fd, w, false); // the other interest is still pending
			} catch (const std::system_error &) {
				// The fd went away under us (closed without forget()): nothing will come.
				gone = std::move(w);
				watchers_.erase(it);
			}
		}
		// Otherwise the entry stays, disabled (EPOLLONESHOT): the next wait re-enables it.
	}
	if (read_cb)
		post(std::move(read_cb));
	if (write_cb)
		post(std::move(write_cb));
}

void event_loop::loop() {
	epoll_event events[64];
	for (;;) {
		int n = epoll_wait(epoll_fd_, events, 64, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		for (int i = 0; i < n; ++i) {
			std::uint64_t tag = events[i].data.u64;
			if (tag == wake_tag)
				return;
			if (tag == timer_tag)
				fire_timers();
			else
				dispatch(static_cast<int>(tag), events[i].events);
		}
	}
}

} // namespace turquoise
