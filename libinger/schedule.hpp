// schedule.hpp — moving control between a caller and its preemptible functions.
//
// Protocol (one thread, so only signal handlers can interleave): whoever is about to switch
// sets thread_state::busy, and whoever wakes up from a switch clears it. While busy, the timer
// handler does not preempt (it retries shortly) and the public entry points refuse to run.
#pragma once

#include "thread_state.hpp"

#include <cstdint>

namespace inger::detail {

// Clear ts->busy; if the timer fired meanwhile, re-arm it for the current deadline (which
// may have passed: then it fires at once and preempts as usual).
void rearm_after_missed_tick(thread_state *ts);
inline void unbusy(thread_state *ts) {
	ts->busy = false;
	if (__builtin_expect(ts->tick_missed, 0))
		rearm_after_missed_tick(ts);
}

// The deadline of a function given timeout_us from now (LINGER_UNLIMITED: none of its own)
// while `parent` (nullptr: the thread) runs it, with the timer armed to fire by then. With
// `time_sliced` (resuming a preempted function: a scheduler handing out CPU shares), the
// timer_settime this may take is not counted in the budget. Requires ts->busy. Returns false
// if the timer could not be set up (errno set).
bool arm_deadline(thread_state *ts, const function_record *parent, std::uint64_t timeout_us,
                  bool time_sliced, std::uint64_t &deadline);

// Caller side: run `f` (ready) until it completes, pauses, is preempted or overflows, with a
// budget of timeout_us (LINGER_UNLIMITED: none). Requires ts->busy; leaves it set.
// Returns false, without running f, if the timer could not be set up (errno set).
bool run(thread_state *ts, function_record *f, std::uint64_t timeout_us);

// Function side: give control back to f's caller. Requires ts->busy; clears it when the
// function is resumed (never returns for completed and overflowed).
void leave(thread_state *ts, function_record *f, exit_reason why);

// Caller side, after run() returned into a running function `f` (nested launch) or at the end
// of f's critical section: take the preemption that fell due meanwhile. Requires ts->busy;
// clears it.
void finish_call(thread_state *ts);

} // namespace inger::detail
