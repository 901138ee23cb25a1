/*
 * signal_floor.c — what one timer signal costs this machine, with and without re-arming: the
 * floor under a preemption (bench/inger_run/README.md).
 *
 *     cc -O2 -o signal_floor bench/inger_run/signal_floor.c && ./signal_floor 20
 *
 * Spins a fixed amount of work three times: without a timer; with a one-shot per-thread timer
 * (SIGEV_THREAD_ID, as libinger's) that the handler re-arms QUANTUM_US ahead with
 * timer_settime; and with a periodic timer of that interval (no re-arm). Prints the extra CPU
 * time per signal of each. No libinger: the kernel's and the hypervisor's share alone.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

enum mode { no_timer, one_shot_rearmed, periodic };

static timer_t timer;
static volatile long signals;
static enum mode mode;
static long quantum_ns;

static void arm_one_shot(void) {
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	long ns = now.tv_nsec + quantum_ns;
	struct itimerspec when = {.it_value = {now.tv_sec + ns / 1000000000, ns % 1000000000}};
	timer_settime(timer, TIMER_ABSTIME, &when, NULL);
}

static void on_timer(int signo, siginfo_t *info, void *context) {
	(void)signo, (void)info, (void)context;
	signals++;
	if (mode == one_shot_rearmed)
		arm_one_shot();
}

static double cpu_s(void) {
	struct rusage r;
	getrusage(RUSAGE_SELF, &r);
	return (double)(r.ru_utime.tv_sec + r.ru_stime.tv_sec) +
	       (double)(r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
}

/* The CPU seconds the fixed work took under `m`; the number of signals in *count. */
static double run(enum mode m, long *count) {
	struct itimerspec off = {0};
	timer_settime(timer, 0, &off, NULL);
	mode = m;
	signals = 0;
	if (m == one_shot_rearmed)
		arm_one_shot();
	if (m == periodic) {
		struct itimerspec every = {{0, quantum_ns}, {0, quantum_ns}};
		timer_settime(timer, 0, &every, NULL);
	}
	double start = cpu_s();
	volatile double x = 0;
	for (long i = 0; i < 300000000; i++)
		x += (double)i * 0.5;
	double took = cpu_s() - start;
	timer_settime(timer, 0, &off, NULL);
	*count = signals;
	return took;
}

int main(int argc, char **argv) {
	long quantum_us = argc > 1 ? atol(argv[1]) : 20;
	if (quantum_us <= 0 || quantum_us >= 1000000) {
		fprintf(stderr, "usage: signal_floor [QUANTUM_US (1-999999)]\n");
		return 2;
	}
	quantum_ns = quantum_us * 1000;
	struct sigaction sa = {0};
	sa.sa_sigaction = on_timer;
	sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	struct sigevent ev = {0};
	ev.sigev_notify = SIGEV_THREAD_ID;
	ev.sigev_signo = SIGRTMIN;
	ev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
	if (sigaction(SIGRTMIN, &sa, NULL) != 0 || timer_create(CLOCK_MONOTONIC, &ev, &timer) != 0) {
		perror("signal_floor");
		return 1;
	}
	long none, count;
	double base = run(no_timer, &none);
	printf("no timer: %.3f s CPU\n", base);
	const char *names[] = {"", "one-shot, re-armed by timer_settime", "periodic (no re-arm)"};
	for (enum mode m = one_shot_rearmed; m <= periodic; m++) {
		double took = run(m, &count);
		printf("%-38s %.3f s CPU, %ld signals: %.1f us per signal\n", names[m], took, count,
		       count ? (took - base) / (double)count * 1e6 : 0.0);
	}
	return 0;
}
