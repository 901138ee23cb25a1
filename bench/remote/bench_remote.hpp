// bench_remote.hpp — what the two halves of turquoise-remote-vs-caf share: the workload's
// sizes, the flag a runtime thread raises for the benchmark thread, and each half's entry points.
#ifndef BENCH_REMOTE_HPP
#define BENCH_REMOTE_HPP

#include <benchmark/benchmark.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

namespace remotebench {

constexpr int kRoundTrips = 200;          // roundtrip: round trips per iteration
constexpr std::size_t kSmall = 64;        // bytes: the round trip's and the small one-way payload
constexpr std::size_t kLarge = 64 * 1024; // bytes: the large one-way payload
// One-way: messages per iteration (a burst, then a flush the peer answers).
constexpr int batch_for(std::size_t payload) { return payload <= 1024 ? 20000 : 1000; }

// A one-shot flag a runtime thread raises and the benchmark thread waits for (a futex wake on
// the raising side, so it is safe from preemptible pool tasks), with the outcome.
class Done {
public:
	void reset() {
		ok_.store(true, std::memory_order_relaxed);
		flag_.store(0, std::memory_order_relaxed);
	}
	void signal(bool ok) {
		if (!ok)
			ok_.store(false, std::memory_order_relaxed);
		flag_.store(1, std::memory_order_release);
		flag_.notify_all();
	}
	bool wait() {
		while (flag_.load(std::memory_order_acquire) == 0)
			flag_.wait(0, std::memory_order_acquire);
		return ok_.load(std::memory_order_relaxed);
	}

private:
	std::atomic<unsigned> flag_{0};
	std::atomic<bool> ok_{true};
};

// The benchmarks of each half. `peer` is where that half's peer listens: "host:port" for CAF
// (remote-bench-caf-peer), a UPID "id@ip:port" for turquoise (inger-pong / remote-bench-peer).
namespace caf_half {
void roundtrip(benchmark::State &state, std::string peer);
void oneway(benchmark::State &state, std::string peer, std::size_t payload);
} // namespace caf_half
namespace turquoise_half {
void roundtrip(benchmark::State &state, std::string peer);
void oneway(benchmark::State &state, std::string peer, std::size_t payload);
} // namespace turquoise_half

} // namespace remotebench

#endif
