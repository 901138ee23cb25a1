// turquoise async layer: the future's shared state under concurrency. The state is one atomic
// word with a spin-lock bit over an intrusive callback list, and blocked get()/await() calls
// sleep on the word (futex): these tests race completion, abandonment and discard requests
// against callback registration from two threads, and block several threads on one future.
#include <catch2/catch.hpp>

#include "helpers.hpp"

#include <turquoise/async/async.hpp>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using namespace turquoise;

namespace {

// Two threads running one step each per round, released together by a barrier so that the
// steps overlap as closely as possible; `setup` runs alone before each round.
void race(int rounds, const std::function<void()> &setup, const std::function<void()> &a,
          const std::function<void()> &b, const std::function<void()> &check) {
	std::barrier start(2), done(2);
	std::thread other([&] {
		for (int i = 0; i < rounds; i++) {
			start.arrive_and_wait();
			b();
			done.arrive_and_wait();
		}
	});
	for (int i = 0; i < rounds; i++) {
		setup();
		start.arrive_and_wait();
		a();
		done.arrive_and_wait();
		check();
	}
	other.join();
}

constexpr int kRounds = th::sanitized ? 2000 : 20000;

} // namespace

TEST_CASE("a state is small") {
	// One word, the callback list and the value (a failure message is out of line).
	CHECK(sizeof(detail::state<int>) <= 24);
	CHECK(sizeof(detail::state<std::string>) <= 16 + sizeof(std::string));
}

TEST_CASE("set racing onAny registration runs every callback exactly once, in order") {
	// Callbacks registered before the outcome is published run on the completing thread, in
	// registration order; those registered after run at once on the registering thread. So
	// each thread sees its share in order, and the two shares may interleave.
	Promise<int> p;
	Future<int> f;
	std::mutex mutex;
	std::map<std::thread::id, std::vector<int>> seen; // per thread that ran callbacks
	std::atomic<int> runs{0};
	int round = 0;
	race(
	    kRounds,
	    [&] {
		    p = Promise<int>();
		    f = p.future();
		    seen.clear();
		    runs = 0;
		    round++;
	    },
	    [&] { CHECK(p.set(round)); },
	    [&] {
		    for (int i = 0; i < 3; i++)
			    f.onAny([&, i](const Future<int> &g) {
				    if (g.get() == round) {
					    std::lock_guard lock(mutex);
					    seen[std::this_thread::get_id()].push_back(i);
				    }
				    runs++;
			    });
	    },
	    [&] {
		    REQUIRE(runs == 3);
		    std::vector<int> all;
		    for (auto &[thread, order] : seen) {
			    CHECK(std::is_sorted(order.begin(), order.end()));
			    all.insert(all.end(), order.begin(), order.end());
		    }
		    std::sort(all.begin(), all.end());
		    CHECK(all == std::vector<int>{0, 1, 2});
	    });
}

TEST_CASE("abandonment racing registration runs onAbandoned once and onAny never") {
	std::optional<Promise<int>> p;
	Future<int> f;
	std::atomic<int> abandoned{0}, any{0};
	race(
	    kRounds,
	    [&] {
		    p.emplace();
		    f = p->future();
		    abandoned = 0;
		    any = 0;
	    },
	    [&] { p.reset(); },
	    [&] {
		    f.onAny([&] { any++; });
		    f.onAbandoned([&] { abandoned++; });
	    },
	    [&] {
		    CHECK(f.isAbandoned());
		    CHECK(abandoned == 1);
		    CHECK(any == 0);
	    });
}

TEST_CASE("a discard request racing set runs onDiscard at most once, before completion") {
	Promise<int> p;
	Future<int> f;
	std::atomic<int> early{0}, late{0}, any{0};
	std::atomic<bool> requested{false};
	race(
	    kRounds,
	    [&] {
		    p = Promise<int>();
		    f = p.future();
		    early = late = any = 0;
		    f.onDiscard([&] { early++; });
		    f.onAny([&] { any++; });
	    },
	    [&] { p.set(1); },
	    [&] {
		    requested = f.discard();
		    f.onDiscard([&] { late++; }); // runs now if requested and still pending, else never
	    },
	    [&] {
		    CHECK(any == 1);
		    CHECK(early == (requested ? 1 : 0));
		    CHECK(late <= early);
		    CHECK(f.hasDiscard() == requested);
	    });
}

TEST_CASE("get blocks several threads until the future completes") {
	Promise<std::string> p;
	Future<std::string> f = p.future();
	std::atomic<int> got{0};
	std::vector<std::thread> waiters;
	for (int i = 0; i < 4; i++)
		waiters.emplace_back([&] {
			if (f.get() == "done")
				got++;
		});
	std::this_thread::sleep_for(20ms);
	CHECK(got == 0);
	CHECK(p.set("done"));
	for (auto &t : waiters)
		t.join();
	CHECK(got == 4);
}

TEST_CASE("abandonment wakes blocked get and await") {
	std::optional<Promise<int>> p(std::in_place);
	Future<int> f = p->future();
	std::atomic<int> threw{0}, await_false{0};
	std::thread getter([&] {
		try {
			f.get();
		} catch (const FutureAbandoned &) {
			threw++;
		}
	});
	std::thread awaiter([&] {
		if (!f.await(1h))
			await_false++;
	});
	std::this_thread::sleep_for(20ms);
	p.reset();
	getter.join();
	awaiter.join();
	CHECK(threw == 1);
	CHECK(await_false == 1);
}

TEST_CASE("timed await waits its full time when nothing happens, and no longer") {
	Promise<int> p;
	Future<int> f = p.future();
	auto start = th::now_ns();
	CHECK_FALSE(f.await(30ms));
	auto waited = th::now_ns() - start;
	CHECK(waited >= 30'000'000u);
	CHECK(waited < 30'000'000u + static_cast<std::uint64_t>(1e9 * th::slack));
	CHECK_FALSE(f.await(0ms));
	CHECK_FALSE(f.await(-5ms));
	CHECK_FALSE(f.await(std::chrono::duration<double, std::milli>(1.5)));

	// Completed from another thread: returns early, also with a practically unlimited time.
	std::thread t([&] {
		std::this_thread::sleep_for(20ms);
		p.set(1);
	});
	start = th::now_ns();
	CHECK(f.await(std::chrono::hours::max()));
	CHECK(th::now_ns() - start < static_cast<std::uint64_t>(5e9 * th::slack));
	t.join();
	CHECK(f.await(0ms));
	CHECK(f.await());
}

TEST_CASE("await from several threads with and without a deadline") {
	Promise<int> p;
	Future<int> f = p.future();
	std::atomic<int> woke{0};
	std::vector<std::thread> waiters;
	for (int i = 0; i < 4; i++)
		waiters.emplace_back([&, i] {
			if (i % 2 ? f.await(1h) : f.await())
				woke++;
		});
	std::this_thread::sleep_for(20ms);
	p.set(7);
	for (auto &t : waiters)
		t.join();
	CHECK(woke == 4);
}

TEST_CASE("a callable given as an lvalue is copied, whether it runs now or later") {
	int calls = 0;
	auto counting = [calls](const Future<int> &) mutable { return ++calls; };
	Future<int> ready = 1;
	ready.onAny(counting);
	Promise<int> p;
	p.future().onAny(counting);
	p.set(2);
	auto plus = [n = 0](int x) mutable { return x + ++n; };
	CHECK(ready.then(plus).get() == 2);
	CHECK(ready.then(plus).get() == 2);
	(void)calls;
	CHECK(counting(ready) == 1); // the original was never called
}

TEST_CASE("then on a completed future follows its outcome without waiting") {
	Promise<int> p;
	Future<int> f = p.future();
	f.discard();
	p.set(1);
	bool called = false;
	CHECK(f.then([&](int) { called = true; }).isDiscarded());
	CHECK_FALSE(called);
	CHECK(Future<int>(Failure("no")).then([](int x) { return x; }).failure() == "no");
	CHECK(Future<int>::discarded().then([](int x) { return x; }).isDiscarded());
	CHECK(Future<int>(3).then([](int x) -> Future<std::string> { return std::to_string(x); }).get() ==
	      "3");
	CHECK(Future<int>(3).then([](int) -> int { throw std::runtime_error("thrown"); }).failure() ==
	      "thrown");
	CHECK(Future<int>(3).then([](int) -> int { throw FutureDiscarded(); }).isDiscarded());
}

namespace {

// A value whose copy can be told to throw and whose move may throw (so set() builds it under
// the lock).
struct fragile {
	static inline bool throw_on_copy = false;
	int v = 0;
	explicit fragile(int x) : v(x) {}
	fragile(const fragile &o) : v(o.v) {
		if (throw_on_copy)
			throw std::runtime_error("copy");
	}
	fragile(fragile &&o) noexcept(false) : v(o.v) {}
};

} // namespace

TEST_CASE("a value that throws while being stored leaves the future pending") {
	Promise<fragile> p;
	fragile x(5);
	fragile::throw_on_copy = true;
	CHECK_THROWS_AS(p.set(x), std::runtime_error);
	fragile::throw_on_copy = false;
	CHECK(p.future().isPending());
	CHECK(p.set(x));
	CHECK(p.future().get().v == 5);

	// A then() continuation whose result cannot be stored fails its future.
	static const fragile kept(1);
	Promise<int> q;
	auto chained = q.future().then([](int) -> const fragile & {
		fragile::throw_on_copy = true;
		return kept;
	});
	q.set(1);
	fragile::throw_on_copy = false;
	CHECK(chained.failure() == "copy");
}
