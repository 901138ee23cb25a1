// libturquoise timers: firing order, cancellation.
#include <catch2/catch.hpp>

#include "helpers.hpp"

#include <turquoise/pool.hpp>

#include <turquoise/guarded_lock.hpp>

#include <algorithm>
#include <atomic>
#include <thread>
#include <chrono>
#include <mutex>
#include <random>
#include <vector>

using namespace std::chrono_literals;
using turquoise::pool;

TEST_CASE("timers fire in the order of their deadlines, not of their setting") {
	pool p(turquoise::pool_options{.workers = 1});
	std::mutex m;
	std::vector<int> fired;
	std::vector<bool> early; // fired before its delay had passed (checked here: Catch2 assertions
	                         // are not thread-safe)
	std::vector<int> delays_ms;
	std::mt19937 rng(42);
	for (int i = 0; i < 20; ++i)
		delays_ms.push_back(static_cast<int>(rng() % 200) + i); // distinct
	auto start = std::chrono::steady_clock::now();
	for (int d : delays_ms)
		p.after(std::chrono::milliseconds(d), [&, d] {
			bool too_early = std::chrono::steady_clock::now() - start < std::chrono::milliseconds(d);
			turquoise::guarded_lock lock(m);
			fired.push_back(d);
			early.push_back(too_early);
		});
	std::this_thread::sleep_for(400ms * th::slack);
	std::lock_guard lock(m);
	auto sorted = delays_ms;
	std::sort(sorted.begin(), sorted.end());
	CHECK(fired == sorted);
	CHECK(std::count(early.begin(), early.end(), true) == 0);
}

TEST_CASE("a cancelled timer does not fire, and cancelling it twice reports false") {
	pool p(turquoise::pool_options{.workers = 1});
	std::atomic<int> fired{0};
	auto id = p.after(20ms, [&] { fired++; });
	p.after(30ms, [&] { fired += 10; });
	CHECK(p.cancel_timer(id));
	CHECK_FALSE(p.cancel_timer(id));
	std::this_thread::sleep_for(100ms * th::slack);
	CHECK(fired.load() == 10);
}

TEST_CASE("a zero delay timer runs promptly") {
	pool p(turquoise::pool_options{.workers = 1});
	turquoise::Promise<turquoise::Nothing> ran;
	auto f = ran.future();
	p.after(0ns, [&] { ran.set(turquoise::Nothing()); });
	CHECK(f.await(1s * th::slack));
}
