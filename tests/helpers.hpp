// Small helpers shared by the inger tests: clocks, per-thread stats, memory usage.
#ifndef INGER_TESTS_HELPERS_HPP
#define INGER_TESTS_HELPERS_HPP

#include <libinger.h>

#include <cerrno>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <pthread.h>
#include <thread>
#include <time.h>
#include <unistd.h>

namespace th {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool sanitized = true;
#else
inline constexpr bool sanitized = false;
#endif

// Timing bounds are loose: CI has 2 cores, runs tests two at a time, and the ASan build is slow.
inline constexpr double slack = sanitized ? 4.0 : 1.0;

inline std::uint64_t now_ns() {
	timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

inline double now_us() { return static_cast<double>(now_ns()) / 1000.0; }

inline struct linger_stats stats() {
	struct linger_stats s {};
	linger_stats(&s);
	return s;
}

// Difference of two stats snapshots (b - a), counter by counter (live as a signed delta).
struct stats_delta {
	std::int64_t launches, completions, preemptions, pauses, cancels, timer_arms, timer_signals, live,
	    deferrals;
};

inline stats_delta diff(const struct linger_stats &a, const struct linger_stats &b) {
	auto d = [](std::uint64_t x, std::uint64_t y) { return static_cast<std::int64_t>(y - x); };
	return {d(a.launches, b.launches),       d(a.completions, b.completions),
	        d(a.preemptions, b.preemptions), d(a.pauses, b.pauses),
	        d(a.cancels, b.cancels),         d(a.timer_arms, b.timer_arms),
	        d(a.timer_signals, b.timer_signals), d(a.live, b.live),
	        d(a.deferrals, b.deferrals)};
}

// Resident set size and virtual size of this process, in bytes (from /proc/self/statm).
inline std::size_t rss_bytes() {
	unsigned long vsz = 0, rss = 0;
	FILE *f = std::fopen("/proc/self/statm", "r");
	if (!f)
		return 0;
	if (std::fscanf(f, "%lu %lu", &vsz, &rss) != 2)
		rss = 0;
	std::fclose(f);
	return rss * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

inline std::size_t vsz_bytes() {
	unsigned long vsz = 0;
	FILE *f = std::fopen("/proc/self/statm", "r");
	if (!f)
		return 0;
	if (std::fscanf(f, "%lu", &vsz) != 1)
		vsz = 0;
	std::fclose(f);
	return vsz * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

// Number of memory mappings of this process (lines of /proc/self/maps).
inline std::size_t map_count() {
	FILE *f = std::fopen("/proc/self/maps", "r");
	if (!f)
		return 0;
	std::size_t lines = 0;
	int c;
	while ((c = std::fgetc(f)) != EOF)
		if (c == '\n')
			++lines;
	std::fclose(f);
	return lines;
}

// Busy-wait for `us` microseconds of wall time.
inline void spin_us(double us) {
	double end = now_us() + us;
	while (now_us() < end) {
	}
}

// A blocking call to make inside a preemptible function (the EINTR tests): launch
// run_blocking_call with a pointer to it; it keeps the call's result and errno.
struct blocking_call {
	std::function<int()> blocking; // returns the call's result, errno kept
	int result = 0;
	int error = 0;
};

inline void run_blocking_call(void *arg) {
	auto *c = static_cast<blocking_call *>(arg);
	errno = 0;
	c->result = c->blocking();
	c->error = errno;
}

// A thread that runs `body` with `signo` blocked from its first instruction (blocking it in
// the body would leave a window in which a process-directed signal meant for the calling
// thread is handed to the new one).
template <class Body>
std::thread thread_blocking(int signo, Body body) {
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, signo);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	std::thread t(std::move(body));
	pthread_sigmask(SIG_SETMASK, &old, nullptr);
	return t;
}

} // namespace th

#endif
