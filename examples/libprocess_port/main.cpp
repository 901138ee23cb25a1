// main.cpp — drives the ported word-count service (word_count.hpp) the way libprocess tests
// drive a process: a paused Clock, advance() past the flush interval, settle().
//
// Checks: counts become visible only after a flush; a flush happens once per interval of
// Clock time; collect() over several dispatches; a count() with an after() timeout; the
// service's metric. Exits 0 when every check holds, 1 otherwise (a CTest test).
#include "word_count.hpp"

#include <turquoise/async/async.hpp>
#include <turquoise/metrics/metrics.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

using process::Clock;
using process::Failure;
using namespace std::chrono_literals;

namespace {

int failures = 0;

void check(bool ok, const char *what) {
	std::printf("%s: %s\n", ok ? "ok  " : "FAIL", what);
	failures += !ok;
}

} // namespace

int main() {
	process::initialize();
	Clock::pause();
	{
		WordCount wc(10s);

		std::vector<Future<Nothing>> adds;
		adds.push_back(wc.add("the quick brown fox"));
		adds.push_back(wc.add("jumps over the lazy dog"));
		adds.push_back(wc.add("the end"));
		Future<std::vector<Nothing>> all = process::collect(adds);
		check(all.await(10s) && all.isReady(), "collect() of three adds is ready");

		check(wc.count("the").get() == 0, "nothing counted before the first flush");

		Clock::advance(10s);
		Clock::settle(); // the flush (a delay()ed dispatch and its loop) has run
		check(wc.count("the").get() == 3, "'the' counted 3 times after a flush");
		check(wc.count("fox").get() == 1, "'fox' counted once");
		check(wc.flushes().get() == 1, "one flush per interval");

		wc.add("the fox again").await(10s);
		Clock::advance(10s);
		Clock::settle();
		check(wc.count("the").get() == 4 && wc.count("fox").get() == 2, "a second flush adds up");
		check(wc.flushes().get() == 2, "two flushes after two intervals");

		// A caller with a deadline, libprocess style (Clock time: advanced explicitly).
		Future<std::size_t> bounded = wc.count("again").after(1s, [](Future<std::size_t> f) {
			f.discard();
			return Future<std::size_t>(Failure("timed out"));
		});
		check(bounded.await(10s) && bounded.isReady() && bounded.get() == 1, "count() within its deadline");

		auto values = process::metrics::snapshot(process::None());
		check(values.await(10s) && values.isReady() && values.get().at("word_count/words") == 14,
		      "metric word_count/words == 14");
	} // ~WordCount terminates and waits for the process
	Clock::resume();
	process::finalize();
	std::printf("%s\n", failures == 0 ? "all checks passed" : "some checks FAILED");
	return failures == 0 ? 0 : 1;
}
