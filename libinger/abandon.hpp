// abandon.hpp — noticing that control left a preemptible function without the runtime
// (longjmp or swapcontext out of it, into the frames of a caller).
#pragma once

#include "thread_state.hpp"

#include <cstdint>

namespace inger::detail {

inline bool on_stack_of(const function_record *f, std::uintptr_t sp) {
	return sp >= reinterpret_cast<std::uintptr_t>(f->stack.lo()) &&
	       sp < reinterpret_cast<std::uintptr_t>(f->stack.hi());
}

// The slow path of check_jumped_out(): sp is not on the current function's stack. Returns
// whether functions were abandoned. Requires that libinger was not interrupted mid-switch
// (ts->busy clear, or set by the timer handler itself). Async-signal-safe: the abandoned
// functions are unlinked and queued, not freed.
bool abandon_jumped_out(thread_state *ts, std::uintptr_t sp);

// Free the functions abandon_jumped_out() queued (not signal-safe; requires !ts->busy).
void reap_abandoned_slow(thread_state *ts);
inline void reap_abandoned(thread_state *ts) {
	if (__builtin_expect(ts->abandoned != nullptr, 0))
		reap_abandoned_slow(ts);
}

// At an entry point of the API: if the code calling it is not on the current function's
// stack but on the stack of one of that function's callers, the functions in between were
// left by a longjmp: they are abandoned, and the runtime's state becomes the caller's again.
// Costs two comparisons inside a function, one load outside any. Async-signal-safe.
inline void check_jumped_out(thread_state *ts) {
	function_record *f = ts->current;
	auto sp = reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0));
	if (__builtin_expect(f != nullptr && !on_stack_of(f, sp), 0))
		abandon_jumped_out(ts, sp);
}

} // namespace inger::detail
