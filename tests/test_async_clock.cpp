// turquoise async layer: Clock (pause/advance/settle/resume), timers, Future::after.
#include <catch2/catch.hpp>

#include "helpers.hpp"

#include <turquoise/async/async.hpp>
#include <turquoise/async/testing.hpp>
#include <turquoise/pool.hpp>
#include <turquoise/runtime.hpp>

#include <atomic>
#include <chrono>
#include <optional>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using namespace turquoise;

namespace {

// Leaves the clock running whatever the test does.
struct paused_clock {
	paused_clock() { Clock::pause(); }
	~paused_clock() {
		Clock::settle();
		Clock::resume();
	}
};

} // namespace

TEST_CASE("a paused clock stands still and moves only by advance") {
	paused_clock paused;
	CHECK(Clock::paused());
	auto t0 = Clock::now();
	std::this_thread::sleep_for(5ms);
	CHECK(Clock::now() == t0);
	Clock::advance(10s);
	CHECK(Clock::now() - t0 == 10s);
	Clock::pause(); // no-op when paused
	CHECK(Clock::now() - t0 == 10s);
}

TEST_CASE("timers fire on advance past their deadline, in deadline order and settle waits for them") {
	paused_clock paused;
	std::vector<int> fired;
	std::mutex m;
	auto record = [&](int v) {
		return [&, v] {
			guarded_lock lock(m);
			fired.push_back(v);
		};
	};
	Clock::timer(30s, record(3));
	Clock::timer(10s, record(1));
	Clock::timer(20s, record(2));
	auto cancelled = Clock::timer(15s, record(99));
	CHECK(Clock::cancel(cancelled));
	CHECK_FALSE(Clock::cancel(cancelled));

	Clock::advance(9s);
	Clock::settle();
	std::this_thread::sleep_for(20ms);
	{
		guarded_lock lock(m);
		CHECK(fired.empty());
	}
	Clock::advance(11s); // now 20 s
	Clock::settle();
	{
		guarded_lock lock(m);
		CHECK(fired == std::vector<int>{1, 2});
	}
	Clock::advance(1h);
	Clock::settle();
	guarded_lock lock(m);
	CHECK(fired == std::vector<int>{1, 2, 3});
	CHECK(Clock::pending_timers() == 0);
}

TEST_CASE("after fires under a paused clock once advanced past it, not before") {
	paused_clock paused;
	Promise<int> p;
	bool asked = false;
	p.future().onDiscard([&] { asked = true; });
	auto f = p.future().after(1min, [](Future<int> in) -> Future<int> {
		in.discard();
		return Failure("timed out");
	});
	Clock::advance(59s);
	Clock::settle();
	CHECK(f.isPending());
	CHECK_FALSE(asked);
	Clock::advance(2s);
	Clock::settle();
	AWAIT_EXPECT_FAILED_WITH(f, "timed out");
	CHECK(asked);
	CHECK(p.future().hasDiscard());
	// A later completion of the original changes nothing.
	p.set(1);
	CHECK(f.isFailed());
}

TEST_CASE("after follows the future if it completes in time and cancels its timer") {
	paused_clock paused;
	std::size_t before = Clock::pending_timers();
	Promise<int> p;
	bool called = false;
	auto f = p.future().after(1s, [&](const Future<int> &) {
		called = true;
		return -1;
	});
	CHECK(Clock::pending_timers() == before + 1);
	p.set(5);
	AWAIT_EXPECT_EQ(5, f);
	CHECK(Clock::pending_timers() == before);
	Clock::advance(2s);
	Clock::settle();
	CHECK_FALSE(called);
	CHECK(f.get() == 5);

	// An alternative value instead of a failure; failures pass through when in time.
	Promise<int> slow, failing;
	auto alt = slow.future().after(1s, [](const Future<int> &) { return 7; });
	auto failed = failing.future().after(1s, [](const Future<int> &) { return 7; });
	failing.fail("early");
	Clock::advance(1s);
	Clock::settle();
	AWAIT_EXPECT_EQ(7, alt);
	AWAIT_EXPECT_FAILED_WITH(failed, "early");

	// Discarding the result asks the original.
	Promise<int> q;
	auto g = q.future().after(1s, [](const Future<int> &) { return 0; });
	g.discard();
	CHECK(q.future().hasDiscard());
}

TEST_CASE("zero-delay timers under a paused clock fire without an advance") {
	paused_clock paused;
	std::atomic<int> fired{0};
	Clock::timer(0s, [&] { fired++; });
	Clock::settle();
	CHECK(fired == 1);
}

TEST_CASE("with the clock running, timers and after fire in real time (timer thread)") {
	REQUIRE_FALSE(Clock::paused());
	Promise<Nothing> fired;
	auto start = std::chrono::steady_clock::now();
	Clock::timer(20ms, [&] { fired.set(); });
	AWAIT_READY(fired.future());
	CHECK(std::chrono::steady_clock::now() - start >= 20ms);

	Promise<int> never;
	auto f = never.future().after(10ms, [](Future<int> in) -> Future<int> {
		in.discard();
		return Failure("timeout");
	});
	AWAIT_EXPECT_FAILED_WITH(f, "timeout");
}

TEST_CASE("resume returns to real time and pending timers then fire in real time") {
	Clock::pause();
	std::atomic<int> fired{0};
	Clock::timer(30ms, [&] { fired++; });
	std::this_thread::sleep_for(60ms);
	CHECK(fired == 0); // paused: real time does not count
	Clock::resume();
	CHECK_FALSE(Clock::paused());
	auto deadline = std::chrono::steady_clock::now() + 10s;
	while (fired == 0 && std::chrono::steady_clock::now() < deadline)
		std::this_thread::sleep_for(1ms);
	CHECK(fired == 1);
	auto real = std::chrono::steady_clock::now();
	auto now = Clock::now();
	CHECK(now - real < 1s);
	CHECK(real - now < 1s);
}

TEST_CASE("under a runtime_scope, timer callbacks run as its pool's tasks, paused or not") {
	pool p(pool_options{.workers = 2, .quantum = 200us});
	std::optional<runtime_scope> scope(std::in_place, p);
	std::atomic<bool> on_pool{false};
	Promise<Nothing> fired;
	Clock::timer(5ms, [&] {
		on_pool = pool::current() == &p;
		fired.set();
	});
	AWAIT_READY(fired.future());
	CHECK(on_pool);

	Clock::pause();
	std::atomic<int> paused_fired{0}, paused_on_pool{0};
	for (int i = 1; i <= 20; ++i)
		Clock::timer(std::chrono::seconds(i), [&] {
			auto end = std::chrono::steady_clock::now() + 500us; // preempted
			while (std::chrono::steady_clock::now() < end) {
			}
			if (pool::current() == &p)
				paused_on_pool++;
			paused_fired++;
		});
	Clock::advance(10s);
	Clock::settle();
	CHECK(paused_fired == 10);
	Clock::advance(10s);
	Clock::settle();
	CHECK(paused_fired == 20);
	CHECK(paused_on_pool == 20);

	Promise<int> never;
	auto f = never.future().after(1s, [](Future<int> in) -> Future<int> {
		in.discard();
		return Failure("pool timeout");
	});
	Clock::advance(1s);
	Clock::settle();
	AWAIT_EXPECT_FAILED_WITH(f, "pool timeout");
	Clock::resume();
	scope.reset();
	p.shutdown();
}

TEST_CASE("timers handed to a pool that shuts down are taken over by the timer thread") {
	auto p = std::make_unique<pool>(pool_options{.workers = 1});
	runtime_scope scope(*p);
	p->shutdown();
	Promise<Nothing> fired;
	Clock::timer(5ms, [&] { fired.set(); });
	AWAIT_READY(fired.future());
}
