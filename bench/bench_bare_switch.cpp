// bench_bare_switch.cpp — the floor under launch and resume: a bare register-switch round trip.
//
// libinger's own switch routine (libinger/switch_x86_64.S, compiled into inger-bench) between
// the benchmark loop and a context that switches straight back: callee-saved registers, MXCSR
// and x87 control word, stack pointer; no timer, no libset, no thread state, no errno. Launch
// and resume costs are read as ratios to it, measured in the same run (bench/switch_ratios.py
// prints them from the JSON output; ./dev bench runs it).
#include "libinger/context.hpp"

#include <benchmark/benchmark.h>

#include <cstddef>
#include <memory>

namespace {

// The two contexts of the round trip, each saved while the other runs.
struct bare_pair {
	void *loop = nullptr;   // the benchmark loop
	void *bounce = nullptr; // the context that switches straight back
};

} // namespace

// inger_entry (switch_x86_64.S) calls inger_function_main on a new context's first run, with
// the record initial_context() laid out for it. In libinger.so (where it is hidden) it runs the
// preemptible function; in this binary the new context only bounces back, forever.
extern "C" [[noreturn]] void inger_function_main(void *record) {
	auto *pair = static_cast<bare_pair *>(record);
	for (;;)
		inger_switch(&pair->bounce, pair->loop);
}

// One iteration = switch to the bouncing context and back: two inger_switch calls, the same
// count as a resume + linger_pause round trip (BM_PauseResume) or a Boost.Context
// resume round trip (BM_BoostFiberRoundTrip).
void BM_BareSwitchRoundTrip(benchmark::State &state) {
	constexpr std::size_t stack_size = 64 * 1024;
	auto stack = std::make_unique<char[]>(stack_size);
	bare_pair pair;
	pair.bounce = inger::detail::initial_context(stack.get() + stack_size, &pair);
	inger_switch(&pair.loop, pair.bounce); // first entry (inger_entry), outside the timed loop
	for (auto _ : state)
		inger_switch(&pair.loop, pair.bounce);
	// The bouncing context is left switched out: nothing on its stack needs destroying.
}
