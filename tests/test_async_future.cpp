// turquoise async layer: Future/Promise states and callbacks, then-chains, discards,
// repair/recover, association, abandonment, coroutines, Try/Option, and chains running on a
// preemptive pool.
#include <catch2/catch.hpp>

#include "helpers.hpp"

#include <turquoise/async/async.hpp>
#include <turquoise/async/testing.hpp>
#include <turquoise/pool.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using namespace turquoise;

namespace {

void spin_for(std::chrono::microseconds d) {
	auto end = std::chrono::steady_clock::now() + d;
	while (std::chrono::steady_clock::now() < end) {
	}
}

struct counters {
	std::atomic<int> ready{0}, failed{0}, discarded{0}, any{0};
};

template <class T>
void count_all(const Future<T> &f, counters &c) {
	f.onReady([&c](const T &) { c.ready++; })
	    .onFailed([&c](const std::string &) { c.failed++; })
	    .onDiscarded([&c] { c.discarded++; })
	    .onAny([&c](const Future<T> &) { c.any++; });
}

} // namespace

TEST_CASE("a future moves from pending to exactly one final state") {
	Promise<int> ready, failed, discarded;
	CHECK(ready.future().isPending());
	CHECK(ready.set(1));
	CHECK_FALSE(ready.set(2));
	CHECK_FALSE(ready.fail("late"));
	CHECK_FALSE(ready.discard());
	CHECK(ready.future().isReady());
	CHECK(ready.future().get() == 1);

	CHECK(failed.fail("boom"));
	CHECK_FALSE(failed.set(3));
	CHECK(failed.future().isFailed());
	CHECK(failed.future().failure() == "boom");
	CHECK_THROWS_AS(failed.future().get(), FutureFailed);
	CHECK_THROWS_WITH(failed.future().get(), "boom");

	CHECK(discarded.discard());
	CHECK(discarded.future().isDiscarded());
	CHECK_THROWS_AS(discarded.future().get(), FutureDiscarded);
	CHECK_THROWS_AS(discarded.future().failure(), std::logic_error);

	Future<int> value = 5;
	Future<int> failure = Failure("nope");
	Future<std::string> converted = "text";
	CHECK(value.get() == 5);
	CHECK(failure.failure() == "nope");
	CHECK(converted.get() == "text");
	CHECK(Future<int>::discarded().isDiscarded());

	Promise<Nothing> n;
	CHECK(n.set());
	CHECK(n.future().isReady());
}

TEST_CASE("callbacks registered before completion fire once, on the completing thread") {
	for (int outcome = 0; outcome < 3; ++outcome) {
		Promise<int> p;
		counters c;
		count_all(p.future(), c);
		count_all(p.future(), c);
		std::thread::id ran_on;
		p.future().onAny([&] { ran_on = std::this_thread::get_id(); });
		std::thread completer([&] {
			if (outcome == 0)
				p.set(1);
			else if (outcome == 1)
				p.fail("x");
			else
				p.discard();
			// Completing again does nothing.
			p.set(2);
			p.fail("y");
			p.discard();
		});
		auto completer_id = completer.get_id();
		completer.join();
		CHECK(ran_on == completer_id);
		CHECK(c.ready == (outcome == 0 ? 2 : 0));
		CHECK(c.failed == (outcome == 1 ? 2 : 0));
		CHECK(c.discarded == (outcome == 2 ? 2 : 0));
		CHECK(c.any == 2);
	}
}

TEST_CASE("callbacks registered after completion run immediately, once") {
	for (int outcome = 0; outcome < 3; ++outcome) {
		Promise<int> p;
		if (outcome == 0)
			p.set(7);
		else if (outcome == 1)
			p.fail("x");
		else
			p.discard();
		counters c;
		count_all(p.future(), c);
		CHECK(c.any == 1);
		CHECK(c.ready + c.failed + c.discarded == 1);
		int seen = -1;
		p.future().onReady([&](int v) { seen = v; });
		CHECK(seen == (outcome == 0 ? 7 : -1));
	}
}

TEST_CASE("callbacks registered from many threads while another completes fire exactly once") {
	constexpr int threads = 6, per_thread = 2000, rounds = 20;
	for (int round = 0; round < rounds; ++round) {
		Promise<int> p;
		Future<int> f = p.future();
		std::atomic<int> fired{0}, sum{0};
		std::atomic<bool> go{false};
		std::vector<std::thread> ts;
		for (int t = 0; t < threads; ++t)
			ts.emplace_back([&] {
				while (!go.load()) {
				}
				for (int i = 0; i < per_thread; ++i)
					f.onReady([&](int v) {
						fired++;
						sum += v;
					});
			});
		std::thread completer([&] {
			while (!go.load()) {
			}
			std::this_thread::yield();
			p.set(1);
		});
		go = true;
		for (auto &t : ts)
			t.join();
		completer.join();
		REQUIRE(fired.load() == threads * per_thread);
		REQUIRE(sum.load() == threads * per_thread);
	}
}

TEST_CASE("then chains of length 10 pass values, failures and discards along") {
	auto chain = [](Future<int> f, std::atomic<int> &calls) {
		for (int i = 0; i < 10; ++i)
			f = (i % 2 == 0) ? f.then([&calls](int x) {
				calls++;
				return x + 1;
			})
			                 : f.then([&calls](int x) -> Future<int> {
				                   calls++;
				                   return Future<int>(x * 2);
			                   });
		return f;
	};
	std::atomic<int> calls{0};

	Promise<int> ok;
	auto end = chain(ok.future(), calls);
	CHECK(end.isPending());
	ok.set(0);
	// ((((0+1)*2+1)*2+1)*2+1)*2+1)*2 = 62
	AWAIT_EXPECT_EQ(62, end);
	CHECK(calls == 10);

	calls = 0;
	Promise<int> bad;
	auto failed = chain(bad.future(), calls);
	bad.fail("root cause");
	AWAIT_FAILED(failed);
	CHECK(failed.failure() == "root cause");
	CHECK(calls == 0);

	Promise<int> gone;
	auto discarded = chain(gone.future(), calls);
	gone.discard();
	AWAIT_DISCARDED(discarded);
	CHECK(calls == 0);

	// A failure in the middle of the chain skips the rest.
	calls = 0;
	Promise<int> mid;
	Future<int> f = mid.future();
	for (int i = 0; i < 10; ++i)
		f = f.then([&calls, i](int x) -> Future<int> {
			calls++;
			if (i == 4)
				return Failure("step 4");
			return x + 1;
		});
	mid.set(0);
	AWAIT_FAILED(f);
	CHECK(f.failure() == "step 4");
	CHECK(calls == 5);
}

TEST_CASE("then: void callbacks give Future<Nothing>, exceptions become failures") {
	Promise<int> p;
	int seen = 0;
	Future<Nothing> n = p.future().then([&](int v) { seen = v; });
	auto thrown = p.future().then([](int) -> int { throw std::runtime_error("thrown"); });
	auto no_arg = n.then([] { return std::string("after"); });
	p.set(3);
	AWAIT_READY(n);
	CHECK(seen == 3);
	AWAIT_EXPECT_FAILED_WITH(thrown, "thrown");
	AWAIT_EXPECT_EQ(std::string("after"), no_arg);
}

TEST_CASE("a discard requested at the end of a chain reaches the promise") {
	Promise<int> p;
	std::atomic<int> requests{0};
	p.future().onDiscard([&] { requests++; });
	Future<int> end = p.future();
	std::vector<Future<int>> links;
	for (int i = 0; i < 10; ++i) {
		end = end.then([](int x) { return x + 1; });
		links.push_back(end);
	}
	CHECK_FALSE(p.future().hasDiscard());
	CHECK(end.discard());
	CHECK_FALSE(end.discard()); // requested once
	CHECK(requests == 1);
	CHECK(p.future().hasDiscard());
	for (auto &l : links)
		CHECK(l.hasDiscard());
	CHECK(end.isPending()); // a request, not a state change
	p.discard();            // the producer honours it
	AWAIT_DISCARDED(end);

	// A producer that ignores the request and sets a value: the chain is discarded anyway.
	Promise<int> stubborn;
	auto tail = stubborn.future().then([](int x) { return x; });
	tail.discard();
	stubborn.set(1);
	AWAIT_DISCARDED(tail);

	// onDiscard registered after the request runs at once; never after completion.
	int late = 0;
	stubborn.future().onDiscard([&] { late++; });
	CHECK(late == 0);
	Promise<int> q;
	q.future().discard();
	q.future().onDiscard([&] { late++; });
	CHECK(late == 1);
}

TEST_CASE("a discard request reaches the future a then callback returned") {
	Promise<int> outer;
	Promise<int> inner;
	bool inner_asked = false;
	inner.future().onDiscard([&] { inner_asked = true; });
	auto f = outer.future().then([&](int) { return inner.future(); });
	outer.set(1);
	CHECK(f.isPending());
	f.discard();
	CHECK(inner_asked);
	inner.discard();
	AWAIT_DISCARDED(f);
}

TEST_CASE("repair replaces a failure, recover a failure or a discard") {
	Promise<int> p1, p2, p3, p4;
	auto repaired = p1.future().repair([](const Future<int> &f) {
		CHECK(f.isFailed());
		return 10;
	});
	auto not_repaired = p2.future().repair([](const Future<int> &) { return 10; });
	auto repair_skips_discard = p3.future().repair([](const Future<int> &) { return 10; });
	auto repaired_async = p4.future().repair([](const Future<int> &) { return Future<int>(11); });
	p1.fail("x");
	p2.set(1);
	p3.discard();
	p4.fail("y");
	AWAIT_EXPECT_EQ(10, repaired);
	AWAIT_EXPECT_EQ(1, not_repaired);
	AWAIT_DISCARDED(repair_skips_discard);
	AWAIT_EXPECT_EQ(11, repaired_async);

	Promise<int> r1, r2, r3;
	auto from_failure = r1.future().recover([](const Future<int> &f) { return f.isFailed() ? 1 : -1; });
	auto from_discard = r2.future().recover([](const Future<int> &f) { return f.isDiscarded() ? 2 : -1; });
	auto untouched = r3.future().recover([](const Future<int> &) { return -1; });
	r1.fail("x");
	r2.discard();
	r3.set(3);
	AWAIT_EXPECT_EQ(1, from_failure);
	AWAIT_EXPECT_EQ(2, from_discard);
	AWAIT_EXPECT_EQ(3, untouched);

	// recover also sees an abandoned future.
	auto orphan = std::make_unique<Promise<int>>();
	auto from_abandoned = orphan->future().recover([](const Future<int> &f) {
		return f.isAbandoned() ? 4 : -1;
	});
	orphan.reset();
	AWAIT_EXPECT_EQ(4, from_abandoned);

	// A recover callback may fail again.
	Promise<int> r4;
	auto again = r4.future().recover([](const Future<int> &) -> Future<int> { return Failure("still"); });
	r4.discard();
	AWAIT_EXPECT_FAILED_WITH(again, "still");
}

TEST_CASE("associate: a promise follows another future, discards go back to it") {
	Promise<int> source, follower;
	bool asked = false;
	source.future().onDiscard([&] { asked = true; });
	CHECK(follower.associate(source.future()));
	CHECK_FALSE(follower.associate(source.future()));
	CHECK_FALSE(follower.set(1)); // ignored once associated
	follower.future().discard();
	CHECK(asked);
	source.set(5);
	AWAIT_EXPECT_EQ(5, follower.future());

	Promise<int> s2, f2;
	f2.set(s2.future()); // set(Future) associates
	s2.fail("bad");
	AWAIT_EXPECT_FAILED_WITH(f2.future(), "bad");

	// Destroying an associated promise does not abandon its future.
	Future<int> kept;
	Promise<int> s3;
	{
		Promise<int> f3;
		f3.associate(s3.future());
		kept = f3.future();
	}
	CHECK_FALSE(kept.isAbandoned());
	s3.set(9);
	AWAIT_EXPECT_EQ(9, kept);
}

TEST_CASE("a future whose promise is destroyed is abandoned, and so is its chain") {
	Future<int> f, chained;
	bool abandoned_cb = false;
	{
		Promise<int> p;
		f = p.future();
		chained = f.then([](int x) { return x; }).then([](int x) { return x; });
		f.onAbandoned([&] { abandoned_cb = true; });
	}
	CHECK(f.isPending());
	CHECK(f.isAbandoned());
	CHECK(abandoned_cb);
	CHECK(chained.isAbandoned());
	CHECK_THROWS_AS(f.get(), FutureAbandoned);
	AWAIT_ABANDONED(chained);
	CHECK(Future<int>().isAbandoned());
}

TEST_CASE("get and await block until another thread completes the future") {
	Promise<std::string> p;
	Future<std::string> f = p.future();
	CHECK_FALSE(f.await(10ms));
	std::thread t([&] {
		std::this_thread::sleep_for(20ms);
		p.set("done");
	});
	CHECK(f.get() == "done");
	t.join();
	CHECK(f.await(0ms));
}

// ---- coroutines ----

namespace {

Future<int> add_one(Future<int> in) {
	int x = co_await in;
	co_return x + 1;
}

Future<int> add_many(std::vector<Future<int>> ins) {
	int total = 0;
	for (auto &f : ins)
		total += co_await f;
	co_return total;
}

Future<std::string> catch_failure(Future<int> in) {
	try {
		co_await in;
	} catch (const FutureFailed &e) {
		co_return std::string("caught ") + e.what();
	}
	co_return std::string("no failure");
}

Future<Nothing> void_coroutine(Future<int> in, int &out) {
	out = co_await in;
	co_return;
}

Future<int> thrower() {
	co_await Future<int>(1);
	throw std::runtime_error("from coroutine");
}

Future<int> co_return_future(Future<int> in) { co_return in.then([](int x) { return x * 10; }); }

} // namespace

TEST_CASE("co_await: ready futures, pending futures, chained coroutines") {
	CHECK(add_one(Future<int>(1)).get() == 2);

	Promise<int> p;
	auto f = add_one(add_one(p.future()));
	CHECK(f.isPending());
	std::thread t([&] { p.set(40); });
	AWAIT_EXPECT_EQ(42, f);
	t.join();

	std::vector<Promise<int>> ps(5);
	std::vector<Future<int>> fs;
	for (auto &q : ps)
		fs.push_back(q.future());
	auto sum = add_many(fs);
	for (int i = 0; i < 5; ++i) {
		CHECK(sum.isPending());
		ps[i].set(i + 1);
	}
	AWAIT_EXPECT_EQ(15, sum);

	int out = 0;
	Promise<int> v;
	auto nothing = void_coroutine(v.future(), out);
	v.set(8);
	AWAIT_READY(nothing);
	CHECK(out == 8);

	AWAIT_EXPECT_EQ(30, co_return_future(Future<int>(3)));
}

TEST_CASE("co_await: failures are exceptions inside, failed futures outside") {
	Promise<int> p;
	auto f = add_one(p.future());
	p.fail("upstream");
	AWAIT_EXPECT_FAILED_WITH(f, "upstream");

	AWAIT_EXPECT_EQ(std::string("caught oops"), catch_failure(Future<int>(Failure("oops"))));
	AWAIT_EXPECT_EQ(std::string("no failure"), catch_failure(Future<int>(1)));
	AWAIT_EXPECT_FAILED_WITH(thrower(), "from coroutine");

	Promise<int> d;
	auto discarded = add_one(d.future());
	d.discard();
	AWAIT_DISCARDED(discarded);
}

TEST_CASE("co_await: a discard of the coroutine's future reaches the awaited future") {
	Promise<int> p;
	bool asked = false;
	p.future().onDiscard([&] { asked = true; });
	auto f = add_one(p.future());
	f.discard();
	CHECK(asked);
	p.discard();
	AWAIT_DISCARDED(f);

	Promise<int> abandoned;
	auto g = std::make_unique<Future<int>>(add_one(abandoned.future()));
	abandoned = Promise<int>(); // the old promise is destroyed
	AWAIT_FAILED(*g);
	CHECK(g->failure() == FutureAbandoned().what());
}

// ---- Try / Option ----

TEST_CASE("Try and Option basics") {
	Try<int> t = 5;
	CHECK(t.isSome());
	CHECK_FALSE(t.isError());
	CHECK(t.get() == 5);
	CHECK_THROWS_AS(t.error(), std::logic_error);
	Try<int> e = Error("bad input");
	CHECK(e.isError());
	CHECK(e.error() == "bad input");
	CHECK_THROWS_AS(e.get(), std::logic_error);
	Try<std::string> s = "converted";
	CHECK(s.get() == "converted");

	Option<int> none = None();
	Option<int> some = 3;
	CHECK(none.isNone());
	CHECK(some.isSome());
	CHECK(some.get() == 3);
	CHECK(none.getOrElse(7) == 7);
	CHECK(some.getOrElse(7) == 3);
	CHECK_THROWS_AS(none.get(), std::logic_error);
	CHECK(some == 3);
	CHECK(none == None());
	CHECK(Some(std::string("x")).get() == "x");
	CHECK(Option<int>(std::optional<int>(4)).get() == 4);
}

// ---- on a preemptive pool ----

TEST_CASE("chains run on a preemptive pool: spinning continuations are preempted, results stay right") {
	pool p(pool_options{.workers = 2, .quantum = 200us});
	constexpr int chains = 16, length = 10;
	std::vector<Promise<int>> roots(chains);
	std::vector<Future<int>> ends;
	std::atomic<int> steps_on_pool{0};
	for (int c = 0; c < chains; ++c) {
		Future<int> f = roots[c].future();
		for (int i = 0; i < length; ++i)
			f = f.then([&steps_on_pool](int x) {
				spin_for(1ms); // several quanta: preempted mid-callback
				if (pool::current())
					steps_on_pool++;
				return x + 1;
			});
		ends.push_back(f);
	}
	// Also: many tasks registering callbacks on one shared future while another task completes it.
	Promise<int> shared;
	std::atomic<int> shared_fired{0};
	for (int t = 0; t < 50; ++t)
		p.post([&, f = shared.future()] {
			for (int i = 0; i < 20; ++i) {
				f.onAny([&] { shared_fired++; });
				spin_for(20us);
			}
		});
	for (int c = 0; c < chains; ++c)
		p.post([&roots, c] { roots[c].set(c * 100); });
	p.post([&] {
		spin_for(300us);
		shared.set(1);
	});
	for (int c = 0; c < chains; ++c)
		AWAIT_EXPECT_EQ(c * 100 + length, ends[c]);
	CHECK(steps_on_pool.load() == chains * length);
	AWAIT_READY(shared.future());
	// Every registration fires exactly once (wait for the posters to finish).
	auto deadline = std::chrono::steady_clock::now() + 30s;
	while (shared_fired.load() < 50 * 20 && std::chrono::steady_clock::now() < deadline)
		std::this_thread::sleep_for(1ms);
	CHECK(shared_fired.load() == 50 * 20);
	p.shutdown();
	std::uint64_t preemptions = 0;
	for (auto &s : p.stats())
		preemptions += s.preemptions;
	CHECK(preemptions > 0);
}

TEST_CASE("coroutines resume on pool workers and survive preemption") {
	pool p(pool_options{.workers = 2, .quantum = 200us});
	// A value computed by a (preemptible, spinning) pool task.
	auto bridged = [&p](int x) {
		auto promise = std::make_shared<Promise<int>>();
		Future<int> f = promise->future();
		p.post([promise, x] {
			spin_for(500us);
			promise->set(x);
		});
		return f;
	};
	std::vector<Future<int>> results;
	for (int i = 0; i < 8; ++i)
		results.push_back(add_many({bridged(i), bridged(i), bridged(1)}));
	for (int i = 0; i < 8; ++i)
		AWAIT_EXPECT_EQ(2 * i + 1, results[i]);
}
