// compose.cpp — composing futures, after libprocess's seed example:
//
//   collect(async(doA), async(doB)).then(doC).after(2s, discard-and-fail)
//
// doA and doB run as tasks of the runtime's pool (async()), collect() waits for both, doC
// combines their values, and a single 2 s timeout on the result discards the whole chain and
// fails it instead.
//
// Run 1: doA and doB finish quickly: prints the combined result.
// Run 2: doB hangs (it spins until someone discards it). The timeout fires after 2 s: the
//        result fails with the timeout's message, and the discard travels up the chain
//        (then -> collect -> doB's future), where doB honours it and stops spinning. The pool
//        is preemptive, so the spinning task never held a worker for more than a quantum.
//
// Exits 0 when both runs behave as described, 1 otherwise. Runs in about 2 s.
#include <turquoise/async/async.hpp>
#include <turquoise/pool.hpp>
#include <turquoise/process/dispatch.hpp>
#include <turquoise/process/process.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <tuple>

using namespace turquoise;
using namespace std::chrono_literals;

namespace {

constexpr auto kTimeout = 2s;

int doA() {
	int sum = 0;
	for (int i = 1; i <= 100; ++i)
		sum += i;
	return sum; // 5050
}

std::string doB() { return "bee"; }

std::string doC(const std::tuple<int, std::string> &ab) {
	return "A=" + std::to_string(std::get<0>(ab)) + ", B=" + std::get<1>(ab);
}

// The composition; `b` is doB's future, whatever doB is.
Future<std::string> compose(const Future<std::string> &b) {
	return collect(turquoise::async(doA), b)
	    .then(doC)
	    .after(kTimeout, [](const Future<std::string> &result) -> Future<std::string> {
		    result.discard(); // give up on the chain: the discard reaches doA's and doB's futures
		    return Failure("timed out after 2 s");
	    });
}

bool run_fast() {
	std::puts("run 1: doA and doB finish quickly");
	auto start = std::chrono::steady_clock::now();
	Future<std::string> result = compose(turquoise::async(doB));
	if (!result.await(kTimeout + 3s)) {
		std::puts("  FAIL: no result");
		return false;
	}
	auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
	if (!result.isReady()) {
		std::printf("  FAIL: %s\n", result.isFailed() ? result.failure().c_str() : "discarded");
		return false;
	}
	std::printf("  result: %s (after %lld ms)\n", result.get().c_str(), static_cast<long long>(ms.count()));
	if (result.get() != "A=5050, B=bee") {
		std::puts("  FAIL: unexpected result");
		return false;
	}
	return true;
}

bool run_hanging() {
	std::puts("run 2: doB hangs; the 2 s timeout fires");
	auto stop = std::make_shared<std::atomic<bool>>(false);
	auto spins = std::make_shared<std::atomic<long>>(0);
	// doB: spins until its future is discarded (preemptible: the pool keeps serving others).
	Future<std::string> b = turquoise::async([stop, spins]() -> std::string {
		while (!stop->load(std::memory_order_relaxed))
			spins->fetch_add(1, std::memory_order_relaxed);
		throw FutureDiscarded(); // honour the discard: doB's future becomes discarded
	});
	b.onDiscard([stop] { stop->store(true); }); // a discard request reaches doB

	auto start = std::chrono::steady_clock::now();
	Future<std::string> result = compose(b);
	if (!result.await(kTimeout + 3s)) {
		std::puts("  FAIL: the timeout did not fire");
		stop->store(true);
		return false;
	}
	auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
	bool ok = true;
	if (result.isFailed()) {
		std::printf("  failed: %s (after %lld ms)\n", result.failure().c_str(), static_cast<long long>(ms.count()));
		if (result.failure() != "timed out after 2 s") {
			std::puts("  FAIL: unexpected failure message");
			ok = false;
		}
	} else {
		std::printf("  FAIL: expected a failure, got %s\n", result.isReady() ? result.get().c_str() : "a discard");
		ok = false;
	}
	if (ms < kTimeout - 50ms) {
		std::puts("  FAIL: the timeout fired early");
		ok = false;
	}
	// The discard travelled up to doB, which stopped spinning.
	if (!b.await(3s) || !b.isDiscarded()) {
		std::puts("  FAIL: doB was not discarded");
		stop->store(true);
		b.await(3s);
		ok = false;
	} else {
		std::printf("  doB saw the discard and stopped (after %ld spins)\n", spins->load());
	}
	return ok;
}

} // namespace

int main() {
	pool workers(pool_options{.workers = 2});
	bool ok;
	{
		runtime_scope scope(workers); // async() runs on `workers`
		ok = run_fast();
		ok = run_hanging() && ok;
	}
	std::puts(ok ? "compose: OK" : "compose: FAILED");
	return ok ? 0 : 1;
}
