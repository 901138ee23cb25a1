// timer.hpp — the per-thread preemption timer and the clock its deadlines are measured in.
#pragma once

#include "thread_state.hpp"

#include <cstdint>
#include <ctime>

namespace inger::detail {

// CLOCK_MONOTONIC in nanoseconds (vDSO: no system call).
inline std::uint64_t now_ns() {
	timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return std::uint64_t(ts.tv_sec) * 1000000000u + std::uint64_t(ts.tv_nsec);
}

// Create the thread's timer (and install the process's handlers) if not done yet.
// Returns false with errno set on failure.
bool timer_ensure(thread_state *ts);

// Make sure the timer fires no later than `deadline_ns` (minus the lead, which is capped at
// a quarter of the time left after `now_ns`, so that a short budget is not spent waiting in
// the handler). The timer is one-shot and armed lazily: if it is already due before that,
// nothing is done (no system call); firing early is harmless, the handler re-arms for the
// deadline then in force.
inline bool timer_arm_by(thread_state *ts, std::uint64_t deadline_ns, std::uint64_t now_ns);

// Unconditionally arm the timer for `deadline_ns` (a system call).
void timer_arm(thread_state *ts, std::uint64_t deadline_ns);

inline bool timer_arm_by(thread_state *ts, std::uint64_t deadline_ns, std::uint64_t now_ns) {
	std::uint64_t left = deadline_ns > now_ns ? deadline_ns - now_ns : 0;
	std::uint64_t lead = ts->lead_ns < left / 4 ? ts->lead_ns : left / 4;
	std::uint64_t expiry = deadline_ns - lead;
	if (ts->armed_ns != 0 && ts->armed_ns <= expiry)
		return false;
	timer_arm(ts, expiry);
	return true;
}

// The timer fired `now`: learn how late signals arrive, to aim the next expiry earlier.
void timer_observe_lateness(thread_state *ts, std::uint64_t expiry_ns, std::uint64_t now);

// Delete the thread's timer (thread exit).
void timer_destroy(thread_state *ts);

} // namespace inger::detail
