// turquoise/async/clock.hpp — the async layer's clock and timers, pausable for tests.
//
// Running clock: now() is std::chrono::steady_clock::now(). Timers fire once their deadline
// has passed; their callbacks run as tasks of the current runtime's pool (see runtime.hpp;
// if that pool has shut down, a plain thread takes over).
//
// Paused clock (tests): now() stands still at the instant of pause() plus every advance();
// timers fire only when advance() moves now() past their deadline (they are then run by the
// pool, asynchronously). settle() waits until every timer due at now() has fired, its
// callback has returned, and every process is idle (as libprocess's Clock::settle() does).
// resume() returns to real time; timers still pending fire once real time reaches their
// deadline.
//
// Timer callbacks must not throw (an escaping exception terminates, as in a posted task).
// (Implementation: libturquoise/async/clock.cpp.)
#ifndef TURQUOISE_ASYNC_CLOCK_HPP
#define TURQUOISE_ASYNC_CLOCK_HPP

#include <turquoise/function.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace turquoise {

// A timer set with Clock::timer() (or delay()); Clock::cancel() cancels it.
struct Timer {
	std::uint64_t id = 0; // 0: no timer
	std::chrono::steady_clock::time_point deadline{};
};

class Clock {
public:
	using Duration = std::chrono::nanoseconds;
	using Time = std::chrono::steady_clock::time_point;

	static Time now();
	static bool paused();

	// Stop time at the current instant (no-op if already paused).
	static void pause();
	// Back to real time; pending timers fire when real time reaches their deadlines.
	static void resume();
	// Move the paused clock forward; timers now due are fired asynchronously (see settle()).
	// Throws std::logic_error if the clock is running.
	static void advance(Duration d);
	// Wait until no timer is due at now(), no timer callback is running and no process has a
	// message queued or running (not from a pool task: std::logic_error).
	static void settle();

	// Call fn once `d` has passed on this clock. Cancel with cancel().
	static Timer timer(Duration d, unique_function<void()> fn);
	// False if the timer already fired (or is firing) or was cancelled.
	static bool cancel(const Timer &t);

	// Number of timers set and neither fired nor cancelled (diagnostics, tests).
	static std::size_t pending_timers();
};

} // namespace turquoise

#endif
