// abandon.cpp — functions left by a longjmp: detected at the next entry into the runtime (or
// the next timer signal), unlinked from the thread's chain of running functions, and freed.
//
// A function that longjmps (or swapcontexts) into the frames of whoever launched or resumed
// it never passes through leave(): the runtime would go on believing it runs (ts->current,
// its libset, its critical-section state), and the next preemption would switch to a context
// that no longer exists. The code running after such a jump is on the stack of one of the
// abandoned function's callers, which, while the function runs, is frozen below run(): so
// running code found on a caller's stack can only be there by such a jump. Code on any other
// stack (a signal handler on an alternate stack, a coroutine of the program's own) is not a
// jump out, and is left alone.
#include "abandon.hpp"

#include "sanitizer.hpp"

#include <libgotcha.h>

namespace inger::detail {
namespace {

bool on_thread_stack(const thread_state *ts, std::uintptr_t sp) {
	return sp >= ts->thread_stack_lo && sp < ts->thread_stack_hi;
}

} // namespace

bool abandon_jumped_out(thread_state *ts, std::uintptr_t sp) {
	// The innermost caller whose stack holds sp; nullptr with `found`: the thread's own stack.
	function_record *survivor = nullptr;
	bool found = false;
	for (function_record *p = ts->current->parent; p && !found; p = p->parent)
		if (on_stack_of(p, sp))
			survivor = p, found = true;
	if (!found && !on_thread_stack(ts, sp))
		return false; // another stack: an alternate signal stack or the program's own coroutine
	function_record *f = ts->current;
	gotcha_libset_switch(f->libset, survivor ? survivor->libset : nullptr);
	while (f != survivor) {
		function_record *parent = f->parent;
		f->state = run_state::abandoned;
		f->parent = ts->abandoned; // queued for reap_abandoned()
		ts->abandoned = f;
		asm volatile("decq %0" : "+m"(ts->stats.live)); // no longer live (one instruction: see count())
		f = parent;
	}
	ts->current = survivor;
	linger_critical_now = survivor ? &survivor->critical : nullptr;
	ts->rearming = false;
	return true;
}

void reap_abandoned_slow(thread_state *ts) {
	while (function_record *f = ts->abandoned) {
		ts->abandoned = f->parent;
		bury(ts, f->slot, f->id, LINGER_EABANDONED);
		count(ts->stats.live); // already taken off when it was abandoned
		release_function(ts, f);
	}
}

} // namespace inger::detail
