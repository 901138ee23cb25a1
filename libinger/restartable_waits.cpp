// restartable_waits.cpp — more blocking calls the kernel never restarts after a handler,
// retried like those in restartable_calls.cpp when only our timer interrupted them: pselect,
// epoll_pwait2, the signal waits, System V IPC, POSIX semaphores with a timeout, and socket
// calls on a socket with SO_RCVTIMEO/SO_SNDTIMEO (without one the kernel restarts them).
// Timeouts count from the call's start, the time the function spent switched out included.
#include "restartable.hpp"

#include <poll.h>
#include <semaphore.h>
#include <sys/epoll.h>
#include <sys/msg.h>
#include <sys/select.h>
#include <sys/sem.h>
#include <sys/socket.h>

using namespace inger::detail;

namespace {

// The relative timeout left of `total` (nullptr: none) since `start`, into `left`.
const timespec *relative_left(const timespec *total, std::uint64_t start, timespec &left) {
	if (!total)
		return nullptr;
	left = timespec_of(left_of(CLOCK_MONOTONIC, start, ns_of(*total)));
	return &left;
}

// Retry `call` (returning -1 with errno on failure) while our timer alone interrupted it.
template <class Call>
auto retried(interruption_probe &probe, Call call) {
	for (;;) {
		auto r = call();
		if (r != -1 || errno != EINTR || !probe.ours())
			return r;
		probe.rearm();
	}
}

// A socket call our timer interrupted: the socket has a timeout (or the kernel would have
// restarted it). Wait for readiness with poll, for what is left of that timeout; 0 if the
// call may be retried, -1 with EAGAIN (what the socket's timeout reports) if it has run out.
int wait_socket(int fd, bool input, std::uint64_t start) {
	timeval tv{};
	socklen_t len = sizeof tv;
	if (getsockopt(fd, SOL_SOCKET, input ? SO_RCVTIMEO : SO_SNDTIMEO, &tv, &len) != 0)
		return 0;
	std::uint64_t total = std::uint64_t(tv.tv_sec) * 1000000000u + std::uint64_t(tv.tv_usec) * 1000u;
	if (total == 0)
		return 0;
	for (;;) {
		std::uint64_t left = left_of(CLOCK_MONOTONIC, start, total);
		pollfd p{fd, static_cast<short>(input ? POLLIN : POLLOUT), 0};
		int r = left == 0 ? 0 : poll(&p, 1, static_cast<int>((left + 999999) / 1000000)); // ours: retries
		if (r > 0)
			return 0;
		if (r == 0) {
			errno = EAGAIN;
			return -1;
		}
		if (errno != EINTR) // the program's signal: EINTR, as the call would have
			return -1;
	}
}

template <class Call>
ssize_t socket_call(int fd, bool input, Call call) {
	interruption_probe probe;
	if (!probe.in_function())
		return call();
	std::uint64_t start = clock_ns(CLOCK_MONOTONIC);
	for (;;) {
		ssize_t r = call();
		if (r != -1 || errno != EINTR || !probe.ours())
			return r;
		probe.rearm();
		if (wait_socket(fd, input, start) != 0)
			return -1;
		probe.rearm();
	}
}

} // namespace

INGER_EXPORT int pselect(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, const timespec *timeout,
                         const sigset_t *mask) {
	REAL(pselect);
	interruption_probe probe;
	if (!probe.in_function())
		return real(nfds, rd, wr, ex, timeout, mask);
	fd_sets_kept sets(rd, wr, ex);
	sigset_t copy;
	const sigset_t *wait_mask = without_preemption_signal(mask, copy);
	std::uint64_t start = clock_ns(CLOCK_MONOTONIC);
	timespec left;
	for (const timespec *t = timeout;; t = relative_left(timeout, start, left)) {
		int r = real(nfds, rd, wr, ex, t, wait_mask);
		if (r >= 0 || errno != EINTR || !probe.ours())
			return r;
		probe.rearm();
		sets.restore();
	}
}

INGER_EXPORT int epoll_pwait2(int epfd, epoll_event *events, int max, const timespec *timeout,
                              const sigset_t *mask) {
	REAL(epoll_pwait2);
	interruption_probe probe;
	if (!probe.in_function())
		return real(epfd, events, max, timeout, mask);
	sigset_t copy;
	const sigset_t *wait_mask = without_preemption_signal(mask, copy);
	std::uint64_t start = clock_ns(CLOCK_MONOTONIC);
	timespec left;
	const timespec *t = timeout;
	return retried(probe, [&] {
		int r = real(epfd, events, max, t, wait_mask);
		t = relative_left(timeout, start, left);
		return r;
	});
}

INGER_EXPORT int sigtimedwait(const sigset_t *set, siginfo_t *info, const timespec *timeout) {
	REAL(sigtimedwait);
	interruption_probe probe;
	if (!probe.in_function())
		return real(set, info, timeout);
	std::uint64_t start = clock_ns(CLOCK_MONOTONIC);
	timespec left;
	const timespec *t = timeout;
	return retried(probe, [&] {
		int r = real(set, info, t);
		t = relative_left(timeout, start, left);
		return r;
	});
}

INGER_EXPORT int sigwaitinfo(const sigset_t *set, siginfo_t *info) {
	REAL(sigwaitinfo);
	interruption_probe probe;
	if (!probe.in_function())
		return real(set, info);
	return retried(probe, [&] { return real(set, info); });
}

INGER_EXPORT int semtimedop(int id, sembuf *ops, size_t n, const timespec *timeout) {
	REAL(semtimedop);
	interruption_probe probe;
	if (!probe.in_function())
		return real(id, ops, n, timeout);
	std::uint64_t start = clock_ns(CLOCK_MONOTONIC);
	timespec left;
	const timespec *t = timeout;
	return retried(probe, [&] {
		int r = real(id, ops, n, t);
		t = relative_left(timeout, start, left);
		return r;
	});
}

INGER_EXPORT int semop(int id, sembuf *ops, size_t n) { return semtimedop(id, ops, n, nullptr); }

INGER_EXPORT ssize_t msgrcv(int id, void *msg, size_t size, long type, int flags) {
	REAL(msgrcv);
	interruption_probe probe;
	if (!probe.in_function())
		return real(id, msg, size, type, flags);
	return retried(probe, [&] { return real(id, msg, size, type, flags); });
}

INGER_EXPORT int msgsnd(int id, const void *msg, size_t size, int flags) {
	REAL(msgsnd);
	interruption_probe probe;
	if (!probe.in_function())
		return real(id, msg, size, flags);
	return retried(probe, [&] { return real(id, msg, size, flags); });
}

// Absolute deadlines: retried as they are.
INGER_EXPORT int sem_timedwait(sem_t *sem, const timespec *deadline) {
	REAL(sem_timedwait);
	interruption_probe probe;
	if (!probe.in_function())
		return real(sem, deadline);
	return retried(probe, [&] { return real(sem, deadline); });
}

INGER_EXPORT int sem_clockwait(sem_t *sem, clockid_t clock, const timespec *deadline) {
	REAL(sem_clockwait);
	interruption_probe probe;
	if (!probe.in_function())
		return real(sem, clock, deadline);
	return retried(probe, [&] { return real(sem, clock, deadline); });
}

INGER_EXPORT ssize_t recv(int fd, void *buf, size_t n, int flags) {
	REAL(recv);
	return socket_call(fd, true, [&] { return real(fd, buf, n, flags); });
}

INGER_EXPORT ssize_t recvfrom(int fd, void *buf, size_t n, int flags, sockaddr *from, socklen_t *len) {
	REAL(recvfrom);
	return socket_call(fd, true, [&] { return real(fd, buf, n, flags, from, len); });
}

INGER_EXPORT ssize_t recvmsg(int fd, msghdr *msg, int flags) {
	REAL(recvmsg);
	return socket_call(fd, true, [&] { return real(fd, msg, flags); });
}

INGER_EXPORT ssize_t send(int fd, const void *buf, size_t n, int flags) {
	REAL(send);
	return socket_call(fd, false, [&] { return real(fd, buf, n, flags); });
}

INGER_EXPORT ssize_t sendto(int fd, const void *buf, size_t n, int flags, const sockaddr *to, socklen_t len) {
	REAL(sendto);
	return socket_call(fd, false, [&] { return real(fd, buf, n, flags, to, len); });
}

INGER_EXPORT ssize_t sendmsg(int fd, const msghdr *msg, int flags) {
	REAL(sendmsg);
	return socket_call(fd, false, [&] { return real(fd, msg, flags); });
}

INGER_EXPORT int accept(int fd, sockaddr *addr, socklen_t *len) {
	REAL(accept);
	return static_cast<int>(socket_call(fd, true, [&] { return ssize_t(real(fd, addr, len)); }));
}

INGER_EXPORT int accept4(int fd, sockaddr *addr, socklen_t *len, int flags) {
	REAL(accept4);
	return static_cast<int>(socket_call(fd, true, [&] { return ssize_t(real(fd, addr, len, flags)); }));
}
