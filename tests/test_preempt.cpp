// Timer-driven preemption: a spinning function is interrupted near its deadline, the caller
// gets control back, and resume() continues it where it was.
#include <catch2/catch.hpp>

#include "helpers.hpp"

#include <libinger.h>

#include <atomic>
#include <cstdint>
#include <cstring>

namespace {

struct spinner {
	std::atomic<bool> stop{false};
	std::atomic<std::uint64_t> counter{0};
	std::atomic<bool> finished{false};
	std::atomic<bool> gave_up{false}; // spun for seconds: preemption never came
	double limit_us = 3e6;
};

// Spins until told to stop. Bounded by wall time so that a broken runtime fails the test
// instead of hanging it.
void spin(void *p) {
	auto *s = static_cast<spinner *>(p);
	double give_up_at = th::now_us() + s->limit_us;
	while (!s->stop.load(std::memory_order_relaxed)) {
		s->counter.fetch_add(1, std::memory_order_relaxed);
		if ((s->counter.load(std::memory_order_relaxed) & 1023) == 0 && th::now_us() > give_up_at) {
			s->gave_up = true;
			break;
		}
	}
	s->finished = true;
}

// Spins while calling into libc (memcpy/strlen/snprintf do not allocate).
struct libc_spinner {
	std::atomic<bool> stop{false};
	std::uint64_t rounds = 0;
	std::size_t total = 0;
};

void libc_spin(void *p) {
	auto *s = static_cast<libc_spinner *>(p);
	char a[512], b[512];
	double give_up_at = th::now_us() + 3e6;
	while (!s->stop.load(std::memory_order_relaxed) && th::now_us() < give_up_at) {
		std::snprintf(a, sizeof a, "round %llu of the libc spinner", static_cast<unsigned long long>(s->rounds));
		std::memcpy(b, a, sizeof a);
		s->total += std::strlen(b);
		s->rounds++;
	}
}

} // namespace

TEST_CASE("a spinning function is preempted near its 1 ms deadline", "[preempt]") {
	auto before = th::stats();
	spinner s;
	double t0 = th::now_us();
	linger_t l = launch(spin, 1000, &s);
	double elapsed = th::now_us() - t0;

	REQUIRE(l.error == LINGER_OK);
	REQUIRE_FALSE(l.is_complete);
	REQUIRE_FALSE(s.gave_up);
	REQUIRE_FALSE(s.finished);
	INFO("elapsed " << elapsed << " us");
	CHECK(elapsed >= 900.0);
	CHECK(elapsed <= 50000.0 * th::slack);

	auto d = th::diff(before, th::stats());
	CHECK(d.launches == 1);
	CHECK(d.preemptions == 1);
	CHECK(d.timer_signals >= 1);
	CHECK(d.pauses == 0);
	CHECK(d.completions == 0);
	CHECK(d.live == 1);

	// The function is frozen while the caller runs.
	std::uint64_t c = s.counter.load();
	REQUIRE(c > 0);
	th::spin_us(2000);
	CHECK(s.counter.load() == c);

	// Each resume continues the loop: the counter keeps increasing.
	for (int i = 0; i < 5; ++i) {
		double r0 = th::now_us();
		resume(&l, 1000);
		double r = th::now_us() - r0;
		REQUIRE(l.error == LINGER_OK);
		REQUIRE_FALSE(l.is_complete);
		REQUIRE_FALSE(s.gave_up);
		INFO("resume " << i << " took " << r << " us");
		CHECK(r >= 900.0);
		CHECK(r <= 50000.0 * th::slack);
		std::uint64_t now = s.counter.load();
		CHECK(now > c);
		c = now;
	}

	s.stop = true;
	resume(&l, 1000);
	REQUIRE(l.error == LINGER_OK);
	REQUIRE(l.is_complete);
	CHECK(s.finished);
	CHECK_FALSE(s.gave_up);
	d = th::diff(before, th::stats());
	CHECK(d.preemptions == 6);
	CHECK(d.completions == 1);
	CHECK(d.live == 0);
}

TEST_CASE("longer budgets are honoured on launch and resume", "[preempt]") {
	for (std::uint64_t budget : {2000u, 5000u, 10000u}) {
		spinner s;
		double t0 = th::now_us();
		linger_t l = launch(spin, budget, &s);
		double elapsed = th::now_us() - t0;
		REQUIRE_FALSE(l.is_complete);
		REQUIRE_FALSE(s.gave_up);
		INFO("budget " << budget << " us, launch took " << elapsed << " us");
		CHECK(elapsed >= 0.9 * static_cast<double>(budget));
		CHECK(elapsed <= static_cast<double>(budget) + 50000.0 * th::slack);

		t0 = th::now_us();
		resume(&l, budget);
		elapsed = th::now_us() - t0;
		REQUIRE_FALSE(l.is_complete);
		INFO("resume took " << elapsed << " us");
		CHECK(elapsed >= 0.9 * static_cast<double>(budget));
		CHECK(elapsed <= static_cast<double>(budget) + 50000.0 * th::slack);

		s.stop = true;
		resume(&l, LINGER_UNLIMITED);
		REQUIRE(l.is_complete);
		CHECK_FALSE(s.gave_up);
	}
}

TEST_CASE("a function with an unlimited budget is never preempted", "[preempt]") {
	auto before = th::stats();
	struct arg {
		double until;
		std::uint64_t n;
	} a{th::now_us() + 20000, 0};
	linger_t l = launch(
	    [](void *p) {
		    auto *x = static_cast<arg *>(p);
		    while (th::now_us() < x->until)
			    x->n++;
	    },
	    LINGER_UNLIMITED, &a);
	REQUIRE(l.error == LINGER_OK);
	REQUIRE(l.is_complete);
	CHECK(a.n > 0);
	auto d = th::diff(before, th::stats());
	CHECK(d.preemptions == 0);
	CHECK(d.completions == 1);
}

TEST_CASE("a function that returns before its deadline is not preempted later", "[preempt]") {
	// A completed function must leave no pending preemption behind: the caller then spins
	// past the old deadline and must not be disturbed, and the next launch runs normally.
	auto before = th::stats();
	struct arg {
		int v = 0;
	} a;
	linger_t l = launch([](void *p) { static_cast<arg *>(p)->v = 1; }, 1000, &a);
	REQUIRE(l.is_complete);
	th::spin_us(5000);
	CHECK(th::diff(before, th::stats()).preemptions == 0);
	CHECK(a.v == 1);

	spinner s;
	s.stop = true;
	l = launch(spin, 1000, &s);
	REQUIRE(l.is_complete);
	CHECK(s.finished);
	CHECK(th::diff(before, th::stats()).preemptions == 0);
}

TEST_CASE("a function spinning inside libc calls is preempted and resumed", "[preempt]") {
	libc_spinner s;
	linger_t l = launch(libc_spin, 1000, &s);
	REQUIRE(l.error == LINGER_OK);
	REQUIRE_FALSE(l.is_complete);
	std::uint64_t r = s.rounds;
	CHECK(r > 0);
	for (int i = 0; i < 20; ++i) {
		resume(&l, 500);
		REQUIRE(l.error == LINGER_OK);
		REQUIRE_FALSE(l.is_complete);
		CHECK(s.rounds > r);
		r = s.rounds;
	}
	s.stop = true;
	resume(&l, LINGER_UNLIMITED);
	REQUIRE(l.is_complete);
	CHECK(s.total > 0);
}

TEST_CASE("preempted functions can be resumed with small budgets many times", "[preempt]") {
	auto before = th::stats();
	spinner s;
	linger_t l = launch(spin, 100, &s);
	REQUIRE_FALSE(l.is_complete);
	int resumes = 0;
	std::uint64_t last = s.counter.load();
	int progressed = 0;
	for (; resumes < 500; ++resumes) {
		resume(&l, 100);
		if (l.error != LINGER_OK || l.is_complete)
			break;
		std::uint64_t now = s.counter.load();
		if (now > last)
			progressed++;
		last = now;
	}
	CHECK(resumes == 500);
	CHECK(l.error == LINGER_OK);
	CHECK_FALSE(l.is_complete);
	// A resume with a 100 us budget lets the function run. (Not every single one: on a loaded
	// machine the thread can lose the CPU for longer than the budget right after arming.)
	INFO(progressed << " of " << resumes << " resumes made progress");
	CHECK(progressed >= resumes * 9 / 10);
	s.stop = true;
	resume(&l, LINGER_UNLIMITED);
	REQUIRE(l.is_complete);
	CHECK_FALSE(s.gave_up);
	auto d = th::diff(before, th::stats());
	CHECK(d.preemptions == 501);
	CHECK(d.live == 0);
}

TEST_CASE("small budgets (20 us) still let the function make progress", "[preempt][small]") {
	spinner s;
	linger_t l = launch(spin, 20, &s);
	REQUIRE(l.error == LINGER_OK);
	REQUIRE_FALSE(l.is_complete);
	int progressed = 0, resumes = 0;
	std::uint64_t last = s.counter.load();
	for (; resumes < 1000; ++resumes) {
		resume(&l, 20);
		if (l.error != LINGER_OK || l.is_complete)
			break;
		std::uint64_t now = s.counter.load();
		if (now > last)
			progressed++;
		last = now;
	}
	CHECK(l.error == LINGER_OK);
	CHECK_FALSE(l.is_complete); // complete means the spinner gave up: a preemption was lost
	CHECK_FALSE(s.gave_up);
	INFO(progressed << " of " << resumes << " resumes made progress");
	CHECK(progressed >= resumes / 2);
	// Progress must not dry up over time either: the last 100 resumes progress too.
	std::uint64_t before_tail = s.counter.load();
	for (int i = 0; i < 100 && l.error == LINGER_OK && !l.is_complete; ++i)
		resume(&l, 20);
	CHECK(s.counter.load() > before_tail);
	s.stop = true;
	if (l.error == LINGER_OK && !l.is_complete)
		resume(&l, LINGER_UNLIMITED);
	CHECK(l.is_complete);
}
