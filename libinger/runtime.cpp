// runtime.cpp — the C API: launch, resume, cancel (plain and unwinding), linger_pause.
#include "abandon.hpp"
#include "context.hpp"
#include "config.hpp"
#include "schedule.hpp"
#include "thread_state.hpp"
#include "timer.hpp"
#include "unwind.hpp"

#include <libinger.h>

#include <cerrno>
#include <new>

using namespace inger::detail;

namespace {

// linger_t::continuation.flags
constexpr std::uint32_t handle_cancelled = 1;
constexpr std::uint32_t handle_dead = 2;

linger_t failed_launch(int code, int err) {
	linger_t l{};
	l.error = code;
	errno = err;
	return l;
}

void fail(linger_t *l, int code, int err) {
	l->error = code;
	errno = err;
}

// A new function, ready to run: its record sits at the top of its own (cached) stack.
function_record *create(thread_state *ts, void (*fn)(void *), void *arg) {
	stack_block block = ts->stacks.take(configured_stack_size());
	if (!block.map)
		return nullptr;
	constexpr std::size_t record_size = (sizeof(function_record) + 63) & ~std::size_t{63};
	char *top = block.hi() - record_size;
	auto *f = new (top) function_record;
	set_canaries(f);
	f->stack = block;
	f->fn = fn;
	f->arg = arg;
	f->id = ts->id_base | ts->id_next++;
	f->fn_errno = errno;
	f->sp = initial_context(top, f);
	try {
		f->slot = slot_acquire(ts, f);
	} catch (const std::bad_alloc &) {
		ts->stacks.give(block);
		return nullptr;
	}
	ts->stats.live++;
	return f;
}

// After run(): record how the function gave control back.
void report(thread_state *ts, function_record *f, linger_t *l) {
	switch (f->exit) {
	case exit_reason::completed:
		l->is_complete = true;
		count(ts->stats.completions);
		release_function(ts, f);
		break;
	case exit_reason::overflowed:
		l->continuation.flags |= handle_dead;
		fail(l, LINGER_ESTACKOVERFLOW, EFAULT);
		release_function(ts, f);
		break;
	default:
		break;
	}
}

// The end of both cancels: the function's resources go, its handle says cancelled. Requires
// ts->busy; leaves it clear.
void release_cancelled(thread_state *ts, function_record *f, linger_t *l) {
	release_function(ts, f);
	l->error = LINGER_OK;
	l->continuation.flags |= handle_cancelled;
	count(ts->stats.cancels);
	unbusy(ts);
}

// A function whose record was overwritten: freed with what its slot knows, not its record.
void release_corrupted(thread_state *ts, std::uint32_t slot) {
	slot_entry e = ts->slots[slot];
	bury(ts, slot, e.id, LINGER_ECORRUPTED);
	slot_release(ts, slot);
	gotcha_libset_release(e.libset, false);
	ts->stacks.give(e.stack);
	ts->stats.live--;
}

// The function a handle names, or nullptr with the error reported (errno EINVAL alone for
// no handle at all).
function_record *validate(thread_state *ts, linger_t *l) {
	if (!l)
		return errno = EINVAL, nullptr;
	if (ts && ts->busy)
		return fail(l, LINGER_ESIGNAL, EDEADLK), nullptr;
	if (ts) {
		check_jumped_out(ts);
		reap_abandoned(ts);
	}
	if (l->is_complete)
		return fail(l, LINGER_ECOMPLETED, EALREADY), nullptr;
	if (l->continuation.flags & handle_cancelled)
		return fail(l, LINGER_ECANCELLED, ECANCELED), nullptr;
	if (l->continuation.flags & handle_dead)
		return fail(l, LINGER_ESTACKOVERFLOW, EFAULT), nullptr;
	slot_entry *e = ts ? slot_lookup(ts, l->continuation.slot, l->continuation.id) : nullptr;
	if (!e) {
		switch (ts ? buried_error(ts, l->continuation.slot, l->continuation.id) : 0) {
		case LINGER_EABANDONED: return fail(l, LINGER_EABANDONED, ENOTRECOVERABLE), nullptr;
		case LINGER_ECORRUPTED: return fail(l, LINGER_ECORRUPTED, EFAULT), nullptr;
		default: return fail(l, LINGER_EFOREIGN, ESRCH), nullptr;
		}
	}
	function_record *f = e->f;
	if (!canaries_intact(f)) { // never run, nor trust, a record something else wrote over
		release_corrupted(ts, l->continuation.slot);
		return fail(l, LINGER_ECORRUPTED, EFAULT), nullptr;
	}
	if (f->state == run_state::running)
		return fail(l, LINGER_ERUNNING, EBUSY), nullptr;
	return f;
}

} // namespace

void inger::detail::release_function(thread_state *ts, function_record *f) {
	slot_release(ts, f->slot);
	gotcha_libset_release(f->libset, f->state == run_state::finished);
	stack_block block = f->stack;
	f->~function_record();
	ts->stacks.give(block);
	ts->stats.live--;
}

extern "C" linger_t launch(void (*fn)(void *), uint64_t timeout_us, void *arg) {
	if (!fn)
		return failed_launch(LINGER_ENULLFN, EINVAL);
	thread_state *ts = tls_state;
	if (__builtin_expect(!ts, 0)) {
		try {
			ts = this_thread();
		} catch (const std::bad_alloc &) {
			return failed_launch(LINGER_ENOMEM, ENOMEM);
		}
	}
	if (ts->busy)
		return failed_launch(LINGER_ESIGNAL, EDEADLK);
	check_jumped_out(ts);
	reap_abandoned(ts);
	ts->busy = true;

	function_record *f = create(ts, fn, arg);
	if (!f) {
		unbusy(ts);
		return failed_launch(LINGER_ENOMEM, ENOMEM);
	}
	linger_t l{};
	l.continuation.id = f->id;
	l.continuation.slot = f->slot;
	if (timeout_us != 0) {
		if (!run(ts, f, timeout_us)) {
			int err = errno;
			release_function(ts, f);
			unbusy(ts);
			return failed_launch(LINGER_ESYSTEM, err);
		}
		report(ts, f, &l);
	}
	count(ts->stats.launches);
	finish_call(ts);
	return l;
}

extern "C" void resume(linger_t *l, uint64_t timeout_us) {
	thread_state *ts = tls_state;
	function_record *f = validate(ts, l);
	if (!f)
		return;
	l->error = LINGER_OK;
	if (timeout_us == 0)
		return;
	ts->busy = true;
	if (!run(ts, f, timeout_us)) {
		int err = errno;
		unbusy(ts);
		return fail(l, LINGER_ESYSTEM, err);
	}
	l->error = LINGER_OK; // the function may have used this very handle meanwhile (and failed)
	report(ts, f, l);
	finish_call(ts);
}

extern "C" void cancel(linger_t *l) {
	thread_state *ts = tls_state;
	function_record *f = validate(ts, l);
	if (!f)
		return;
	ts->busy = true;
	release_cancelled(ts, f, l);
}

namespace {

// Unwind f: switch it back in to run a forced unwind of its stack (unwind.cpp), letting a
// preempted one run on a tick at a time until it can be unwound exactly, then as far as it
// can. Requires ts->busy; leaves it clear.
void unwind_function(thread_state *ts, function_record *f) {
	constexpr int exact_ticks = 20;          // run on for at most ~1 ms looking for an exact point
	constexpr std::uint64_t tick_us = 50;
	constexpr int max_resumes = 1000;        // destructors that keep pausing: give up on them
	for (int i = 0; i < max_resumes; ++i) {
		if (f->unwinding != unwind_state::running)
			f->unwinding = i < exact_ticks ? unwind_state::requested_exact
			                               : unwind_state::requested_partial;
		std::uint64_t budget =
		    f->unwinding == unwind_state::requested_exact ? tick_us : LINGER_UNLIMITED;
		bool ran = run(ts, f, budget);
		unbusy(ts);
		if (!ran || f->exit == exit_reason::completed || f->exit == exit_reason::unwound ||
		    f->exit == exit_reason::overflowed)
			break;
		ts->busy = true;
	}
	ts->busy = true;
	f->unwinding = unwind_state::none;
}

} // namespace

extern "C" void linger_cancel_unwind(linger_t *l) {
	thread_state *ts = tls_state;
	function_record *f = validate(ts, l);
	if (!f)
		return;
	int caller_errno = errno;
	ts->busy = true;
	if (f->libset_taken) // it has run: it has frames to unwind
		unwind_function(ts, f);
	release_cancelled(ts, f, l);
	errno = caller_errno;
}

extern "C" void linger_pause(void) {
	thread_state *ts = tls_state;
	if (!ts || ts->busy)
		return;
	check_jumped_out(ts);
	if (!ts->current)
		return;
	ts->busy = true;
	count(ts->stats.pauses);
	leave(ts, ts->current, exit_reason::paused);
}

extern "C" bool linger_in_function(void) {
	thread_state *ts = tls_state;
	if (ts && !ts->busy)
		check_jumped_out(ts);
	return ts && ts->current;
}

extern "C" void linger_stats(struct linger_stats *out) {
	if (!out)
		return;
	thread_state *ts = tls_state;
	*out = ts ? ts->stats : (struct linger_stats){};
}
