/*
 * preload.c — libinger-run.so, the LD_PRELOAD half of inger-run.
 *
 * It takes the program's main from __libc_start_main and runs it as a preemptible function
 * on the program's main thread. With a quantum, main is preempted every quantum and resumed
 * at once: nothing else runs in between, so its library calls need no isolation, and every
 * save/restore path of libinger is exercised thousands of times a second.
 *
 * Settings come from inger-run through the environment (INGER_RUN_*), which is then put back
 * as the user had it, so the program (and its children) see their own environment.
 */
#define _GNU_SOURCE
#include <libgotcha.h>
#include <libinger.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

typedef int (*main_fn)(int, char **, char **);
typedef int (*start_main_fn)(main_fn, int, char **, void (*)(void), void (*)(void),
                             void (*)(void), void *);

static main_fn program_main;
static int program_argc;
static char **program_argv;
static char **program_envp;
static int program_status;

static uint64_t quantum_us = LINGER_UNLIMITED;
static int stats_fd = -1; /* a private duplicate of stderr: programs may close theirs at exit */
static uint64_t returns_incomplete; /* times main was preempted and resumed */
/* The main thread's counters, copied as main runs: by the time exit handlers run, the thread's
 * libinger state has been torn down with its other thread-local objects. */
static struct linger_stats last_stats;

/* Main's stack: as large as the main thread's would have been (the soft RLIMIT_STACK), at
 * least 8 MiB, so that deeply recursive programs behave as they do without us. */
static size_t main_stack_size(void) {
	const size_t floor = 8u << 20, ceiling = 1u << 30;
	struct rlimit rl;
	size_t size = floor;
	if (getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur > floor)
		size = rl.rlim_cur;
	return size > ceiling ? ceiling : size;
}

static void print_statistics(void) {
	struct gotcha_info libsets;
	gotcha_get_info(&libsets);
	dprintf(stats_fd,
	        "preemptions: %llu\ntimer signals: %llu\ntimer arms: %llu\n"
	        "deferred in shared calls: %llu\nlibsets: %zu slots, %zu libraries copied, "
	        "%zu calls routed, %llu state swaps\n",
	        (unsigned long long)returns_incomplete, (unsigned long long)last_stats.timer_signals,
	        (unsigned long long)last_stats.timer_arms, (unsigned long long)last_stats.deferrals,
	        libsets.slots, libsets.copied_objects, libsets.routed_symbols,
	        (unsigned long long)libsets.swaps);
	if (libsets.disabled_reason)
		dprintf(stats_fd, "libsets disabled: %s\n", libsets.disabled_reason);
}

static void run_program_main(void *unused) {
	(void)unused;
	program_status = program_main(program_argc, program_argv, program_envp);
}

static int preemptible_main(int argc, char **argv, char **envp) {
	program_argc = argc;
	program_argv = argv;
	program_envp = envp;
	if (linger_set_stack_size(main_stack_size()) != 0)
		fprintf(stderr, "inger-run: cannot set the stack size: %s\n", strerror(errno));
	linger_t l = launch(run_program_main, quantum_us, NULL);
	while (!l.is_complete && l.error == LINGER_OK) {
		++returns_incomplete;
		linger_stats(&last_stats);
		resume(&l, quantum_us);
	}
	linger_stats(&last_stats);
	if (l.error != LINGER_OK) {
		fprintf(stderr, "inger-run: %s\n", linger_strerror(l.error));
		return 127;
	}
	return program_status;
}

/* Put the user's own LD_PRELOAD and GLIBC_TUNABLES back and drop our settings. */
static void restore_environment(void) {
	const char *saved = getenv("INGER_RUN_SAVED_LD_PRELOAD");
	if (saved && *saved)
		setenv("LD_PRELOAD", saved, 1);
	else
		unsetenv("LD_PRELOAD");
	unsetenv("INGER_RUN_SAVED_LD_PRELOAD");
	/* "=value" if the user had GLIBC_TUNABLES, "" if not. */
	const char *tunables = getenv("INGER_RUN_SAVED_GLIBC_TUNABLES");
	if (tunables && *tunables == '=')
		setenv("GLIBC_TUNABLES", tunables + 1, 1);
	else if (tunables)
		unsetenv("GLIBC_TUNABLES");
	unsetenv("INGER_RUN_SAVED_GLIBC_TUNABLES");
	unsetenv("INGER_RUN_QUANTUM");
	unsetenv("INGER_RUN_STATS");
}

int __libc_start_main(main_fn main, int argc, char **argv, void (*init)(void),
                      void (*fini)(void), void (*rtld_fini)(void), void *stack_end) {
	start_main_fn next = (start_main_fn)dlsym(RTLD_NEXT, "__libc_start_main");
	if (!next) {
		fprintf(stderr, "inger-run: cannot find __libc_start_main\n");
		exit(127);
	}
	const char *q = getenv("INGER_RUN_QUANTUM");
	if (q && *q) {
		char *end;
		unsigned long long v = strtoull(q, &end, 10);
		if (*end == '\0' && v > 0)
			quantum_us = v;
	}
	const char *st = getenv("INGER_RUN_STATS");
	if (st && strcmp(st, "1") == 0) {
		stats_fd = fcntl(2, F_DUPFD_CLOEXEC, 100);
		if (stats_fd >= 0)
			atexit(print_statistics); /* runs however the program exits: return or exit() */
	}
	restore_environment();
	program_main = main;
	return next(preemptible_main, argc, argv, init, fini, rtld_fini, stack_end);
}
