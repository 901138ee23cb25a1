// turquoise::Mutex: asynchronous lock with FIFO hand-off.
#include <catch2/catch.hpp>

#include "helpers.hpp"

#include <turquoise/async/testing.hpp>
#include <turquoise/pool.hpp>
#include <turquoise/util/mutex.hpp>

#include <atomic>
#include <chrono>
#include <vector>

using namespace std::chrono_literals;
using turquoise::Future;
using turquoise::Mutex;
using turquoise::Nothing;

TEST_CASE("lock of a free mutex is ready, a second lock waits for unlock") {
	Mutex m;
	Future<Nothing> a = m.lock();
	CHECK(a.isReady());
	CHECK(m.locked());
	Future<Nothing> b = m.lock();
	CHECK(b.isPending());
	m.unlock();
	CHECK(b.isReady());
	CHECK(m.locked()); // handed to b
	m.unlock();
	CHECK_FALSE(m.locked());
	m.unlock(); // unlocking a free mutex does nothing
	CHECK_FALSE(m.locked());
}

TEST_CASE("waiters get the lock in FIFO order") {
	Mutex m;
	REQUIRE(m.lock().isReady());
	std::vector<int> order;
	for (int i = 0; i < 5; ++i)
		m.lock().onReady([&order, i] { order.push_back(i); });
	CHECK(order.empty());
	for (int i = 0; i < 5; ++i)
		m.unlock();
	CHECK(order == std::vector<int>{0, 1, 2, 3, 4});
	CHECK(m.locked());
	m.unlock();
	CHECK_FALSE(m.locked());
}

TEST_CASE("a discarded lock request is skipped") {
	Mutex m;
	REQUIRE(m.lock().isReady());
	Future<Nothing> a = m.lock();
	Future<Nothing> b = m.lock();
	CHECK(a.discard());
	CHECK(a.isDiscarded());
	m.unlock();
	CHECK(b.isReady());
	m.unlock();
	CHECK_FALSE(m.locked());
	// A discard request on a granted lock changes nothing: the holder still owns it.
	Future<Nothing> c = m.lock();
	CHECK_FALSE(c.discard());
	CHECK(c.isReady());
	CHECK(m.locked());
	m.unlock();
}

TEST_CASE("mutual exclusion across pool tasks, with preemption") {
	turquoise::pool p(turquoise::pool_options{.workers = 2, .quantum = std::chrono::microseconds(200)});
	Mutex m;
	std::atomic<int> inside{0}, overlaps{0}, done{0};
	long counter = 0;
	constexpr int tasks = 200;
	for (int i = 0; i < tasks; ++i)
		p.post([&] {
			// The holder's critical work runs as its own task: unlock() hands the lock over
			// synchronously, so doing the work inside the callback would nest every waiter's
			// work inside the previous holder's unlock().
			m.lock().onReady([&] { p.post([&] {
				if (inside.fetch_add(1) != 0)
					overlaps++;
				long v = counter;
				volatile int sink = 0;
				for (int k = 0; k < 2000; ++k)
					sink = sink + k; // widen the race window
				counter = v + 1;
				inside.fetch_sub(1);
				m.unlock();
				done++;
			}); });
		});
	auto deadline = std::chrono::steady_clock::now() + 20s;
	while (done.load() < tasks && std::chrono::steady_clock::now() < deadline)
		std::this_thread::sleep_for(1ms);
	REQUIRE(done.load() == tasks);
	CHECK(overlaps.load() == 0);
	CHECK(counter == tasks);
	CHECK_FALSE(m.locked());
}
