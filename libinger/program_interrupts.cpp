// program_interrupts.cpp — the program's own signals still interrupt blocking calls that our
// preemption had the kernel restart.
//
// The preemption signal is installed with SA_RESTART, so a read() it interrupts is restarted.
// If one of the program's own signals, installed without SA_RESTART, is handled on the thread
// while our handler runs or while the function it preempted is switched out, that signal would
// have made the call fail with EINTR without us: the handler makes it fail so. The program's
// handlers run behind a trampoline that counts them (signal_actions.cpp); the timer handler
// compares the count at its start and at its end.
//
// Three windows, closed here: a program signal landing in the handler's prologue, before its
// first look (the count is read by the handler's first instructions, timer_entry_x86_64.S, and
// the trampoline recognises a context stopped before that read); one landing after its last
// look or during its sigreturn (the handler blocks the program's signals before that look when
// it returns to a restart; sigreturn unblocks them, and the signal is delivered stopped exactly
// at the restart point, which pending_restart lets the trampoline recognise); and both signals
// arriving together (the trampoline finds our handler before its first instruction on top of
// it). The blocking system call is paid only by a preemption inside a blocking call.
#include "signals.hpp"

#include "signal_actions.hpp"
#include "signal_mask.hpp"

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <sys/syscall.h>
#include <ucontext.h>

extern "C" __attribute__((visibility("hidden"))) char inger_timer_count_read[];

namespace inger::detail {

// Test seam (testing.h): called by the timer handler after its last look at the program's
// signals, before it returns.
void (*volatile testing_after_last_look)() = nullptr;

namespace {

// Blocking system calls that our SA_RESTART handler has the kernel restart, but that a
// program handler without SA_RESTART makes fail with EINTR.
bool interruptible_restarted(long nr) {
	switch (nr) {
	case SYS_read: case SYS_readv: case SYS_write: case SYS_writev:
	case SYS_recvfrom: case SYS_recvmsg: case SYS_sendto: case SYS_sendmsg:
	case SYS_accept: case SYS_accept4: case SYS_connect: case SYS_wait4: case SYS_waitid:
	case SYS_flock: case SYS_open: case SYS_openat: case SYS_mq_timedreceive: case SYS_mq_timedsend:
		return true;
	default:
		return false;
	}
}

// The context is a blocking call the kernel has set up to restart (the instruction pointer back
// on the syscall instruction, rax the call's number).
bool restart_set_up(const ucontext_t *uc) {
	const greg_t *regs = uc->uc_mcontext.gregs;
	auto *rip = reinterpret_cast<const unsigned char *>(regs[REG_RIP]);
	return rip[0] == 0x0f && rip[1] == 0x05 && interruptible_restarted(regs[REG_RAX]);
}

// Make that call return EINTR instead of restarting.
void fail_restarted_call(ucontext_t *uc) {
	if (restart_set_up(uc)) {
		uc->uc_mcontext.gregs[REG_RAX] = -EINTR;
		uc->uc_mcontext.gregs[REG_RIP] += 2;
	}
}

// The restart point (the syscall instruction and the stack pointer there) of the blocking call
// the last timer handler on this thread returned to with the program's signals blocked. Only
// the trampoline clears it: a timer expiry pending at the same sigreturn is delivered after the
// program's signal, so its handler runs first. Left behind, it could only match a later program
// signal stopped before that very syscall instruction at that very stack depth, which then
// fails the call with EINTR: a signal at the call's start, a fair outcome.
struct restart_point {
	greg_t rip = 0, rsp = 0;
};
__thread restart_point pending_restart __attribute__((tls_model("initial-exec")));

} // namespace

void signals_program_interrupts(void *context) {
	auto *uc = static_cast<ucontext_t *>(context);
	const greg_t *regs = uc->uc_mcontext.gregs;
	if (regs[REG_RIP] >= reinterpret_cast<greg_t>(&inger_on_timer) &&
	    regs[REG_RIP] < reinterpret_cast<greg_t>(inger_timer_count_read))
		fail_restarted_call(reinterpret_cast<ucontext_t *>(regs[REG_RDX])); // its third argument
	else if (regs[REG_RIP] == pending_restart.rip && regs[REG_RSP] == pending_restart.rsp)
		fail_restarted_call(uc);
	pending_restart = {};
}

} // namespace inger::detail

using namespace inger::detail;

// The timer handler, entered from inger_on_timer with the count it read first (`interrupting`).
extern "C" __attribute__((visibility("hidden"))) void
inger_on_timer_body(int, siginfo_t *info, void *context, std::uint64_t interrupting) {
	auto *uc = static_cast<ucontext_t *>(context);
	handle_tick(info, context);
	if (program_signals_interrupting == interrupting && restart_set_up(uc)) {
		sigset_t all;
		sigfillset(&all);
		kernel_sigmask(SIG_BLOCK, &all, nullptr); // until sigreturn restores the function's mask
		asm volatile("" ::: "memory");            // the last look is after the block
		if (program_signals_interrupting == interrupting)
			pending_restart = {uc->uc_mcontext.gregs[REG_RIP], uc->uc_mcontext.gregs[REG_RSP]};
	}
	if (program_signals_interrupting != interrupting)
		fail_restarted_call(uc);
	if (void (*hook)() = testing_after_last_look)
		hook();
}

extern "C" void linger_testing_after_last_look(void (*hook)(void)) {
	testing_after_last_look = hook;
}
