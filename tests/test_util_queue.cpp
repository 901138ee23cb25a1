// turquoise::Queue: FIFO waiters, stored items, discarded gets skipped, thread safety.
#include <catch2/catch.hpp>

#include "helpers.hpp"

#include <turquoise/async/testing.hpp>
#include <turquoise/pool.hpp>
#include <turquoise/util/queue.hpp>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using turquoise::Future;
using turquoise::Queue;

TEST_CASE("get before put waits, items are delivered in order") {
	Queue<int> q;
	Future<int> a = q.get();
	Future<int> b = q.get();
	CHECK(a.isPending());
	CHECK(b.isPending());
	q.put(1);
	CHECK(a.isReady());
	CHECK(a.get() == 1);
	CHECK(b.isPending());
	q.put(2);
	CHECK(b.get() == 2);
}

TEST_CASE("put before get stores the items, FIFO") {
	Queue<std::string> q;
	q.put("x");
	q.put("y");
	CHECK(q.size() == 2);
	Future<std::string> a = q.get();
	CHECK(a.isReady());
	CHECK(a.get() == "x");
	CHECK(q.get().get() == "y");
	CHECK(q.size() == 0);
	CHECK(q.get().isPending());
}

TEST_CASE("a discarded get is withdrawn: the item goes to the next waiter") {
	Queue<int> q;
	Future<int> a = q.get();
	Future<int> b = q.get();
	Future<int> c = q.get();
	CHECK(b.discard());
	CHECK(b.isDiscarded());
	q.put(10);
	q.put(20);
	CHECK(a.get() == 10);
	CHECK(c.get() == 20);
	CHECK(q.size() == 0);
	// Discarding a served get changes nothing.
	CHECK_FALSE(a.discard());
	CHECK(a.get() == 10);
}

TEST_CASE("callbacks of a served get may use the queue") {
	Queue<int> q;
	std::vector<int> seen;
	q.get().onReady([&](int v) {
		seen.push_back(v);
		q.get().onReady([&](int w) { seen.push_back(w); });
	});
	q.put(1);
	q.put(2);
	REQUIRE(seen.size() == 2);
	CHECK(seen[0] == 1);
	CHECK(seen[1] == 2);
}

TEST_CASE("a destroyed queue abandons pending gets") {
	Future<int> f;
	{
		Queue<int> q;
		f = q.get();
	}
	CHECK(f.isAbandoned());
}

TEST_CASE("producers and consumers in pool tasks: every item arrives exactly once") {
	turquoise::pool p(turquoise::pool_options{.workers = 2});
	Queue<int> q;
	constexpr int producers = 4, per = 500;
	std::vector<Future<int>> gets;
	gets.reserve(producers * per);
	for (int i = 0; i < producers * per / 2; ++i)
		gets.push_back(q.get());
	std::vector<turquoise::Future<turquoise::Nothing>> done;
	for (int t = 0; t < producers; ++t)
		done.push_back(p.submit([q, t]() mutable {
			for (int i = 0; i < per; ++i)
				q.put(t * per + i);
		}));
	for (auto &d : done)
		d.get();
	for (int i = producers * per / 2; i < producers * per; ++i)
		gets.push_back(q.get());
	std::vector<int> count(producers * per, 0);
	bool all_ready = true;
	for (auto &g : gets) {
		if (!g.await(10s)) {
			all_ready = false;
			break;
		}
		count[static_cast<std::size_t>(g.get())]++;
	}
	REQUIRE(all_ready);
	int bad = 0;
	for (int c : count)
		bad += c != 1;
	CHECK(bad == 0);
	CHECK(q.size() == 0);
}
