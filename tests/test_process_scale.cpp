// Scale: 10^5 processes (10^4 under ASan) spawned, messaged and terminated without leaks.
#include "helpers.hpp"

#include <turquoise/async/testing.hpp>
#include <turquoise/process/dispatch.hpp>
#include <turquoise/process/process.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <vector>

using namespace turquoise;
using namespace std::chrono_literals;

namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr int total = 10000;
#else
constexpr int total = 100000;
#endif
constexpr int waves = 10;

std::atomic<int> alive{0};

class Tiny : public Process<Tiny> {
public:
	Tiny() { alive++; }
	~Tiny() override { alive--; }
	int value = 0;
	int set(int v) { return value = v; }

protected:
	void initialize() override { value = 1; }
};

// Spawn `n` managed processes, message each once, terminate all and wait for all.
void wave(int n) {
	std::vector<PID<Tiny>> pids;
	std::vector<Future<int>> replies;
	pids.reserve(n);
	replies.reserve(n);
	for (int i = 0; i < n; ++i)
		pids.push_back(spawn(new Tiny(), true));
	for (int i = 0; i < n; ++i)
		replies.push_back(dispatch(pids[i], &Tiny::set, i));
	for (auto &pid : pids)
		terminate(pid, false);
	for (auto &pid : pids)
		wait(pid, 60s);
	int ok = 0;
	for (int i = 0; i < n; ++i)
		ok += replies[i].isReady() && replies[i].get() == i;
	REQUIRE(ok == n);
}

} // namespace

TEST_CASE("10^5 processes are spawned and terminated without leaking") {
	auto start = ProcessManager::stats();
	const int per_wave = total / waves;
	wave(per_wave); // warm-up: pool threads, stacks, allocator arenas
	wave(per_wave);
	std::size_t rss_warm = th::rss_bytes();
	for (int w = 2; w < waves; ++w)
		wave(per_wave);
	std::size_t rss_end = th::rss_bytes();
	auto end = ProcessManager::stats();
	CHECK(ProcessManager::live() == 0);
	CHECK(end.live == 0);
	CHECK(alive == 0);
	CHECK(end.spawned - start.spawned == static_cast<std::uint64_t>(total));
	CHECK(end.terminated - start.terminated == static_cast<std::uint64_t>(total));
	CHECK(end.messages - start.messages == static_cast<std::uint64_t>(total));
	CHECK(end.dropped == start.dropped);
	// Flat-ish: eight more waves do not grow the resident set by more than 16 MiB. (Under
	// ASan freed memory sits in its quarantine, so RSS grows anyway: LeakSanitizer checks
	// for leaks at exit instead.)
	std::printf("rss after warm-up %zu KiB, after %d processes %zu KiB\n", rss_warm / 1024, total,
	            rss_end / 1024);
	if (!th::sanitized)
		CHECK(rss_end < rss_warm + (16u << 20));
}

TEST_CASE("10^4 processes live at once, the live count returns to 0") {
	static constexpr int n = total / 10;
	std::vector<std::unique_ptr<Tiny>> ps;
	std::vector<PID<Tiny>> pids;
	auto live_before = ProcessManager::live();
	for (int i = 0; i < n; ++i) {
		ps.push_back(std::make_unique<Tiny>());
		pids.push_back(spawn(*ps.back()));
	}
	CHECK(ProcessManager::live() == live_before + n);
	// Ring: each process forwards a token to the next one (dispatch from inside handlers).
	std::atomic<int> hops{0};
	Promise<Nothing> done;
	std::function<void(int)> hop = [&](int i) {
		if (++hops == n) {
			done.set(Nothing());
			return;
		}
		dispatch(pids[(i + 1) % n], [&hop, i] { hop((i + 1) % n); });
	};
	dispatch(pids[0], [&hop] { hop(0); });
	AWAIT_READY_FOR(done.future(), 60s);
	CHECK(hops == n);
	for (auto &pid : pids)
		terminate(pid);
	for (auto &pid : pids)
		REQUIRE(wait(pid, 60s));
	CHECK(ProcessManager::live() == live_before);
	ps.clear();
	CHECK(alive == 0);
}
