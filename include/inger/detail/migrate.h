/* inger/detail/migrate.h — moving a paused or preempted function to another thread.
 *
 * Internal interface, for libturquoise's pool (whose idle workers take preempted tasks from
 * busy ones); not part of the documented API. A handle belongs to the thread that launched
 * it; these two calls hand it over: linger_migrate_out() on the thread that holds it, then
 * linger_migrate_in() on the thread that will resume (or cancel) it. In between, the function
 * belongs to no thread: no thread can resume or cancel it, and it is never freed.
 *
 * What changes for the function: from its next resume on, it runs on the new thread, and so
 * sees that thread's thread-local variables. Code that keeps the address of a thread-local
 * variable (errno included: glibc's __errno_location() is a const function, whose result the
 * compiler may keep in a register) across a point where it is preempted goes on using the old
 * thread's; a program whose preemptible functions may be migrated must not rely on
 * thread-local state across a preemption. */
#ifndef INGER_DETAIL_MIGRATE_H
#define INGER_DETAIL_MIGRATE_H

#include <libinger.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Take the function `l` names off the calling thread. Returns 0 (l can only be adopted now),
 * or -1 with errno: EINVAL (l is NULL), ESRCH (not a live handle of this thread), EBUSY (it
 * is running; or it cannot move now: it is inside a critical section or a restartable call,
 * or a paused preemptible function it ran is still on this thread), EDEADLK (called from the
 * timer signal's handler or while libinger switches), ENOMEM. */
int linger_migrate_out(linger_t *l);

/* Adopt, on the calling thread, the function linger_migrate_out() took off its thread; l's
 * slot is updated. Returns 0, or -1 with errno: EINVAL (l is NULL), ESRCH (not in transit:
 * never taken out, or adopted already), EDEADLK (as above), ENOMEM. */
int linger_migrate_in(linger_t *l);

#ifdef __cplusplus
}
#endif

#endif
