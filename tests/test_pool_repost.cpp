// test_pool_repost.cpp — a task that re-posts itself (an actor's run task after a batch, a
// loop of short steps) stays on its worker while the other one is idle: the idle worker does
// not snatch the lone queued task in the moment before its own worker picks it, which moved
// the actors' fan-in receiver between cores every few dozen messages (issue 15 item 3). A
// lone task whose worker stays busy is still taken by the idle one.
#include <catch2/catch.hpp>

#include "helpers.hpp"

#include <turquoise/pool.hpp>

#include <atomic>
#include <chrono>
#include <thread>

using namespace std::chrono_literals;
using turquoise::pool;
using turquoise::pool_options;

namespace {

struct chain {
	pool *p = nullptr;
	int left = 0;
	int last_worker = -1;
	std::atomic<int> switches{0};
	std::atomic<bool> done{false};

	void step() {
		int w = pool::current_worker();
		if (last_worker >= 0 && w != last_worker)
			switches++;
		last_worker = w;
		if (--left == 0) {
			done = true;
			return;
		}
		p->post([this] { step(); });
	}
};

} // namespace

TEST_CASE("a task that re-posts itself stays on its worker while the other one idles") {
	pool p(pool_options{.workers = 2, .quantum = turquoise::no_preemption});
	constexpr int steps = 20000;
	chain c;
	c.p = &p;
	c.left = steps;
	p.post([&] { c.step(); });
	auto until = std::chrono::steady_clock::now() + 20s * th::slack;
	while (!c.done.load() && std::chrono::steady_clock::now() < until)
		std::this_thread::sleep_for(1ms);
	REQUIRE(c.done.load());
	INFO("worker switches: " << c.switches.load() << " in " << steps << " steps");
	// Before: the idle worker, woken or spinning on every post, took the re-posted task in
	// the moment before its own worker picked it (1-5 % of the steps on a quiet machine; on a
	// loaded one the idle worker rarely runs at all). Now a switch needs the chain's worker
	// to stall for the grace period (the OS descheduling it, say).
	// Under ASan the chain's own instrumented re-post outlasts the grace period now and then
	// (411 of 20000 in one CI run): the bound is about uninstrumented code.
	if (th::sanitized)
		WARN("sanitized build: worker switches " << c.switches.load() << " not checked");
	else
		CHECK(c.switches.load() <= steps / 500);
}

TEST_CASE("a lone task behind a long task is still taken by the idle worker") {
	pool p(pool_options{.workers = 2, .quantum = turquoise::no_preemption});
	for (int round = 0; round < 5; ++round) {
		std::this_thread::sleep_for(20ms); // both workers park
		std::atomic<int> poster_worker{-1}, lone_worker{-1};
		std::atomic<bool> lone_ran{false}, long_done{false};
		p.post([&] {
			poster_worker = pool::current_worker();
			pool::current()->post([&] {
				lone_worker = pool::current_worker();
				lone_ran = true;
			});
			// Long: the lone task must not wait for it.
			auto until = std::chrono::steady_clock::now() + 200ms;
			while (!lone_ran.load() && std::chrono::steady_clock::now() < until) {
			}
			long_done = true;
		});
		while (!long_done.load())
			std::this_thread::sleep_for(1ms);
		CHECK(lone_ran.load());
		CHECK(lone_worker.load() != poster_worker.load());
	}
}
