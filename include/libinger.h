/*
 * libinger.h — preemptible function calls (C API).
 *
 * A preemptible function runs on its own stack, on the calling thread, with a time budget.
 * If it returns within the budget, launch() returns with is_complete set, as a plain call
 * would. If it does not, a per-thread timer signal interrupts it and launch() returns with
 * is_complete clear; resume() continues it later with a new budget and cancel() discards it.
 *
 * Source-compatible with the original libinger's header (launch, resume, cancel, linger_t,
 * is_complete); the original's pause() is called linger_pause() here, to keep pause(2).
 *
 * Costs: a function that finishes within its budget causes no system call and no signal;
 * launch, pause and resume are a register switch plus a few thread-local writes. Only a
 * function that actually outlives its budget pays for a signal.
 *
 * Threads: any number of threads may use the runtime at once. A handle belongs to the
 * thread that launched it: resume and cancel it on that thread.
 *
 * Errors never abort. Every entry point reports failure through the handle's `error` field
 * (a LINGER_E* code, 0 on success) and errno; linger_strerror() describes a code.
 */
#ifndef LIBINGER_H
#define LIBINGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Pass as timeout_us to run the function to completion (no timer is involved). */
#define LINGER_UNLIMITED UINT64_MAX

/*
 * Error codes, stored in linger_t.error by the call that failed. errno is set to the value
 * named beside each code as well, so either may be checked.
 */
enum linger_error {
	LINGER_OK = 0,
	LINGER_ENULLFN = 1,       /* launch: fn is NULL.                                 errno EINVAL   */
	LINGER_ENULLHANDLE = 2,   /* resume/cancel: the handle pointer is NULL.          errno EINVAL   */
	LINGER_ECOMPLETED = 3,    /* resume/cancel: the function has already returned.   errno EALREADY */
	LINGER_ECANCELLED = 4,    /* resume/cancel: the handle was cancelled.            errno ECANCELED */
	LINGER_EFOREIGN = 5,      /* resume/cancel: not a live handle of this thread (never
	                           * launched, launched on another thread, a stale copy of a
	                           * handle that has since finished, or a failed launch).  errno ESRCH  */
	LINGER_ERUNNING = 6,      /* resume/cancel: the function is running: it is the caller
	                           * itself or one of the functions that launched/resumed it. errno EBUSY */
	LINGER_ENOMEM = 7,        /* launch: no memory for the function's record or stack. errno ENOMEM */
	LINGER_ESIGNAL = 8,       /* launch/resume/cancel called from a signal handler that
	                           * interrupted libinger itself on this thread.           errno EDEADLK */
	LINGER_ESTACKOVERFLOW = 9,/* launch/resume: the function overflowed its stack (hit the
	                           * guard page) and was terminated; the handle is dead, and
	                           * resume/cancel of it report this code again.          errno EFAULT */
	LINGER_ESYSTEM = 10,      /* launch/resume: the per-thread timer or signal handler could not be
	                           * set up (timer_create/sigaction failed); errno is the system's.  */
	LINGER_EABANDONED = 11,   /* resume/cancel: the function left its stack by longjmp (or
	                           * swapcontext) into the frames of a caller; the runtime noticed at
	                           * its next call on the thread and freed it.  errno ENOTRECOVERABLE */
	LINGER_ECORRUPTED = 12    /* resume/cancel: the function's stack was found overwritten from
	                           * outside (a stack clash: another function's frame larger than the
	                           * guard region jumped it); it was discarded without running again,
	                           * and the handle is dead.                              errno EFAULT */
};

/*
 * A handle on a preemptible function (the struct has no tag: <sys/socket.h> owns "struct
 * linger"). Plain data: copies name the same function, but once it
 * has finished or been cancelled through one copy, the others report LINGER_EFOREIGN.
 */
typedef struct {
	bool is_complete; /* the function has returned */
	int error;        /* LINGER_OK, or the enum linger_error of the last failed call */
	struct {          /* opaque continuation state: do not touch */
		uint64_t id;
		uint32_t slot;
		uint32_t flags;
	} continuation;
} linger_t;

/*
 * Call fn(arg) on a fresh stack with a budget of timeout_us microseconds.
 *   timeout_us == 0                 set the function up without running it (resume() starts it);
 *   timeout_us == LINGER_UNLIMITED  run it to completion, no timer.
 * Returns with is_complete set if fn returned within the budget, clear if it was preempted or
 * paused (resume or cancel it later), or with error set if it could not be launched or it
 * overflowed its stack.
 *
 * Nesting: a preemptible function may launch others. An inner function never runs past the
 * deadline of the function that launched it: when that outer deadline passes, the inner one
 * is preempted back to the outer one, which is then preempted back to its own caller.
 */
linger_t launch(void (*fn)(void *), uint64_t timeout_us, void *arg);

/*
 * Continue a paused or preempted function for up to timeout_us more microseconds
 * (same conventions as launch). On return, l->is_complete tells whether it finished.
 * On failure l->error is set (and the function, if still live, is left as it was).
 */
void resume(linger_t *l, uint64_t timeout_us);

/*
 * Discard a paused or preempted function and recycle its stack. Its stack frames are not
 * unwound (C++ destructors of objects living on its stack do not run): the original
 * libinger's behaviour, and the cheapest. Cancel of a completed or already cancelled handle
 * is reported as an error, not ignored.
 */
void cancel(linger_t *l);

/*
 * Discard a paused or preempted function as cancel() does, after unwinding its stack as
 * glibc's pthread_cancel unwinds a thread's: the function is switched back in and a forced
 * unwind runs the destructors of the C++ objects on its stack (and __attribute__((cleanup))
 * handlers of C code built with -fexceptions), releasing the locks they hold. Same errors as
 * cancel(); the handle is then cancelled.
 *
 * Which destructors run:
 *  - paused (linger_pause, or a preemption deferred to a critical section's end or a library
 *    call's return): every frame stops at a call, and all of them run;
 *  - preempted by the timer at an arbitrary instruction: landing pads exist only at call
 *    sites, so the function is first allowed to run on, up to 20 ticks of 50 us, until it
 *    stops where its innermost frame can be unwound exactly (inside a call to code without
 *    cleanups, at a pause, or at a point its unwind tables cover); then all of them run. If it
 *    never does (a call-free loop in a function with destructible locals), the unwind goes as
 *    far as frames are exact: the frames from the first inexact one outwards are discarded
 *    without their destructors, as with cancel(). Building such code with
 *    -fnon-call-exceptions makes every memory access an exact point.
 *  - frames of noexcept functions (and destructors) cannot be unwound: the unwind stops below
 *    them the same way. The program is never terminated for a cancel.
 * A catch (...) that does not rethrow does not stop the unwind: it is raised again at the end
 * of that catch block, and the code after it does not run (catch (abi::__forced_unwind&)
 * with a rethrow, or catch (...) { ...; throw; }, is the well-behaved form, as for thread
 * cancellation). A function never started is simply discarded.
 */
void linger_cancel_unwind(linger_t *l);

/*
 * Inside a preemptible function: give control back to its caller now, as a preemption
 * would; the caller sees is_complete clear. Outside any preemptible function: does nothing.
 */
void linger_pause(void);

/*
 * Inside a preemptible function: give the calling function a new budget of timeout_us
 * microseconds from now, in place of what is left of its current one (LINGER_UNLIMITED: no
 * budget of its own). As at launch, the new deadline never passes that of the function that
 * launched or resumed it. A preemption that fell due inside a critical section and is still
 * pending is dropped if the new deadline is later than now. Meant for code that runs many
 * jobs in one preemptible function and gives each job its own budget; it costs a clock read,
 * and no system call when the timer is already set to fire sooner (it then fires early and
 * is set again for the new deadline).
 * Returns 0, or -1 with errno ESRCH outside any preemptible function (nothing is done),
 * EDEADLK from a signal handler that interrupted libinger itself on this thread, or the
 * system's errno if the per-thread timer could not be set up (the budget is unchanged).
 */
int linger_set_timeout(uint64_t timeout_us);

/*
 * Internal: the running preemptible function's critical-section state, through which the
 * C++ header's inline critical sections (inger::critical_section) avoid a call per section.
 * `linger_critical_now` points at it while a preemptible function runs on the thread, and is
 * null outside any. Only the owning thread touches it (its timer handler included).
 */
struct linger_critical_state {
	uint32_t depth;     /* sections entered and not left */
	bool yield_pending; /* a preemption fell due inside one: taken when depth returns to 0 */
};
extern __thread struct linger_critical_state *linger_critical_now
    __attribute__((tls_model("initial-exec")));
/* The end of the outermost section when a preemption is pending (the slow path). */
void linger_critical_yield(void);

/*
 * Critical sections: between linger_critical_begin() and the matching linger_critical_end()
 * the current preemptible function is not preempted. A preemption that falls due meanwhile is
 * taken at the outermost linger_critical_end(). Sections nest. Outside any preemptible
 * function both calls do nothing.
 */
void linger_critical_begin(void);
void linger_critical_end(void);

/* True while the calling code runs inside a preemptible function. */
bool linger_in_function(void);

/* A static, human-readable description of an enum linger_error value. */
const char *linger_strerror(int error);

/*
 * Configuration.
 *
 * Stack size: default 256 KiB (1 MiB in sanitizer builds), plus one guard page below it; the
 * environment variable INGER_STACK_SIZE (bytes) overrides the default at start-up. Applies to
 * functions launched afterwards. Returns 0, or -1 with errno EINVAL if size is below 16 KiB
 * or above 1 GiB.
 */
int linger_set_stack_size(size_t bytes);
size_t linger_stack_size(void);

/*
 * Signal used for preemption by every thread: default SIGRTMAX - 1; the environment variable
 * INGER_SIGNAL overrides it at start-up. Can be changed only before the first launch with a
 * finite budget; returns 0, or -1 with errno EINVAL (not a real-time signal, or glibc's own)
 * or EBUSY (the runtime is already in use).
 */
int linger_set_signal(int signo);
int linger_signal(void);

/* Counters of the calling thread, for diagnostics and tests. */
struct linger_stats {
	uint64_t launches;     /* successful launch() calls */
	uint64_t completions;  /* functions that returned */
	uint64_t preemptions;  /* timer-driven preemptions */
	uint64_t pauses;       /* linger_pause() and deferred (critical-section/nested) yields */
	uint64_t cancels;      /* successful cancel() calls */
	uint64_t timer_arms;   /* timer_settime calls (the fast path makes none) */
	uint64_t timer_signals;/* timer signals received */
	uint64_t live;         /* functions launched and neither completed nor cancelled */
	uint64_t deferrals;    /* preemptions put off because the function was executing a
	                          shared library call (see libgotcha.h) */
};
void linger_stats(struct linger_stats *out);

#ifdef __cplusplus
}
#endif

#endif
