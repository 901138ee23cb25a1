// turquoise/async/clock.hpp — the async layer's clock and timers, pausable for tests.
//
// Running clock: now() is std::chrono::steady_clock::now(). Timers fire once their deadline
// has passed, driven by the pool given to Clock::use() (its after() timers; the callbacks run
// as pool tasks) or, without one, by an internal timer thread started on first use (the
// callbacks run on that thread).
//
// Paused clock (tests): now() stands still at the instant of pause() plus every advance();
// timers fire only when advance() moves now() past their deadline (they are then run by the
// pool or timer thread, asynchronously); settle() waits until every timer due at now() has
// fired and its callback has returned. resume() returns to real time; timers still pending
// fire once real time reaches their deadline.
//
// Clock::use(nullptr) must be called before a pool given to use() is destroyed. Timers given
// to a pool that shuts down are taken over by the timer thread.
//
// Timer callbacks must not throw (an escaping exception terminates, as in a posted task).
#ifndef TURQUOISE_ASYNC_CLOCK_HPP
#define TURQUOISE_ASYNC_CLOCK_HPP

#include <turquoise/function.hpp>
#include <turquoise/guarded_lock.hpp>
#include <turquoise/pool.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

namespace turquoise {

class Clock {
public:
	using Duration = std::chrono::nanoseconds;
	using Time = std::chrono::steady_clock::time_point;

	struct Timer {
		std::uint64_t id = 0; // 0: no timer
		Time deadline{};
	};

	static Time now() {
		Impl &s = impl();
		guarded_lock lock(s.mutex);
		return now_locked(s);
	}
	static bool paused() {
		Impl &s = impl();
		guarded_lock lock(s.mutex);
		return s.paused;
	}

	// Stop time at the current instant (no-op if already paused).
	static void pause() {
		Impl &s = impl();
		guarded_lock lock(s.mutex);
		if (s.paused)
			return;
		s.current = std::chrono::steady_clock::now();
		s.paused = true;
	}

	// Back to real time; pending timers fire when real time reaches their deadlines.
	static void resume() {
		Impl &s = impl();
		guarded_lock lock(s.mutex);
		if (!s.paused)
			return;
		s.paused = false;
		s.armed = Time::max();
		if (!s.timers.empty())
			arm_locked(s, s.timers.begin()->first.first);
	}

	// Move the paused clock forward; timers now due are fired asynchronously (see settle()).
	// Throws std::logic_error if the clock is running.
	static void advance(Duration d) {
		Impl &s = impl();
		guarded_lock lock(s.mutex);
		if (!s.paused)
			throw std::logic_error("Clock::advance() while the clock is running");
		if (d > Duration::zero())
			s.current += d;
		if (has_due_locked(s))
			kick_locked(s);
	}

	// Wait until no timer is due at now() and no timer callback is running.
	static void settle() {
		Impl &s = impl();
		guarded_lock lock(s.mutex);
		while (has_due_locked(s) || s.inflight > 0) {
			if (s.settled.wait_for(lock.get(), std::chrono::milliseconds(50)) ==
			        std::cv_status::timeout &&
			    has_due_locked(s))
				kick_locked(s); // e.g. a tick posted to a pool that was then shut down
		}
	}

	// Call fn once `d` has passed on this clock. Cancel with cancel().
	static Timer timer(Duration d, unique_function<void()> fn) {
		Impl &s = impl();
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

	// False if the timer already fired (or is firing) or was cancelled.
	static bool cancel(const Timer &t) {
		unique_function<void()> dropped; // destroyed after the lock is released
		Impl &s = impl();
		guarded_lock lock(s.mutex);
		auto it = s.timers.find(std::make_pair(t.deadline, t.id));
		if (it == s.timers.end())
			return false;
		dropped = std::move(it->second);
		s.timers.erase(it);
		return true;
	}

	// Drive timers with this pool's timers (callbacks become its tasks); nullptr: the
	// internal timer thread.
	static void use(pool &p) { use(&p); }
	static void use(pool *p) {
		Impl &s = impl();
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

	// Number of timers set and neither fired nor cancelled (diagnostics, tests).
	static std::size_t pending_timers() {
		Impl &s = impl();
		guarded_lock lock(s.mutex);
		return s.timers.size();
	}

private:
	struct Impl {
		std::mutex mutex;
		std::condition_variable wake;    // the timer thread's
		std::condition_variable settled; // settle()'s
		bool paused = false;
		Time current{}; // now() while paused
		std::map<std::pair<Time, std::uint64_t>, unique_function<void()>> timers;
		std::uint64_t next_id = 1;
		std::uint64_t inflight = 0; // ticks running timer callbacks
		pool *backend = nullptr;
		Time armed = Time::max(); // earliest pool timer set for a tick
		bool thread_started = false;
	};

	// Never destroyed: the detached timer thread may outlive static destruction.
	static Impl &impl() {
		static Impl *s = new Impl;
		return *s;
	}

	static Time now_locked(Impl &s) { return s.paused ? s.current : std::chrono::steady_clock::now(); }

	static bool has_due_locked(Impl &s) {
		return !s.timers.empty() && s.timers.begin()->first.first <= now_locked(s);
	}

	static void start_thread_locked(Impl &s) {
		if (s.thread_started)
			return;
		s.thread_started = true;
		std::thread(thread_main).detach();
	}

	// Have due timers fired soon, by the pool or the thread.
	static void kick_locked(Impl &s) {
		if (s.backend) {
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
	static void arm_locked(Impl &s, Time deadline) {
		if (s.backend) {
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
	static void tick() {
		Impl &s = impl();
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

	static void thread_main() {
		Impl &s = impl();
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
};

} // namespace turquoise

#endif
