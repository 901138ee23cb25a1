/*
 * inger-run — run an unmodified, dynamically linked program with its main as a preemptible
 * function:
 *
 *     inger-run [--quantum MICROSECONDS] [--stats] -- PROGRAM [ARGS...]
 *
 * --quantum Q   preempt main every Q µs and resume it at once (a torture test of libinger's
 *               save/restore paths); without it main runs with an unlimited budget.
 * --stats       print "preemptions: N" and other counters to stderr when the program exits.
 *
 * It execs PROGRAM with libinger-run.so in LD_PRELOAD, so the exit status, the standard
 * streams, signals and the process are the program's own. It cannot run static binaries
 * (nothing is preloaded into them) nor set-uid/set-gid ones (the loader ignores LD_PRELOAD).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *to) {
	fputs("usage: inger-run [--quantum MICROSECONDS] [--stats] -- PROGRAM [ARGS...]\n", to);
}

/* Where libinger-run.so is installed, relative to where inger-run is: CMake computes it from
 * CMAKE_INSTALL_BINDIR and CMAKE_INSTALL_LIBDIR (lib, lib64, lib/x86_64-linux-gnu...). */
#ifndef INGER_RUN_LIBDIR_FROM_BINDIR
#define INGER_RUN_LIBDIR_FROM_BINDIR "../lib"
#endif

/* libinger-run.so: in the installed library directory relative to this binary (found through
 * /proc/self/exe, so symbolic links to inger-run and any install prefix work), or beside the
 * binary (a build tree). The first readable one wins. */
static int find_preload(char *out, size_t size) {
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n < 0)
		return -1;
	self[n] = '\0';
	const char *dir = dirname(self);
	const char *relative[] = {INGER_RUN_LIBDIR_FROM_BINDIR, "."};
	for (size_t i = 0; i < sizeof relative / sizeof *relative; ++i) {
		int len = relative[i][0] == '/'
		              ? snprintf(out, size, "%s/libinger-run.so", relative[i])
		              : snprintf(out, size, "%s/%s/libinger-run.so", dir, relative[i]);
		if (len > 0 && (size_t)len < size && access(out, R_OK) == 0)
			return 0;
	}
	return -1;
}

int main(int argc, char **argv) {
	const char *quantum = NULL;
	int stats = 0, i = 1;
	for (; i < argc; ++i) {
		if (strcmp(argv[i], "--") == 0) {
			++i;
			break;
		} else if (strcmp(argv[i], "--quantum") == 0 && i + 1 < argc) {
			quantum = argv[++i];
			char *end;
			errno = 0;
			unsigned long long v = strtoull(quantum, &end, 10);
			if (*quantum == '-' || *end != '\0' || v == 0 || errno) {
				fprintf(stderr, "inger-run: --quantum wants a positive number of microseconds, not '%s'\n", quantum);
				return 2;
			}
		} else if (strcmp(argv[i], "--stats") == 0) {
			stats = 1;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (argv[i][0] == '-') {
			fprintf(stderr, "inger-run: unknown option '%s'\n", argv[i]);
			usage(stderr);
			return 2;
		} else {
			break; /* the program, without a "--" */
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}

	char preload[PATH_MAX];
	if (find_preload(preload, sizeof preload) != 0) {
		fprintf(stderr, "inger-run: cannot find libinger-run.so in %s or beside inger-run\n",
		        INGER_RUN_LIBDIR_FROM_BINDIR);
		return 127;
	}
	const char *user_preload = getenv("LD_PRELOAD");
	setenv("INGER_RUN_SAVED_LD_PRELOAD", user_preload ? user_preload : "", 1);
	char *value;
	if (user_preload && *user_preload) {
		if (asprintf(&value, "%s:%s", preload, user_preload) < 0)
			return 127;
	} else {
		value = preload;
	}
	setenv("LD_PRELOAD", value, 1);
	/* libgotcha copies the program's libraries into up to 15 namespaces; glibc sizes its
	 * static TLS for them only if asked before start-up (else about 10 fit). */
	const char *user_tunables = getenv("GLIBC_TUNABLES");
	char *saved_tunables, *tunables;
	if (asprintf(&saved_tunables, "%s%s", user_tunables ? "=" : "",
	             user_tunables ? user_tunables : "") < 0 ||
	    asprintf(&tunables, "%s%sglibc.rtld.nns=16", user_tunables ? user_tunables : "",
	             user_tunables && *user_tunables ? ":" : "") < 0)
		return 127;
	setenv("INGER_RUN_SAVED_GLIBC_TUNABLES", saved_tunables, 1);
	setenv("GLIBC_TUNABLES", tunables, 1);
	if (quantum)
		setenv("INGER_RUN_QUANTUM", quantum, 1);
	if (stats)
		setenv("INGER_RUN_STATS", "1", 1);

	execvp(argv[i], argv + i);
	fprintf(stderr, "inger-run: %s: %s\n", argv[i], strerror(errno));
	return errno == ENOENT ? 127 : 126;
}
