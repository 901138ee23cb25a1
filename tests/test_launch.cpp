// launch(): completion within the budget, set-up only (timeout 0), values through the argument,
// cooperative linger_pause(), and the fast path (no timer work for functions that finish).
#include <catch2/catch.hpp>

#include "helpers.hpp"

#include <libinger.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

namespace {

struct io {
	int in = 0;
	int out = 0;
	int calls = 0;
	bool inside = false;
};

void square(void *p) {
	auto *a = static_cast<io *>(p);
	a->calls++;
	a->inside = linger_in_function();
	a->out = a->in * a->in;
}

struct pauser {
	int steps = 0;     // how many times to pause
	int progress = 0;  // incremented before each pause
	bool finished = false;
};

void pause_n(void *p) {
	auto *a = static_cast<pauser *>(p);
	for (int i = 0; i < a->steps; ++i) {
		a->progress++;
		linger_pause();
	}
	a->finished = true;
}

std::uintptr_t frame_alignment_seen;

__attribute__((noinline)) void record_frame(void *) {
	frame_alignment_seen = reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0));
}

} // namespace

TEST_CASE("a function that returns within its budget completes", "[launch]") {
	auto before = th::stats();
	io a;
	a.in = 12;
	linger_t l = launch(square, 1000000, &a);
	auto d = th::diff(before, th::stats());

	REQUIRE(l.error == LINGER_OK);
	REQUIRE(l.is_complete);
	CHECK(a.calls == 1);
	CHECK(a.out == 144);
	CHECK(a.inside);
	CHECK(d.launches == 1);
	CHECK(d.completions == 1);
	CHECK(d.preemptions == 0);
	CHECK(d.live == 0);
}

TEST_CASE("LINGER_UNLIMITED runs the function to completion", "[launch]") {
	io a;
	a.in = -7;
	linger_t l = launch(square, LINGER_UNLIMITED, &a);
	REQUIRE(l.error == LINGER_OK);
	REQUIRE(l.is_complete);
	CHECK(a.out == 49);
	CHECK(a.calls == 1);
}

TEST_CASE("timeout 0 sets the function up without running it", "[launch]") {
	auto before = th::stats();
	io a;
	a.in = 5;
	linger_t l = launch(square, 0, &a);
	REQUIRE(l.error == LINGER_OK);
	REQUIRE_FALSE(l.is_complete);
	CHECK(a.calls == 0);
	CHECK(a.out == 0);
	CHECK(th::diff(before, th::stats()).live == 1);

	resume(&l, LINGER_UNLIMITED);
	REQUIRE(l.error == LINGER_OK);
	REQUIRE(l.is_complete);
	CHECK(a.calls == 1);
	CHECK(a.out == 25);
	auto d = th::diff(before, th::stats());
	CHECK(d.live == 0);
	CHECK(d.launches == 1);
	CHECK(d.completions == 1);
}

TEST_CASE("a set-up function can be started with a finite budget", "[launch]") {
	io a;
	a.in = 9;
	linger_t l = launch(square, 0, &a);
	REQUIRE(l.error == LINGER_OK);
	REQUIRE_FALSE(l.is_complete);
	resume(&l, 1000000);
	REQUIRE(l.error == LINGER_OK);
	REQUIRE(l.is_complete);
	CHECK(a.out == 81);
}

TEST_CASE("a set-up function can be cancelled without ever running", "[launch]") {
	auto before = th::stats();
	io a;
	linger_t l = launch(square, 0, &a);
	REQUIRE(l.error == LINGER_OK);
	cancel(&l);
	CHECK(l.error == LINGER_OK);
	CHECK(a.calls == 0);
	auto d = th::diff(before, th::stats());
	CHECK(d.cancels == 1);
	CHECK(d.live == 0);
	CHECK(d.completions == 0);
}

TEST_CASE("values travel in and out through the argument", "[launch]") {
	for (int i = -50; i <= 50; ++i) {
		io a;
		a.in = i;
		linger_t l = launch(square, 100000, &a);
		REQUIRE(l.is_complete);
		REQUIRE(a.out == i * i);
	}
}

TEST_CASE("many sequential launches all complete and leave nothing live", "[launch]") {
	auto before = th::stats();
	const int n = 10000;
	long long sum = 0;
	for (int i = 0; i < n; ++i) {
		io a;
		a.in = i % 100;
		linger_t l = launch(square, (i % 2) ? LINGER_UNLIMITED : 500000, &a);
		if (!l.is_complete || l.error != LINGER_OK)
			FAIL("launch " << i << " did not complete: error " << l.error);
		sum += a.out;
	}
	long long expect = 0;
	for (int i = 0; i < n; ++i)
		expect += static_cast<long long>(i % 100) * (i % 100);
	CHECK(sum == expect);
	auto d = th::diff(before, th::stats());
	CHECK(d.launches == n);
	CHECK(d.completions == n);
	CHECK(d.preemptions == 0);
	CHECK(d.live == 0);
}

TEST_CASE("functions that finish within their budget do not arm the timer each time", "[launch][fastpath]") {
	// Warm up: the first finite launch may create and arm the thread's timer.
	io a;
	a.in = 3;
	linger_t l = launch(square, 2000000, &a);
	REQUIRE(l.is_complete);

	auto before = th::stats();
	for (int i = 0; i < 1000; ++i) {
		l = launch(square, 2000000, &a);
		REQUIRE(l.is_complete);
	}
	auto d = th::diff(before, th::stats());
	CHECK(d.launches == 1000);
	CHECK(d.preemptions == 0);
	// "A function that finishes within its budget causes no system call": allow a handful of
	// re-arms, never one per launch.
	CHECK(d.timer_arms <= 5);
}

TEST_CASE("linger_in_function is false outside preemptible functions", "[launch]") {
	CHECK_FALSE(linger_in_function());
	io a;
	linger_t l = launch(square, LINGER_UNLIMITED, &a);
	REQUIRE(l.is_complete);
	CHECK(a.inside);
	CHECK_FALSE(linger_in_function());
}

TEST_CASE("pause, critical begin/end outside any function do nothing", "[launch]") {
	auto before = th::stats();
	linger_pause();
	linger_critical_begin();
	linger_critical_begin();
	linger_critical_end();
	linger_critical_end();
	auto d = th::diff(before, th::stats());
	CHECK(d.pauses == 0);
	CHECK(d.live == 0);
	// And the runtime still works afterwards.
	io a;
	a.in = 4;
	linger_t l = launch(square, 100000, &a);
	REQUIRE(l.is_complete);
	CHECK(a.out == 16);
}

TEST_CASE("linger_pause yields to the caller, which sees an incomplete function", "[launch][pause]") {
	auto before = th::stats();
	pauser p;
	p.steps = 3;
	linger_t l = launch(pause_n, LINGER_UNLIMITED, &p);
	REQUIRE(l.error == LINGER_OK);
	REQUIRE_FALSE(l.is_complete);
	CHECK(p.progress == 1);
	CHECK_FALSE(p.finished);

	resume(&l, LINGER_UNLIMITED);
	REQUIRE(l.error == LINGER_OK);
	REQUIRE_FALSE(l.is_complete);
	CHECK(p.progress == 2);

	resume(&l, 1000000);
	REQUIRE_FALSE(l.is_complete);
	CHECK(p.progress == 3);
	CHECK_FALSE(p.finished);

	resume(&l, LINGER_UNLIMITED);
	REQUIRE(l.error == LINGER_OK);
	REQUIRE(l.is_complete);
	CHECK(p.finished);

	auto d = th::diff(before, th::stats());
	CHECK(d.pauses == 3);
	CHECK(d.preemptions == 0);
	CHECK(d.completions == 1);
	CHECK(d.live == 0);
}

TEST_CASE("a preemptible function's stack is 16-byte aligned", "[launch][abi]") {
	frame_alignment_seen = 1;
	linger_t l = launch(record_frame, LINGER_UNLIMITED, nullptr);
	REQUIRE(l.is_complete);
	CHECK(frame_alignment_seen % 16 == 0);

	frame_alignment_seen = 1;
	l = launch(record_frame, 0, nullptr);
	REQUIRE_FALSE(l.is_complete);
	resume(&l, 100000);
	REQUIRE(l.is_complete);
	CHECK(frame_alignment_seen % 16 == 0);
}
