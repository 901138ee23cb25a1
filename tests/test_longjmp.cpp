// longjmp out of a preemptible function (issue 14, item 6): the runtime notices at its next
// call on the thread, reports the function abandoned, and stays consistent.
#include <catch2/catch.hpp>

#include "helpers.hpp"

#include <inger/inger.hpp>
#include <libinger.h>

#include <atomic>
#include <cerrno>
#include <csetjmp>

namespace {

std::jmp_buf escape;
int reached_after_jump = 0;

void jump_out(void *) {
	std::longjmp(escape, 1);
}

void pause_then_jump_out(void *) {
	linger_pause();
	std::longjmp(escape, 1);
}

struct spin_arg {
	double until_us = 0;
	std::uint64_t n = 0;
};

void spin(void *p) {
	auto *s = static_cast<spin_arg *>(p);
	while (th::now_us() < s->until_us)
		s->n++;
}

// A preempted launch, resumed to completion: what crashed after a longjmp (a jump to 0).
void preempted_launch_works() {
	spin_arg s;
	s.until_us = th::now_us() + 5000;
	linger_t l = launch(spin, 500, &s);
	REQUIRE(l.error == LINGER_OK);
	CHECK_FALSE(l.is_complete);
	while (!l.is_complete) {
		resume(&l, 1000);
		REQUIRE(l.error == LINGER_OK);
	}
	CHECK(s.n > 0);
}

} // namespace

TEST_CASE("longjmp out of a launched function leaves the runtime consistent", "[longjmp]") {
	auto before = th::stats();
	if (setjmp(escape) == 0) {
		launch(jump_out, LINGER_UNLIMITED, nullptr);
		FAIL("launch returned although the function jumped out");
	}
	reached_after_jump++;
	CHECK(reached_after_jump == 1);
	CHECK_FALSE(linger_in_function());
	CHECK(th::diff(before, th::stats()).live == 0);
	preempted_launch_works();
	CHECK(th::diff(before, th::stats()).live == 0);
}

TEST_CASE("a longjmp'ed-out function's handle refuses resume and cancel with LINGER_EABANDONED",
          "[longjmp][errors]") {
	auto before = th::stats();
	static linger_t l; // static: a longjmp back into this frame keeps it
	l = launch(pause_then_jump_out, LINGER_UNLIMITED, nullptr);
	REQUIRE(l.error == LINGER_OK);
	REQUIRE_FALSE(l.is_complete);
	if (setjmp(escape) == 0) {
		resume(&l, LINGER_UNLIMITED);
		FAIL("resume returned although the function jumped out");
	}
	CHECK_FALSE(linger_in_function());
	errno = 0;
	resume(&l, LINGER_UNLIMITED);
	CHECK(l.error == LINGER_EABANDONED);
	CHECK(errno == ENOTRECOVERABLE);
	cancel(&l);
	CHECK(l.error == LINGER_EABANDONED);
	CHECK(std::string(linger_strerror(LINGER_EABANDONED)).find("longjmp") != std::string::npos);
	CHECK(th::diff(before, th::stats()).live == 0);
	preempted_launch_works();
}

namespace {

std::jmp_buf inner_escape;
struct nest_report {
	bool in_function_after = false;
	int inner_resume_error = -1;
	bool outer_finished = false;
};

void inner_jumps(void *) {
	std::longjmp(inner_escape, 1);
}

// Launches an inner function that longjmps back into this (outer) function's frame.
void outer_catches_jump(void *p) {
	auto *r = static_cast<nest_report *>(p);
	static linger_t inner;
	inner = launch(inner_jumps, 0, nullptr);
	if (setjmp(inner_escape) == 0) {
		resume(&inner, LINGER_UNLIMITED);
		return; // not reached
	}
	r->in_function_after = linger_in_function();
	resume(&inner, LINGER_UNLIMITED);
	r->inner_resume_error = inner.error;
	linger_pause(); // the outer function still pauses and resumes normally
	r->outer_finished = true;
}

} // namespace

TEST_CASE("an inner function longjmp'ing into its launcher leaves the launcher running", "[longjmp][nested]") {
	auto before = th::stats();
	nest_report r;
	linger_t l = launch(outer_catches_jump, LINGER_UNLIMITED, &r);
	REQUIRE(l.error == LINGER_OK);
	REQUIRE_FALSE(l.is_complete);
	CHECK(r.in_function_after);
	CHECK(r.inner_resume_error == LINGER_EABANDONED);
	CHECK_FALSE(r.outer_finished);
	resume(&l, LINGER_UNLIMITED);
	REQUIRE(l.is_complete);
	CHECK(r.outer_finished);
	CHECK(th::diff(before, th::stats()).live == 0);
	preempted_launch_works();
}

namespace {

std::jmp_buf spin_escape;
std::atomic<bool> jump_now{false};

void spin_then_jump(void *) {
	double give_up = th::now_us() + 2e6;
	while (!jump_now.load() && th::now_us() < give_up) {
	}
	std::longjmp(spin_escape, 1);
}

} // namespace

TEST_CASE("a timer signal after a longjmp out does not preempt the caller into a dead context", "[longjmp][preempt]") {
	auto before = th::stats();
	static linger_t l;
	l = launch(spin_then_jump, 200, nullptr);
	REQUIRE_FALSE(l.is_complete); // preempted
	jump_now = true;
	if (setjmp(spin_escape) == 0) {
		resume(&l, 300); // the timer is armed: its signal lands after the jump, on this stack
		FAIL("resume returned although the function jumped out");
	}
	// Spin on the caller's stack past the budget: the timer handler must notice the jump.
	double until = th::now_us() + 3000;
	while (th::now_us() < until) {
	}
	auto d = th::diff(before, th::stats());
	CHECK(d.preemptions == 1); // only the first one: the caller was never "preempted"
	CHECK(d.timer_signals < 20); // and the handler did not keep retrying
	CHECK_FALSE(linger_in_function());
	resume(&l, 100);
	CHECK(l.error == LINGER_EABANDONED);
	CHECK(th::diff(before, th::stats()).live == 0);
	preempted_launch_works();
}

TEST_CASE("the C++ API reports a longjmp'ed-out callable as abandoned", "[longjmp][cxx]") {
	static std::optional<inger::preemptible<void>> f;
	f.emplace(inger::launch([] { linger_pause(); std::longjmp(escape, 1); }, inger::unlimited));
	REQUIRE_FALSE(f->done());
	if (setjmp(escape) == 0) {
		f->resume(inger::unlimited);
		FAIL("resume returned although the callable jumped out");
	}
	try {
		f->resume(inger::unlimited);
		FAIL("resume of an abandoned callable did not throw");
	} catch (const inger::error &e) {
		CHECK(e.code_value() == inger::errc::abandoned);
	}
	CHECK_FALSE(f->valid());
	f.reset();
}
