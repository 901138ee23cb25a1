// clock.cpp — Clock (turquoise/async/clock.hpp): timers on a pausable clock, fired by a pool.
//
// The timers live in one ordered map under one mutex. A running clock arms one pool timer
// (pool::after) for the earliest deadline; a tick fires every due timer. The pool is the one
// the runtime scope installed (detail::clock_use), else the current runtime's, looked up
// when needed; when that pool has shut down, a plain thread started then does the ticking.
#include <turquoise/async/clock.hpp>

#include <turquoise/guarded_lock.hpp>
#include <turquoise/pool.hpp>
#include <turquoise/process/process.hpp>
#include <turquoise/runtime.hpp>

#include "../runtime_hooks.hpp"

#include <libinger.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

namespace turquoise {
namespace {

using Time = Clock::Time;
using Duration = Clock::Duration;

struct clock_state {
	std::mutex mutex;
	std::condition_variable wake;    // the timer thread's
	std::condition_variable settled; // settle()'s
	bool paused = false;
	Time current{}; // now() while paused
	std::map<std::pair<Time, std::uint64_t>, unique_function<void()>> timers;
	std::uint64_t next_id = 1;
	std::uint64_t inflight = 0; // ticks running timer callbacks
	pool *backend = nullptr;  // nullptr: look up the current runtime's
	Time armed = Time::max(); // earliest pool timer set for a tick
	bool thread_started = false;
};

// Never destroyed: the detached timer thread may outlive static destruction. A namespace-
// scope object (not a function's static): one definition in this library, initialised
// before main().
clock_state *const state_ = new clock_state;

Time now_locked(clock_state &s) { return s.paused ? s.current : std::chrono::steady_clock::now(); }

bool has_due_locked(clock_state &s) {
	return !s.timers.empty() && s.timers.begin()->first.first <= now_locked(s);
}

void tick();
void thread_main();

void start_thread_locked(clock_state &s) {
	if (s.thread_started)
		return;
	s.thread_started = true;
	std::thread(thread_main).detach();
}

// The pool that fires the timers (nullptr: none usable, the thread does).
pool *backend_locked(clock_state &s) {
	if (!s.backend) {
		try {
			s.backend = &runtime::current().workers();
		} catch (const std::exception &e) { // e.g. an invalid environment variable
			std::fprintf(stderr, "turquoise: Clock timers fall back to a thread: %s\n", e.what());
		}
	}
	return s.backend;
}

// Have due timers fired soon, by the pool or the thread.
void kick_locked(clock_state &s) {
	if (backend_locked(s)) {
		try {
			s.backend->post([] { tick(); });
			return;
		} catch (const std::logic_error &) {
			s.backend = nullptr; // shut down: the thread takes over
		}
	}
	start_thread_locked(s);
	s.wake.notify_all();
}

// Real-time wake-up at `deadline` (clock running).
void arm_locked(clock_state &s, Time deadline) {
	if (backend_locked(s)) {
		if (deadline >= s.armed)
			return;
		try {
			auto delay = deadline - std::chrono::steady_clock::now();
			s.backend->after(std::max(std::chrono::duration_cast<Duration>(delay), Duration::zero()),
			                 [] { tick(); });
			s.armed = deadline;
			return;
		} catch (const std::logic_error &) {
			s.backend = nullptr;
		}
	}
	start_thread_locked(s);
	s.wake.notify_all();
}

// Fire every timer due now, in deadline order, on the calling thread.
void tick() {
	clock_state &s = *state_;
	std::vector<unique_function<void()>> due;
	{
		guarded_lock lock(s.mutex);
		Time now = now_locked(s);
		while (!s.timers.empty() && s.timers.begin()->first.first <= now) {
			due.push_back(std::move(s.timers.begin()->second));
			s.timers.erase(s.timers.begin());
		}
		++s.inflight;
		if (s.backend && !s.paused && now >= s.armed)
			s.armed = Time::max(); // this was (or overtook) the armed pool timer
		if (!s.paused && !s.timers.empty())
			arm_locked(s, s.timers.begin()->first.first);
	}
	for (auto &fn : due)
		fn();
	{
		linger_critical_begin();
		due.clear();
		linger_critical_end();
	}
	{
		guarded_lock lock(s.mutex);
		--s.inflight;
	}
	s.settled.notify_all();
}

void thread_main() {
	clock_state &s = *state_;
	std::unique_lock lock(s.mutex); // a plain thread, never preempted
	for (;;) {
		if (s.backend || s.timers.empty()) {
			s.wake.wait(lock);
			continue;
		}
		Time first = s.timers.begin()->first.first;
		if (first <= now_locked(s)) {
			lock.unlock();
			tick();
			lock.lock();
		} else if (s.paused) {
			s.wake.wait(lock);
		} else {
			s.wake.wait_until(lock, first);
		}
	}
}

} // namespace

namespace detail {
void clock_use(pool *p) {
	clock_state &s = *state_;
	guarded_lock lock(s.mutex);
	s.backend = p;
	s.armed = Time::max();
	s.wake.notify_all();
	if (s.timers.empty())
		return;
	if (has_due_locked(s))
		kick_locked(s);
	else if (!s.paused)
		arm_locked(s, s.timers.begin()->first.first);
}

void settle_timers() {
	clock_state &s = *state_;
	guarded_lock lock(s.mutex);
	while (has_due_locked(s) || s.inflight > 0) {
		if (s.settled.wait_for(lock.get(), std::chrono::milliseconds(50)) == std::cv_status::timeout &&
		    has_due_locked(s))
			kick_locked(s); // e.g. a tick posted to a pool that was then shut down
	}
}
} // namespace detail

Time Clock::now() {
	guarded_lock lock(state_->mutex);
	return now_locked(*state_);
}

bool Clock::paused() {
	guarded_lock lock(state_->mutex);
	return state_->paused;
}

void Clock::pause() {
	clock_state &s = *state_;
	guarded_lock lock(s.mutex);
	if (s.paused)
		return;
	s.current = std::chrono::steady_clock::now();
	s.paused = true;
}

void Clock::resume() {
	clock_state &s = *state_;
	guarded_lock lock(s.mutex);
	if (!s.paused)
		return;
	s.paused = false;
	s.armed = Time::max();
	if (!s.timers.empty())
		arm_locked(s, s.timers.begin()->first.first);
}

void Clock::advance(Duration d) {
	clock_state &s = *state_;
	guarded_lock lock(s.mutex);
	if (!s.paused)
		throw std::logic_error("Clock::advance() while the clock is running");
	if (d > Duration::zero())
		s.current += d;
	if (has_due_locked(s))
		kick_locked(s);
}

// As libprocess's: also waits for the processes to go idle (a delay()ed dispatch has then
// run, not only been queued), without a limit.
void Clock::settle() {
	while (!ProcessManager::settle(std::chrono::hours(1))) {
	}
}

Timer Clock::timer(Duration d, unique_function<void()> fn) {
	clock_state &s = *state_;
	guarded_lock lock(s.mutex);
	Time now = now_locked(s);
	Timer t{s.next_id++, now + std::max(d, Duration::zero())};
	s.timers.emplace(std::make_pair(t.deadline, t.id), std::move(fn));
	if (t.deadline <= now)
		kick_locked(s);
	else if (!s.paused)
		arm_locked(s, t.deadline);
	return t;
}

bool Clock::cancel(const Timer &t) {
	unique_function<void()> dropped; // destroyed after the lock is released
	clock_state &s = *state_;
	guarded_lock lock(s.mutex);
	auto it = s.timers.find(std::make_pair(t.deadline, t.id));
	if (it == s.timers.end())
		return false;
	dropped = std::move(it->second);
	s.timers.erase(it);
	return true;
}

std::size_t Clock::pending_timers() {
	guarded_lock lock(state_->mutex);
	return state_->timers.size();
}

} // namespace turquoise
