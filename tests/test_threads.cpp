// Several threads using the runtime at once, each preempting its own functions; per-thread
// handles and counters. Catch assertions are made on the main thread only.
#include <catch2/catch.hpp>

#include "helpers.hpp"

#include <libinger.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <thread>
#include <vector>

namespace {

std::uint64_t mix(std::uint64_t x) {
	x ^= x >> 31;
	x *= 0x7fb5d329728ea185ull;
	x ^= x >> 27;
	x *= 0x81dadef4bc2dd44dull;
	x ^= x >> 33;
	return x;
}

__attribute__((noinline)) std::uint64_t work(std::uint64_t seed, long iters) {
	std::uint64_t acc = seed;
	double f = 1.0;
	for (long i = 0; i < iters; ++i) {
		acc = mix(acc + static_cast<std::uint64_t>(i));
		f = f * 0.999999 + static_cast<double>(acc & 0x3ff) * 1e-6;
	}
	return acc ^ static_cast<std::uint64_t>(f * 1e9);
}

struct task {
	std::uint64_t seed = 0;
	long iters = 0;
	std::uint64_t result = 0;
	std::uint64_t expected = 0;
};

void task_fn(void *p) {
	auto *t = static_cast<task *>(p);
	t->result = work(t->seed, t->iters);
}

long calibrate_3ms() {
	long iters = 10000;
	for (;;) {
		double t0 = th::now_us();
		volatile std::uint64_t sink = work(7, iters);
		(void)sink;
		if (th::now_us() - t0 >= 1000.0 || iters > (1l << 30))
			return iters * 3;
		iters *= 2;
	}
}

struct thread_report {
	int id = 0;
	int tasks = 0;
	int wrong = 0;
	int errors = 0;
	int incomplete = 0;
	std::int64_t launches = 0, completions = 0, preemptions = 0, live_after = 0;
};

void worker(thread_report *r, int tasks, long iters) {
	auto before = th::stats();
	std::vector<task> ts(static_cast<std::size_t>(tasks));
	std::vector<linger_t> ls(static_cast<std::size_t>(tasks));
	for (int i = 0; i < tasks; ++i) {
		ts[i].seed = static_cast<std::uint64_t>(r->id) * 1000 + static_cast<std::uint64_t>(i);
		ts[i].iters = iters + i;
		ls[i] = launch(task_fn, 100, &ts[i]);
		if (ls[i].error != LINGER_OK)
			r->errors++;
	}
	int remaining = tasks;
	for (int round = 0; remaining > 0 && round < 1000000; ++round) {
		remaining = 0;
		for (int i = 0; i < tasks; ++i) {
			if (ls[i].is_complete || ls[i].error != LINGER_OK)
				continue;
			resume(&ls[i], 100);
			if (ls[i].error != LINGER_OK)
				r->errors++;
			else if (!ls[i].is_complete)
				remaining++;
		}
	}
	for (int i = 0; i < tasks; ++i) {
		if (!ls[i].is_complete)
			r->incomplete++;
		else if (ts[i].result != work(ts[i].seed, ts[i].iters))
			r->wrong++;
	}
	auto d = th::diff(before, th::stats());
	r->tasks = tasks;
	r->launches = d.launches;
	r->completions = d.completions;
	r->preemptions = d.preemptions;
	r->live_after = static_cast<std::int64_t>(th::stats().live);
}

struct paused_fn {
	std::atomic<int> steps{0};
};

void pause_once(void *p) {
	auto *f = static_cast<paused_fn *>(p);
	f->steps++;
	linger_pause();
	f->steps++;
}

} // namespace

TEST_CASE("several threads preempt their own functions concurrently", "[threads]") {
	const int nthreads = 6;
	const int tasks = 20;
	long iters = calibrate_3ms();
	auto before = th::stats();

	std::vector<thread_report> reports(nthreads);
	std::vector<std::thread> threads;
	for (int t = 0; t < nthreads; ++t) {
		reports[t].id = t + 1;
		threads.emplace_back(worker, &reports[t], tasks, iters);
	}
	for (auto &t : threads)
		t.join();

	for (auto &r : reports) {
		INFO("thread " << r.id);
		CHECK(r.errors == 0);
		CHECK(r.incomplete == 0);
		CHECK(r.wrong == 0);
		// Counters are per thread: exactly this thread's own launches.
		CHECK(r.launches == tasks);
		CHECK(r.completions == tasks);
		CHECK(r.preemptions >= tasks);
		CHECK(r.live_after == 0);
	}
	// Nothing of that shows in the main thread's counters.
	auto d = th::diff(before, th::stats());
	CHECK(d.launches == 0);
	CHECK(d.preemptions == 0);
}

TEST_CASE("a handle used from another thread is LINGER_EFOREIGN", "[threads][errors]") {
	paused_fn f;
	linger_t l = launch(pause_once, LINGER_UNLIMITED, &f);
	REQUIRE(l.error == LINGER_OK);
	REQUIRE_FALSE(l.is_complete);
	REQUIRE(f.steps == 1);

	int resume_error = -1, resume_errno = -1, cancel_error = -1, cancel_errno = -1;
	std::int64_t other_live = -1;
	std::thread other([&] {
		linger_t copy = l;
		errno = 0;
		resume(&copy, LINGER_UNLIMITED);
		resume_error = copy.error;
		resume_errno = errno;
		copy = l;
		errno = 0;
		cancel(&copy);
		cancel_error = copy.error;
		cancel_errno = errno;
		other_live = static_cast<std::int64_t>(th::stats().live);
	});
	other.join();

	CHECK(resume_error == LINGER_EFOREIGN);
	CHECK(resume_errno == ESRCH);
	CHECK(cancel_error == LINGER_EFOREIGN);
	CHECK(cancel_errno == ESRCH);
	CHECK(other_live == 0);
	CHECK(f.steps == 1); // it did not run on the other thread

	// The owner can still finish it.
	resume(&l, LINGER_UNLIMITED);
	REQUIRE(l.error == LINGER_OK);
	REQUIRE(l.is_complete);
	CHECK(f.steps == 2);
}

TEST_CASE("a handle launched on another thread is foreign here, even with the same slot", "[threads][errors]") {
	// Another thread launches and pauses a function and hands the handle over while keeping
	// it live; meanwhile this thread has a live function of its own.
	paused_fn mine;
	linger_t own = launch(pause_once, LINGER_UNLIMITED, &mine);
	REQUIRE_FALSE(own.is_complete);

	paused_fn theirs;
	linger_t handed{};
	std::atomic<int> phase{0};
	bool their_finish_ok = false;
	std::thread other([&] {
		handed = launch(pause_once, LINGER_UNLIMITED, &theirs);
		phase = 1;
		while (phase.load() != 2)
			std::this_thread::yield();
		resume(&handed, LINGER_UNLIMITED);
		their_finish_ok = handed.error == LINGER_OK && handed.is_complete;
	});
	while (phase.load() != 1)
		std::this_thread::yield();
	linger_t copy = handed;
	resume(&copy, LINGER_UNLIMITED);
	int err = copy.error;
	phase = 2;
	other.join();

	CHECK(err == LINGER_EFOREIGN);
	CHECK(their_finish_ok);
	CHECK(theirs.steps == 2);
	CHECK(mine.steps == 1); // our own function was not run by mistake
	resume(&own, LINGER_UNLIMITED);
	REQUIRE(own.is_complete);
	CHECK(mine.steps == 2);
}

TEST_CASE("many short-lived threads each get working preemption", "[threads]") {
	const int rounds = 40;
	std::atomic<int> good{0};
	for (int i = 0; i < rounds; ++i) {
		std::thread t([&] {
			struct arg {
				std::atomic<bool> stop{false};
				std::uint64_t n = 0;
			} a;
			auto before = th::stats();
			linger_t l = launch(
			    [](void *p) {
				    auto *x = static_cast<arg *>(p);
				    double give_up = th::now_us() + 2e6;
				    while (!x->stop.load(std::memory_order_relaxed) && th::now_us() < give_up)
					    x->n++;
			    },
			    500, &a);
			bool preempted = l.error == LINGER_OK && !l.is_complete;
			a.stop = true;
			resume(&l, LINGER_UNLIMITED);
			auto d = th::diff(before, th::stats());
			if (preempted && l.is_complete && d.preemptions == 1 && d.live == 0)
				good++;
		});
		t.join();
	}
	CHECK(good.load() == rounds);
}
