// schedule.cpp — the two halves of every switch: run() on the caller's stack, leave() on the
// function's, and the entry point of every new function.
#include "schedule.hpp"

#include "context.hpp"
#include "sanitizer.hpp"
#include "signal_mask.hpp"
#include "timer.hpp"
#include "unwind.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>

namespace inger::detail {

bool arm_deadline(thread_state *ts, const function_record *parent, std::uint64_t timeout_us,
                  bool time_sliced, std::uint64_t &deadline) {
	std::uint64_t inherited = parent ? parent->deadline_ns : no_deadline;
	deadline = inherited;
	if (deadline == no_deadline && timeout_us == LINGER_UNLIMITED)
		return true;
	std::uint64_t now = now_ns();
	bool own = timeout_us != LINGER_UNLIMITED && timeout_us < no_deadline / 1000 / 2;
	std::uint64_t budget_ns = own ? timeout_us * 1000 : 0;
	// An inner function never outlives the function that runs it.
	if (own)
		deadline = std::min(inherited, now + budget_ns);
	if (deadline == no_deadline)
		return true;
	if (!timer_ensure(ts))
		return false;
	// A time slice is the function's running time: the microseconds a timer_settime takes
	// here are the runtime's. Aim the timer past it, and if the call was made, count the
	// slice from its end (before, under inger-run --quantum 20, about half of every quantum
	// went to arming the timer and resuming the handler frame). Not for a launch or a new
	// budget: there the caller's bound (the overshoot past it) is what matters.
	bool slice = own && time_sliced;
	std::uint64_t aim = slice ? std::min(inherited, now + budget_ns + ts->arm_cost_ns) : deadline;
	if (timer_arm_by(ts, aim, now) && slice)
		deadline = std::min(inherited, now_ns() + budget_ns);
	return true;
}

bool run(thread_state *ts, function_record *f, std::uint64_t timeout_us) {
	function_record *parent = ts->current;
	if (f->in_handler) {
		// Returning from the handler will restore the function's own signal mask; remember
		// the caller's so that the next preemption can give it back, and keep the timer from
		// nesting a frame in the handler's remaining code (signal_mask.hpp). (This path
		// already pays for a sigreturn; a function that finishes in time never gets here.)
		// Before the deadline is set: this system call is not the function's time either.
		mask_resume_preempted(f);
	}
	std::uint64_t deadline;
	if (!arm_deadline(ts, parent, timeout_us, f->in_handler, deadline)) {
		if (f->in_handler && f->caller_mask_known) { // it does not run: the caller's mask back
			int err = errno;
			kernel_sigmask(SIG_SETMASK, &f->caller_mask, nullptr);
			errno = err;
		}
		return false;
	}
	f->deadline_ns = deadline;
	// A time slice (resuming a preempted function) may end that little early; a launch's or
	// a cooperative resume's budget is waited out exactly.
	f->spin_limit_ns = f->in_handler ? spin_limit_of(timeout_us) : no_deadline;
	f->parent = parent;
	f->exit = exit_reason::none;
	f->state = run_state::running;
	f->caller_errno = errno;
	errno = f->fn_errno;
	f->caller_eh = *ts->eh_globals;
	*ts->eh_globals = f->fn_eh;
	ts->current = f;
	linger_critical_now = &f->critical;
	if (!f->libset_taken) {
		f->libset = gotcha_libset_acquire();
		f->libset_taken = true;
		ts->slots[f->slot].libset = f->libset; // for release_corrupted()
	}
	gotcha_libset_switch(parent ? parent->libset : nullptr, f->libset);

	fiber_leave(&f->caller_fake_stack, f->stack.lo(), f->stack.usable());
	inger_switch(&f->caller_sp, f->sp);
	fiber_arrive(f->caller_fake_stack, nullptr, nullptr);
	// leave() restored ts->current and errno for us.
	return true;
}

void leave(thread_state *ts, function_record *f, exit_reason why) {
	bool over = why == exit_reason::completed || why == exit_reason::overflowed ||
	            why == exit_reason::unwound;
	f->exit = why;
	f->state = why == exit_reason::completed ? run_state::finished
	           : over                        ? run_state::dead
	                                         : run_state::ready;
	f->fn_errno = errno;
	errno = f->caller_errno;
	f->fn_eh = *ts->eh_globals;
	*ts->eh_globals = f->caller_eh;
	ts->current = f->parent;
	linger_critical_now = f->parent ? &f->parent->critical : nullptr;
	gotcha_libset_switch(f->libset, f->parent ? f->parent->libset : nullptr);
	if (mask_confined(f))
		mask_to_caller(f);
	// Per-thread state that belongs to the context running now goes with the function: the
	// one place a cancel could otherwise leave it set for everybody after (a function
	// preempted inside the re-arm, then cancelled, left preemption undeferred inside malloc).
	f->rearming = ts->rearming;
	ts->rearming = false;

	fiber_leave(over ? nullptr : &f->fake_stack, f->caller_stack_bottom, f->caller_stack_size);
	inger_switch(&f->sp, f->caller_sp);
	fiber_arrive(f->fake_stack, &f->caller_stack_bottom, &f->caller_stack_size);
	// From here on, this thread's state: the resumer may be another thread (migrate.cpp).
	ts = tls_state;
	if (mask_confined(f))
		mask_to_function(f);
	ts->rearming = f->rearming;
	unbusy(ts);
	if (__builtin_expect(f->unwinding != unwind_state::none, 0))
		unwind_if_requested(ts, f); // cancelled with unwinding (unwind.cpp)
}

void rearm_after_missed_tick(thread_state *ts) {
	// Not "now" even if the deadline has passed: a signal raised here would nest a handler
	// inside this (possibly handler) frame on every resume. A few microseconds later it lands
	// in the function's own code.
	constexpr std::uint64_t settle_ns = 5000;
	ts->tick_missed = false;
	function_record *f = ts->current;
	if (f && f->deadline_ns != no_deadline) {
		// This timer_settime runs in libc: a signal landing in it must not be deferred as if
		// the function were in a shared call (its retry would land in the next re-arm, and so
		// on); it preempts here, as anywhere else in the function's time.
		ts->rearming = true;
		timer_arm(ts, std::max(f->deadline_ns, now_ns() + settle_ns));
		ts->rearming = false;
	}
}

void finish_call(thread_state *ts) {
	function_record *f = ts->current;
	if (f && f->critical.yield_pending && f->critical.depth == 0) {
		f->critical.yield_pending = false;
		count(ts->stats.pauses);
		leave(ts, f, exit_reason::preempted); // clears busy when f is resumed
		return;
	}
	unbusy(ts);
}

} // namespace inger::detail

using namespace inger::detail;

// The bottom frame of every preemptible function (called from inger_entry, switch_x86_64.S).
extern "C" [[noreturn]] __attribute__((visibility("hidden"))) void
inger_function_main(function_record *f) {
	fiber_arrive(nullptr, &f->caller_stack_bottom, &f->caller_stack_size);
	thread_state *ts = tls_state;
	unbusy(ts);
	f->fn(f->arg);
	ts = tls_state;
	ts->busy = true;
	leave(ts, f, exit_reason::completed);
	__builtin_unreachable();
}
