// Stacks: the documented default size, large frames, configuring the size, and recovery from
// a stack overflow (guard page) with LINGER_ESTACKOVERFLOW.
#include <catch2/catch.hpp>

#include "helpers.hpp"

#include <inger/inger.hpp>
#include <libinger.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace {

constexpr std::size_t KiB = 1024;
constexpr std::size_t MiB = 1024 * KiB;

struct big_frame {
	std::size_t bytes = 0;
	std::uint64_t sum = 0;
	bool done = false;
	bool preempt_spin = false;
};

// Uses a 100 KiB local array (optionally spinning so it gets preempted while using it).
void use_100k(void *p) {
	auto *b = static_cast<big_frame *>(p);
	volatile unsigned char buf[100 * KiB];
	for (std::size_t i = 0; i < sizeof buf; ++i)
		buf[i] = static_cast<unsigned char>(i * 7);
	if (b->preempt_spin)
		th::spin_us(3000);
	std::uint64_t s = 0;
	for (std::size_t i = 0; i < sizeof buf; ++i)
		s += buf[i];
	b->bytes = sizeof buf;
	b->sum = s;
	b->done = true;
}

std::uint64_t expected_100k_sum() {
	std::uint64_t s = 0;
	for (std::size_t i = 0; i < 100 * KiB; ++i)
		s += static_cast<unsigned char>(i * 7);
	return s;
}

// Recursion that the compiler cannot turn into a loop or prove infinite.
volatile unsigned long depth_limit = ~0ul;
std::atomic<unsigned long> deepest{0};

__attribute__((noinline)) unsigned long recurse(unsigned long depth) {
	volatile char frame[1024];
	frame[0] = static_cast<char>(depth);
	frame[sizeof frame - 1] = static_cast<char>(depth >> 8);
	if (depth > deepest.load(std::memory_order_relaxed))
		deepest.store(depth, std::memory_order_relaxed);
	if (depth >= depth_limit)
		return frame[0];
	return recurse(depth + 1) + static_cast<unsigned char>(frame[sizeof frame - 1]);
}

struct overflow_arg {
	bool returned = false;
};

void overflow(void *p) {
	unsigned long r = recurse(0);
	static_cast<overflow_arg *>(p)->returned = r != 12345;
}

struct small_arg {
	int v = 0;
};

void small(void *p) { static_cast<small_arg *>(p)->v++; }

struct stack_size_guard {
	std::size_t saved = linger_stack_size();
	~stack_size_guard() { linger_set_stack_size(saved); }
};

} // namespace

TEST_CASE("the default stack size is as documented", "[stack]") {
	std::size_t size = linger_stack_size();
	CHECK(size >= 256 * KiB);
	if (std::getenv("INGER_STACK_SIZE") == nullptr) {
		if (th::sanitized)
			CHECK(size == 1 * MiB);
		else
			CHECK(size == 256 * KiB);
	}
}

TEST_CASE("a function with a 100 KiB local array works", "[stack]") {
	big_frame b;
	linger_t l = launch(use_100k, LINGER_UNLIMITED, &b);
	REQUIRE(l.error == LINGER_OK);
	REQUIRE(l.is_complete);
	CHECK(b.done);
	CHECK(b.sum == expected_100k_sum());

	// Also while being preempted with the array live.
	big_frame p;
	p.preempt_spin = true;
	l = launch(use_100k, 500, &p);
	REQUIRE(l.error == LINGER_OK);
	int returns = 0;
	while (l.error == LINGER_OK && !l.is_complete) {
		returns++;
		resume(&l, 500);
	}
	REQUIRE(l.is_complete);
	CHECK(returns >= 1);
	CHECK(p.sum == expected_100k_sum());
}

TEST_CASE("linger_set_stack_size enforces its bounds", "[stack][config]") {
	stack_size_guard guard;
	const std::size_t original = linger_stack_size();

	for (std::size_t bad : {std::size_t{0}, std::size_t{1}, 16 * KiB - 1, std::size_t{1024 * MiB + 1},
	                        std::size_t{2048 * MiB}, ~std::size_t{0}}) {
		INFO("size " << bad);
		errno = 0;
		CHECK(linger_set_stack_size(bad) == -1);
		CHECK(errno == EINVAL);
		CHECK(linger_stack_size() == original);
	}
	for (std::size_t good : {16 * KiB, 64 * KiB, 1 * MiB, 1024 * MiB, original}) {
		INFO("size " << good);
		CHECK(linger_set_stack_size(good) == 0);
		CHECK(linger_stack_size() >= good);
		CHECK(linger_stack_size() < good + 64 * KiB); // at most rounded up a little
	}
	CHECK(linger_stack_size() == original);
}

TEST_CASE("a new stack size applies to functions launched afterwards", "[stack][config]") {
	stack_size_guard guard;
	// 512 KiB: a 100 KiB frame fits; and we can observe the stack size through how deep a
	// recursion with 1 KiB frames gets (see the overflow tests) — here just that it works.
	REQUIRE(linger_set_stack_size(512 * KiB) == 0);
	big_frame b;
	linger_t l = launch(use_100k, LINGER_UNLIMITED, &b);
	REQUIRE(l.error == LINGER_OK);
	REQUIRE(l.is_complete);
	CHECK(b.sum == expected_100k_sum());

	// A function launched with a small stack keeps it even after the setting changes.
	REQUIRE(linger_set_stack_size(64 * KiB) == 0);
	small_arg s;
	l = launch(small, 0, &s);
	REQUIRE(l.error == LINGER_OK);
	REQUIRE(linger_set_stack_size(256 * KiB) == 0);
	resume(&l, LINGER_UNLIMITED);
	REQUIRE(l.is_complete);
	CHECK(s.v == 1);
}

TEST_CASE("unbounded recursion is reported as LINGER_ESTACKOVERFLOW and the process goes on", "[stack][overflow]") {
#if defined(__SANITIZE_ADDRESS__)
	WARN("AddressSanitizer handles stack overflows itself: skipped");
	return;
#endif
	auto before = th::stats();
	for (int round = 0; round < 10; ++round) {
		INFO("round " << round);
		overflow_arg a;
		deepest = 0;
		errno = 0;
		linger_t l = launch(overflow, LINGER_UNLIMITED, &a);
		int err = errno;
		REQUIRE(l.error == LINGER_ESTACKOVERFLOW);
		CHECK(err == EFAULT);
		CHECK_FALSE(l.is_complete);
		CHECK_FALSE(a.returned);
		// It got deep, so the whole stack was usable: at least most of the configured size.
		CHECK(deepest.load() * KiB >= linger_stack_size() / 2);

		// The handle is dead: it keeps reporting the overflow, or (as a failed launch) is
		// foreign; either way nothing runs.
		resume(&l, LINGER_UNLIMITED);
		CHECK((l.error == LINGER_ESTACKOVERFLOW || l.error == LINGER_EFOREIGN));
		CHECK_FALSE(l.is_complete);
		cancel(&l);
		CHECK((l.error == LINGER_ESTACKOVERFLOW || l.error == LINGER_EFOREIGN));

		// Subsequent launches still work, including ones that preempt.
		small_arg s;
		linger_t ok = launch(small, 1000000, &s);
		REQUIRE(ok.error == LINGER_OK);
		REQUIRE(ok.is_complete);
		CHECK(s.v == 1);
	}
	auto d = th::diff(before, th::stats());
	CHECK(d.live == 0);
	CHECK(d.completions == 10);
}

TEST_CASE("stack overflow during resume and with a finite budget", "[stack][overflow]") {
#if defined(__SANITIZE_ADDRESS__)
	WARN("AddressSanitizer handles stack overflows itself: skipped");
	return;
#endif
	overflow_arg a;
	linger_t l = launch(overflow, 0, &a);
	REQUIRE(l.error == LINGER_OK);
	errno = 0;
	resume(&l, LINGER_UNLIMITED);
	CHECK(l.error == LINGER_ESTACKOVERFLOW);
	CHECK(errno == EFAULT);
	CHECK_FALSE(l.is_complete);

	errno = 0;
	l = launch(overflow, 2000000, &a);
	CHECK(l.error == LINGER_ESTACKOVERFLOW);
	CHECK(errno == EFAULT);

	// A 100 KiB frame on a 64 KiB stack overflows too.
	{
		stack_size_guard guard;
		REQUIRE(linger_set_stack_size(64 * KiB) == 0);
		big_frame b;
		l = launch(use_100k, LINGER_UNLIMITED, &b);
		CHECK(l.error == LINGER_ESTACKOVERFLOW);
		CHECK_FALSE(b.done);
	}
	// With live paused functions around, an overflow kills only the offender.
	small_arg s;
	linger_t paused = launch([](void *p) { linger_pause(); small(p); }, LINGER_UNLIMITED, &s);
	REQUIRE_FALSE(paused.is_complete);
	l = launch(overflow, LINGER_UNLIMITED, &a);
	CHECK(l.error == LINGER_ESTACKOVERFLOW);
	resume(&paused, LINGER_UNLIMITED);
	REQUIRE(paused.error == LINGER_OK);
	REQUIRE(paused.is_complete);
	CHECK(s.v == 1);
	CHECK(th::stats().live == 0);
}

TEST_CASE("stack overflow in the C++ API throws stack_overflow", "[stack][overflow][cxx]") {
#if defined(__SANITIZE_ADDRESS__)
	WARN("AddressSanitizer handles stack overflows itself: skipped");
	return;
#endif
	try {
		auto f = inger::launch([] { return recurse(0); }, inger::unlimited);
		FAIL("launch did not throw");
	} catch (const inger::error &e) {
		CHECK(e.code_value() == inger::errc::stack_overflow);
	}
	auto g = inger::launch([] { return recurse(0); }, std::chrono::microseconds(0));
	REQUIRE_FALSE(g.done());
	try {
		g.resume(inger::unlimited);
		FAIL("resume did not throw");
	} catch (const inger::error &e) {
		CHECK(e.code_value() == inger::errc::stack_overflow);
	}
	CHECK_FALSE(g.valid());
	auto h = inger::launch([] { return 5; }, std::chrono::seconds(1));
	CHECK(h.get() == 5);
	CHECK(th::stats().live == 0);
}
