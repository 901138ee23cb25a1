// Preemption of message handlers: a spinning handler does not block other processes on its
// worker; its own later messages wait for it (one message at a time); the runtime counts it.
#include <turquoise/async/testing.hpp>
#include <turquoise/pool.hpp>
#include <turquoise/process/dispatch.hpp>
#include <turquoise/process/process.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <numeric>
#include <thread>
#include <vector>

using namespace turquoise;
using namespace std::chrono_literals;

namespace {

using steady = std::chrono::steady_clock;

class Spinner : public Process<Spinner> {
public:
	std::atomic<bool> spinning{false};
	std::atomic<bool> stop{false};
	std::atomic<int> inside{0};
	std::atomic<int> overlaps{0};
	std::atomic<bool> next_ran{false};
	std::atomic<bool> next_ran_while_spinning{false};

	// Spins (never blocks) until told to stop; safety limit 60 s.
	void spin() {
		enter();
		spinning = true;
		auto limit = steady::now() + 60s;
		while (!stop.load(std::memory_order_relaxed) && steady::now() < limit) {
		}
		spinning = false;
		leave();
	}
	// Spins for `ms` of wall time.
	void burn(int ms) {
		enter();
		auto until = steady::now() + std::chrono::milliseconds(ms);
		while (steady::now() < until) {
		}
		leave();
	}
	void next() {
		enter();
		next_ran_while_spinning = spinning.load();
		next_ran = true;
		leave();
	}

private:
	void enter() {
		if (inside.fetch_add(1) != 0)
			overlaps++;
	}
	void leave() { inside.fetch_sub(1); }
};

class Quick : public Process<Quick> {
public:
	explicit Quick(const Spinner &s) : spinner(s) {}
	const Spinner &spinner;
	std::atomic<int> pings{0};
	std::atomic<int> while_spinning{0};
	int ping() {
		if (spinner.spinning.load())
			while_spinning++;
		return ++pings;
	}
};

// Releases a spinner even when an assertion ends the test early.
struct Release {
	Spinner &s;
	~Release() { s.stop = true; }
};

} // namespace

TEST_CASE("a spinning handler does not block other processes on a one-worker pool") {
	Spinner spinner;
	Quick quick(spinner);
	pool p(pool_options{.workers = 1, .quantum = 1ms});
	runtime_scope scope(p);
	Release release{spinner};

	auto before = ProcessManager::stats();
	PID<Spinner> sp = spawn(spinner);
	PID<Quick> qp = spawn(quick);

	Future<Nothing> spun = dispatch(sp, &Spinner::spin);
	Future<Nothing> next = dispatch(sp, &Spinner::next); // must wait for spin()
	auto t0 = steady::now();
	while (!spinner.spinning.load() && steady::now() - t0 < 15s)
		std::this_thread::sleep_for(100us);
	REQUIRE(spinner.spinning.load());

	// The quick process's handlers complete on the only worker while the spinner spins.
	std::vector<Future<int>> pings;
	for (int i = 0; i < 20; ++i)
		pings.push_back(dispatch(qp, &Quick::ping));
	for (int i = 0; i < 20; ++i)
		AWAIT_EXPECT_EQ(i + 1, pings[i]);
	CHECK(spinner.spinning.load());
	CHECK(quick.while_spinning == 20);

	// One message at a time: the spinner's next message still waits.
	CHECK(spun.isPending());
	CHECK_FALSE(spinner.next_ran.load());
	Option<ProcessStats> busy = ProcessManager::stats(sp);
	REQUIRE(busy.isSome());
	CHECK(busy.get().queued == 1);

	spinner.stop = true;
	AWAIT_READY(spun);
	AWAIT_READY(next);
	CHECK(spinner.next_ran.load());
	CHECK_FALSE(spinner.next_ran_while_spinning.load());
	CHECK(spinner.overlaps == 0);

	// Metrics (counted once a handler returned: settle first).
	// The spin was preempted (counted once), the pings were not.
	REQUIRE(ProcessManager::settle());
	// (Preemption is by wall time: on a loaded machine the OS may deschedule a worker during
	// a short handler, which then counts too; allow for that, rarely.)
	CHECK(spinner.stats().handler_preemptions >= 1);
	CHECK(spinner.stats().handler_preemptions <= 3); // at most once per handler
	CHECK(spinner.stats().messages == 2);
	CHECK(quick.stats().handler_preemptions <= 2);
	CHECK(quick.stats().messages == 20);
	auto after = ProcessManager::stats();
	CHECK(after.handler_preemptions - before.handler_preemptions >= 1);
	CHECK(after.handler_preemptions - before.handler_preemptions <= 5);
	CHECK(after.messages - before.messages == 22);
	std::uint64_t pool_preemptions = 0;
	for (auto &w : p.stats())
		pool_preemptions += w.preemptions;
	CHECK(pool_preemptions >= 1);
}

TEST_CASE("each preempted handler is counted once, handlers of a process never overlap") {
	pool p(pool_options{.workers = 2, .quantum = 1ms});
	Spinner spinner, other1, other2; // outlive the scope, which terminates them
	runtime_scope scope(p);
	PID<Spinner> sp = spawn(spinner);
	std::vector<Future<Nothing>> burns;
	for (int i = 0; i < 3; ++i) {
		burns.push_back(dispatch(sp, &Spinner::burn, 20));
		burns.push_back(dispatch(sp, &Spinner::next)); // short ones in between
	}
	// Competing work on both workers, so the spinner really is preempted and resumed.
	PID<Spinner> o1 = spawn(other1), o2 = spawn(other2);
	std::vector<Future<Nothing>> others;
	for (int i = 0; i < 4; ++i) {
		others.push_back(dispatch(o1, &Spinner::burn, 5));
		others.push_back(dispatch(o2, &Spinner::burn, 5));
	}
	for (auto &f : burns)
		AWAIT_READY(f);
	for (auto &f : others)
		AWAIT_READY(f);
	REQUIRE(ProcessManager::settle());
	CHECK(spinner.overlaps == 0);
	CHECK(spinner.stats().messages == 6);
	// Each 20 ms burn is preempted many times but counted once: at least the three burns,
	// at most one per handler (6 messages + initialize; a short one only if the OS
	// descheduled the worker meanwhile).
	CHECK(spinner.stats().handler_preemptions >= 3);
	CHECK(spinner.stats().handler_preemptions <= 7);
	CHECK(other1.stats().handler_preemptions >= 4);
	CHECK(other1.stats().handler_preemptions <= 5);
	CHECK(other2.stats().handler_preemptions >= 4);
	CHECK(other2.stats().handler_preemptions <= 5);
}

TEST_CASE("many short messages of one process are not counted as preemptions") {
	// The run task yields the worker after a slice of the quantum, so a busy process with
	// many short handlers is not preempted between them.
	class Counter : public Process<Counter> {
	public:
		std::uint64_t n = 0;
		void inc() {
			for (int i = 0; i < 200; ++i)
				asm volatile("" ::: "memory");
			++n;
		}
	};
	Counter c;
	pool p(pool_options{.workers = 1, .quantum = 1ms});
	runtime_scope scope(p);
	PID<Counter> pid = spawn(c);
	constexpr int n = 20000;
	for (int i = 0; i < n - 1; ++i)
		dispatch(pid, &Counter::inc);
	AWAIT_READY(dispatch(pid, &Counter::inc));
	REQUIRE(ProcessManager::settle());
	CHECK(c.stats().messages == n);
	// Rarely a short handler is hit anyway (the OS descheduled the worker, or, under ASan, an
	// allocator slow path ran long): allow a few.
#if defined(__SANITIZE_ADDRESS__)
	CHECK(c.stats().handler_preemptions <= 50);
#else
	CHECK(c.stats().handler_preemptions <= 10);
#endif
}
