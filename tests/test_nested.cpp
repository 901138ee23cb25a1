// Nested launches: a preemptible function launching another. The inner deadline is the
// earlier of its own and the outer one's.
#include <catch2/catch.hpp>

#include "helpers.hpp"

#include <libinger.h>

#include <atomic>
#include <cstdint>

namespace {

struct inner_spin {
	std::atomic<bool> stop{false};
	std::atomic<std::uint64_t> counter{0};
	std::atomic<bool> gave_up{false};
	std::atomic<bool> finished{false};
};

void inner_spin_fn(void *p) {
	auto *s = static_cast<inner_spin *>(p);
	double give_up = th::now_us() + 3e6;
	while (!s->stop.load(std::memory_order_relaxed)) {
		std::uint64_t c = s->counter.fetch_add(1, std::memory_order_relaxed) + 1;
		if ((c & 1023) == 0 && th::now_us() > give_up) {
			s->gave_up = true;
			break;
		}
	}
	s->finished = true;
}

struct outer_ctx {
	inner_spin inner;
	std::uint64_t inner_budget = 0;
	bool outer_stops_inner = true; // else the test's caller sets inner.stop
	// observations made by the outer function
	bool inner_launch_ok = false;
	bool inner_first_complete = true;
	double inner_elapsed_us = 0;
	bool outer_in_function = false;
	int inner_resumes = 0;
	bool inner_completed = false;
	std::atomic<bool> after_inner_launch{false};
	bool finished = false;
};

// Outer: launches the spinning inner function with inner_budget, then (when it gets control
// back) lets it finish.
void outer_fn(void *p) {
	auto *o = static_cast<outer_ctx *>(p);
	o->outer_in_function = linger_in_function();
	double t0 = th::now_us();
	linger_t l = launch(inner_spin_fn, o->inner_budget, &o->inner);
	o->inner_elapsed_us = th::now_us() - t0;
	o->after_inner_launch = true;
	o->inner_launch_ok = l.error == LINGER_OK;
	o->inner_first_complete = l.is_complete;
	if (o->outer_stops_inner)
		o->inner.stop = true;
	while (l.error == LINGER_OK && !l.is_complete) {
		resume(&l, LINGER_UNLIMITED);
		o->inner_resumes++;
	}
	o->inner_completed = l.is_complete;
	o->finished = true;
}

struct simple_inner {
	int value = 0;
	bool inside = false;
};

void simple_inner_fn(void *p) {
	auto *s = static_cast<simple_inner *>(p);
	s->inside = linger_in_function();
	s->value = 42;
}

struct simple_outer {
	simple_inner inner;
	bool inner_complete = false;
	int inner_error = -1;
	bool still_inside = false;
	int value_seen = 0;
};

void simple_outer_fn(void *p) {
	auto *o = static_cast<simple_outer *>(p);
	linger_t l = launch(simple_inner_fn, 1000000, &o->inner);
	o->inner_complete = l.is_complete;
	o->inner_error = l.error;
	o->value_seen = o->inner.value;
	o->still_inside = linger_in_function();
}

// Three levels: outer -> middle -> innermost spinner.
struct three_levels {
	inner_spin innermost;
	std::atomic<bool> middle_after_launch{false};
	bool middle_finished = false;
	bool outer_finished = false;
};

void middle_fn(void *p) {
	auto *t = static_cast<three_levels *>(p);
	linger_t l = launch(inner_spin_fn, LINGER_UNLIMITED, &t->innermost);
	t->middle_after_launch = true;
	while (l.error == LINGER_OK && !l.is_complete)
		resume(&l, LINGER_UNLIMITED);
	t->middle_finished = l.is_complete;
}

void outer3_fn(void *p) {
	auto *t = static_cast<three_levels *>(p);
	linger_t l = launch(middle_fn, 1000000, t);
	while (l.error == LINGER_OK && !l.is_complete)
		resume(&l, 1000000);
	t->outer_finished = l.is_complete;
}

} // namespace

TEST_CASE("an inner function that returns completes inside the outer one", "[nested]") {
	auto before = th::stats();
	simple_outer o;
	linger_t l = launch(simple_outer_fn, 1000000, &o);
	REQUIRE(l.error == LINGER_OK);
	REQUIRE(l.is_complete);
	CHECK(o.inner_error == LINGER_OK);
	CHECK(o.inner_complete);
	CHECK(o.inner.inside);
	CHECK(o.value_seen == 42);
	CHECK(o.still_inside);
	CHECK_FALSE(linger_in_function());
	auto d = th::diff(before, th::stats());
	CHECK(d.launches == 2);
	CHECK(d.completions == 2);
	CHECK(d.preemptions == 0);
	CHECK(d.live == 0);
}

TEST_CASE("a preempted inner function returns to the outer one, not to the caller", "[nested]") {
	auto before = th::stats();
	outer_ctx o;
	o.inner_budget = 1000;
	SECTION("outer unlimited") {
		linger_t l = launch(outer_fn, LINGER_UNLIMITED, &o);
		REQUIRE(l.error == LINGER_OK);
		REQUIRE(l.is_complete);
	}
	SECTION("outer with a long budget") {
		linger_t l = launch(outer_fn, 2000000, &o);
		REQUIRE(l.error == LINGER_OK);
		REQUIRE(l.is_complete);
	}
	CHECK(o.outer_in_function);
	CHECK(o.inner_launch_ok);
	CHECK_FALSE(o.inner_first_complete);
	INFO("inner ran " << o.inner_elapsed_us << " us before returning to the outer function");
	CHECK(o.inner_elapsed_us >= 900.0);
	CHECK(o.inner_elapsed_us <= 50000.0 * th::slack);
	CHECK(o.inner_completed);
	CHECK(o.inner.finished);
	CHECK_FALSE(o.inner.gave_up);
	CHECK(o.finished);
	auto d = th::diff(before, th::stats());
	CHECK(d.launches == 2);
	CHECK(d.completions == 2);
	CHECK(d.preemptions >= 1);
	CHECK(d.live == 0);
}

TEST_CASE("an outer deadline shorter than the inner one preempts both back to the caller", "[nested]") {
	auto before = th::stats();
	outer_ctx o;
	o.outer_stops_inner = false;
	SECTION("inner budget 1 s") { o.inner_budget = 1000000; }
	SECTION("inner budget unlimited") { o.inner_budget = LINGER_UNLIMITED; }

	double t0 = th::now_us();
	linger_t l = launch(outer_fn, 2000, &o);
	double elapsed = th::now_us() - t0;
	REQUIRE(l.error == LINGER_OK);
	REQUIRE_FALSE(l.is_complete);
	INFO("caller got control back after " << elapsed << " us");
	CHECK(elapsed >= 1800.0);
	CHECK(elapsed <= 100000.0 * th::slack); // far below the inner's own budget
	CHECK_FALSE(o.inner.gave_up);
	CHECK_FALSE(o.inner.stop);
	CHECK_FALSE(o.finished);
	CHECK(o.inner.counter.load() > 0);
	CHECK_FALSE(linger_in_function());
	CHECK(th::diff(before, th::stats()).live == 2);

	// Both are frozen while the caller runs.
	std::uint64_t c = o.inner.counter.load();
	th::spin_us(2000);
	CHECK(o.inner.counter.load() == c);

	// Resuming the outer one with a short budget keeps preempting both at the outer deadline
	// (the outer function resumes the inner one with an unlimited budget, which is still capped
	// by the outer deadline), while the inner one makes progress.
	for (int i = 0; i < 3; ++i) {
		double r0 = th::now_us();
		resume(&l, 2000);
		double r = th::now_us() - r0;
		REQUIRE(l.error == LINGER_OK);
		REQUIRE_FALSE(l.is_complete);
		INFO("resume " << i << " took " << r << " us");
		CHECK(r >= 1800.0);
		CHECK(r <= 100000.0 * th::slack);
		CHECK_FALSE(o.inner.gave_up);
		CHECK(o.inner.counter.load() > c);
		c = o.inner.counter.load();
	}
	CHECK(o.inner_launch_ok);
	CHECK_FALSE(o.inner_first_complete);
	CHECK_FALSE(o.finished);

	// Finally stop the inner one: both complete.
	o.inner.stop = true;
	while (l.error == LINGER_OK && !l.is_complete)
		resume(&l, LINGER_UNLIMITED);
	REQUIRE(l.error == LINGER_OK);
	REQUIRE(l.is_complete);
	CHECK(o.finished);
	CHECK(o.inner_launch_ok);
	CHECK_FALSE(o.inner_first_complete);
	CHECK(o.inner_completed);
	CHECK_FALSE(o.inner.gave_up);
	auto d = th::diff(before, th::stats());
	CHECK(d.launches == 2);
	CHECK(d.completions == 2);
	CHECK(d.live == 0);
}

TEST_CASE("three levels of nesting obey the outermost deadline", "[nested]") {
	auto before = th::stats();
	three_levels t;
	double t0 = th::now_us();
	linger_t l = launch(outer3_fn, 3000, &t);
	double elapsed = th::now_us() - t0;
	REQUIRE(l.error == LINGER_OK);
	REQUIRE_FALSE(l.is_complete);
	INFO("caller got control back after " << elapsed << " us");
	CHECK(elapsed >= 2700.0);
	CHECK(elapsed <= 100000.0 * th::slack);
	CHECK_FALSE(t.innermost.gave_up);
	CHECK(th::diff(before, th::stats()).live == 3);

	t.innermost.stop = true;
	while (l.error == LINGER_OK && !l.is_complete)
		resume(&l, 3000);
	REQUIRE(l.error == LINGER_OK);
	REQUIRE(l.is_complete);
	CHECK(t.middle_finished);
	CHECK(t.outer_finished);
	CHECK_FALSE(t.innermost.gave_up);
	auto d = th::diff(before, th::stats());
	CHECK(d.launches == 3);
	CHECK(d.completions == 3);
	CHECK(d.live == 0);
}

namespace {
struct pause_outer {
	int inner_progress = 0;
	bool inner_saw_pause = false;
	bool done = false;
};
void pausing_inner(void *p) {
	auto *o = static_cast<pause_outer *>(p);
	o->inner_progress = 1;
	linger_pause(); // yields to the outer function only
	o->inner_progress = 2;
}
void pause_outer_fn(void *p) {
	auto *o = static_cast<pause_outer *>(p);
	linger_t l = launch(pausing_inner, LINGER_UNLIMITED, o);
	o->inner_saw_pause = !l.is_complete && l.error == LINGER_OK && o->inner_progress == 1;
	resume(&l, LINGER_UNLIMITED);
	o->done = l.is_complete && o->inner_progress == 2;
}
} // namespace

TEST_CASE("linger_pause in an inner function yields to the outer function", "[nested][pause]") {
	pause_outer o;
	linger_t l = launch(pause_outer_fn, LINGER_UNLIMITED, &o);
	REQUIRE(l.error == LINGER_OK);
	REQUIRE(l.is_complete);
	CHECK(o.inner_saw_pause);
	CHECK(o.done);
}
