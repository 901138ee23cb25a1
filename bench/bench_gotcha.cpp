// gotcha-bench: what libgotcha's relinking costs. One binary, one run, registration order
// matters: the first benchmark runs before libgotcha has rewritten anything (no launch yet),
// the others after gotcha_init().
//   ./dev bench   (runs inger-bench, then this; JSON in build-release/bench-gotcha.json)
#include <benchmark/benchmark.h>

#include <libgotcha.h>
#include <libinger.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <unistd.h>
#include <vector>

extern char **environ;

namespace {

const char *volatile text = "libgotcha";

// The same PLT call site before and after relinking: strlen goes through the program's GOT.
__attribute__((noinline)) std::size_t plt_call() { return std::strlen(text); }

void BM_PltCall_WithoutLibgotcha(benchmark::State &state) {
	gotcha_info info{};
	gotcha_get_info(&info);
	if (info.slots != 0) {
		state.SkipWithError("libgotcha already initialized: this benchmark must run first");
		return;
	}
	for (auto _ : state)
		benchmark::DoNotOptimize(plt_call());
}
BENCHMARK(BM_PltCall_WithoutLibgotcha);

void BM_PltCall_WithLibgotcha(benchmark::State &state) {
	if (gotcha_init() != 0) {
		state.SkipWithError("libgotcha unavailable");
		return;
	}
	for (auto _ : state)
		benchmark::DoNotOptimize(plt_call());
}
BENCHMARK(BM_PltCall_WithLibgotcha);

// The benchmarks after the first need the libsets (and still run if filtered alone).
bool libsets_ready(benchmark::State &state) {
	if (gotcha_init() == 0)
		return true;
	state.SkipWithError("libgotcha unavailable");
	return false;
}

// Run a benchmark loop inside a preemptible function: against its own libset.
template <void (*Body)(benchmark::State &)>
void in_function(benchmark::State &state) {
	linger_t l = launch([](void *s) { Body(*static_cast<benchmark::State *>(s)); }, LINGER_UNLIMITED,
	                    &state);
	if (!l.is_complete)
		state.SkipWithError("the function did not complete");
}

void plt_call_loop(benchmark::State &state) {
	for (auto _ : state)
		benchmark::DoNotOptimize(plt_call());
}
void BM_PltCall_InsideLibset(benchmark::State &state) { in_function<plt_call_loop>(state); }
BENCHMARK(BM_PltCall_InsideLibset);

// Shared calls: malloc+free go to the one heap, in a critical section.
void malloc_free_loop(benchmark::State &state) {
	for (auto _ : state) {
		void *p = std::malloc(64);
		benchmark::DoNotOptimize(p);
		std::free(p);
	}
}
void BM_SharedCall_MallocFree_Caller(benchmark::State &state) { malloc_free_loop(state); }
BENCHMARK(BM_SharedCall_MallocFree_Caller);
void BM_SharedCall_MallocFree_InsideLibset(benchmark::State &state) {
	in_function<malloc_free_loop>(state);
}
BENCHMARK(BM_SharedCall_MallocFree_InsideLibset);

// Exported globals (copy-relocated into the program): a plain load, in any libset.
void global_loop(benchmark::State &state) {
	for (auto _ : state) {
		FILE *out = stdout;
		char **env = environ;
		benchmark::DoNotOptimize(out);
		benchmark::DoNotOptimize(env);
	}
}
void BM_ExportedGlobal_InsideLibset(benchmark::State &state) { in_function<global_loop>(state); }
BENCHMARK(BM_ExportedGlobal_InsideLibset);

// Switching a thread into a libset and back (what every launch, resume and preemption adds).
void BM_LibsetSwitch_RoundTrip(benchmark::State &state) {
	if (!libsets_ready(state))
		return;
	gotcha_libset_t *ls = gotcha_libset_acquire();
	if (!ls) {
		state.SkipWithError("no libset");
		return;
	}
	for (auto _ : state) {
		gotcha_libset_switch(nullptr, ls);
		gotcha_libset_switch(ls, nullptr);
	}
	gotcha_libset_release(ls, 1);
}
BENCHMARK(BM_LibsetSwitch_RoundTrip);

// Two libsets bound to the same slot, run alternately: each switch pages the other's state
// out and this one's in (what resuming more paused functions than slots costs).
void BM_LibsetSwitch_Paging(benchmark::State &state) {
	if (!libsets_ready(state))
		return;
	gotcha_info info{};
	gotcha_get_info(&info);
	gotcha_libset_t *a = gotcha_libset_acquire();
	gotcha_libset_t *b = nullptr;
	std::vector<gotcha_libset_t *> others;
	// Acquire until one shares a's slot (slots are handed out round-robin).
	for (std::size_t i = 0; a && i < info.slots; i++)
		others.push_back(gotcha_libset_acquire());
	b = others.empty() ? nullptr : others.back();
	if (!a || !b) {
		state.SkipWithError("no libsets");
		return;
	}
	// Make both hold state of their own (after this, every switch swaps).
	gotcha_libset_switch(nullptr, a);
	gotcha_libset_switch(a, b);
	gotcha_libset_switch(b, nullptr);
	gotcha_info before{};
	gotcha_get_info(&before);
	for (auto _ : state) {
		gotcha_libset_switch(nullptr, a);
		gotcha_libset_switch(a, b);
		gotcha_libset_switch(b, nullptr);
	}
	gotcha_info after{};
	gotcha_get_info(&after);
	state.counters["swaps_per_iteration"] =
	    static_cast<double>(after.swaps - before.swaps) / static_cast<double>(state.iterations());
	state.counters["state_bytes"] = static_cast<double>(info.state_bytes);
	for (gotcha_libset_t *o : others)
		gotcha_libset_release(o, 1);
	gotcha_libset_release(a, 1);
}
BENCHMARK(BM_LibsetSwitch_Paging)->Unit(benchmark::kMicrosecond);

// Recycling: a libset whose function completed is reused as is; a cancelled one's slot is
// reset to its start-up state before the next use.
void recycle_loop(benchmark::State &state, int completed) {
	if (!libsets_ready(state))
		return;
	for (auto _ : state) {
		gotcha_libset_t *ls = gotcha_libset_acquire();
		gotcha_libset_switch(nullptr, ls);
		gotcha_libset_switch(ls, nullptr);
		gotcha_libset_release(ls, completed);
	}
}
void BM_LibsetRecycle_Completed(benchmark::State &state) { recycle_loop(state, 1); }
BENCHMARK(BM_LibsetRecycle_Completed);
void BM_LibsetRecycle_Cancelled(benchmark::State &state) { recycle_loop(state, 0); }
BENCHMARK(BM_LibsetRecycle_Cancelled)->Unit(benchmark::kMicrosecond);

// The whole picture: launching an empty function now includes acquiring a libset.
void BM_LaunchEmpty(benchmark::State &state) {
	for (auto _ : state) {
		linger_t l = launch([](void *) {}, LINGER_UNLIMITED, nullptr);
		benchmark::DoNotOptimize(l);
	}
}
BENCHMARK(BM_LaunchEmpty);

} // namespace

BENCHMARK_MAIN();
