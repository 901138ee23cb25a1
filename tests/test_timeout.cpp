// linger_set_timeout: a preemptible function replaces its own budget (as a pool runner does
// before each task it runs inline): it keeps running past the old deadline and is preempted
// after the new one.
#include <catch2/catch.hpp>

#include "helpers.hpp"

#include <libinger.h>

#include <atomic>
#include <cerrno>
#include <cstdint>

namespace {

// Spins until told to stop; bounded so that a missing preemption fails instead of hanging.
void spin_until_stopped(const std::atomic<bool> &stop) {
	double give_up = th::now_us() + 3e6;
	while (!stop.load(std::memory_order_relaxed) && th::now_us() < give_up) {
	}
}

struct extender {
	double new_budget_us = 100000;
	double t_reset = 0;    // when the new budget was set
	double t_past_old = 0; // when it was still running, well past the old deadline
	int rc = -1;
	std::atomic<bool> stop{false};
};

} // namespace

TEST_CASE("a function that resets its budget outlives the old one and is preempted after the new one",
          "[timeout]") {
	// Budget 10 ms; the function sets 100 ms at once, is still running at 30 ms (launch has
	// not returned), and is preempted 100 ms after the reset. (It resets at once so that a
	// loaded machine, which may keep it off the CPU for milliseconds, cannot run the old
	// budget out first.)
	extender e;
	auto before = th::stats();
	double t0 = th::now_us();
	linger_t l = launch(
	    [](void *p) {
		    auto *e = static_cast<extender *>(p);
		    e->rc = linger_set_timeout(static_cast<std::uint64_t>(e->new_budget_us));
		    e->t_reset = th::now_us();
		    th::spin_us(30000);
		    e->t_past_old = th::now_us();
		    spin_until_stopped(e->stop);
	    },
	    10000, &e);
	double t_back = th::now_us();
	auto d = th::diff(before, th::stats());
	REQUIRE(l.error == LINGER_OK);
	CHECK_FALSE(l.is_complete);
	CHECK(e.rc == 0);
	REQUIRE(e.t_past_old > 0); // not preempted at the old deadline
	CHECK(e.t_past_old - t0 >= 30000);
	// Preempted at the new deadline (the handler waits out its early lead), not much later.
	CHECK(t_back - e.t_reset >= e.new_budget_us - 100);
	CHECK(t_back - e.t_reset < e.new_budget_us + 200000 * th::slack);
	CHECK(d.preemptions == 1);
	e.stop = true;
	resume(&l, LINGER_UNLIMITED);
	CHECK(l.is_complete);
}

TEST_CASE("resetting the budget often costs no system call per reset", "[timeout]") {
	// As a pool runner does: 20 ms of work in 1000 jobs of 20 us, each given a fresh 1 ms
	// budget. The timer, armed for the first budget, fires early about once a millisecond and
	// is re-armed then; the resets themselves find it due sooner and make no system call.
	// (On a loaded machine a job may be kept off the CPU past its budget: it is resumed.)
	int failures = 0;
	auto before = th::stats();
	linger_t l = launch(
	    [](void *p) {
		    for (int job = 0; job < 1000; ++job) {
			    *static_cast<int *>(p) += linger_set_timeout(1000) != 0;
			    th::spin_us(20);
		    }
	    },
	    1000, &failures);
	while (!l.is_complete && l.error == LINGER_OK)
		resume(&l, 1000);
	auto d = th::diff(before, th::stats());
	CHECK(l.error == LINGER_OK);
	CHECK(l.is_complete);
	CHECK(failures == 0);
	CHECK(d.timer_arms < 100);
}

TEST_CASE("LINGER_UNLIMITED removes the function's own budget", "[timeout]") {
	auto before = th::stats();
	int rc = -1;
	linger_t l = launch(
	    [](void *p) {
		    *static_cast<int *>(p) = linger_set_timeout(LINGER_UNLIMITED);
		    th::spin_us(20000);
	    },
	    2000, &rc);
	CHECK(rc == 0);
	CHECK(l.is_complete);
	CHECK(th::diff(before, th::stats()).preemptions == 0);
}

TEST_CASE("a zero budget preempts the function at once", "[timeout]") {
	std::atomic<bool> stop{false};
	double t0 = th::now_us();
	linger_t l = launch(
	    [](void *p) {
		    linger_set_timeout(0);
		    spin_until_stopped(*static_cast<std::atomic<bool> *>(p));
	    },
	    1000000, &stop);
	double waited = th::now_us() - t0;
	CHECK_FALSE(l.is_complete);
	CHECK(waited < 100000 * th::slack); // not the 1 s budget
	stop = true;
	resume(&l, LINGER_UNLIMITED);
	CHECK(l.is_complete);
}

TEST_CASE("a preemption deferred by a critical section is dropped by a later deadline", "[timeout]") {
	// The section overruns the 1 ms budget, so a preemption is owed at its end; the new budget,
	// set inside the section, cancels it and the function completes in one launch.
	auto before = th::stats();
	int rc = -1;
	linger_t l = launch(
	    [](void *p) {
		    linger_critical_begin();
		    th::spin_us(3000);
		    *static_cast<int *>(p) = linger_set_timeout(100000);
		    linger_critical_end();
		    th::spin_us(2000);
	    },
	    1000, &rc);
	auto d = th::diff(before, th::stats());
	CHECK(rc == 0);
	CHECK(l.is_complete);
	CHECK(d.preemptions == 0);
	CHECK(d.pauses == 0);
}

TEST_CASE("an inner function's new budget does not outlast its launcher's deadline",
          "[timeout][nested]") {
	struct shared {
		std::atomic<bool> stop{false};
		int rc = -1;
	} s;
	double t0 = th::now_us();
	linger_t outer = launch(
	    [](void *p) {
		    linger_t inner = launch(
		        [](void *p) {
			        auto *s = static_cast<shared *>(p);
			        s->rc = linger_set_timeout(1000000);
			        spin_until_stopped(s->stop);
		        },
		        LINGER_UNLIMITED, p);
		    while (!inner.is_complete && inner.error == LINGER_OK)
			    resume(&inner, LINGER_UNLIMITED);
	    },
	    5000, &s);
	double waited = th::now_us() - t0;
	CHECK(s.rc == 0);
	CHECK_FALSE(outer.is_complete);
	CHECK(waited < 200000 * th::slack); // the outer 5 ms, not the inner 1 s
	s.stop = true;
	resume(&outer, LINGER_UNLIMITED);
	CHECK(outer.is_complete);
}

TEST_CASE("outside a preemptible function linger_set_timeout fails with ESRCH", "[timeout][errors]") {
	errno = 0;
	CHECK(linger_set_timeout(1000) == -1);
	CHECK(errno == ESRCH);
}
