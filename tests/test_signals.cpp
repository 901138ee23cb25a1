// Coexistence with the application's own signals: a user SIGALRM interval timer keeps firing
// while functions are preempted, the caller's signal mask is preserved, blocking system calls
// interrupted by preemption are restarted (SA_RESTART), and the preemption signal can be
// configured only before the runtime is in use.
#include <catch2/catch.hpp>

#include "helpers.hpp"

#include <libinger.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <thread>
#include <pthread.h>
#include <sys/time.h>
#include <unistd.h>

namespace {

std::atomic<long> alarms{0};

double cpu_ms() {
	timespec t{};
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) / 1e6;
}
std::atomic<long> alarms_inside{0};

void on_alarm(int) {
	int saved = errno;
	alarms.fetch_add(1, std::memory_order_relaxed);
	if (linger_in_function())
		alarms_inside.fetch_add(1, std::memory_order_relaxed);
	errno = saved;
}

struct spinner {
	std::atomic<bool> stop{false};
	std::atomic<std::uint64_t> n{0};
};

void spin(void *p) {
	auto *s = static_cast<spinner *>(p);
	double give_up = th::now_us() + 3e6;
	while (!s->stop.load(std::memory_order_relaxed)) {
		std::uint64_t c = s->n.fetch_add(1, std::memory_order_relaxed);
		if ((c & 1023) == 0 && th::now_us() > give_up)
			break;
	}
}

bool same_mask_except(const sigset_t &a, const sigset_t &b, int except) {
	for (int sig = 1; sig <= SIGRTMAX; ++sig) {
		if (sig == except)
			continue;
		if (sigismember(&a, sig) != sigismember(&b, sig))
			return false;
	}
	return true;
}

} // namespace

// First in the file, so that it also sees an unused runtime when the whole executable runs.
TEST_CASE("linger_set_signal validates its argument and refuses once in use", "[signals][config]") {
	int current = linger_signal();
	CHECK(current >= SIGRTMIN);
	CHECK(current <= SIGRTMAX);

	errno = 0;
	CHECK(linger_set_signal(SIGUSR1) == -1);
	CHECK(errno == EINVAL);
	errno = 0;
	CHECK(linger_set_signal(SIGALRM) == -1);
	CHECK(errno == EINVAL);
	errno = 0;
	CHECK(linger_set_signal(0) == -1);
	CHECK(errno == EINVAL);
	errno = 0;
	CHECK(linger_set_signal(SIGRTMAX + 1) == -1);
	CHECK(errno == EINVAL);
	// glibc's own real-time signals (below SIGRTMIN).
	errno = 0;
	CHECK(linger_set_signal(SIGRTMIN - 1) == -1);
	CHECK(errno == EINVAL);
	CHECK(linger_signal() == current);

	// A fresh process (as under ctest, which runs every test case on its own) may still change it.
	int target = SIGRTMAX - 3;
	errno = 0;
	int rc = linger_set_signal(target);
	if (rc == 0) {
		CHECK(linger_signal() == target);
		// Preemption works with the new signal...
		spinner s;
		linger_t l = launch(spin, 1000, &s);
		REQUIRE(l.error == LINGER_OK);
		REQUIRE_FALSE(l.is_complete);
		s.stop = true;
		resume(&l, LINGER_UNLIMITED);
		REQUIRE(l.is_complete);
		struct sigaction sa {};
		sigaction(target, nullptr, &sa);
		CHECK(sa.sa_handler != SIG_DFL);
	} else {
		WARN("the runtime was already in use in this process: only EBUSY is checked");
		CHECK(errno == EBUSY);
	}
	// ...and now that it is in use, it can no longer be changed.
	errno = 0;
	CHECK(linger_set_signal(SIGRTMAX - 2) == -1);
	CHECK(errno == EBUSY);
	CHECK(linger_signal() == (rc == 0 ? target : current));
}

TEST_CASE("the application's SIGALRM interval timer keeps firing during preemption", "[signals]") {
	struct sigaction sa {}, old_sa {};
	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	REQUIRE(sigaction(SIGALRM, &sa, &old_sa) == 0);
	alarms = 0;
	alarms_inside = 0;

	struct itimerval it {};
	it.it_interval.tv_usec = 1000;
	it.it_value.tv_usec = 1000;
	REQUIRE(setitimer(ITIMER_REAL, &it, nullptr) == 0);

	auto before = th::stats();
	double start = th::now_us();
	double cpu_start = cpu_ms();
	long completed = 0;
	while (th::now_us() - start < 300000.0) {
		spinner s;
		linger_t l = launch(spin, 100, &s);
		for (int i = 0; i < 10 && l.error == LINGER_OK && !l.is_complete; ++i)
			resume(&l, 100);
		s.stop = true;
		resume(&l, LINGER_UNLIMITED);
		if (l.error == LINGER_OK && l.is_complete)
			completed++;
	}
	double elapsed_ms = (th::now_us() - start) / 1000.0;
	double ran_ms = cpu_ms() - cpu_start;

	struct itimerval off {};
	setitimer(ITIMER_REAL, &off, nullptr);
	long fired = alarms.load();
	long fired_inside = alarms_inside.load();
	struct sigaction now_sa {};
	sigaction(SIGALRM, nullptr, &now_sa);
	sigaction(SIGALRM, &old_sa, nullptr);

	auto d = th::diff(before, th::stats());
	INFO("SIGALRMs: " << fired << " in " << elapsed_ms << " ms, " << ran_ms << " ms on a CPU (" << fired_inside
	                  << " inside functions), preemptions " << d.preemptions);
	CHECK(d.preemptions >= 100);
	CHECK(completed > 0);
	CHECK(d.live == 0);
	// 1 kHz for 300 ms: ~300 expected. A pending SIGALRM absorbs the next ones while the
	// process waits for a CPU, so on a loaded machine count only the time it ran.
	CHECK(fired >= static_cast<long>(std::min(elapsed_ms, ran_ms) / 4));
	// Most of the time is spent inside preemptible functions: some alarms must land there.
	CHECK(fired_inside > 0);
	// Our handler is still installed.
	CHECK(now_sa.sa_handler == on_alarm);
}

TEST_CASE("the caller's signal mask is still in place after preemptions", "[signals][mask]") {
	sigset_t block, saved, before_mask, after_mask, inside_mask;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR2);
	REQUIRE(pthread_sigmask(SIG_BLOCK, &block, &saved) == 0);
	pthread_sigmask(SIG_SETMASK, nullptr, &before_mask);

	struct ctx {
		spinner s;
		sigset_t *inside;
		volatile bool recorded = false;
	} c{{}, &inside_mask};
	sigemptyset(&inside_mask);
	auto before = th::stats();
	linger_t l = launch(
	    [](void *p) {
		    auto *x = static_cast<ctx *>(p);
		    pthread_sigmask(SIG_SETMASK, nullptr, x->inside);
		    x->recorded = true;
		    spin(&x->s);
	    },
	    1000, &c);
	REQUIRE(l.error == LINGER_OK);
	REQUIRE_FALSE(l.is_complete);
	// On a loaded machine the first budget can run out before the function's first line.
	for (int tries = 0; !c.recorded && tries < 1000; tries++)
		resume(&l, 1000);
	REQUIRE(c.recorded);
	pthread_sigmask(SIG_SETMASK, nullptr, &after_mask);
	CHECK(sigismember(&after_mask, SIGUSR2) == 1);
	CHECK(same_mask_except(before_mask, after_mask, linger_signal()));
	// The function started with the caller's mask.
	CHECK(sigismember(&inside_mask, SIGUSR2) == 1);

	for (int i = 0; i < 5; ++i) {
		resume(&l, 500);
		REQUIRE(l.error == LINGER_OK);
		REQUIRE_FALSE(l.is_complete);
		pthread_sigmask(SIG_SETMASK, nullptr, &after_mask);
		CHECK(sigismember(&after_mask, SIGUSR2) == 1);
		CHECK(same_mask_except(before_mask, after_mask, linger_signal()));
	}
	c.s.stop = true;
	resume(&l, LINGER_UNLIMITED);
	REQUIRE(l.is_complete);
	pthread_sigmask(SIG_SETMASK, nullptr, &after_mask);
	CHECK(same_mask_except(before_mask, after_mask, linger_signal()));
	CHECK(th::diff(before, th::stats()).preemptions == 6);

	// Preemption still works with SIGUSR2 blocked, and a SIGUSR2 sent meanwhile stays pending.
	raise(SIGUSR2);
	spinner s2;
	l = launch(spin, 1000, &s2);
	REQUIRE_FALSE(l.is_complete);
	sigset_t pending;
	sigpending(&pending);
	CHECK(sigismember(&pending, SIGUSR2) == 1);
	s2.stop = true;
	resume(&l, LINGER_UNLIMITED);
	REQUIRE(l.is_complete);

	// Consume the pending SIGUSR2 before unblocking it.
	struct timespec zero {};
	CHECK(sigtimedwait(&block, nullptr, &zero) == SIGUSR2);
	pthread_sigmask(SIG_SETMASK, &saved, nullptr);
}

TEST_CASE("the preemption signal is not left blocked for the caller", "[signals][mask]") {
	sigset_t mask;
	for (int i = 0; i < 3; ++i) {
		spinner s;
		linger_t l = launch(spin, 500, &s);
		REQUIRE_FALSE(l.is_complete);
		s.stop = true;
		resume(&l, LINGER_UNLIMITED);
		REQUIRE(l.is_complete);
	}
	// Whatever the runtime does with its signal, the next preemption must still arrive.
	spinner s;
	double t0 = th::now_us();
	linger_t l = launch(spin, 1000, &s);
	double elapsed = th::now_us() - t0;
	REQUIRE_FALSE(l.is_complete);
	CHECK(elapsed < 50000.0 * th::slack);
	s.stop = true;
	resume(&l, LINGER_UNLIMITED);
	pthread_sigmask(SIG_SETMASK, nullptr, &mask);
	CHECK(sigismember(&mask, SIGALRM) == 0);
	CHECK(sigismember(&mask, SIGUSR1) == 0);
}

namespace {

struct reader {
	int fd = -1;
	char buf[16] = {};
	ssize_t got = -2;
	int err = 0;
	double blocked_us = 0;
};

void read_blocking(void *p) {
	auto *r = static_cast<reader *>(p);
	double t0 = th::now_us();
	errno = 0;
	r->got = read(r->fd, r->buf, 8);
	r->err = errno;
	r->blocked_us = th::now_us() - t0;
}

} // namespace

TEST_CASE("a blocking read() interrupted by preemption is restarted, not EINTR", "[signals][restart]") {
	int fds[2];
	REQUIRE(pipe(fds) == 0);
	auto before = th::stats();
	reader r;
	r.fd = fds[0];
	std::thread writer([w = fds[1]] {
		std::this_thread::sleep_for(std::chrono::milliseconds(40));
		ssize_t n = write(w, "8 bytes!", 8);
		(void)n;
	});

	linger_t l = launch(read_blocking, 1000, &r);
	int incomplete_returns = 0;
	while (l.error == LINGER_OK && !l.is_complete) {
		incomplete_returns++;
		resume(&l, 1000);
		if (incomplete_returns > 100000)
			break;
	}
	writer.join();
	close(fds[0]);
	close(fds[1]);

	REQUIRE(l.error == LINGER_OK);
	REQUIRE(l.is_complete);
	INFO("read returned " << r.got << " errno " << r.err << " (" << std::strerror(r.err) << ") after "
	                      << r.blocked_us << " us; caller saw " << incomplete_returns << " incomplete returns");
	CHECK(r.got == 8);
	CHECK(r.err != EINTR);
	CHECK(std::memcmp(r.buf, "8 bytes!", 8) == 0);
	CHECK(r.blocked_us >= 30000.0);
	auto d = th::diff(before, th::stats());
	CHECK(d.live == 0);
}
