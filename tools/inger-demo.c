/*
 * inger-demo — preemptible function calls in one screen of output.
 *
 * A runaway computation (an endless series for pi) is launched with a 1 ms budget: launch()
 * comes back after about 1 ms even though the function never returns. It is resumed twice,
 * continuing exactly where it stopped, then cancelled. A short function launched the same
 * way simply completes, at about the cost of a plain call.
 */
#define _POSIX_C_SOURCE 200809L

#include <libgotcha.h>
#include <libinger.h>

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static uint64_t now_ns(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* State shared between the runaway function and main(); volatile so that every iteration's
 * progress is in memory whenever the timer interrupts it. */
struct series {
	volatile uint64_t terms; /* terms of the Leibniz series summed so far */
	volatile double sum;     /* 1 - 1/3 + 1/5 - 1/7 + ...  -> pi/4 */
};

/* Never returns on its own: only preemption gets control back to main(). */
static void runaway(void *arg) {
	struct series *s = arg;
	for (;;) {
		uint64_t k = s->terms;
		s->sum = s->sum + (k & 1 ? -1.0 : 1.0) / (double)(2 * k + 1);
		s->terms = k + 1;
	}
}

/* Returns well within its budget. */
static void short_fn(void *arg) {
	uint64_t *n = arg;
	uint64_t sum = 0;
	for (uint64_t i = 1; i <= 100; i++)
		sum += i;
	*n = sum;
}

static void check(const linger_t *l, const char *what) {
	if (l->error != LINGER_OK) {
		fprintf(stderr, "inger-demo: %s failed: %s\n", what, linger_strerror(l->error));
		exit(1);
	}
}

static void progress(const char *what, uint64_t ns, const linger_t *l, const struct series *s,
                     uint64_t before) {
	printf("  %-7s returned after %7.1f us: %s, %10llu terms (+%llu), pi ~ %.9f\n", what,
	       (double)ns / 1e3, l->is_complete ? "completed" : "preempted",
	       (unsigned long long)s->terms, (unsigned long long)(s->terms - before), 4.0 * s->sum);
}

static int cmp_u64(const void *a, const void *b) {
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

int main(void) {
	const uint64_t budget_us = 1000;
	int sig = linger_signal();
	printf("inger demo: preemptible function calls (timer signal SIGRTMAX-%d, %zu KiB stacks)\n",
	       SIGRTMAX - sig, linger_stack_size() / 1024);

	/* Every preemptible function gets its own copy of the libraries (libgotcha). The first
	 * launch would make them; doing it here keeps that out of the timings below. */
	uint64_t g0 = now_ns();
	int libsets = gotcha_init();
	uint64_t g1 = now_ns();
	struct gotcha_info info;
	gotcha_get_info(&info);
	if (libsets == 0)
		printf("libsets: %zu namespaces, each holding a copy of the program's libraries "
		       "(%zu file%s), made in %.1f ms\n\n",
		       info.slots, info.copied_objects, info.copied_objects == 1 ? "" : "s",
		       (double)(g1 - g0) / 1e6);
	else
		printf("libsets: off (%s)\n\n", info.disabled_reason);

	/* 1. A function that would never return, launched with a 1 ms budget. */
	printf("1. A runaway loop (summing the series for pi forever), budget 1 ms:\n");
	struct series s = {0, 0.0};
	uint64_t t0 = now_ns();
	linger_t l = launch(runaway, budget_us, &s);
	uint64_t t1 = now_ns();
	check(&l, "launch");
	progress("launch", t1 - t0, &l, &s, 0);
	if (l.is_complete) {
		fprintf(stderr, "inger-demo: the runaway function cannot complete\n");
		return 1;
	}

	/* 2. Resume it: it picks up at the term where it was stopped. */
	printf("\n2. Resumed twice with 1 ms each; it carries on where it was stopped:\n");
	for (int i = 0; i < 2; i++) {
		uint64_t before = s.terms;
		t0 = now_ns();
		resume(&l, budget_us);
		t1 = now_ns();
		check(&l, "resume");
		progress("resume", t1 - t0, &l, &s, before);
	}

	/* 3. Cancel it: its stack is recycled; it never runs again. */
	printf("\n3. Cancelled:\n");
	uint64_t frozen = s.terms;
	t0 = now_ns();
	cancel(&l);
	t1 = now_ns();
	check(&l, "cancel");
	printf("  cancel  returned after %7.1f us; the loop stays at %llu terms\n",
	       (double)(t1 - t0) / 1e3, (unsigned long long)frozen);

	/* 4. A function that finishes within its budget: no timer, no signal. */
	enum { RUNS = 1001 };
	static uint64_t times[RUNS];
	uint64_t result = 0;
	int overran = 0;
	for (int i = 0; i < RUNS; i++) {
		t0 = now_ns();
		linger_t q = launch(short_fn, budget_us, &result);
		t1 = now_ns();
		check(&q, "launch");
		if (!q.is_complete) {
			/* The budget is wall-clock time: a thread descheduled for over 1 ms (a loaded
			 * machine) is preempted even here. Rare; finish the call. */
			overran++;
			resume(&q, LINGER_UNLIMITED);
			check(&q, "resume");
		}
		times[i] = t1 - t0;
	}
	uint64_t first = times[0];
	qsort(times, RUNS, sizeof times[0], cmp_u64);
	printf("\n4. A short function (sum of 1..100 = %llu), budget 1 ms, completes:\n",
	       (unsigned long long)result);
	printf("  launch  returned after %llu ns the first time, median %llu ns over %d calls\n",
	       (unsigned long long)first, (unsigned long long)times[RUNS / 2], RUNS);
	if (overran)
		printf("  (%d of them overran the budget: the thread was descheduled for over 1 ms)\n",
		       overran);

	struct linger_stats st;
	linger_stats(&st);
	printf("\nThis thread's counters: %llu launches, %llu completions, %llu preemptions, "
	       "%llu pauses,\n  %llu cancels, %llu timer arms, %llu timer signals, %llu live\n",
	       (unsigned long long)st.launches, (unsigned long long)st.completions,
	       (unsigned long long)st.preemptions, (unsigned long long)st.pauses,
	       (unsigned long long)st.cancels, (unsigned long long)st.timer_arms,
	       (unsigned long long)st.timer_signals, (unsigned long long)st.live);
	return 0;
}
