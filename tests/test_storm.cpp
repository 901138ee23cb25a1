// test_storm.cpp — a preemption storm: 10^6 preemptions at budgets of 2-20 microseconds over
// two threads, each thread juggling several functions whose results it checks against the
// same computation run without preemption.
#include <catch2/catch.hpp>

#include "helpers.hpp"

#include <libinger.h>

#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <thread>
#include <vector>

namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr std::int64_t target_preemptions = 200000; // instrumented code: 5x fewer
#else
constexpr std::int64_t target_preemptions = 1000000;
#endif
constexpr int functions_per_thread = 4;

// Integer, SSE and x87 state and errno, all live across preemptions.
struct work {
	std::uint64_t seed = 0;
	std::uint64_t steps = 0;
	std::uint64_t int_result = 0;
	double sse_result = 0;
	long double x87_result = 0;
	bool errno_kept = true;
};

void compute(work &w) {
	std::uint64_t x = w.seed;
	double d = 1.0 + static_cast<double>(w.seed % 7);
	long double e = 1.0L;
	errno = static_cast<int>(w.seed % 1000) + 1;
	int mine = errno;
	for (std::uint64_t i = 0; i < w.steps; ++i) {
		x = x * 6364136223846793005u + 1442695040888963407u;
		d = d * 1.0000001 + static_cast<double>(x >> 60);
		e = e * 0.9999999L + static_cast<long double>(x & 15);
		if ((i & 4095) == 0 && errno != mine)
			w.errno_kept = false;
	}
	w.int_result = x;
	w.sse_result = d;
	w.x87_result = e;
}

// 2 to 20 us.
std::uint64_t budget(std::uint64_t round) { return 2 + round * 7 % 19; }

void compute_fn(void *p) { compute(*static_cast<work *>(p)); }

struct thread_report {
	std::int64_t preemptions = 0;
	long completed = 0;
	long wrong = 0;
	long errors = 0;
};

void storm(std::uint64_t thread_seed, std::int64_t want, double give_up_us, thread_report &out) {
	auto start = th::stats();
	std::uint64_t next_seed = thread_seed;
	auto fresh = [&](work &w) {
		w = work{};
		w.seed = next_seed++;
		w.steps = 20000 + w.seed % 5000;
	};
	std::vector<work> jobs(functions_per_thread);
	std::vector<linger_t> handles(functions_per_thread);
	for (int k = 0; k < functions_per_thread; ++k) {
		fresh(jobs[k]);
		handles[k] = launch(compute_fn, 10, &jobs[k]);
	}
	double deadline = th::now_us() + give_up_us;
	for (std::uint64_t round = 0;; ++round) {
		int k = static_cast<int>(round % functions_per_thread);
		linger_t &l = handles[k];
		if (l.error != LINGER_OK) {
			out.errors++;
			break;
		}
		if ((round & 1023) == 0 && th::now_us() > deadline)
			break;
		if (l.is_complete) {
			work check = jobs[k];
			compute(check); // the same steps, not preempted
			if (check.int_result != jobs[k].int_result || check.sse_result != jobs[k].sse_result ||
			    check.x87_result != jobs[k].x87_result || !jobs[k].errno_kept)
				out.wrong++;
			out.completed++;
			if (th::diff(start, th::stats()).preemptions >= want || th::now_us() > deadline)
				break;
			fresh(jobs[k]);
			l = launch(compute_fn, budget(round), &jobs[k]);
			continue;
		}
		resume(&l, budget(round));
	}
	for (auto &l : handles)
		if (!l.is_complete && l.error == LINGER_OK)
			cancel(&l);
	out.preemptions = th::diff(start, th::stats()).preemptions;
}

} // namespace

TEST_CASE("a storm of 10^6 preemptions at 2-20 us over two threads keeps every result exact",
          "[storm]") {
	thread_report a, b;
	double t0 = th::now_us();
	double give_up_us = 50e6;
	std::thread ta(storm, 1000, target_preemptions / 2, give_up_us, std::ref(a));
	std::thread tb(storm, 5000000, target_preemptions / 2, give_up_us, std::ref(b));
	ta.join();
	tb.join();
	double s = (th::now_us() - t0) / 1e6;
	INFO("preemptions " << a.preemptions << " + " << b.preemptions << " in " << s << " s; completed "
	                    << a.completed << " + " << b.completed << ", wrong " << a.wrong + b.wrong
	                    << ", errors " << a.errors + b.errors);
	CHECK(a.errors + b.errors == 0);
	CHECK(a.wrong + b.wrong == 0);
	CHECK(a.completed > 0);
	CHECK(b.completed > 0);
	// On a machine shared with other work the storm may stop at its 50 s cap before 10^6
	// (CI's two cores reach it in well under that): the results must be exact either way.
	if (s < 49.0)
		CHECK(a.preemptions + b.preemptions >= target_preemptions);
	else
		WARN("stopped at the time cap with " << a.preemptions + b.preemptions << " preemptions");
	CHECK(a.preemptions + b.preemptions >= target_preemptions / 10);
	CHECK(th::stats().live == 0);
}
