// event_loop.hpp — the pool's event thread: an epoll reactor and a timer heap.
//
// One thread per pool sleeps in epoll_wait. Readiness of a watched fd, or expiry of a timer
// (a timerfd armed for the earliest one), posts the registered callback to the pool as a
// task; the event thread itself never runs user code.
#pragma once

#include <turquoise/pool.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <queue>
#include <thread>
#include <unordered_map>
#include <vector>

namespace turquoise {

class event_loop {
public:
	enum interest : std::uint32_t { readable = 1, writable = 2 };

	explicit event_loop(pool &owner);
	~event_loop();
	event_loop(const event_loop &) = delete;
	event_loop &operator=(const event_loop &) = delete;

	pool::timer_id add_timer(std::chrono::nanoseconds delay, unique_function<void()> fn);
	bool cancel_timer(pool::timer_id id);

	void watch(int fd, interest what, unique_function<void()> fn);
	void forget(int fd);

	// Stop the thread; pending timers and watches are dropped without running.
	void stop();

private:
	struct watcher {
		unique_function<void()> on_readable;
		unique_function<void()> on_writable;
		bool registered = false; // in the epoll set (possibly disabled by EPOLLONESHOT)
	};
	struct due {
		std::uint64_t when_ns;
		pool::timer_id id;
		bool operator>(const due &o) const {
			return when_ns != o.when_ns ? when_ns > o.when_ns : id > o.id;
		}
	};

	void loop();
	void post(unique_function<void()> fn); // to the pool; dropped if it is shutting down
	void rearm_fd(int fd, const watcher &w, bool added);
	void arm_timerfd(std::uint64_t when_ns);
	void fire_timers();
	void dispatch(int fd, std::uint32_t events);

	pool &owner_;
	int epoll_fd_ = -1;
	int wake_fd_ = -1;  // eventfd: stop
	int timer_fd_ = -1; // timerfd: the earliest timer

	std::mutex mutex_; // guards everything below
	std::unordered_map<int, watcher> watchers_;
	std::priority_queue<due, std::vector<due>, std::greater<due>> heap_;
	std::unordered_map<pool::timer_id, unique_function<void()>> timers_;
	pool::timer_id next_timer_ = 1;
	std::uint64_t timerfd_armed_ns_ = 0; // 0: disarmed
	bool stopped_ = false;

	std::thread thread_;
};

} // namespace turquoise
