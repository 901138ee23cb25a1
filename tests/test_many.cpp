// Many live functions at once: 100 paused (or preempted) functions, each with its own stack and
// state, resumed round robin to completion.
#include <catch2/catch.hpp>

#include "helpers.hpp"

#include <libinger.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <vector>

namespace {

constexpr int N = 100;

std::uint64_t mix(std::uint64_t x) {
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

struct coop {
	int id = 0;
	int steps = 0;            // pauses before returning
	int progress = 0;         // pauses taken so far
	std::uint64_t result = 0; // written when done
	std::uintptr_t stack_addr = 0;
	bool corrupted = false;
};

// Keeps its state in locals (on its own stack) across every pause.
void cooperative(void *p) {
	auto *c = static_cast<coop *>(p);
	volatile std::uint64_t local_sum = 0;
	volatile int local_id = c->id;
	std::uint64_t acc = mix(static_cast<std::uint64_t>(c->id));
	c->stack_addr = reinterpret_cast<std::uintptr_t>(&local_sum);
	for (int i = 0; i < c->steps; ++i) {
		acc = mix(acc + static_cast<std::uint64_t>(i));
		local_sum = local_sum + acc;
		c->progress++;
		linger_pause();
		if (local_id != c->id)
			c->corrupted = true;
	}
	c->result = local_sum ^ acc;
}

std::uint64_t cooperative_expected(int id, int steps) {
	std::uint64_t sum = 0, acc = mix(static_cast<std::uint64_t>(id));
	for (int i = 0; i < steps; ++i) {
		acc = mix(acc + static_cast<std::uint64_t>(i));
		sum += acc;
	}
	return sum ^ acc;
}

struct busy {
	int id = 0;
	long iters = 0;
	std::uint64_t result = 0;
};

__attribute__((noinline)) std::uint64_t busy_work(int id, long iters) {
	std::uint64_t acc = static_cast<std::uint64_t>(id) * 0x9e3779b97f4a7c15ull + 1;
	double f = 1.0 + id;
	for (long i = 0; i < iters; ++i) {
		acc = mix(acc ^ static_cast<std::uint64_t>(i));
		f = f * 0.9999999 + static_cast<double>(acc & 0xff) * 1e-6;
	}
	return acc ^ static_cast<std::uint64_t>(f * 1e6);
}

void busy_fn(void *p) {
	auto *b = static_cast<busy *>(p);
	b->result = busy_work(b->id, b->iters);
}

} // namespace

TEST_CASE("100 paused functions resumed round robin each keep their own state", "[many]") {
	auto before = th::stats();
	std::vector<coop> cs(N);
	std::vector<linger_t> ls(N);
	for (int i = 0; i < N; ++i) {
		cs[i].id = i;
		cs[i].steps = 5 + i % 17;
		ls[i] = launch(cooperative, LINGER_UNLIMITED, &cs[i]);
		REQUIRE(ls[i].error == LINGER_OK);
		REQUIRE_FALSE(ls[i].is_complete);
		REQUIRE(cs[i].progress == 1);
	}
	CHECK(th::diff(before, th::stats()).live == N);

	// Every function has its own stack.
	std::vector<std::uintptr_t> addrs;
	for (auto &c : cs)
		addrs.push_back(c.stack_addr);
	std::sort(addrs.begin(), addrs.end());
	for (int i = 1; i < N; ++i)
		REQUIRE(addrs[i] - addrs[i - 1] >= 16 * 1024);

	int remaining = N;
	int rounds = 0;
	while (remaining > 0) {
		++rounds;
		REQUIRE(rounds < 100);
		for (int i = 0; i < N; ++i) {
			if (ls[i].is_complete)
				continue;
			int was = cs[i].progress;
			resume(&ls[i], LINGER_UNLIMITED);
			REQUIRE(ls[i].error == LINGER_OK);
			if (ls[i].is_complete) {
				// Finished exactly after its last pause.
				REQUIRE(was == cs[i].steps);
				--remaining;
			} else {
				REQUIRE(cs[i].progress == was + 1);
			}
		}
	}
	for (int i = 0; i < N; ++i) {
		INFO("function " << i);
		CHECK_FALSE(cs[i].corrupted);
		CHECK(cs[i].result == cooperative_expected(i, cs[i].steps));
	}
	auto d = th::diff(before, th::stats());
	CHECK(d.launches == N);
	CHECK(d.completions == N);
	CHECK(d.live == 0);
	long pauses = 0;
	for (auto &c : cs)
		pauses += c.steps;
	CHECK(d.pauses == pauses);
}

TEST_CASE("100 preempted functions resumed round robin compute the right results", "[many][preempt]") {
	// Calibrate: how many iterations take about 3 ms here.
	long iters = 20000;
	for (;;) {
		double t0 = th::now_us();
		volatile std::uint64_t sink = busy_work(1, iters);
		(void)sink;
		double t = th::now_us() - t0;
		if (t >= 1000.0 || iters > (1l << 30))
			break;
		iters *= 2;
	}
	iters *= 3; // ~3 ms or a bit more each

	auto before = th::stats();
	std::vector<busy> bs(N);
	std::vector<linger_t> ls(N);
	for (int i = 0; i < N; ++i) {
		bs[i].id = i;
		bs[i].iters = iters + i;
		ls[i] = launch(busy_fn, 200, &bs[i]);
		REQUIRE(ls[i].error == LINGER_OK);
	}
	int remaining = 0;
	for (auto &l : ls)
		remaining += !l.is_complete;
	CHECK(remaining == N); // 3 ms of work cannot fit into 200 us
	int max_live = static_cast<int>(th::diff(before, th::stats()).live);
	CHECK(max_live == N);

	int guard = 0;
	while (remaining > 0) {
		REQUIRE(++guard < 100000);
		for (int i = 0; i < N; ++i) {
			if (ls[i].is_complete)
				continue;
			resume(&ls[i], 200);
			REQUIRE(ls[i].error == LINGER_OK);
			if (ls[i].is_complete)
				--remaining;
		}
	}
	for (int i = 0; i < N; ++i) {
		INFO("function " << i);
		CHECK(bs[i].result == busy_work(i, iters + i));
	}
	auto d = th::diff(before, th::stats());
	CHECK(d.preemptions >= N);
	CHECK(d.completions == N);
	CHECK(d.live == 0);
}

TEST_CASE("paused functions can be finished in any order", "[many]") {
	std::vector<coop> cs(N);
	std::vector<linger_t> ls(N);
	for (int i = 0; i < N; ++i) {
		cs[i].id = i;
		cs[i].steps = 3;
		ls[i] = launch(cooperative, LINGER_UNLIMITED, &cs[i]);
		REQUIRE_FALSE(ls[i].is_complete);
	}
	// Finish them back to front, each one in a go.
	for (int i = N - 1; i >= 0; --i) {
		while (!ls[i].is_complete) {
			resume(&ls[i], LINGER_UNLIMITED);
			REQUIRE(ls[i].error == LINGER_OK);
		}
		CHECK(cs[i].result == cooperative_expected(i, 3));
		CHECK_FALSE(cs[i].corrupted);
	}
}
