// test_short_budgets.cpp — preemption at budgets of a few microseconds: no signal frames pile
// up on the function's stack, preemption never stops, and the stack-overflow handler stays ours.
#include <catch2/catch.hpp>

#include "helpers.hpp"

#include <libinger.h>

#include <atomic>
#include <csignal>
#include <cstdint>
#include <sys/syscall.h>
#include <thread>
#include <unistd.h>

namespace {

struct spinner {
	std::atomic<bool> stop{false};
	std::atomic<std::uint64_t> n{0};
	std::uintptr_t lowest_sp = UINTPTR_MAX; // the deepest the function's own frame was seen
	bool gave_up = false;
};

// Spins, recording how low its stack pointer is seen (it should not move: it never calls).
// A handler frame left behind by a preemption stays below the interrupted code, so the code
// itself runs at the same depth; what grows is the space under it, which the guard-page
// distance below measures.
void spin(void *p) {
	auto *s = static_cast<spinner *>(p);
	double give_up = th::now_us() + 20e6;
	while (!s->stop.load(std::memory_order_relaxed)) {
		std::uint64_t c = s->n.fetch_add(1, std::memory_order_relaxed);
		if ((c & 1023) == 0 && th::now_us() > give_up) {
			s->gave_up = true;
			break;
		}
	}
}

// Resume `rounds` times with `budget_us` each; return how many came back preempted.
long preempt_many(spinner &s, linger_t &l, int rounds, std::uint64_t budget_us) {
	long preempted = 0;
	for (int i = 0; i < rounds && l.error == LINGER_OK && !l.is_complete; ++i) {
		resume(&l, budget_us);
		if (l.error == LINGER_OK && !l.is_complete)
			preempted++;
	}
	(void)s;
	return preempted;
}

struct sigaction segv_action() {
	struct sigaction sa {};
	sigaction(SIGSEGV, nullptr, &sa);
	return sa;
}

} // namespace

TEST_CASE("thousands of preemptions at 2-10 us budgets neither stop preemption nor grow the stack",
          "[preempt][short]") {
	// 64 KiB of stack would hold about 38 leftover signal frames of ~1.7 KiB: piling up shows
	// as an overflow (LINGER_ESTACKOVERFLOW) or as preemption stopping for good.
	REQUIRE(linger_set_stack_size(64 * 1024) == 0);
	for (std::uint64_t budget : {10u, 5u, 2u}) {
		spinner s;
		linger_t l = launch(spin, budget, &s);
		REQUIRE(l.error == LINGER_OK);
		auto before = th::stats();
		double t0 = th::now_us();
		long preempted = preempt_many(s, l, 3000, budget);
		double ms = (th::now_us() - t0) / 1000.0;
		auto d = th::diff(before, th::stats());
		INFO("budget " << budget << " us: " << preempted << " of 3000 resumes preempted in " << ms
		                << " ms; error " << l.error << ", deferrals " << d.deferrals);
		CHECK(l.error == LINGER_OK);
		CHECK_FALSE(l.is_complete);
		CHECK(preempted == 3000);
		CHECK_FALSE(s.gave_up);
		s.stop = true;
		resume(&l, LINGER_UNLIMITED);
		CHECK(l.is_complete);
		// The runtime's overflow handler is still the one installed (not reset to the default).
		CHECK(segv_action().sa_handler != SIG_DFL);
	}
	CHECK(th::stats().live == 0);
}

TEST_CASE("two threads preempting at 5 us budgets for thousands of rounds both finish",
          "[preempt][short][threads]") {
	REQUIRE(linger_set_stack_size(64 * 1024) == 0);
	std::atomic<long> preempted[2] = {0, 0};
	std::atomic<int> errors{0};
	auto body = [&](int k) {
		spinner s;
		linger_t l = launch(spin, 5, &s);
		preempted[k] = preempt_many(s, l, 5000, 5);
		s.stop = true;
		resume(&l, LINGER_UNLIMITED);
		if (l.error != LINGER_OK || !l.is_complete || s.gave_up)
			errors++;
	};
	std::thread a(body, 0), b(body, 1);
	a.join();
	b.join();
	CHECK(errors == 0);
	CHECK(preempted[0] == 5000);
	CHECK(preempted[1] == 5000);
}

namespace {

// Keeps the timer's expiry queued: blocks the preemption signal behind the runtime's back (a
// raw system call, which the interposed sigprocmask cannot refuse), spins past its deadline,
// then asks for a new budget (`nested`: runs a nested function with one) while the expiry is
// still queued, and unblocks. Then it spins until preempted; a lost signal leaves it spinning.
struct queued_expiry {
	bool nested = false;
	std::atomic<bool> stop{false};
	bool gave_up = false;
};

void nothing(void *) {}

void hold_expiry_queued(void *p) {
	auto *q = static_cast<queued_expiry *>(p);
	std::uint64_t preemption = std::uint64_t{1} << (linger_signal() - 1), old = 0;
	syscall(SYS_rt_sigprocmask, SIG_BLOCK, &preemption, &old, sizeof preemption);
	th::spin_us(300); // the 100 us budget runs out: its expiry is queued, blocked
	if (q->nested) {
		linger_t inner = launch(nothing, 20, nullptr);
		(void)inner;
	} else {
		linger_set_timeout(20);
	}
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &old, nullptr, sizeof old);
	double give_up = th::now_us() + 2e6;
	while (!q->stop.load(std::memory_order_relaxed)) {
		if (th::now_us() > give_up) {
			q->gave_up = true;
			break;
		}
	}
}

} // namespace

TEST_CASE("a timer expiry still queued while the budget changes does not stop preemption",
          "[preempt][short][timer]") {
	// Issue 14 item 4: re-arming a one-shot POSIX timer while its previous expiry's signal is
	// still queued can deliver no signal at all on this kernel. The runtime never re-arms over a
	// queued expiry of its own (armed_ns stays set until the handler has run; timer.cpp), so
	// the queued signal is delivered at the unblock and the new budget is enforced.
	for (bool nested : {false, true}) {
		for (int round = 0; round < 50; ++round) {
			INFO((nested ? "nested launch" : "linger_set_timeout") << ", round " << round);
			queued_expiry q;
			q.nested = nested;
			linger_t l = launch(hold_expiry_queued, 100, &q);
			REQUIRE(l.error == LINGER_OK);
			CHECK_FALSE(l.is_complete); // preempted after the unblock, within its new budget
			q.stop = true;
			resume(&l, LINGER_UNLIMITED);
			CHECK(l.is_complete);
			CHECK_FALSE(q.gave_up);
		}
	}
	CHECK(th::stats().live == 0);
}
