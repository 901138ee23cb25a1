// bench_remote.cpp — turquoise-remote-vs-caf: remote messages between two OS processes over
// loopback, turquoise's remote processes (the libprocess wire) against CAF 0.17's middleman.
//
//   turquoise-remote-vs-caf [--turquoise=ID@IP:PORT] [--caf=HOST:PORT] [Google Benchmark flags]
//
// The peers are other OS processes, started beforehand (bench/remote/run.sh starts them):
// --turquoise names a remote-bench-peer, --caf a remote-bench-caf-peer. A half whose peer is not
// given is not registered. Every benchmark exists once per half, "<name>/turquoise" and
// "<name>/caf" (run.sh pairs them up):
//
//   roundtrip_64     request/response round trips, 64-byte body, one at a time
//   oneway_64        one sender's burst of one-way 64-byte messages, then a flush
//   oneway_65536     the same with 64 KiB messages
//
// What each half does is in turquoise_half.cpp and caf_half.cpp. Both client runtimes get 2
// workers, as the peers do. Times are wall-clock (UseRealTime): the work happens on the
// runtimes' threads and in the peer.
#include "bench_remote.hpp"

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

using namespace remotebench;

benchmark::internal::Benchmark *common(benchmark::internal::Benchmark *b) {
	return b->UseRealTime()->MinTime(0.5)->Repetitions(3)->ReportAggregatesOnly(true)->Unit(
	    benchmark::kMicrosecond);
}

struct half {
	const char *name;
	std::string peer;
	void (*roundtrip)(benchmark::State &, std::string);
	void (*oneway)(benchmark::State &, std::string, std::size_t);
};

// Pairs side by side ("<name>/turquoise" then "<name>/caf"), so that a slow spell of the
// shared VM hits both halves of a pair rather than one half's every benchmark.
void register_all(const half &turquoise, const half &caf) {
	for (const half *h : {&turquoise, &caf})
		if (!h->peer.empty())
			common(benchmark::RegisterBenchmark(("roundtrip_64/" + std::string(h->name)).c_str(),
			                                    h->roundtrip, h->peer));
	for (std::size_t payload : {kSmall, kLarge})
		for (const half *h : {&turquoise, &caf})
			if (!h->peer.empty())
				common(benchmark::RegisterBenchmark(
				    ("oneway_" + std::to_string(payload) + "/" + h->name).c_str(), h->oneway, h->peer,
				    payload));
}

// Takes --NAME=VALUE out of argv (Google Benchmark rejects flags it does not know).
std::string take_flag(int &argc, char **argv, const char *name) {
	const std::string prefix = std::string("--") + name + "=";
	std::string value;
	int out = 1;
	for (int i = 1; i < argc; ++i) {
		if (std::strncmp(argv[i], prefix.c_str(), prefix.size()) == 0)
			value = argv[i] + prefix.size();
		else
			argv[out++] = argv[i];
	}
	argc = out;
	return value;
}

} // namespace

int main(int argc, char **argv) {
	half turquoise{"turquoise", take_flag(argc, argv, "turquoise"), &turquoise_half::roundtrip,
	               &turquoise_half::oneway};
	half caf{"caf", take_flag(argc, argv, "caf"), nullptr, nullptr};
#ifdef TURQUOISE_BENCH_HAVE_CAF
	caf.roundtrip = &caf_half::roundtrip;
	caf.oneway = &caf_half::oneway;
#else
	if (!caf.peer.empty())
		std::fputs("turquoise-remote-vs-caf: built without CAF (libcaf-dev not found): --caf ignored\n",
		           stderr);
	caf.peer.clear();
#endif
	register_all(turquoise, caf);
	benchmark::Initialize(&argc, argv);
	if (benchmark::ReportUnrecognizedArguments(argc, argv))
		return 2;
	if (turquoise.peer.empty() && caf.peer.empty()) {
		std::fputs("turquoise-remote-vs-caf: no peer given (--turquoise=ID@IP:PORT, --caf=HOST:PORT); "
		           "bench/remote/run.sh starts them\n", stderr);
		return 2;
	}
	benchmark::AddCustomContext("turquoise_peer", turquoise.peer.empty() ? "-" : turquoise.peer);
	benchmark::AddCustomContext("caf_peer", caf.peer.empty() ? "-" : caf.peer);
	benchmark::RunSpecifiedBenchmarks();
	benchmark::Shutdown();
	return 0;
}
