// inger-bench — what inger's operations cost, each next to a yardstick measured in the same run.
//
//   inger                                   yardstick
//   -----------------------------------     ------------------------------------------------
//   BM_Launch/{unlimited,budget_1000us}     BM_IndirectCall (a plain call through a pointer)
//   BM_CppLaunch/{unlimited,budget_1000us}  BM_PthreadCreateJoin (an empty thread)
//   BM_PauseResume/{unlimited,...}          BM_BoostFiberRoundTrip (Boost.Context switch there
//                                           and back)
//   (all of the above)                      BM_BareSwitchRoundTrip (libinger's own register
//                                           switch there and back, nothing else: the floor;
//                                           bench_bare_switch.cpp)
//   BM_CancelPaused/batch:{32,256} (ns_per_cancel counter)
//   BM_ResumePreempted/budget_{20,100}us    (informative: a timer signal per iteration)
//   BM_PreemptionOvershoot/budget_100us     (counters: overshoot p50/p99/max in ns)
//
// By default every benchmark runs 5 repetitions of >= 0.2 s and reports only their aggregates
// (mean, median, stddev, cv), so the JSON output (--benchmark_out) holds `<name>_median`
// entries. Whole run: about half a minute. Quick look: --benchmark_repetitions=1.
#include <libinger.h>
#include <inger/inger.hpp>

#include <benchmark/benchmark.h>
#include <boost/context/fiber.hpp>

#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

double ns_between(clock_type::time_point a, clock_type::time_point b) {
	return std::chrono::duration<double, std::nano>(b - a).count();
}

// ---- functions run as preemptible functions ------------------------------------------------

void empty_fn(void *) {}

// Cooperative: yields to its caller forever (cancelled at the end).
void pause_forever(void *) {
	for (;;)
		linger_pause();
}

// Runaway: never returns, never yields; only the timer gets control back.
void spin_forever(void *) {
	volatile std::uint64_t n = 0;
	for (;;)
		n = n + 1;
}

// ---- helpers -----------------------------------------------------------------------------

struct stats_delta {
	struct linger_stats before {};
	stats_delta() { linger_stats(&before); }
	struct linger_stats now() const {
		struct linger_stats after {};
		linger_stats(&after);
		return {after.launches - before.launches,         after.completions - before.completions,
		        after.preemptions - before.preemptions,   after.pauses - before.pauses,
		        after.cancels - before.cancels,           after.timer_arms - before.timer_arms,
		        after.timer_signals - before.timer_signals, after.live,
		        after.deferrals - before.deferrals};
	}
};

double per_iter(std::uint64_t count, const benchmark::State &state) {
	return state.iterations() ? double(count) / double(state.iterations()) : 0.0;
}

bool fail(benchmark::State &state, const char *what, int error) {
	std::string msg = std::string(what) + ": " +
	                  (error != LINGER_OK ? linger_strerror(error) : "did not complete");
	state.SkipWithError(msg.c_str());
	return false;
}

// Runs fn(arg) up to its first pause/preemption; false (and the benchmark skipped) otherwise.
bool launch_suspended(benchmark::State &state, linger_t &l, void (*fn)(void *),
                      std::uint64_t budget_us) {
	l = launch(fn, budget_us, nullptr);
	if (l.error != LINGER_OK)
		return fail(state, "launch", l.error);
	if (l.is_complete) {
		state.SkipWithError("launch: function completed; expected it to be suspended");
		return false;
	}
	return true;
}

double percentile(const std::vector<double> &sorted, double p) {
	if (sorted.empty())
		return 0.0;
	auto rank = static_cast<std::size_t>(std::ceil(p * double(sorted.size())));
	return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

// Watchdog: a runaway function that the timer fails to preempt would hang the run forever
// (a benchmark loop never sees it return). Every benchmark that relies on preemption marks
// itself as in progress; if one call of it takes longer than INGER_BENCH_WATCHDOG_S seconds
// (default 30, 0: off), the run is aborted with a message instead.
std::atomic<const char *> g_phase{nullptr};
std::atomic<std::int64_t> g_phase_start_ns{0};

std::int64_t steady_ns() {
	return std::chrono::duration_cast<std::chrono::nanoseconds>(
	           clock_type::now().time_since_epoch())
	    .count();
}

struct watched {
	explicit watched(const char *name) {
		g_phase_start_ns.store(steady_ns());
		g_phase.store(name);
	}
	~watched() { g_phase.store(nullptr); }
	watched(const watched &) = delete;
	watched &operator=(const watched &) = delete;
};

void start_watchdog() {
	long limit_s = 30;
	if (const char *env = std::getenv("INGER_BENCH_WATCHDOG_S"))
		limit_s = std::strtol(env, nullptr, 10);
	if (limit_s <= 0)
		return;
	std::thread([limit_s] {
		for (;;) {
			std::this_thread::sleep_for(std::chrono::seconds(1));
			const char *phase = g_phase.load();
			if (phase && steady_ns() - g_phase_start_ns.load() > limit_s * 1000000000LL) {
				std::fprintf(stderr,
				             "\ninger-bench: watchdog: %s has not finished after %ld s: a "
				             "function that should have been preempted keeps running (was "
				             "the timer armed?). Aborting.\n",
				             phase, limit_s);
				std::fflush(stderr);
				_exit(3);
			}
		}
	}).detach();
}

// ---- launch to completion ----------------------------------------------------------------

// Yardstick: a call the compiler cannot inline or elide.
void (*volatile g_indirect)(void *) = empty_fn;

void BM_IndirectCall(benchmark::State &state) {
	for (auto _ : state)
		g_indirect(nullptr);
}

// launch() of an empty function that returns within its budget. With a finite budget the
// one-shot timer is armed lazily: only when the idle timer has fired (about once per budget
// period), so timer_arms/iter reads ~0.0002 at 1000 µs, and 0 without a budget.
//
// The budget is wall-clock time: if the thread is descheduled for longer than the budget
// between launch and return (a loaded machine, a VM's vCPU stolen), even an empty function is
// rightly preempted. That is rare and not an error: such a function is finished with
// resume(), and the counter `overran` says how many launches of the run it happened to.
void BM_Launch(benchmark::State &state, std::uint64_t budget_us) {
	stats_delta d;
	std::uint64_t overran = 0;
	for (auto _ : state) {
		linger_t l = launch(empty_fn, budget_us, nullptr);
		if (__builtin_expect(!l.is_complete, 0)) {
			if (l.error == LINGER_OK)
				resume(&l, LINGER_UNLIMITED);
			if (l.error != LINGER_OK || !l.is_complete) {
				fail(state, "launch", l.error);
				break;
			}
			overran++;
		}
		benchmark::DoNotOptimize(l);
	}
	state.counters["timer_arms/iter"] = per_iter(d.now().timer_arms, state);
	if (budget_us != LINGER_UNLIMITED)
		state.counters["overran"] = double(overran);
}

// The C++ API: inger::launch of a lambda returning int, to completion, then get().
// (A launch that overran its wall-clock budget is finished with resume(); see BM_Launch.)
template <class Budget>
void BM_CppLaunch(benchmark::State &state, Budget budget) {
	int x = 42;
	std::uint64_t overran = 0;
	try {
		for (auto _ : state) {
			auto f = inger::launch([&x] { return x + 1; }, budget);
			if (__builtin_expect(!f.done(), 0)) {
				f.resume(inger::unlimited);
				overran++;
			}
			benchmark::DoNotOptimize(f.get());
		}
	} catch (const std::exception &e) {
		state.SkipWithError(e.what());
	}
	if (budget != inger::unlimited)
		state.counters["overran"] = double(overran);
}

// Yardstick: the cost of running something "elsewhere" with a kernel thread.
void *empty_thread(void *) { return nullptr; }

void BM_PthreadCreateJoin(benchmark::State &state) {
	for (auto _ : state) {
		pthread_t t;
		if (pthread_create(&t, nullptr, empty_thread, nullptr) != 0) {
			state.SkipWithError("pthread_create failed");
			break;
		}
		pthread_join(t, nullptr);
	}
}

// ---- cooperative switching ---------------------------------------------------------------

// One iteration = resume() into a function + its linger_pause() back.
void BM_PauseResume(benchmark::State &state, std::uint64_t budget_us) {
	linger_t l;
	if (!launch_suspended(state, l, pause_forever, budget_us))
		return;
	stats_delta d;
	for (auto _ : state) {
		resume(&l, budget_us);
		if (l.error != LINGER_OK || l.is_complete) {
			fail(state, "resume", l.error);
			break;
		}
	}
	state.counters["timer_arms/iter"] = per_iter(d.now().timer_arms, state);
	cancel(&l);
}

// Yardstick: a Boost.Context fiber that switches straight back; one iteration = one resume
// round trip (two context switches), the same work as BM_PauseResume.
void BM_BoostFiberRoundTrip(benchmark::State &state) {
	namespace ctx = boost::context;
	ctx::fiber f{[](ctx::fiber &&back) {
		for (;;)
			back = std::move(back).resume();
		return std::move(back);
	}};
	f = std::move(f).resume(); // enter once, outside the timed loop
	for (auto _ : state)
		f = std::move(f).resume();
	// f's destructor unwinds the fiber's stack.
}

} // namespace

// Yardstick: libinger's bare register switch there and back (bench_bare_switch.cpp).
void BM_BareSwitchRoundTrip(benchmark::State &state);

namespace {

// ---- cancel ------------------------------------------------------------------------------

// Batch: launch N functions that pause (untimed, between PauseTiming/ResumeTiming), then
// time cancelling all N. The time column is per batch; ns_per_cancel is the per-cancel figure.
// batch:32 fits the runtime's per-thread stack cache (64 stacks), so it shows the steady-state
// cost; at batch:256 most cancels find the cache full and munmap the stack (as most launches
// mmap one), which is what a burst of many live functions costs.
void BM_CancelPaused(benchmark::State &state) {
	const auto kBatch = static_cast<std::size_t>(state.range(0));
	std::vector<linger_t> handles(kBatch);
	double cancel_ns = 0;
	for (auto _ : state) {
		state.PauseTiming();
		std::size_t n = 0;
		while (n < kBatch && launch_suspended(state, handles[n], pause_forever, LINGER_UNLIMITED))
			n++;
		state.ResumeTiming();
		auto t0 = clock_type::now();
		for (std::size_t i = 0; i < n; i++)
			cancel(&handles[i]);
		auto t1 = clock_type::now();
		cancel_ns += ns_between(t0, t1);
		if (n < kBatch) // launch failed (benchmark already skipped)
			return;
		for (auto &l : handles)
			if (l.error != LINGER_OK) {
				fail(state, "cancel", l.error);
				return;
			}
	}
	state.SetItemsProcessed(state.iterations() * std::int64_t(kBatch));
	state.counters["ns_per_cancel"] =
	    state.iterations() ? cancel_ns / double(state.iterations() * kBatch) : 0.0;
}

// ---- preemption --------------------------------------------------------------------------

// Informative: resume() of a function that the timer preempts every time. One iteration =
// the budget of spinning + the signal + the switch back. overhead_ns = mean iteration time
// minus the budget; preemptions/iter should read 1. A 20 µs budget is below the timer lead
// the runtime adapts to signal latency (about 25 µs on a VM): the timer is then set for a
// moment already past and the handler waits out the deadline. (An early libinger lost the
// timer in that case and resume() never returned: the watchdog turns such a hang into an
// abort.)
void BM_ResumePreempted(benchmark::State &state, std::uint64_t budget_us) {
	watched w("BM_ResumePreempted");
	linger_t l;
	if (!launch_suspended(state, l, spin_forever, budget_us))
		return;
	stats_delta d;
	auto t0 = clock_type::now();
	for (auto _ : state) {
		resume(&l, budget_us);
		if (l.error != LINGER_OK || l.is_complete) {
			fail(state, "resume", l.error);
			break;
		}
	}
	auto t1 = clock_type::now();
	struct linger_stats s = d.now();
	if (state.iterations())
		state.counters["overhead_ns"] =
		    ns_between(t0, t1) / double(state.iterations()) - double(budget_us) * 1000.0;
	state.counters["preemptions/iter"] = per_iter(s.preemptions, state);
	cancel(&l);
}

// How late preemption comes: each iteration launches a spinning function with a 100 µs
// budget and records (launch's wall time − budget). Manual time = launch's wall time; the
// cancel after each sample is not timed. Run with a fixed 2000 samples per repetition.
void BM_PreemptionOvershoot(benchmark::State &state, std::uint64_t budget_us) {
	watched w("BM_PreemptionOvershoot");
	std::vector<double> overshoot;
	overshoot.reserve(std::size_t(state.max_iterations));
	for (auto _ : state) {
		auto t0 = clock_type::now();
		linger_t l = launch(spin_forever, budget_us, nullptr);
		auto t1 = clock_type::now();
		if (l.error != LINGER_OK || l.is_complete) {
			fail(state, "launch", l.error);
			break;
		}
		double ns = ns_between(t0, t1);
		state.SetIterationTime(ns * 1e-9);
		overshoot.push_back(ns - double(budget_us) * 1000.0);
		cancel(&l);
		if (l.error != LINGER_OK) {
			fail(state, "cancel", l.error);
			break;
		}
	}
	std::sort(overshoot.begin(), overshoot.end());
	state.counters["overshoot_p50_ns"] = percentile(overshoot, 0.50);
	state.counters["overshoot_p99_ns"] = percentile(overshoot, 0.99);
	state.counters["overshoot_max_ns"] = overshoot.empty() ? 0.0 : overshoot.back();
}

// ---- registration ------------------------------------------------------------------------

// Repetitions, aggregates-only reporting and the minimum time per repetition are set as
// default command-line flags in main() (so the names stay clean: BM_Launch/unlimited_median);
// flags given on the command line override them.
BENCHMARK(BM_IndirectCall);
BENCHMARK_CAPTURE(BM_Launch, unlimited, LINGER_UNLIMITED);
BENCHMARK_CAPTURE(BM_Launch, budget_1000us, 1000);
BENCHMARK_CAPTURE(BM_CppLaunch, unlimited, inger::unlimited);
BENCHMARK_CAPTURE(BM_CppLaunch, budget_1000us, std::chrono::microseconds(1000));
BENCHMARK(BM_PthreadCreateJoin)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_PauseResume, unlimited, LINGER_UNLIMITED);
BENCHMARK_CAPTURE(BM_PauseResume, budget_1000us, 1000);
BENCHMARK(BM_BoostFiberRoundTrip);
BENCHMARK(BM_BareSwitchRoundTrip);
BENCHMARK(BM_CancelPaused)->ArgName("batch")->Arg(32)->Arg(256)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_ResumePreempted, budget_20us, 20)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_ResumePreempted, budget_100us, 100)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_PreemptionOvershoot, budget_100us, 100)
    ->Iterations(2000)
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);

} // namespace

int main(int argc, char **argv) {
	// Defaults first, so that the user's own flags (parsed later) win.
	std::vector<char *> args{argv[0]};
	char repetitions[] = "--benchmark_repetitions=5";
	char aggregates[] = "--benchmark_report_aggregates_only=true";
	char min_time[] = "--benchmark_min_time=0.2"; // per repetition: whole run well under 60 s
	args.insert(args.end(), {repetitions, aggregates, min_time});
	args.insert(args.end(), argv + 1, argv + argc);
	int nargs = int(args.size());
	args.push_back(nullptr);
	benchmark::Initialize(&nargs, args.data());
	if (benchmark::ReportUnrecognizedArguments(nargs, args.data()))
		return 1;
	int sig = linger_signal();
	benchmark::AddCustomContext("inger_signal", sig >= SIGRTMIN && sig <= SIGRTMAX
	                                                ? "SIGRTMAX-" + std::to_string(SIGRTMAX - sig)
	                                                : std::to_string(sig));
	benchmark::AddCustomContext("inger_stack_size", std::to_string(linger_stack_size()));
	start_watchdog();
	benchmark::RunSpecifiedBenchmarks();
	benchmark::Shutdown();

	struct linger_stats s {};
	linger_stats(&s);
	if (s.live != 0) {
		std::fprintf(stderr, "inger-bench: %llu preemptible functions left live\n",
		             (unsigned long long)s.live);
		return 1;
	}
	return 0;
}
