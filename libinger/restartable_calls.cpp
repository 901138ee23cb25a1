// restartable_calls.cpp — blocking calls that a preemption must not fail with EINTR.
//
// The preemption signal is installed with SA_RESTART, so read(), write() and most other
// blocking calls interrupted by a preemption are restarted by the kernel. A few never are,
// whatever SA_RESTART says: the sleeps, poll/select/epoll_wait and sigsuspend return EINTR
// after any handler ran. An unmodified program that never expected a signal would see a
// spurious failure (Go 1.14's preemption broke programs exactly this way). These wrappers,
// interposed from libinger.so like the malloc family, retry such a call, with the time that
// is left, when the only signal that interrupted it was our timer's. An EINTR caused by one
// of the program's own signals is returned as usual. Outside preemptible functions they
// pass straight through.
#include "signal_actions.hpp"
#include "thread_state.hpp"
#include "timer.hpp"

#include <libinger.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <ctime>
#include <dlfcn.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <unistd.h>

using namespace inger::detail;

namespace {

// The next definition of a symbol (libc's), looked up on first use. No function-local static
// with a guard: a function preempted during the lookup would leave the guard taken, and the
// next function on the thread to make the same call would see a recursive initialisation.
// The lookup itself (dlsym takes the loader lock) runs in a critical section.
void *next(std::atomic<void *> &cache, const char *name) {
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

std::uint64_t ns_of(const timespec &t) {
	return std::uint64_t(t.tv_sec) * 1000000000u + std::uint64_t(t.tv_nsec);
}
timespec timespec_of(std::uint64_t ns) {
	return {static_cast<time_t>(ns / 1000000000u), static_cast<long>(ns % 1000000000u)};
}
std::uint64_t clock_ns(clockid_t clock) {
	timespec t;
	clock_gettime(clock, &t);
	return ns_of(t);
}

// Time left of a relative timeout that started at `start` (0 once it has passed).
std::uint64_t left_of(clockid_t clock, std::uint64_t start, std::uint64_t total) {
	std::uint64_t elapsed = clock_ns(clock) - start;
	return elapsed >= total ? 0 : total - elapsed;
}

int poll_timeout_left(std::uint64_t start, int timeout_ms) {
	if (timeout_ms < 0)
		return timeout_ms;
	std::uint64_t left = left_of(CLOCK_MONOTONIC, start, std::uint64_t(timeout_ms) * 1000000u);
	return static_cast<int>((left + 999999) / 1000000);
}

} // namespace

#define INGER_EXPORT extern "C" __attribute__((visibility("default")))

INGER_EXPORT int clock_nanosleep(clockid_t clock, int flags, const timespec *req, timespec *rem) {
	REAL(clock_nanosleep);
	interruption_probe probe;
	if (!probe.in_function() || !req)
		return real(clock, flags, req, rem);
	bool absolute = flags & TIMER_ABSTIME;
	std::uint64_t start = clock_ns(clock), total = ns_of(*req);
	timespec want = *req;
	for (;;) {
		int r = real(clock, flags, &want, rem);
		if (r != EINTR || !probe.ours())
			return r;
		probe.rearm();
		if (!absolute) {
			std::uint64_t left = left_of(clock, start, total);
			if (left == 0)
				return 0;
			want = timespec_of(left);
		}
	}
}

INGER_EXPORT int nanosleep(const timespec *req, timespec *rem) {
	int r = clock_nanosleep(CLOCK_REALTIME, 0, req, rem);
	if (r == 0)
		return 0;
	errno = r;
	return -1;
}

INGER_EXPORT int usleep(useconds_t us) {
	timespec req = timespec_of(std::uint64_t(us) * 1000u);
	return nanosleep(&req, nullptr);
}

INGER_EXPORT unsigned sleep(unsigned seconds) {
	timespec req{static_cast<time_t>(seconds), 0}, rem{};
	if (nanosleep(&req, &rem) == 0)
		return 0;
	return static_cast<unsigned>(rem.tv_sec + (rem.tv_nsec > 0));
}

INGER_EXPORT int poll(pollfd *fds, nfds_t n, int timeout_ms) {
	REAL(poll);
	interruption_probe probe;
	if (!probe.in_function())
		return real(fds, n, timeout_ms);
	std::uint64_t start = clock_ns(CLOCK_MONOTONIC);
	for (int wait = timeout_ms;; wait = poll_timeout_left(start, timeout_ms)) {
		int r = real(fds, n, wait);
		if (r >= 0 || errno != EINTR || !probe.ours())
			return r;
		probe.rearm();
	}
}

INGER_EXPORT int ppoll(pollfd *fds, nfds_t n, const timespec *timeout, const sigset_t *mask) {
	REAL(ppoll);
	interruption_probe probe;
	if (!probe.in_function())
		return real(fds, n, timeout, mask);
	std::uint64_t start = clock_ns(CLOCK_MONOTONIC), total = timeout ? ns_of(*timeout) : 0;
	timespec left_ts = timeout ? *timeout : timespec{};
	for (;;) {
		int r = real(fds, n, timeout ? &left_ts : nullptr, mask);
		if (r >= 0 || errno != EINTR || !probe.ours())
			return r;
		probe.rearm();
		if (timeout)
			left_ts = timespec_of(left_of(CLOCK_MONOTONIC, start, total));
	}
}

INGER_EXPORT int select(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, timeval *timeout) {
	REAL(select);
	interruption_probe probe;
	if (!probe.in_function())
		return real(nfds, rd, wr, ex, timeout);
	// POSIX leaves the sets unspecified after an error: restore copies, so that every retry
	// waits for exactly what the caller asked.
	fd_set r0, w0, e0;
	if (rd) r0 = *rd;
	if (wr) w0 = *wr;
	if (ex) e0 = *ex;
	for (;;) {
		// Linux updates *timeout to the time left, so a retry waits only for the rest.
		int r = real(nfds, rd, wr, ex, timeout);
		if (r >= 0 || errno != EINTR || !probe.ours())
			return r;
		probe.rearm();
		if (rd) *rd = r0;
		if (wr) *wr = w0;
		if (ex) *ex = e0;
	}
}

INGER_EXPORT int epoll_wait(int epfd, epoll_event *events, int max, int timeout_ms) {
	REAL(epoll_wait);
	interruption_probe probe;
	if (!probe.in_function())
		return real(epfd, events, max, timeout_ms);
	std::uint64_t start = clock_ns(CLOCK_MONOTONIC);
	for (int wait = timeout_ms;; wait = poll_timeout_left(start, timeout_ms)) {
		int r = real(epfd, events, max, wait);
		if (r >= 0 || errno != EINTR || !probe.ours())
			return r;
		probe.rearm();
	}
}

INGER_EXPORT int epoll_pwait(int epfd, epoll_event *events, int max, int timeout_ms,
                             const sigset_t *mask) {
	REAL(epoll_pwait);
	interruption_probe probe;
	if (!probe.in_function())
		return real(epfd, events, max, timeout_ms, mask);
	std::uint64_t start = clock_ns(CLOCK_MONOTONIC);
	for (int wait = timeout_ms;; wait = poll_timeout_left(start, timeout_ms)) {
		int r = real(epfd, events, max, wait, mask);
		if (r >= 0 || errno != EINTR || !probe.ours())
			return r;
		probe.rearm();
	}
}

INGER_EXPORT int sigsuspend(const sigset_t *mask) {
	REAL(sigsuspend);
	interruption_probe probe;
	for (;;) {
		int r = real(mask); // always -1 EINTR: after a handler ran
		if (!probe.in_function() || !probe.ours())
			return r;
		probe.rearm();
	}
}

INGER_EXPORT int pause(void) {
	REAL(pause);
	interruption_probe probe;
	for (;;) {
		int r = real();
		if (!probe.in_function() || !probe.ours())
			return r;
		probe.rearm();
	}
}
