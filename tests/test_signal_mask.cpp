// test_signal_mask.cpp — signal masks and preemptible functions: the preemption signal cannot
// be blocked, and a function's own mask changes never reach its caller.
#include <catch2/catch.hpp>

#include "helpers.hpp"

#include <libinger.h>

#include <atomic>
#include <csignal>
#include <cstdint>
#include <pthread.h>

namespace {

bool blocked(int signo) {
	sigset_t now;
	pthread_sigmask(SIG_BLOCK, nullptr, &now);
	return sigismember(&now, signo) == 1;
}

struct spinner {
	std::atomic<bool> stop{false};
	bool gave_up = false;
};

void spin_for_a_while(spinner *s) {
	double give_up = th::now_us() + 2e6;
	while (!s->stop.load(std::memory_order_relaxed))
		if (th::now_us() > give_up) {
			s->gave_up = true;
			break;
		}
}

// Blocks `signo` (through `how`: 0 pthread_sigmask, 1 sigprocmask), then spins.
struct blocker : spinner {
	int signo = 0;
	int via = 0;
	int rc = -1;
	bool blocked_inside_after_resume = true;
	std::atomic<int> laps{0};
};

void block_and_spin(void *p) {
	auto *b = static_cast<blocker *>(p);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, b->signo);
	b->rc = b->via == 0 ? pthread_sigmask(SIG_BLOCK, &set, nullptr) : sigprocmask(SIG_BLOCK, &set, nullptr);
	double give_up = th::now_us() + 2e6;
	while (!b->stop.load(std::memory_order_relaxed)) {
		if (th::now_us() > give_up) {
			b->gave_up = true;
			break;
		}
	}
}

} // namespace

TEST_CASE("a function that blocks the preemption signal is still preempted, and so are later ones",
          "[signals][mask]") {
	for (int via : {0, 1}) {
		blocker b;
		b.signo = linger_signal();
		b.via = via;
		double t0 = th::now_us();
		linger_t l = launch(block_and_spin, 1000, &b);
		double ms = (th::now_us() - t0) / 1000.0;
		INFO("via " << (via ? "sigprocmask" : "pthread_sigmask") << ": launch returned after " << ms << " ms");
		CHECK(b.rc == 0); // not an error: the request is honoured for every other signal
		CHECK_FALSE(l.is_complete);
		CHECK(ms < 300.0 * th::slack);
		CHECK_FALSE(blocked(linger_signal()));
		b.stop = true;
		resume(&l, LINGER_UNLIMITED);
		CHECK(l.is_complete);

		// A later function on the same thread.
		spinner s;
		t0 = th::now_us();
		l = launch([](void *p) { spin_for_a_while(static_cast<spinner *>(p)); }, 1000, &s);
		ms = (th::now_us() - t0) / 1000.0;
		CHECK_FALSE(l.is_complete);
		CHECK(ms < 300.0 * th::slack);
		s.stop = true;
		resume(&l, LINGER_UNLIMITED);
		CHECK(l.is_complete);
	}
	// Outside any function too (a thread that blocks everything, then launches).
	sigset_t all, saved;
	sigfillset(&all);
	REQUIRE(pthread_sigmask(SIG_BLOCK, &all, &saved) == 0);
	CHECK_FALSE(blocked(linger_signal()));
	CHECK(blocked(SIGUSR1));
	spinner s;
	linger_t l = launch([](void *p) { spin_for_a_while(static_cast<spinner *>(p)); }, 1000, &s);
	CHECK_FALSE(l.is_complete);
	CHECK_FALSE(s.gave_up);
	s.stop = true;
	resume(&l, LINGER_UNLIMITED);
	pthread_sigmask(SIG_SETMASK, &saved, nullptr);
}

namespace {

// Blocks SIGUSR1, then checks after every preemption (and pause) that it is still blocked
// for itself.
void block_usr1_and_check(void *p) {
	auto *b = static_cast<blocker *>(p);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	b->rc = pthread_sigmask(SIG_BLOCK, &set, nullptr);
	double give_up = th::now_us() + 5e6;
	while (!b->stop.load(std::memory_order_relaxed) && th::now_us() < give_up) {
		if (!blocked(SIGUSR1))
			b->blocked_inside_after_resume = false;
		if (b->laps.load() % 2 == 1) {
			b->laps++;
			linger_pause();
		}
	}
}

} // namespace

TEST_CASE("a function's own mask change stays with it through preemptions, pauses and completion",
          "[signals][mask]") {
	REQUIRE_FALSE(blocked(SIGUSR1));
	blocker b;
	linger_t l = launch(block_usr1_and_check, 1000, &b);
	REQUIRE(b.rc == 0);
	CHECK_FALSE(blocked(SIGUSR1));
	for (int i = 0; i < 10 && !l.is_complete; ++i) {
		if (i % 3 == 0)
			b.laps++; // odd: the function pauses itself next
		resume(&l, 1000);
		INFO("round " << i);
		CHECK_FALSE(l.is_complete);
		CHECK_FALSE(blocked(SIGUSR1)); // after a preemption or a pause: the caller's own mask
	}
	b.stop = true;
	resume(&l, LINGER_UNLIMITED);
	REQUIRE(l.is_complete);
	CHECK(b.blocked_inside_after_resume);
	CHECK_FALSE(blocked(SIGUSR1)); // after completion
	CHECK(th::stats().live == 0);
}

TEST_CASE("the caller's own blocked signals stay blocked for the caller", "[signals][mask]") {
	sigset_t set, saved;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	REQUIRE(pthread_sigmask(SIG_BLOCK, &set, &saved) == 0);
	struct unblocker : spinner {} u;
	linger_t l = launch(
	    [](void *p) {
		    sigset_t s;
		    sigemptyset(&s);
		    sigaddset(&s, SIGUSR2);
		    pthread_sigmask(SIG_UNBLOCK, &s, nullptr);
		    spin_for_a_while(static_cast<spinner *>(p));
	    },
	    1000, &u);
	CHECK_FALSE(l.is_complete);
	CHECK(blocked(SIGUSR2));
	u.stop = true;
	resume(&l, LINGER_UNLIMITED);
	CHECK(l.is_complete);
	CHECK(blocked(SIGUSR2));
	pthread_sigmask(SIG_SETMASK, &saved, nullptr);
}
