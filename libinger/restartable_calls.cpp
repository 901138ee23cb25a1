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
#include "restartable.hpp"

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

namespace inger::detail {

const sigset_t *without_preemption_signal(const sigset_t *mask, sigset_t &copy) {
	if (!mask || sigismember(mask, linger_signal()) != 1)
		return mask;
	copy = *mask;
	sigdelset(&copy, linger_signal());
	return &copy;
}

} // namespace inger::detail

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
	sigset_t copy;
	std::uint64_t start = clock_ns(CLOCK_MONOTONIC), total = timeout ? ns_of(*timeout) : 0;
	timespec left_ts = timeout ? *timeout : timespec{};
	for (;;) {
		int r = real(fds, n, timeout ? &left_ts : nullptr, without_preemption_signal(mask, copy));
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
	fd_sets_kept sets(rd, wr, ex);
	// Linux leaves the time left in *timeout, but the time the function spent switched out
	// counts too: the time left is measured from the start.
	std::uint64_t start = clock_ns(CLOCK_MONOTONIC);
	std::uint64_t total = timeout ? std::uint64_t(timeout->tv_sec) * 1000000000u +
	                                    std::uint64_t(timeout->tv_usec) * 1000u
	                              : 0;
	for (;;) {
		int r = real(nfds, rd, wr, ex, timeout);
		if (r >= 0 || errno != EINTR || !probe.ours())
			return r;
		probe.rearm();
		sets.restore();
		if (timeout) {
			std::uint64_t left = left_of(CLOCK_MONOTONIC, start, total);
			timeout->tv_sec = static_cast<time_t>(left / 1000000000u);
			timeout->tv_usec = static_cast<suseconds_t>(left % 1000000000u / 1000u);
		}
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
	sigset_t copy;
	std::uint64_t start = clock_ns(CLOCK_MONOTONIC);
	for (int wait = timeout_ms;; wait = poll_timeout_left(start, timeout_ms)) {
		int r = real(epfd, events, max, wait, without_preemption_signal(mask, copy));
		if (r >= 0 || errno != EINTR || !probe.ours())
			return r;
		probe.rearm();
	}
}

INGER_EXPORT int sigsuspend(const sigset_t *mask) {
	REAL(sigsuspend);
	interruption_probe probe;
	sigset_t copy;
	for (;;) {
		int r = real(without_preemption_signal(mask, copy)); // -1 EINTR after a handler ran
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
