// signal_mask.cpp — sigprocmask and pthread_sigmask, interposed from libinger.so.
//
// Two things go wrong when a program changes its signal mask around preemptible functions.
// Blocking the preemption signal (sigfillset + SIG_BLOCK is common) leaves the thread's
// functions unpreemptible for good. And a function's own mask change used to reach its caller
// whenever the function gave control back. So: the preemption signal is never blocked (it is
// taken out of every request, as glibc takes out its own internal signals), and inside a
// preemptible function the first change records the caller's mask, so that the runtime can give
// each side its own (signals.cpp at a preemption, mask_to_caller/mask_to_function otherwise).
// Masks changed behind these calls (a raw system call, swapcontext, siglongjmp's restore)
// are not tracked: at a preemption the caller still gets its mask back, since the handler
// compares the interrupted mask with the caller's.
#include "signal_mask.hpp"

#include "config.hpp"

#include <libinger.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <sys/syscall.h>
#include <unistd.h>

namespace inger::detail {
namespace {

// The kernel's mask is the first 64 bits of glibc's sigset_t.
std::uint64_t word(const sigset_t &s) {
	std::uint64_t w;
	std::memcpy(&w, &s, sizeof w);
	return w;
}
void set_word(sigset_t &s, std::uint64_t w) {
	sigemptyset(&s);
	std::memcpy(&s, &w, sizeof w);
}
constexpr std::uint64_t bit(int signo) { return std::uint64_t{1} << (signo - 1); }

// What no request may block: the preemption signal, and glibc's cancellation and setxid
// signals (32 and 33), which glibc's own wrappers never block either.
std::uint64_t unblockable() { return bit(configured_signal()) | bit(32) | bit(33); }

int change_mask(int how, const sigset_t *set, sigset_t *old);

} // namespace

int kernel_sigmask(int how, const sigset_t *set, sigset_t *old) {
	return static_cast<int>(syscall(SYS_rt_sigprocmask, how, set, old, sizeof(std::uint64_t)));
}

void mask_resume_preempted(function_record *f) {
	sigset_t preemption;
	set_word(preemption, bit(configured_signal()));
	f->caller_mask_known = kernel_sigmask(SIG_BLOCK, &preemption, &f->caller_mask) == 0;
	if (f->caller_mask_known) // what was blocked just now is not part of the caller's mask
		set_word(f->caller_mask, word(f->caller_mask) & ~bit(configured_signal()));
}

void mask_to_caller(function_record *f) {
	int saved = errno;
	kernel_sigmask(SIG_SETMASK, &f->caller_mask, &f->fn_mask);
	errno = saved;
}

void mask_to_function(function_record *f) {
	int saved = errno;
	kernel_sigmask(SIG_SETMASK, &f->fn_mask, &f->caller_mask);
	f->caller_mask_known = true;
	errno = saved;
}

namespace {

// The one implementation of both calls: 0 or an error number.
int change_mask(int how, const sigset_t *set, sigset_t *old) {
	if (set && how != SIG_BLOCK && how != SIG_UNBLOCK && how != SIG_SETMASK)
		return EINVAL;
	sigset_t want;
	const sigset_t *request = set;
	if (set && how != SIG_UNBLOCK) {
		set_word(want, word(*set) & ~unblockable());
		request = &want;
	}
	// Inside a preemptible function: no preemption between recording the caller's mask and
	// the change (the handler would give the caller a mask half-way through).
	linger_critical_begin();
	thread_state *ts = tls_state;
	function_record *f = ts && !ts->busy ? ts->current : nullptr;
	if (f && set && !f->mask_changed) {
		if (!f->caller_mask_known && kernel_sigmask(SIG_BLOCK, nullptr, &f->caller_mask) == 0)
			f->caller_mask_known = true;
		f->mask_changed = f->caller_mask_known;
	}
	int r = kernel_sigmask(how, request, old) == 0 ? 0 : errno;
	linger_critical_end();
	return r;
}

} // namespace
} // namespace inger::detail

using namespace inger::detail;

#define INGER_EXPORT extern "C" __attribute__((visibility("default")))

INGER_EXPORT int pthread_sigmask(int how, const sigset_t *set, sigset_t *old) {
	return change_mask(how, set, old);
}

INGER_EXPORT int sigprocmask(int how, const sigset_t *set, sigset_t *old) {
	int r = change_mask(how, set, old);
	if (r == 0)
		return 0;
	errno = r;
	return -1;
}
