// signals.cpp — preemption by the per-thread timer signal, and stack-overflow reporting.
//
// Both handlers run with SA_NODEFER and an empty sa_mask, so the thread's signal mask is not
// changed on entry: a handler can switch away to the caller's stack without a sigprocmask,
// and the interrupted function's mask comes back with its registers when the handler returns.
#include "signals.hpp"

#include "abandon.hpp"
#include "config.hpp"
#include "schedule.hpp"
#include "signal_actions.hpp"
#include "timer.hpp"

#include <libgotcha.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <link.h>
#include <mutex>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>

namespace inger::detail {
namespace {

// When the handler cannot preempt right now (libinger is mid-switch), try again this soon.
constexpr std::uint64_t retry_ns = 10 * 1000;
// When the function is inside a shared library call, try again this soon: most such calls
// (stdio) take a few microseconds. Not less than the ~7 us a timer_settime takes on a VM: a
// retry that expires while the handler is still arming it finds the runtime busy and costs
// one more signal and one more timer_settime (perl under inger-run --quantum 20 took 2.2
// signals per preemption with a 5 us retry; bench/inger_run/README.md).
constexpr std::uint64_t library_retry_ns = 25 * 1000;
// The largest margin the handler's own re-arm takes (see the end of handle_tick).
constexpr std::uint64_t max_settle_ns = 100 * 1000;

struct sigaction previous_segv;

// (in_own_code: the timer interrupted libinger's own code with the runtime not busy: the end
// of an earlier handler (after it cleared busy, up to its sigreturn), whose interrupted context
// may be a shared call it deferred for (a retry, or a settle re-arm, expiring during the ~7 us
// timer_settime that arms it). Preempting here would stop the function inside that call,
// holding, say, stdout's lock. libinger's other code runs busy, in a critical section (the
// malloc family), or in a blocking-call wrapper, whose in_restartable_call is checked first.)

// Resumed on another thread than the one the signal interrupted (migrate.cpp): sigreturn
// restores the alternate signal stack saved in the frame (uc_stack), which is the old
// thread's; it must be this one's, or two threads would share one (and the old thread frees
// it when it exits). Busy: a preemption inside sigaltstack() would resume us elsewhere again.
void adopt_signal_frame(thread_state *here, ucontext_t *frame) {
	here->busy = true;
	stack_t own;
	if (sigaltstack(nullptr, &own) == 0) // (cannot fail: errno, the function's, is untouched)
		frame->uc_stack = own;
	unbusy(here);
}

} // namespace

// The timer fired. It runs on the interrupted function's stack; to preempt, it switches to the
// function's caller from inside this frame, and resuming the function switches back here, so
// that returning from the handler (sigreturn) restores every register, the flags, the
// x87/SSE/AVX state and the signal mask exactly as they were.
void handle_tick(siginfo_t *info, void *context) {
	thread_state *ts = tls_state;
	if (!ts || info->si_code != SI_TIMER || info->si_value.sival_ptr != ts)
		return; // not our timer's expiry (a stray kill, or a thread that never launched)
	int saved_errno = errno;
	std::uint64_t expiry = ts->armed_ns;
	ts->armed_ns = 0; // one-shot: it is no longer armed
	count(ts->stats.timer_signals);

	if (ts->busy) { // interrupted libinger itself mid-switch: it re-checks when done
		ts->tick_missed = true;
		errno = saved_errno;
		return;
	}
	function_record *f = ts->current;
	if (!f) { // nothing preemptible runs: let the timer go idle
		errno = saved_errno;
		return;
	}
	ts->busy = true;
	std::uint64_t now = now_ns();
	timer_observe_lateness(ts, expiry, now);
	bool due = now >= f->deadline_ns;
	if (!due && f->deadline_ns - now <= ts->lead_ns) {
		// Fired on purpose a little early: the function keeps the CPU until its deadline,
		// unless that wait is long for its budget (spin_limit_of()): then it is due now.
		due = f->deadline_ns - now > f->spin_limit_ns;
		while (!due && (now = now_ns()) < f->deadline_ns)
			__builtin_ia32_pause();
		due = true;
	}
	if (!due) {
		// Fired early (armed for an earlier, finished function): aim at this one's deadline.
		timer_arm_by(ts, f->deadline_ns, now);
	} else if (f->critical.depth > 0) {
		f->critical.yield_pending = true; // taken at the end of its critical section
	} else if (std::uintptr_t pc = static_cast<ucontext_t *>(context)->uc_mcontext.gregs[REG_RIP];
	           !f->in_restartable_call && !ts->rearming &&
	           (gotcha_defers_preemption(pc) || in_own_code(pc) ||
	            in_sanitizer_runtime(pc, static_cast<ucontext_t *>(context)->uc_mcontext.gregs[REG_RSP],
	                                 reinterpret_cast<std::uintptr_t>(f->stack.lo()),
	                                 reinterpret_cast<std::uintptr_t>(f->stack.hi())))) {
		// Executing the base libraries (a shared call): their state is everybody's, so the
		// function must not stop half-way through. Look again shortly.
		count(ts->stats.deferrals);
		timer_arm(ts, now + library_retry_ns);
	} else if (std::uintptr_t sp = static_cast<ucontext_t *>(context)->uc_mcontext.gregs[REG_RSP];
	           !on_stack_of(f, sp)) {
		// Not on its stack: a handler on another stack (look again soon), or the function
		// was left by a longjmp (abandoned: preempt whatever runs now next time).
		if (!abandon_jumped_out(ts, sp) || ts->current)
			timer_arm(ts, now + retry_ns);
	} else {
		// Outer functions whose deadline has passed too yield as soon as they run again.
		for (function_record *p = f->parent; p && p->deadline_ns <= now; p = p->parent)
			p->critical.yield_pending = true;
		count(ts->stats.preemptions);
		const sigset_t &fn_mask = static_cast<ucontext_t *>(context)->uc_sigmask;
		if (f->caller_mask_known && std::memcmp(&fn_mask, &f->caller_mask, sizeof(std::uint64_t)))
			pthread_sigmask(SIG_SETMASK, &f->caller_mask, nullptr); // the caller's, not ours
		f->in_handler = true;
		errno = saved_errno;
		leave(ts, f, exit_reason::preempted); // returns when resumed, with busy cleared
		// errno is saved_errno again: run() restored the fn_errno leave() saved. (Not
		// assigned here: the resumer may be another thread (migrate.cpp), and the compiler
		// keeps errno's address from before the switch.)
		f->in_handler = false;
		if (thread_state *here = tls_state; here != ts)
			adopt_signal_frame(here, static_cast<ucontext_t *>(context));
		return;
	}
	// A timer_settime above takes microseconds; if the timer expired meanwhile, the nested
	// handler found us busy and left the check to us. Re-arm, still busy, until an arm
	// completes before its expiry. Not unbusy(): a signal landing in its timer_settime would
	// preempt right here, inside the shared call this handler just deferred for. The margin
	// doubles so that a slow system call (a loaded machine) ends the loop, and is capped so
	// that the preemption is not put off much longer than the call needs.
	std::uint64_t settle = library_retry_ns;
	for (;;) {
		while (ts->tick_missed) {
			ts->tick_missed = false;
			std::uint64_t now_again = now_ns();
			timer_arm(ts, f->deadline_ns > now_again + settle ? f->deadline_ns : now_again + settle);
			settle = settle < max_settle_ns ? 2 * settle : max_settle_ns;
		}
		ts->busy = false;
		// A tick between the last look and the store above found us busy and was only
		// recorded: nothing else would re-arm the one-shot timer, and the function would run
		// on unpreempted. (One after the store is handled by its own handler.)
		if (!ts->tick_missed)
			break;
		ts->busy = true;
	}
	errno = saved_errno;
}

namespace {

// Sent by a process (kill, sigqueue, tgkill, raise) rather than raised by a fault.
bool sent_by_a_process(const siginfo_t *info) { return info->si_code <= 0; }

void chain_segv(int signo, siginfo_t *info, void *context) {
	const struct sigaction &prev = previous_segv;
	if (prev.sa_flags & SA_SIGINFO) {
		prev.sa_sigaction(signo, info, context);
	} else if (prev.sa_handler == SIG_IGN) {
		// Ignored, as without us. (A fault cannot be ignored: the kernel kills the process
		// when it comes again with the signal blocked or ignored.)
		if (sent_by_a_process(info))
			return;
		struct sigaction dfl {};
		dfl.sa_handler = SIG_DFL;
		real_sigaction(signo, &dfl, nullptr);
	} else if (prev.sa_handler == SIG_DFL) {
		// The default action (a core dump), as without us. A fault happens again when this
		// handler returns; a signal sent by a process does not, so it is sent again.
		struct sigaction dfl {};
		dfl.sa_handler = SIG_DFL;
		real_sigaction(signo, &dfl, nullptr);
		if (sent_by_a_process(info))
			raise(signo);
	} else {
		prev.sa_handler(signo);
	}
}

// A fault in the guard page of the running function's stack is a stack overflow: the function
// cannot continue, so it is terminated and its caller is told (LINGER_ESTACKOVERFLOW). Runs on
// the alternate signal stack; anything else goes to the handler that was there before us.
void on_segv(int signo, siginfo_t *info, void *context) {
	thread_state *ts = tls_state;
	function_record *f = ts ? ts->current : nullptr;
	if (f && !ts->busy && !sent_by_a_process(info) && f->stack.in_guard(info->si_addr)) {
		ts->busy = true;
		leave(ts, f, exit_reason::overflowed); // never returns
	}
	chain_segv(signo, info, context);
}

// Run `install` once per process; remember and report its failure (errno) on every call.
template <class Install>
bool once(std::once_flag &flag, bool &ok, int &error, Install install) {
	std::call_once(flag, [&] {
		ok = install();
		error = ok ? 0 : errno;
	});
	if (!ok)
		errno = error;
	return ok;
}

} // namespace


bool signals_install_timer() {
	static std::once_flag flag;
	static bool ok;
	static int error;
	return once(flag, ok, error, [] {
		deferred_code_find(); // before the handler can look at them
		freeze_signal();
		struct sigaction sa {};
		sigemptyset(&sa.sa_mask);
		sa.sa_sigaction = inger_on_timer; // timer_entry_x86_64.S, then program_interrupts.cpp
		// SA_RESTART: a preemption must not make an interrupted read() or write() fail with
		// EINTR.
		sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_NODEFER;
		// A handler the program installed before the runtime took the signal (through a raw
		// system call or before libinger was loaded: signal_actions.cpp refuses it after) is
		// not silently replaced: launch fails (LINGER_ESYSTEM, EBUSY). INGER_SIGNAL or
		// linger_set_signal() picks another signal.
		struct sigaction existing {};
		if (real_sigaction(configured_signal(), nullptr, &existing) != 0)
			return false;
		if (!(existing.sa_flags & SA_SIGINFO) &&
		    (existing.sa_handler == SIG_DFL || existing.sa_handler == SIG_IGN)) {
			return real_sigaction(configured_signal(), &sa, nullptr) == 0;
		}
		errno = EBUSY;
		return false;
	});
}

bool signals_install_overflow() {
	static std::once_flag flag;
	static bool ok;
	static int error;
	return once(flag, ok, error, [] {
		struct sigaction sa {};
		sigemptyset(&sa.sa_mask);
		sa.sa_sigaction = on_segv;
		sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
		return real_sigaction(SIGSEGV, &sa, &previous_segv) == 0;
	});
}

void *altstack_ensure(std::size_t *size) {
	stack_t current{};
	if (sigaltstack(nullptr, &current) == 0 && !(current.ss_flags & SS_DISABLE))
		return nullptr; // the thread (or a sanitizer) already has one
	std::size_t bytes = 64 * 1024;
	void *map = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED)
		return nullptr;
	stack_t ours{};
	ours.ss_sp = map;
	ours.ss_size = bytes;
	if (sigaltstack(&ours, nullptr) != 0) {
		munmap(map, bytes);
		return nullptr;
	}
	*size = bytes;
	return map;
}

void altstack_release(void *stack, std::size_t size) {
	if (!stack)
		return;
	stack_t current{};
	if (sigaltstack(nullptr, &current) == 0 && current.ss_sp == stack &&
	    !(current.ss_flags & SS_ONSTACK)) {
		stack_t off{};
		off.ss_flags = SS_DISABLE;
		sigaltstack(&off, nullptr);
		munmap(stack, size);
	}
}

} // namespace inger::detail
