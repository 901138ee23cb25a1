// bench_remote.hpp — what the two halves of turquoise-remote-vs-caf share: the workload's
// sizes, the flag a runtime thread raises for the benchmark thread, and each half's entry points.
#ifndef BENCH_REMOTE_HPP
#define BENCH_REMOTE_HPP

#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <climits>
#include <ctime>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cstddef>
#include <cstdint>
#include <string>

namespace remotebench {

constexpr int kRoundTrips = 200;          // roundtrip: round trips per iteration
constexpr std::size_t kSmall = 64;        // bytes: the round trip's and the small one-way payload
constexpr std::size_t kLarge = 64 * 1024; // bytes: the large one-way payload
// One-way: messages per iteration (a burst, then a flush the peer answers). A burst stays
// under 64 MiB, turquoise's default limit of output queued for one address
// (network_options::max_queued_bytes; beyond it messages are dropped, as documented).
constexpr int batch_for(std::size_t payload) { return payload <= 1024 ? 20000 : 500; }

// A one-shot flag a runtime thread raises and the benchmark thread waits for, with the
// outcome. A futex word: raising it is a store and a wake-up system call, safe from
// preemptible pool tasks; waiting gives up after kPatience (a lost message must not hang the
// benchmark).
constexpr std::chrono::seconds kPatience{30};
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
		syscall(SYS_futex, &flag_, FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0);
	}
	// The outcome; false also when nothing was signalled within kPatience.
	bool wait() {
		const auto deadline = std::chrono::steady_clock::now() + kPatience;
		while (flag_.load(std::memory_order_acquire) == 0) {
			const auto left = deadline - std::chrono::steady_clock::now();
			if (left <= std::chrono::nanoseconds(0))
				return false;
			const auto s = std::chrono::duration_cast<std::chrono::seconds>(left);
			timespec timeout{static_cast<time_t>(s.count()),
			                 static_cast<long>(std::chrono::duration_cast<std::chrono::nanoseconds>(left - s).count())};
			syscall(SYS_futex, &flag_, FUTEX_WAIT_PRIVATE, 0, &timeout, nullptr, 0);
		}
		return ok_.load(std::memory_order_relaxed);
	}

private:
	std::atomic<std::uint32_t> flag_{0};
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
