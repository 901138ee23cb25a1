// shared_locks.cpp — a rwlock written by a function paused on this thread is waited for.
//
// glibc answers a write or read lock of a rwlock whose writer is the calling thread with
// EDEADLK: for threads, waiting could only deadlock. Preemptible functions share their thread,
// so here the writer may be another function, preempted or paused on this thread, which runs
// on as soon as this one lets the thread go: std::shared_mutex then throws system_error where
// it should wait. So these calls are interposed (libinger.so precedes libc in the global
// search order, as for the malloc family in shared_calls.cpp) and, inside a preemptible
// function, a lock whose writer is this thread pauses the function and tries again. Any other
// wait is libc's own: a blocked futex wait is preempted like any code, so a holder paused on
// this thread gets to run. (Mutexes need nothing: glibc does not check the owner of a default
// mutex. An error-checking or recursive mutex answers by thread; see the README's limits.)
//
// The cost: a function that write-locks a rwlock it already holds pauses forever instead of
// getting EDEADLK; each resume tries once more.
#include "restartable.hpp" // next(), REAL(): the next definition of a symbol

#include <libinger.h>

#include <cerrno>
#include <ctime>
#include <pthread.h>
#include <unistd.h>

using inger::detail::next;

namespace {

// Has a function on this thread the write lock? (glibc keeps the writer's thread id.)
bool written_here(const pthread_rwlock_t *l) {
	int writer = __atomic_load_n(&l->__data.__cur_writer, __ATOMIC_RELAXED);
	return writer != 0 && writer == ::gettid();
}

bool passed(clockid_t clock, const struct timespec *at) {
	struct timespec now;
	::clock_gettime(clock, &now);
	return now.tv_sec > at->tv_sec || (now.tv_sec == at->tv_sec && now.tv_nsec >= at->tv_nsec);
}

// try_lock() until the writer is not a function of this thread, pausing in between; then
// lock() (libc's wait, or its answer). at: a deadline on `clock`, or null.
template <class Try, class Lock>
int wait_for_writer(pthread_rwlock_t *l, Try try_lock, Lock lock, clockid_t clock = CLOCK_REALTIME,
                    const struct timespec *at = nullptr) {
	if (!linger_in_function())
		return lock();
	for (;;) {
		int rc = try_lock();
		if (rc != EBUSY || !written_here(l))
			return rc == EBUSY ? lock() : rc;
		if (at && passed(clock, at))
			return ETIMEDOUT;
		linger_pause();
	}
}

} // namespace

#define INGER_EXPORT extern "C" __attribute__((visibility("default")))
#define TRY(name) [l] { REAL(name); return real(l); }

INGER_EXPORT int pthread_rwlock_rdlock(pthread_rwlock_t *l) {
	return wait_for_writer(l, TRY(pthread_rwlock_tryrdlock), TRY(pthread_rwlock_rdlock));
}

INGER_EXPORT int pthread_rwlock_wrlock(pthread_rwlock_t *l) {
	return wait_for_writer(l, TRY(pthread_rwlock_trywrlock), TRY(pthread_rwlock_wrlock));
}

INGER_EXPORT int pthread_rwlock_timedrdlock(pthread_rwlock_t *l, const struct timespec *at) {
	return wait_for_writer(
	    l, TRY(pthread_rwlock_tryrdlock), [l, at] { REAL(pthread_rwlock_timedrdlock); return real(l, at); },
	    CLOCK_REALTIME, at);
}

INGER_EXPORT int pthread_rwlock_timedwrlock(pthread_rwlock_t *l, const struct timespec *at) {
	return wait_for_writer(
	    l, TRY(pthread_rwlock_trywrlock), [l, at] { REAL(pthread_rwlock_timedwrlock); return real(l, at); },
	    CLOCK_REALTIME, at);
}

INGER_EXPORT int pthread_rwlock_clockrdlock(pthread_rwlock_t *l, clockid_t clock, const struct timespec *at) {
	return wait_for_writer(
	    l, TRY(pthread_rwlock_tryrdlock),
	    [l, clock, at] { REAL(pthread_rwlock_clockrdlock); return real(l, clock, at); }, clock, at);
}

INGER_EXPORT int pthread_rwlock_clockwrlock(pthread_rwlock_t *l, clockid_t clock, const struct timespec *at) {
	return wait_for_writer(
	    l, TRY(pthread_rwlock_trywrlock),
	    [l, clock, at] { REAL(pthread_rwlock_clockwrlock); return real(l, clock, at); }, clock, at);
}
