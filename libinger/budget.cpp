// budget.cpp — the C API inside a running function: a new budget, critical sections.
#include "abandon.hpp"
#include "schedule.hpp"
#include "thread_state.hpp"
#include "timer.hpp"

#include <libinger.h>

#include <cerrno>

using namespace inger::detail;

extern "C" int linger_set_timeout(uint64_t timeout_us) {
	thread_state *ts = tls_state;
	if (ts && !ts->busy)
		check_jumped_out(ts);
	function_record *f = ts ? ts->current : nullptr;
	if (!f) {
		errno = ESRCH;
		return -1;
	}
	if (ts->busy) {
		errno = EDEADLK;
		return -1;
	}
	ts->busy = true; // the timer handler reads the deadline: it must not see it half-changed
	std::uint64_t deadline;
	if (!arm_deadline(ts, f->parent, timeout_us, false, deadline)) {
		int err = errno;
		unbusy(ts);
		errno = err;
		return -1;
	}
	f->deadline_ns = deadline;
	f->spin_limit_ns = no_deadline; // a new budget is waited out exactly
	// A preemption owed to the old deadline (deferred by a critical section) is no longer due.
	// One still due (a zero budget, or an outer deadline that has passed) is taken now, or at
	// the end of the critical section.
	if (f->critical.yield_pending && (deadline == no_deadline || deadline > now_ns()))
		f->critical.yield_pending = false;
	finish_call(ts);
	return 0;
}

// (The same as the inline sections in inger/inger.hpp, for C.)
extern "C" void linger_critical_begin(void) {
	if (linger_critical_state *c = linger_critical_now)
		c->depth++;
}

extern "C" void linger_critical_end(void) {
	linger_critical_state *c = linger_critical_now;
	if (!c || c->depth == 0)
		return;
	if (--c->depth == 0 && c->yield_pending)
		linger_critical_yield();
}

extern "C" void linger_critical_yield(void) {
	thread_state *ts = tls_state;
	function_record *f = ts ? ts->current : nullptr;
	if (f && f->critical.depth == 0 && f->critical.yield_pending && !ts->busy) {
		ts->busy = true;
		finish_call(ts); // takes the preemption that fell due inside the section
	}
}
