/* testing.h — test seams for libinger's own test suite; not installed, not a public API. */
#ifndef LIBINGER_TESTING_H
#define LIBINGER_TESTING_H

#ifdef __cplusplus
extern "C" {
#endif

/* Mark the calling thread as being inside libinger, as a signal handler that interrupted a
 * launch would find it, so that the LINGER_ESIGNAL path can be tested deterministically. */
void linger_testing_enter_runtime(void);
void linger_testing_leave_runtime(void);

/* Have the timer handler call `hook` (nullptr: none) after its last look at the program's own
 * signals, just before it returns, so that a test can land a program signal in that window. */
void linger_testing_after_last_look(void (*hook)(void));

#ifdef __cplusplus
}
#endif

#endif
