// test_pool_cancel.cpp — shutdown(cancel) unwinds the stacks of paused and preempted tasks:
// the destructors of the objects on them run (locks are released, nothing leaks), and the
// forced unwind passes the pool's task boundary without terminating the program.
#include <catch2/catch.hpp>

#include "helpers.hpp"

#include <inger/inger.hpp>
#include <turquoise/pool.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

using namespace std::chrono_literals;
using turquoise::pool;
using turquoise::pool_options;
using turquoise::shutdown_mode;

namespace {

std::atomic<int> live{0}; // objects of `held` alive now

// An RAII object a task holds while it is cancelled.
struct held {
	held() { ++live; }
	~held() { --live; }
	held(const held &) = delete;
	held &operator=(const held &) = delete;
};

// A call that may throw (as far as the compiler knows): the call sites of the preempted loops
// below are then in their unwind tables, the points where their frames can be unwound
// exactly. (A call the compiler proves nothrow is left out of those tables, which makes the
// frame inexact: see linger_cancel_unwind() in libinger.h.)
// busy_step() itself has no cleanups (no unwind table of its own): exact at any instruction.
std::atomic<bool> never{false};
__attribute__((noinline)) void maybe_throw() {
	if (never.load(std::memory_order_relaxed))
		throw std::runtime_error("never");
}
__attribute__((noinline)) void busy_step() {
	for (int i = 0; i < 100; ++i)
		asm volatile("" ::"r"(i));
	maybe_throw();
}

void wait_for(const std::atomic<int> &n, int target) {
	auto until = std::chrono::steady_clock::now() + 10s * th::slack;
	while (n.load() < target && std::chrono::steady_clock::now() < until)
		std::this_thread::sleep_for(100us);
	REQUIRE(n.load() >= target);
}

} // namespace

TEST_CASE("shutdown(cancel) runs the destructors of a paused task and releases its lock") {
	live = 0;
	std::mutex lock;
	std::atomic<int> started{0};
	std::atomic<bool> after_loop{false};
	auto p = std::make_unique<pool>(pool_options{.workers = 1, .quantum = 1ms});
	p->post([&] {
		std::lock_guard guard(lock);
		held object;
		++started;
		for (;;)
			inger::pause(); // demoted, resumed, paused again... until the cancel
		after_loop = true;
	});
	wait_for(started, 1);
	CHECK(live.load() == 1);
	CHECK_FALSE(lock.try_lock());
	p->shutdown(shutdown_mode::cancel);
	CHECK(live.load() == 0);
	bool free = lock.try_lock();
	CHECK(free);
	if (free)
		lock.unlock();
	CHECK_FALSE(after_loop.load());
	CHECK(p->stats()[0].preemptions > 0); // it really was paused (and demoted) at least once
}

TEST_CASE("shutdown(cancel) unwinds a preempted task in nested frames") {
	live = 0;
	std::atomic<int> started{0};
	auto p = std::make_unique<pool>(pool_options{.workers = 1, .quantum = 300us});
	p->post([&] {
		held outer;
		auto inner = [&] {
			std::vector<held> many(3);
			++started;
			for (;;)
				busy_step();
		};
		inner();
	});
	wait_for(started, 1);
	// Until it has been preempted (demoted) at least once.
	auto until = std::chrono::steady_clock::now() + 10s * th::slack;
	while (p->stats()[0].preemptions == 0 && std::chrono::steady_clock::now() < until)
		std::this_thread::sleep_for(1ms);
	REQUIRE(p->stats()[0].preemptions > 0);
	CHECK(live.load() == 4);
	p->shutdown(shutdown_mode::cancel);
	CHECK(live.load() == 0);
}

TEST_CASE("shutdown(cancel) of submitted tasks: destructors run, futures abandoned") {
	live = 0;
	constexpr int tasks = 40;
	std::atomic<int> started{0};
	auto p = std::make_unique<pool>(pool_options{.workers = 2, .quantum = 500us});
	std::vector<turquoise::Future<int>> futures;
	for (int i = 0; i < tasks; ++i)
		futures.push_back(p->submit([&, i]() -> int {
			held object;
			++started;
			if (i % 2)
				for (;;)
					inger::pause();
			for (;;)
				busy_step();
		}));
	// Every task has started: both workers keep picking demoted tasks (there is no fresh
	// work), and each pauses or is preempted again.
	wait_for(started, tasks);
	CHECK(live.load() == tasks);
	p->shutdown(shutdown_mode::cancel);
	CHECK(live.load() == 0);
	for (auto &f : futures)
		CHECK_THROWS_AS(f.get(), turquoise::FutureAbandoned);
}

TEST_CASE("shutdown(cancel) unwinds through a task's catch-all that rethrows") {
	live = 0;
	std::atomic<int> started{0}, caught{0};
	auto p = std::make_unique<pool>(pool_options{.workers = 1, .quantum = 1ms});
	p->post([&] {
		held outer;
		try {
			held inner;
			++started;
			for (;;)
				inger::pause();
		} catch (...) {
			++caught;
			throw;
		}
	});
	wait_for(started, 1);
	CHECK(live.load() == 2);
	p->shutdown(shutdown_mode::cancel);
	CHECK(live.load() == 0);
	CHECK(caught.load() == 1);
}

TEST_CASE("shutdown(cancel) unwinds through a task's catch-all that swallows it") {
	if (th::sanitized) {
		// Under ASan the unwind raised again from __cxa_end_catch meets the stale poison of
		// the frames it abandoned on the function's stack: ASan's own no-return hook (before
		// _Unwind_Resume in the task's landing pad) trips over it in its sigaltstack check
		// and aborts with a CHECK failure inside ASan. Not a fault of the task's memory; see
		// the report of the helper that added this test. The plain builds run this case.
		WARN("skipped under AddressSanitizer");
		return;
	}
	live = 0;
	std::atomic<int> started{0}, caught{0}, after_catch{0};
	auto p = std::make_unique<pool>(pool_options{.workers = 1, .quantum = 1ms});
	p->post([&] {
		held outer;
		try {
			held inner;
			++started;
			for (;;)
				inger::pause();
		} catch (...) {
			++caught; // swallowed: libinger raises the unwind again at the block's end
		}
		++after_catch;
	});
	wait_for(started, 1);
	CHECK(live.load() == 2);
	p->shutdown(shutdown_mode::cancel);
	CHECK(live.load() == 0);
	CHECK(caught.load() == 1);
	CHECK(after_catch.load() == 0);
}

TEST_CASE("shutdown(cancel) unwinds tasks moved between workers (migrate_preempted)") {
	live = 0;
	constexpr int tasks = 8;
	std::atomic<int> started{0};
	auto p = std::make_unique<pool>(
	    pool_options{.workers = 2, .quantum = 300us, .migrate_preempted = true});
	for (int i = 0; i < tasks; ++i)
		p->post([&] {
			held object;
			++started;
			for (;;)
				busy_step();
		});
	wait_for(started, tasks);
	std::this_thread::sleep_for(20ms); // some move
	p->shutdown(shutdown_mode::cancel);
	CHECK(live.load() == 0);
}

TEST_CASE("an ordinary exception escaping a posted task still terminates the program") {
	// The forced unwind of a cancel passes the task boundary; a C++ exception does not.
	// Checked in a child process: it must die of SIGABRT.
	pid_t child = fork();
	REQUIRE(child >= 0);
	if (child == 0) {
		pool p(pool_options{.workers = 1});
		p.post([] { throw std::runtime_error("escaped"); });
		std::this_thread::sleep_for(2s);
		_exit(0);
	}
	int status = 0;
	REQUIRE(waitpid(child, &status, 0) == child);
	CHECK(WIFSIGNALED(status));
	if (WIFSIGNALED(status))
		CHECK(WTERMSIG(status) == SIGABRT);
}
