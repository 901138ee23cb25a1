// future-bench: what a Future costs on its own, outside any pool (one thread, no contention).
// The actor layer makes a future per dispatch (usually dropped unused) and one per then()
// continuation, so these are per-message costs.
//   ./dev bench   (runs inger-bench, gotcha-bench, then this; JSON in
//                  build-release/bench-future.json)
// Every benchmark reports sizeof(detail::state<int>) as the counter state_bytes.
#include <benchmark/benchmark.h>

#include <turquoise/async/future.hpp>

namespace {

using turquoise::Future;
using turquoise::Promise;

constexpr int kChain = 10; // then() continuations per chain

void report_size(benchmark::State &state) {
	state.counters["state_bytes"] = sizeof(turquoise::detail::state<int>);
}

// The dispatch pattern: a promise and its future, completed, then both dropped unused.
void BM_MakeSetDrop(benchmark::State &state) {
	for (auto _ : state) {
		Promise<int> p;
		Future<int> f = p.future();
		benchmark::DoNotOptimize(p.set(1));
	}
	report_size(state);
}
BENCHMARK(BM_MakeSetDrop);

// A promise dropped while pending: the future is abandoned.
void BM_MakeAbandon(benchmark::State &state) {
	for (auto _ : state) {
		Future<int> f;
		{
			Promise<int> p;
			f = p.future();
		}
		benchmark::DoNotOptimize(f.isAbandoned());
	}
	report_size(state);
}
BENCHMARK(BM_MakeAbandon);

// One onAny callback registered on a pending future, run by set().
void BM_SetWithOnAny(benchmark::State &state) {
	int sum = 0;
	for (auto _ : state) {
		Promise<int> p;
		p.future().onAny([&sum](const Future<int> &f) { sum += f.get(); });
		p.set(1);
	}
	benchmark::DoNotOptimize(sum);
	report_size(state);
}
BENCHMARK(BM_SetWithOnAny);

// kChain then() continuations on a pending future, which is completed afterwards.
void BM_ThenChainPending(benchmark::State &state) {
	for (auto _ : state) {
		Promise<int> p;
		Future<int> f = p.future();
		for (int i = 0; i < kChain; i++)
			f = f.then([](int x) { return x + 1; });
		p.set(0);
		benchmark::DoNotOptimize(f.get());
	}
	state.SetItemsProcessed(state.iterations() * kChain);
	report_size(state);
}
BENCHMARK(BM_ThenChainPending);

// kChain then() continuations on a ready future: each runs at once.
void BM_ThenChainReady(benchmark::State &state) {
	for (auto _ : state) {
		Future<int> f(0);
		for (int i = 0; i < kChain; i++)
			f = f.then([](int x) { return x + 1; });
		benchmark::DoNotOptimize(f.get());
	}
	state.SetItemsProcessed(state.iterations() * kChain);
	report_size(state);
}
BENCHMARK(BM_ThenChainReady);

} // namespace

BENCHMARK_MAIN();
