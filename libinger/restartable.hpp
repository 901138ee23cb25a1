// restartable.hpp — what the wrappers of blocking calls share (restartable_calls.cpp,
// restartable_waits.cpp): the next definition of a symbol, the interruption probe, clocks.
#pragma once

#include "signal_actions.hpp"
#include "thread_state.hpp"

#include <libinger.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <ctime>
#include <dlfcn.h>
#include <sys/select.h>

namespace inger::detail {

// The next definition of a symbol (libc's), looked up on first use. No function-local static
// with a guard: a function preempted during the lookup would leave the guard taken, and the
// next function on the thread to make the same call would see a recursive initialisation.
// The lookup itself (dlsym takes the loader lock) runs in a critical section.
inline void *next(std::atomic<void *> &cache, const char *name) {
	void *fn = cache.load(std::memory_order_acquire);
	if (!fn) {
		linger_critical_begin();
		fn = dlsym(RTLD_NEXT, name);
		linger_critical_end();
		cache.store(fn, std::memory_order_release);
	}
	return fn;
}
#define REAL(name)                                                                           \
	static std::atomic<void *> real_##name{nullptr};                                         \
	const auto real = reinterpret_cast<decltype(&::name)>(next(real_##name, #name))

// Did a timer signal of ours arrive since `signals` was read, and none of the program's own
// since the call began (signal_actions.cpp counts those, also while the function was switched
// out: without us that signal would have interrupted this call)? rearm() also puts errno back
// as the caller left it: a retried call that then succeeds must not leave our EINTR behind.
// While a probe exists, the running function may be preempted inside libc's code (see
// gotcha_defers_preemption()): these calls hold no library state across the wait.
struct interruption_probe {
	thread_state *ts = tls_state;
	function_record *f = ts ? ts->current : nullptr;
	std::uint64_t signals = ts ? ts->stats.timer_signals : 0;
	std::uint64_t program_signals = program_signals_handled;
	int caller_errno = errno;
	interruption_probe() {
		if (f)
			f->in_restartable_call++;
	}
	~interruption_probe() {
		if (f)
			f->in_restartable_call--;
	}
	interruption_probe(const interruption_probe &) = delete;
	interruption_probe &operator=(const interruption_probe &) = delete;
	bool in_function() const { return ts && ts->current; }
	bool ours() const {
		return ts && ts->stats.timer_signals != signals && program_signals_handled == program_signals;
	}
	void rearm() {
		signals = ts ? ts->stats.timer_signals : 0;
		errno = caller_errno;
	}
};

inline std::uint64_t ns_of(const timespec &t) {
	return std::uint64_t(t.tv_sec) * 1000000000u + std::uint64_t(t.tv_nsec);
}
inline timespec timespec_of(std::uint64_t ns) {
	return {static_cast<time_t>(ns / 1000000000u), static_cast<long>(ns % 1000000000u)};
}
inline std::uint64_t clock_ns(clockid_t clock) {
	timespec t;
	clock_gettime(clock, &t);
	return ns_of(t);
}

// Time left of a relative timeout that started at `start` (0 once it has passed).
inline std::uint64_t left_of(clockid_t clock, std::uint64_t start, std::uint64_t total) {
	std::uint64_t elapsed = clock_ns(clock) - start;
	return elapsed >= total ? 0 : total - elapsed;
}

inline int poll_timeout_left(std::uint64_t start, int timeout_ms) {
	if (timeout_ms < 0)
		return timeout_ms;
	std::uint64_t left = left_of(CLOCK_MONOTONIC, start, std::uint64_t(timeout_ms) * 1000000u);
	return static_cast<int>((left + 999999) / 1000000);
}

// The fd sets of select or pselect as the caller passed them, restored before each retry:
// POSIX leaves them unspecified after an error, and every retry must wait for exactly what
// the caller asked.
struct fd_sets_kept {
	fd_set *rd, *wr, *ex;
	fd_set rd0, wr0, ex0;
	fd_sets_kept(fd_set *r, fd_set *w, fd_set *e) : rd(r), wr(w), ex(e) {
		if (rd) rd0 = *rd;
		if (wr) wr0 = *wr;
		if (ex) ex0 = *ex;
	}
	void restore() const {
		if (rd) *rd = rd0;
		if (wr) *wr = wr0;
		if (ex) *ex = ex0;
	}
};

// `mask` without the preemption signal (a wait must not block it: the function could not be
// preempted while it waits). Returns `mask` itself if it does not block it.
const sigset_t *without_preemption_signal(const sigset_t *mask, sigset_t &copy);

#define INGER_EXPORT extern "C" __attribute__((visibility("default")))

} // namespace inger::detail
