// turquoise async layer: collect, variadic collect, await, select, loop.
#include <catch2/catch.hpp>

#include "helpers.hpp"

#include <turquoise/async/async.hpp>
#include <turquoise/async/testing.hpp>
#include <turquoise/pool.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

using namespace std::chrono_literals;
using namespace turquoise;

namespace {

std::vector<Future<int>> futures_of(std::vector<Promise<int>> &ps) {
	std::vector<Future<int>> fs;
	for (auto &p : ps)
		fs.push_back(p.future());
	return fs;
}

} // namespace

TEST_CASE("collect: all ready gives the values in input order") {
	std::vector<Promise<int>> ps(5);
	auto all = collect(futures_of(ps));
	for (int i : {4, 2, 0, 3}) {
		ps[i].set(i * 10);
		CHECK(all.isPending());
	}
	std::thread t([&] { ps[1].set(10); });
	AWAIT_EXPECT_EQ((std::vector<int>{0, 10, 20, 30, 40}), all);
	t.join();
	AWAIT_EXPECT_EQ(std::vector<int>{}, collect(std::vector<Future<int>>{}));
}

TEST_CASE("collect: fails fast on the first failure") {
	std::vector<Promise<int>> ps(3);
	auto all = collect(futures_of(ps));
	ps[1].fail("second broke");
	AWAIT_EXPECT_FAILED_WITH(all, "Collect failed: second broke");
	CHECK(ps[0].future().isPending()); // others untouched

	std::vector<Promise<int>> qs(2);
	auto other = collect(futures_of(qs));
	qs[0].discard();
	AWAIT_EXPECT_FAILED_WITH(other, "Collect failed: future discarded");
}

TEST_CASE("collect: discarding the result discards the inputs") {
	std::vector<Promise<int>> ps(4);
	std::atomic<int> asked{0};
	for (auto &p : ps)
		p.future().onDiscard([&] { asked++; });
	ps[0].set(1);
	auto all = collect(futures_of(ps));
	all.discard();
	CHECK(asked == 3); // the ready one is not asked
	for (int i = 1; i < 4; ++i)
		CHECK(ps[i].future().hasDiscard());
	AWAIT_DISCARDED(all);
}

TEST_CASE("variadic collect gives a tuple - failures and discards pass through") {
	Promise<int> a;
	Promise<std::string> b;
	Promise<Nothing> c;
	auto all = collect(a.future(), b.future(), c.future());
	a.set(1);
	b.set("two");
	CHECK(all.isPending());
	c.set();
	AWAIT_READY(all);
	CHECK(std::get<0>(all.get()) == 1);
	CHECK(std::get<1>(all.get()) == "two");

	Promise<int> x;
	Promise<double> y;
	auto failing = collect(x.future(), y.future());
	y.fail("y failed");
	AWAIT_EXPECT_FAILED_WITH(failing, "Collect failed: y failed");

	Promise<int> u;
	Promise<double> v;
	bool asked = false;
	v.future().onDiscard([&] { asked = true; });
	auto discarded = collect(u.future(), v.future());
	discarded.discard();
	CHECK(asked);
	CHECK(u.future().hasDiscard());
	AWAIT_DISCARDED(discarded);
}

TEST_CASE("await completes when every input has completed, whatever the outcome") {
	std::vector<Promise<int>> ps(3);
	auto all = await(futures_of(ps));
	ps[0].fail("f");
	ps[1].discard();
	CHECK(all.isPending());
	ps[2].set(3);
	AWAIT_READY(all);
	REQUIRE(all.get().size() == 3);
	CHECK(all.get()[0].isFailed());
	CHECK(all.get()[1].isDiscarded());
	CHECK(all.get()[2].get() == 3);

	Promise<int> a;
	Promise<std::string> b;
	auto both = await(a.future(), b.future());
	b.fail("b");
	CHECK(both.isPending());
	a.set(1);
	AWAIT_READY(both);
	CHECK(std::get<0>(both.get()).get() == 1);
	CHECK(std::get<1>(both.get()).failure() == "b");

	std::vector<Promise<int>> qs(2);
	auto discarded = await(futures_of(qs));
	discarded.discard();
	CHECK(qs[0].future().hasDiscard());
	CHECK(qs[1].future().hasDiscard());
	AWAIT_DISCARDED(discarded);
}

TEST_CASE("select gives the first ready future") {
	std::vector<Promise<int>> ps(3);
	auto fs = futures_of(ps);
	auto first = select(std::set<Future<int>>(fs.begin(), fs.end()));
	ps[0].fail("not this one");
	CHECK(first.isPending());
	ps[2].set(22);
	ps[1].set(11);
	AWAIT_READY(first);
	CHECK(first.get() == fs[2]);
	CHECK(first.get().get() == 22);

	std::vector<Promise<int>> qs(2);
	auto none = select(futures_of(qs));
	qs[0].fail("a");
	qs[1].discard();
	AWAIT_FAILED(none);

	std::vector<Promise<int>> rs(2);
	auto dropped = select(futures_of(rs));
	dropped.discard();
	CHECK(rs[0].future().hasDiscard());
	AWAIT_DISCARDED(dropped);
	AWAIT_FAILED(select(std::vector<Future<int>>{}));
}

TEST_CASE("loop: 100,000 synchronous iterations do not grow the stack") {
	int i = 0;
	long sum = 0;
	auto f = loop([&] { return i++; },
	              [&](int v) -> ControlFlow<long> {
		              sum += v;
		              if (v == 100000)
			              return Break(sum);
		              return Continue();
	              });
	AWAIT_READY(f);
	CHECK(f.get() == 100000L * 100001L / 2);

	// The same with futures on both sides.
	int j = 0;
	auto g = loop([&] { return Future<int>(j++); },
	              [](int v) -> Future<ControlFlow<Nothing>> {
		              if (v == 100000)
			              return Break();
		              return Continue();
	              });
	AWAIT_READY(g);
	CHECK(j == 100001);
}

TEST_CASE("loop: asynchronous iterations continue on the completing thread") {
	std::vector<std::thread> threads;
	int i = 0;
	auto f = loop(
	    [&]() -> Future<int> {
		    if (i % 3 != 0)
			    return i++;
		    auto p = std::make_shared<Promise<int>>();
		    threads.emplace_back([p, v = i++] {
			    std::this_thread::sleep_for(1ms);
			    p->set(v);
		    });
		    return p->future();
	    },
	    [](int v) -> ControlFlow<int> {
		    if (v == 30)
			    return Break(v * 2);
		    return Continue();
	    });
	AWAIT_EXPECT_EQ(60, f);
	for (auto &t : threads)
		t.join();
}

TEST_CASE("loop: failures end the loop, discards reach the awaited future") {
	int i = 0;
	auto failing = loop([&] { return i++; },
	                    [](int v) -> Future<ControlFlow<int>> {
		                    if (v == 5)
			                    return Failure("five");
		                    return Continue();
	                    });
	AWAIT_EXPECT_FAILED_WITH(failing, "five");

	auto throwing = loop([]() -> int { throw std::runtime_error("iterate threw"); },
	                     [](int) -> ControlFlow<int> { return Continue(); });
	AWAIT_EXPECT_FAILED_WITH(throwing, "iterate threw");

	Promise<int> pending;
	bool asked = false;
	pending.future().onDiscard([&] { asked = true; });
	auto stuck = loop([&] { return pending.future(); }, [](int) -> ControlFlow<int> { return Continue(); });
	CHECK(stuck.isPending());
	stuck.discard();
	CHECK(asked);
	pending.discard();
	AWAIT_DISCARDED(stuck);
}

TEST_CASE("loop on a preemptive pool: each iteration is a spinning task") {
	pool p(pool_options{.workers = 2, .quantum = 200us});
	std::atomic<int> ran{0};
	int n = 0;
	auto f = loop(
	    [&]() -> Future<int> {
		    auto promise = std::make_shared<Promise<int>>();
		    Future<int> out = promise->future();
		    p.post([promise, v = n++, &ran] {
			    auto end = std::chrono::steady_clock::now() + 600us;
			    while (std::chrono::steady_clock::now() < end) {
			    }
			    ran++;
			    promise->set(v);
		    });
		    return out;
	    },
	    [](int v) -> ControlFlow<int> {
		    if (v == 50)
			    return Break(v);
		    return Continue();
	    });
	AWAIT_EXPECT_EQ(50, f);
	CHECK(ran.load() == 51);
}
