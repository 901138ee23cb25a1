// signal_actions.cpp — sigaction and signal(), interposed from libinger.so.
//
// The preemption signal is the runtime's: once the runtime uses it, installing a handler for it
// fails with EINVAL (as glibc refuses its own internal signals), instead of silently stopping
// preemption; one installed before that makes the first launch fail (signals.cpp), instead of
// being silently replaced. For every other signal the program's handler is installed behind a
// trampoline that counts it on the running thread: the blocking calls libinger retries after
// a preemption (restartable_calls.cpp) must still fail with EINTR when the program's own signal
// came, even while the function was switched out. sigaction reports the program's handler,
// never the trampoline. SIGSEGV goes straight through (the overflow handler chains to it).
#include "signal_actions.hpp"

#include "config.hpp"
#include "signals.hpp"

#include <atomic>
#include <cerrno>
#include <cstring>

extern "C" int __sigaction(int, const struct sigaction *, struct sigaction *);

namespace inger::detail {

__thread std::uint64_t program_signals_handled __attribute__((tls_model("initial-exec"))) = 0;
__thread std::uint64_t program_signals_interrupting asm("inger_program_signals_interrupting")
    __attribute__((tls_model("initial-exec"))) = 0;

int real_sigaction(int signo, const struct sigaction *act, struct sigaction *old) {
	return __sigaction(signo, act, old);
}

namespace {

// The program's handler behind each trampoline. Written before the trampoline is installed.
struct program_action {
	std::atomic<void *> handler{nullptr};
	std::atomic<int> flags{0};
};
program_action actions[NSIG];

void trampoline(int signo, siginfo_t *info, void *context) {
	const program_action &a = actions[signo];
	void *handler = a.handler.load(std::memory_order_acquire);
	int flags = a.flags.load(std::memory_order_relaxed);
	asm volatile("incq %0" : "+m"(program_signals_handled)); // one instruction: a nested
	if (!(flags & SA_RESTART)) {                             // handler cannot tear it
		asm volatile("incq %0" : "+m"(program_signals_interrupting));
		signals_program_interrupts(context);
	}
	if (flags & SA_SIGINFO)
		reinterpret_cast<void (*)(int, siginfo_t *, void *)>(handler)(signo, info, context);
	else if (handler != reinterpret_cast<void *>(SIG_DFL) && handler != reinterpret_cast<void *>(SIG_IGN))
		reinterpret_cast<void (*)(int)>(handler)(signo);
}

void *handler_of(const struct sigaction &sa) {
	return sa.sa_flags & SA_SIGINFO ? reinterpret_cast<void *>(sa.sa_sigaction)
	                                : reinterpret_cast<void *>(sa.sa_handler);
}

bool wrappable(int signo) {
	return signo > 0 && signo < NSIG && signo != SIGKILL && signo != SIGSTOP && signo != SIGSEGV &&
	       signo != configured_signal() && !(signo >= 32 && signo < SIGRTMIN);
}

} // namespace
} // namespace inger::detail

using namespace inger::detail;

#define INGER_EXPORT extern "C" __attribute__((visibility("default")))

INGER_EXPORT int sigaction(int signo, const struct sigaction *act, struct sigaction *old) {
	if (act && signo == configured_signal() && signal_is_frozen()) {
		errno = EINVAL; // the runtime preempts with it
		return -1;
	}
	if (!wrappable(signo))
		return real_sigaction(signo, act, old);
	program_action &a = actions[signo];
	void *was_handler = a.handler.load();
	int was_flags = a.flags.load();
	struct sigaction mine;
	const struct sigaction *install = act;
	void *handler = act ? handler_of(*act) : nullptr;
	if (act && handler != reinterpret_cast<void *>(SIG_DFL) && handler != reinterpret_cast<void *>(SIG_IGN)) {
		a.flags.store(act->sa_flags, std::memory_order_relaxed);
		a.handler.store(handler, std::memory_order_release);
		mine = *act;
		mine.sa_sigaction = trampoline;
		mine.sa_flags |= SA_SIGINFO;
		install = &mine;
	}
	int r = real_sigaction(signo, install, old);
	if (r == 0 && old && old->sa_sigaction == trampoline) {
		// Report what the program installed, not our trampoline.
		old->sa_flags = was_flags;
		if (was_flags & SA_SIGINFO)
			old->sa_sigaction = reinterpret_cast<void (*)(int, siginfo_t *, void *)>(was_handler);
		else
			old->sa_handler = reinterpret_cast<void (*)(int)>(was_handler);
	}
	return r;
}

namespace {

sighandler_t install_simple(int signo, sighandler_t handler, int flags) {
	struct sigaction sa {}, old {};
	sa.sa_handler = handler;
	sa.sa_flags = flags;
	sigemptyset(&sa.sa_mask);
	if (flags == SA_RESTART) // BSD semantics also block the signal during its handler
		sigaddset(&sa.sa_mask, signo);
	if (sigaction(signo, &sa, &old) != 0)
		return SIG_ERR;
	return old.sa_handler;
}

} // namespace

// glibc's own versions call its internal sigaction, which would bypass the one above.
INGER_EXPORT sighandler_t signal(int signo, sighandler_t handler) {
	return install_simple(signo, handler, SA_RESTART);
}
INGER_EXPORT sighandler_t bsd_signal(int signo, sighandler_t handler) {
	return install_simple(signo, handler, SA_RESTART);
}
INGER_EXPORT sighandler_t sysv_signal(int signo, sighandler_t handler) {
	return install_simple(signo, handler, SA_RESETHAND | SA_NODEFER);
}
INGER_EXPORT sighandler_t __sysv_signal(int signo, sighandler_t handler) {
	return install_simple(signo, handler, SA_RESETHAND | SA_NODEFER);
}
