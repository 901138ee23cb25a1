// shared_locks.cpp — a lock held by a function paused on this thread is waited for by pausing.
//
// Preemptible functions share their thread. A mutex or rwlock's holder may be another
// function, preempted or paused on this thread, which can only run on once this one lets the
// thread go. libc's answers are a thread's: a mutex wait blocks the thread (for good where
// the wait itself is not preempted: base libc's code defers preemption when libsets are off
// or all taken), and a rwlock whose writer is the calling thread is refused with EDEADLK
// (std::shared_mutex throws). So the lock calls are interposed (libinger.so precedes libc in
// the global search order, as for the malloc family in shared_calls.cpp): inside a
// preemptible function, a lock held by this thread pauses the function, so the holder runs,
// and tries again. A lock held by another thread is waited for by libc, as before.
//
// Error-checking and recursive mutexes keep libc's answers, which are by thread (README,
// limits). A function that locks a default mutex or rwlock it already holds pauses on every
// resume instead of deadlocking its thread (or getting EDEADLK from a rwlock).
#include "restartable.hpp" // next(), REAL(): the next definition of a symbol

#include <libinger.h>

#include <cerrno>
#include <ctime>
#include <pthread.h>
#include <unistd.h>

using inger::detail::next;

namespace {

// Pause the running function; false if the runtime could not (inside its own code).
bool paused() {
	struct linger_stats before, after;
	linger_stats(&before);
	linger_pause();
	linger_stats(&after);
	return after.pauses != before.pauses;
}

// Is the mutex held by this thread (so by a function paused here)? Only for default and
// adaptive mutexes: glibc records their owner's thread id after taking them.
bool held_here(const pthread_mutex_t *m) {
	int kind = __atomic_load_n(&m->__data.__kind, __ATOMIC_RELAXED) & 3;
	if (kind == PTHREAD_MUTEX_RECURSIVE_NP || kind == PTHREAD_MUTEX_ERRORCHECK_NP)
		return false;
	int owner = __atomic_load_n(&m->__data.__owner, __ATOMIC_RELAXED);
	return owner != 0 && owner == ::gettid();
}

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

// try_lock() while the holder is a function of this thread (held()), pausing in between;
// then lock() (libc's wait, or its answer). at: a deadline on `clock`, or null.
template <class Try, class Held, class Lock>
int wait_for_holder(Try try_lock, Held held, Lock lock, clockid_t clock = CLOCK_REALTIME,
                    const struct timespec *at = nullptr) {
	if (!linger_critical_now) // not inside a preemptible function (one TLS read: every lock)
		return lock();
	for (;;) {
		int rc = try_lock();
		if (rc != EBUSY || !held())
			return rc == EBUSY ? lock() : rc;
		if (at && passed(clock, at))
			return ETIMEDOUT;
		if (!paused())
			return lock();
	}
}

template <class Try, class Lock>
int wait_for_writer(pthread_rwlock_t *l, Try try_lock, Lock lock, clockid_t clock = CLOCK_REALTIME,
                    const struct timespec *at = nullptr) {
	return wait_for_holder(try_lock, [l] { return written_here(l); }, lock, clock, at);
}

template <class Lock>
int wait_for_owner(pthread_mutex_t *m, Lock lock, clockid_t clock = CLOCK_REALTIME, const struct timespec *at = nullptr) {
	auto try_lock = [m] {
		REAL(pthread_mutex_trylock);
		return real(m);
	};
	return wait_for_holder(try_lock, [m] { return held_here(m); }, lock, clock, at);
}

} // namespace

// The plain lock calls' libc definitions are looked up (dlsym) when libinger is loaded,
// before the program's threads exist: the calls made most often, and from anywhere, never
// wait for the loader's lock. (The others are looked up on first use, as in restartable.hpp.)
__attribute__((constructor)) static void resolve_lock_calls() {
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	pthread_mutex_lock(&m);
	pthread_mutex_unlock(&m);
	pthread_rwlock_t l = PTHREAD_RWLOCK_INITIALIZER;
	pthread_rwlock_rdlock(&l);
	pthread_rwlock_unlock(&l);
}

#define INGER_EXPORT extern "C" __attribute__((visibility("default")))
#define TRY(name) [l] { REAL(name); return real(l); }

INGER_EXPORT int pthread_mutex_lock(pthread_mutex_t *m) {
	return wait_for_owner(m, [m] { REAL(pthread_mutex_lock); return real(m); });
}

INGER_EXPORT int pthread_mutex_timedlock(pthread_mutex_t *m, const struct timespec *at) {
	return wait_for_owner(
	    m, [m, at] { REAL(pthread_mutex_timedlock); return real(m, at); }, CLOCK_REALTIME, at);
}

INGER_EXPORT int pthread_mutex_clocklock(pthread_mutex_t *m, clockid_t clock, const struct timespec *at) {
	return wait_for_owner(
	    m, [m, clock, at] { REAL(pthread_mutex_clocklock); return real(m, clock, at); }, clock, at);
}

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
