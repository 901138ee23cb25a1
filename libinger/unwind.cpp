// unwind.cpp — the unwinding cancel: a paused or preempted function is switched back in and
// unwound by a forced unwind (_Unwind_ForcedUnwind, as glibc's pthread_cancel does), so that
// the destructors of the objects on its stack run and its locks are released.
//
// Exactness. Landing pads exist only at call sites. A frame stopped at a call (every frame of
// a paused function, and every frame but the innermost of a preempted one) unwinds exactly.
// The innermost frame of a preempted function stopped at an arbitrary instruction: if its
// function has no LSDA (no cleanups: C code, leaf functions) or the instruction lies in a
// range of its call-site table, it unwinds exactly too; otherwise GCC's personality routine
// would call std::terminate. So such a frame is never handed to the personality routine:
//  1. the canceller first lets the function run on, a tick at a time, until it stops at an
//     exact point (a call into a library without cleanups, a pause, a preemption inside a
//     covered range) — unwind_state::requested_exact. Each try walks the frames first
//     (_Unwind_Backtrace); an unwind that still meets an inexact frame before any landing pad
//     ran goes back (longjmp) and runs on too, having changed nothing;
//  2. after a bounded number of ticks it unwinds as far as frames are exact: the stop
//     function ends the unwind at the first frame that is not (its destructors and those of
//     every frame outside it do not run, as with the plain cancel()) —
//     unwind_state::requested_partial. The same rule covers frames of noexcept functions,
//     whose call sites are absent from their tables by design.
// -fnon-call-exceptions makes every trapping instruction (memory accesses included) a covered
// point, so a preempted loop that touches memory unwinds exactly at the first tick.
//
// A catch (...) that does not rethrow: the unwind is raised again from the end of that catch
// block (the exception object's cleanup runs there, from __cxa_end_catch), so cancellation
// cannot be swallowed and the program is never terminated for it. Code after such a catch
// block does not run.
#include "unwind.hpp"

#include "context.hpp"
#include "schedule.hpp"
#include "signal_mask.hpp"

#include <cstdint>
#include <cstring>
#include <unwind.h>

namespace inger::detail {
namespace {

constexpr _Unwind_Exception_Class inger_cancel_class = 0x494e47524b494c4cULL; // "INGRKILL"

// ---- Reading a GCC LSDA's call-site table (the format of .gcc_except_table) --------------

constexpr std::uint8_t pe_omit = 0xff, pe_uleb128 = 0x01, pe_udata2 = 0x02, pe_udata4 = 0x03,
                       pe_udata8 = 0x04, pe_sdata2 = 0x0a, pe_sdata4 = 0x0b, pe_sdata8 = 0x0c;

bool read_uleb(const std::uint8_t *&p, std::uint64_t &out) {
	out = 0;
	for (unsigned shift = 0; shift < 64; shift += 7) {
		std::uint8_t b = *p++;
		out |= std::uint64_t(b & 0x7f) << shift;
		if (!(b & 0x80))
			return true;
	}
	return false;
}

// A value in one of the encodings GCC uses for call-site entries (offsets, so no base).
bool read_encoded(const std::uint8_t *&p, std::uint8_t encoding, std::uint64_t &out) {
	switch (encoding & 0x0f) {
	case pe_uleb128: return read_uleb(p, out);
	case pe_udata2: { std::uint16_t v; std::memcpy(&v, p, 2); p += 2; out = v; return true; }
	case pe_udata4: { std::uint32_t v; std::memcpy(&v, p, 4); p += 4; out = v; return true; }
	case pe_udata8: case 0x00: { std::memcpy(&out, p, 8); p += 8; return true; }
	case pe_sdata2: { std::int16_t v; std::memcpy(&v, p, 2); p += 2; out = std::uint64_t(v); return true; }
	case pe_sdata4: { std::int32_t v; std::memcpy(&v, p, 4); p += 4; out = std::uint64_t(v); return true; }
	case pe_sdata8: { std::memcpy(&out, p, 8); p += 8; return true; }
	default: return false;
	}
}

// Whether the personality routine can handle this frame without terminating: it has no LSDA,
// or its instruction lies in a call-site range (for a frame stopped at a call, the call).
bool frame_is_exact(_Unwind_Context *context, bool *has_landing_pad = nullptr) {
	auto *lsda = static_cast<const std::uint8_t *>(_Unwind_GetLanguageSpecificData(context));
	if (!lsda)
		return true;
	int before_insn = 0;
	std::uint64_t ip = _Unwind_GetIPInfo(context, &before_insn);
	if (!before_insn)
		--ip; // a return address: the call is the instruction before it
	std::uint64_t offset = ip - _Unwind_GetRegionStart(context);
	const std::uint8_t *p = lsda;
	std::uint8_t lpstart_encoding = *p++;
	std::uint64_t ignored;
	if (lpstart_encoding != pe_omit && !read_encoded(p, lpstart_encoding, ignored))
		return false;
	std::uint8_t ttype_encoding = *p++;
	if (ttype_encoding != pe_omit && !read_uleb(p, ignored))
		return false;
	std::uint8_t site_encoding = *p++;
	std::uint64_t table_length;
	if (!read_uleb(p, table_length))
		return false;
	const std::uint8_t *end = p + table_length;
	while (p < end) {
		std::uint64_t start, length, landing_pad, action;
		if (!read_encoded(p, site_encoding, start) || !read_encoded(p, site_encoding, length) ||
		    !read_encoded(p, site_encoding, landing_pad) || !read_uleb(p, action))
			return false;
		if (offset < start)
			return false; // the table is sorted: not covered
		if (offset < start + length) {
			if (has_landing_pad)
				*has_landing_pad = landing_pad != 0;
			return true;
		}
	}
	return false;
}

// ---- The forced unwind ---------------------------------------------------------------------

// An unwind that meets an inexact frame before any landing pad ran has changed nothing yet:
// while the function may still run on, it goes back to unwind_if_requested() instead.
thread_local void *bail_out[5];
thread_local bool may_bail = false;

[[noreturn]] void finish(function_record *f) {
	may_bail = false;
	thread_state *ts = tls_state;
	ts->busy = true;
	f->unwinding = unwind_state::none;
	// Unwound from inside the timer handler's frame, whose sigreturn never comes: the thread
	// still has the mask the resume set up for it (the preemption signal blocked until that
	// sigreturn, signal_mask.hpp). The caller gets its own back, or its later functions on
	// this thread would never be preempted.
	if (f->in_handler && f->caller_mask_known)
		kernel_sigmask(SIG_SETMASK, &f->caller_mask, nullptr);
	leave(ts, f, exit_reason::unwound); // never returns: the canceller frees the stack
	__builtin_unreachable();
}

// Called by the unwinder for every frame before its personality routine, and at the end of
// the stack (inger_entry's undefined return address). Ends the unwind there, or at the
// first frame the personality routine could not handle.
_Unwind_Reason_Code stop(int, _Unwind_Action actions, _Unwind_Exception_Class,
                         _Unwind_Exception *, _Unwind_Context *context, void *arg) {
	auto *f = static_cast<function_record *>(arg);
	if (actions & _UA_END_OF_STACK)
		finish(f);
	bool landing_pad = false;
	if (!frame_is_exact(context, &landing_pad)) {
		if (may_bail) {
			may_bail = false;
			__builtin_longjmp(bail_out, 1);
		}
		finish(f);
	}
	if (landing_pad)
		may_bail = false; // the personality routine runs this frame's cleanup next
	return _URC_NO_REASON;
}

[[noreturn]] void raise(function_record *f);

// The exception object is deleted: by __cxa_end_catch at the end of a catch (...) block that
// did not rethrow. Cancellation goes on from there.
void swallowed(_Unwind_Reason_Code, _Unwind_Exception *exception) {
	thread_state *ts = tls_state;
	raise(ts->current);
	(void)exception;
}

[[noreturn]] void raise(function_record *f) {
	f->unwind_exception = _Unwind_Exception{};
	f->unwind_exception.exception_class = inger_cancel_class;
	f->unwind_exception.exception_cleanup = swallowed;
	_Unwind_ForcedUnwind(&f->unwind_exception, stop, f);
	// It returns only if it could not start (no unwind information at all): give up on the
	// destructors rather than run on.
	finish(f);
}

// Whether the frames of the function, from the one the timer signal interrupted (the first
// after a signal frame) out to the stack's end, can all be unwound exactly. (An outer frame
// can be inexact too: stopped at a call the compiler knew could not throw, such as most of
// the C library, which glibc declares nothrow.)
// The walk must also reach the stack's end (inger_entry): a frame without unwind information
// (code generated at run time, such as libgotcha's trampoline chunks) ends it early, and the
// unwind would end there too, before any destructor.
struct interrupted_frames {
	bool found = false;
	bool exact = true;
	bool reached_end = false;
};

_Unwind_Reason_Code look_at_interrupted(_Unwind_Context *context, void *arg) {
	auto *r = static_cast<interrupted_frames *>(arg);
	int before_insn = 0;
	auto ip = _Unwind_GetIPInfo(context, &before_insn);
	auto entry = reinterpret_cast<std::uintptr_t>(&inger_entry);
	if (ip > entry && ip <= entry + 16) { // the return address of inger_entry's call
		r->reached_end = true;
		return _URC_END_OF_STACK;
	}
	if (before_insn)
		r->found = true;
	if (r->found && !frame_is_exact(context)) {
		r->exact = false;
		return _URC_END_OF_STACK; // stop the walk
	}
	return _URC_NO_REASON;
}

} // namespace

void unwind_if_requested(thread_state *, function_record *f) {
	if (f->unwinding == unwind_state::running)
		return; // resumed in the middle of its unwind (preempted by an outer deadline)
	if (f->unwinding == unwind_state::requested_exact && f->in_handler) {
		interrupted_frames r;
		_Unwind_Backtrace(look_at_interrupted, &r);
		if (!r.exact || !r.reached_end)
			return; // run on: the canceller gets it back at the next tick
	}
	bool may_run_on = f->unwinding == unwind_state::requested_exact && f->in_handler;
	f->unwinding = unwind_state::running;
	if (may_run_on) {
		if (__builtin_setjmp(bail_out)) {
			f->unwinding = unwind_state::requested_exact;
			return; // run on, as above
		}
		may_bail = true;
	}
	raise(f);
}

} // namespace inger::detail
