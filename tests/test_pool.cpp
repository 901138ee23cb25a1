// libturquoise pool: results, work stealing, preemption and demotion, fairness, shutdown, and
// fresh tasks run inline in one preemptible function.
#include <catch2/catch.hpp>

#include "helpers.hpp"

#include <turquoise/pool.hpp>

#include <libinger.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using turquoise::pool;
using turquoise::pool_options;

namespace {

// Burn CPU until `d` of wall time has passed (preemption may stretch it: that is the point).
void spin_for(std::chrono::microseconds d) {
	auto end = std::chrono::steady_clock::now() + d;
	while (std::chrono::steady_clock::now() < end) {
	}
}

std::uint64_t total(const std::vector<turquoise::worker_stats> &s,
                    std::uint64_t turquoise::worker_stats::*field) {
	std::uint64_t sum = 0;
	for (auto &w : s)
		sum += w.*field;
	return sum;
}

} // namespace

TEST_CASE("submit returns the task's value or exception") {
	pool p(pool_options{.workers = 2});
	auto v = p.submit([] { return 6 * 7; });
	auto e = p.submit([]() -> int { throw std::runtime_error("boom"); });
	auto nothing = p.submit([] {});
	CHECK(v.get() == 42);
	CHECK_THROWS_WITH(e.get(), "boom");
	nothing.get();
	CHECK(p.size() == 2);
}

TEST_CASE("tasks submitted from a busy worker are stolen by an idle one") {
	pool p(pool_options{.workers = 2, .quantum = 100000us});
	std::atomic<int> ran_elsewhere{0};
	auto parent = p.submit([&] {
		int me = pool::current_worker();
		std::vector<turquoise::Future<turquoise::Nothing>> children;
		for (int i = 0; i < 20; ++i)
			children.push_back(pool::current()->submit([&, me] {
				if (pool::current_worker() != me)
					ran_elsewhere++;
			}));
		spin_for(50ms); // keep this worker busy: its queue can only be drained by stealing
		return children;
	});
	for (auto &c : parent.get())
		c.get();
	auto s = p.stats();
	CHECK(total(s, &turquoise::worker_stats::steals) > 0);
	CHECK(ran_elsewhere.load() > 0);
}

TEST_CASE("a runaway task does not stop short tasks on a single worker") {
	pool p(pool_options{.workers = 1, .quantum = 1000us});
	std::atomic<bool> release{false};
	std::atomic<bool> long_done{false};
	auto runaway = p.submit([&] {
		while (!release.load(std::memory_order_relaxed)) {
		}
		long_done = true;
	});
	std::this_thread::sleep_for(5ms); // the runaway is running (and being preempted)
	std::vector<turquoise::Future<int>> shorts;
	for (int i = 0; i < 50; ++i)
		shorts.push_back(p.submit([i] { return i; }));
	for (int i = 0; i < 50; ++i) {
		REQUIRE(shorts[i].await(5s * th::slack));
		CHECK(shorts[i].get() == i);
	}
	CHECK_FALSE(long_done.load()); // the short ones did not wait for it
	release = true;
	runaway.get();
	CHECK(total(p.stats(), &turquoise::worker_stats::preemptions) > 0);
}

TEST_CASE("without preemption the same runaway does block the single worker") {
	pool p(pool_options{.workers = 1, .quantum = turquoise::no_preemption});
	std::atomic<bool> release{false};
	auto runaway = p.submit([&] {
		while (!release.load(std::memory_order_relaxed)) {
		}
	});
	std::this_thread::sleep_for(5ms);
	auto short_task = p.submit([] { return 1; });
	CHECK_FALSE(short_task.await(50ms)); // stuck behind the runaway
	release = true;
	CHECK(short_task.get() == 1);
	runaway.get();
	CHECK(total(p.stats(), &turquoise::worker_stats::preemptions) == 0);
}

TEST_CASE("demoted tasks finish while fresh short tasks keep arriving") {
	pool p(pool_options{.workers = 1, .quantum = 500us, .fairness = 4});
	std::vector<turquoise::Future<int>> longs;
	for (int i = 0; i < 4; ++i)
		longs.push_back(p.submit([i] {
			spin_for(20ms);
			return i;
		}));
	// A steady stream of fresh work that alone would keep the worker busy.
	std::atomic<bool> stop{false};
	std::thread feeder([&] {
		while (!stop.load()) {
			p.post([] { spin_for(200us); });
			std::this_thread::sleep_for(100us);
		}
	});
	for (int i = 0; i < 4; ++i) {
		bool finished = longs[i].await(10s * th::slack);
		CHECK(finished);
		if (finished)
			CHECK(longs[i].get() == i);
	}
	stop = true;
	feeder.join();
	CHECK(total(p.stats(), &turquoise::worker_stats::preemptions) >= 4);
}

TEST_CASE("shutdown(cancel) with tasks completed, preempted and never started") {
	auto p = std::make_unique<pool>(pool_options{.workers = 1, .quantum = 500us});
	auto done = p->submit([] { return 1; });
	CHECK(done.get() == 1);
	std::atomic<bool> started{false};
	auto preempted = p->submit([&] {
		started = true;
		for (;;) {
		}
	});
	while (!started.load())
		std::this_thread::yield();
	std::vector<turquoise::Future<int>> queued;
	for (int i = 0; i < 10; ++i)
		queued.push_back(p->submit([] {
			spin_for(5ms);
			return 2;
		}));
	p->shutdown(turquoise::shutdown_mode::cancel);
	CHECK_THROWS_AS(preempted.get(), turquoise::FutureAbandoned);
	int completed = 0, broken = 0;
	for (auto &f : queued) {
		try {
			completed += f.get() == 2;
		} catch (const turquoise::FutureAbandoned &) {
			++broken;
		}
	}
	CHECK(completed + broken == 10);
	CHECK(broken > 0);
	CHECK_THROWS_AS(p->post([] {}), std::logic_error);
}

TEST_CASE("shutdown(drain) runs every queued task and what they submit") {
	std::atomic<int> count{0};
	{
		pool p(pool_options{.workers = 2, .quantum = 500us});
		for (int i = 0; i < 100; ++i)
			p.post([&] {
				spin_for(100us);
				count++;
				pool::current()->post([&] { count++; });
			});
		p.shutdown(turquoise::shutdown_mode::drain);
		CHECK(count.load() == 200);
	}
	CHECK(count.load() == 200);
}

TEST_CASE("post_next runs the task right after its poster, ahead of the worker's queue") {
	pool p(pool_options{.workers = 1, .quantum = 100000us});
	std::atomic<int> seq{0};
	std::atomic<int> queued_at{-1}, next_at{-1}, displaced_at{-1};
	std::atomic<int> poster_worker{-2}, next_worker{-3};
	p.submit([&] {
		 poster_worker = pool::current_worker();
		 pool::current()->post([&] { queued_at = seq++; });
		 // The second post_next() from the same task moves the first one to the queue.
		 pool::current()->post_next([&] { displaced_at = seq++; });
		 pool::current()->post_next([&] {
			 next_worker = pool::current_worker();
			 next_at = seq++;
		 });
	 }).get();
	p.shutdown(turquoise::shutdown_mode::drain);
	CHECK(next_at.load() == 0);
	CHECK(queued_at.load() == 1);
	CHECK(displaced_at.load() == 2);
	CHECK(next_worker.load() == poster_worker.load());
}

TEST_CASE("a post_next task does not wait for its poster beyond a quantum") {
	// One worker: nobody can take the slot, so the poster, which spins until the slot task
	// has run, must be preempted for it to run.
	pool p(pool_options{.workers = 1, .quantum = 2000us});
	std::atomic<bool> ran{false};
	auto poster = p.submit([&] {
		pool::current()->post_next([&] { ran = true; });
		auto give_up = std::chrono::steady_clock::now() + 10s * th::slack;
		while (!ran.load() && std::chrono::steady_clock::now() < give_up) {
		}
		return ran.load();
	});
	CHECK(poster.get());
	CHECK(total(p.stats(), &turquoise::worker_stats::preemptions) > 0);
}

TEST_CASE("post_next from outside the pool is a plain post") {
	pool p(pool_options{.workers = 2});
	std::atomic<int> ran{0};
	for (int i = 0; i < 100; ++i)
		p.post_next([&] { ran++; });
	p.shutdown(turquoise::shutdown_mode::drain);
	CHECK(ran.load() == 100);
}

TEST_CASE("without preemption, a task blocked on its post_next task gets it run by another worker") {
	// The poster's worker cannot serve its slot while the poster blocks: an idle worker takes
	// the slot task once it has waited (at the latest when its park times out).
	pool p(pool_options{.workers = 2, .quantum = turquoise::no_preemption});
	auto outer = p.submit([] {
		turquoise::Promise<int> answer;
		auto f = answer.future();
		pool::current()->post_next([&answer] { answer.set(7); });
		return f.get();
	});
	REQUIRE(outer.await(5s * th::slack));
	CHECK(outer.get() == 7);
}

TEST_CASE("queued fresh tasks run in one preemptible function, each with a quantum of its own") {
	// Six 25 ms tasks on one worker with a 100 ms quantum: together they overrun it, but each
	// one gets a fresh quantum, so none is preempted; and they share one launch. (Quanta are
	// wall time: the margin is for a loaded machine, which may keep a 25 ms spin off the CPU
	// for several scheduler ticks.)
	pool p(pool_options{.workers = 1, .quantum = 100000us});
	constexpr int n = 6;
	std::atomic<int> ran{0};
	std::uint64_t first_launches = 0, last_launches = 0;
	for (int i = 0; i < n; ++i)
		p.post([&] {
			struct linger_stats s {};
			linger_stats(&s);
			int k = ran++;
			if (k == 0)
				first_launches = s.launches;
			if (k == n - 1)
				last_launches = s.launches;
			spin_for(25ms);
		});
	p.shutdown(turquoise::shutdown_mode::drain);
	REQUIRE(ran.load() == n);
	auto s = p.stats();
	CHECK(total(s, &turquoise::worker_stats::tasks_started) == n);
	CHECK(total(s, &turquoise::worker_stats::tasks_completed) == n);
	CHECK(total(s, &turquoise::worker_stats::preemptions) == 0);
	CHECK(last_launches == first_launches);
}

TEST_CASE("a task whose captures take longer than a quantum to destroy is not demoted") {
	// A task's captures are destroyed after its body, between two tasks, where the pool does
	// its own work in a critical section: the preemption that falls due meanwhile is taken at
	// the end of it, with no task inside to demote. The worker lets that function go on.
	pool p(pool_options{.workers = 1, .quantum = 1000us});
	std::atomic<bool> destroyed{false};
	struct slow_to_destroy {
		std::atomic<bool> *done;
		explicit slow_to_destroy(std::atomic<bool> *d) : done(d) {}
		~slow_to_destroy() {
			spin_for(5ms);
			*done = true;
		}
	};
	auto first = p.submit([s = std::make_shared<slow_to_destroy>(&destroyed)] {
		return s ? 1 : 0;
	});
	CHECK(first.get() == 1);
	while (!destroyed.load())
		std::this_thread::yield();
	std::this_thread::sleep_for(50ms); // the worker gets past the end of that critical section
	auto second = p.submit([] {
		struct linger_stats s {};
		linger_stats(&s);
		return s.pauses;
	});
	CHECK(second.get() >= 1); // the deferred preemption was taken (libinger counts it a pause)
	p.shutdown(turquoise::shutdown_mode::drain);
	auto s = p.stats();
	CHECK(total(s, &turquoise::worker_stats::tasks_completed) == 2);
	CHECK(total(s, &turquoise::worker_stats::preemptions) == 0);
}
