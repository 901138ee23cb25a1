// caf_messages.hpp — the messages the CAF peer and the CAF half of the remote benchmark share.
//
// The peer (caf_peer.cpp) publishes one actor with this behaviour:
//   (ping, std::string body)  -> answers (pong, body)           request/response round trip
//   (data, std::string body)  -> counts it, no answer           one-way throughput
//   (flush)                   -> answers the count since the last flush and resets it; CAF
//                                keeps per-sender order, so the answer comes after every
//                                `data` the sender sent before the flush.
#ifndef BENCH_REMOTE_CAF_MESSAGES_HPP
#define BENCH_REMOTE_CAF_MESSAGES_HPP

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include <cstdlib>
#include <string>

namespace cafremote {

using ping_atom = caf::atom_constant<caf::atom("ping")>;
using pong_atom = caf::atom_constant<caf::atom("pong")>;
using data_atom = caf::atom_constant<caf::atom("data")>;
using flush_atom = caf::atom_constant<caf::atom("flush")>;

// CAF's defaults with the middleman loaded, but for the worker count (2, as turquoise's pool
// gets). An idle CAF worker sleeps 50 us between polls for a while
// (work-stealing.moderate-sleep-duration); TURQUOISE_BENCH_CAF_SPIN=1 sets that sleep to 0
// (as in bench/actors), to show how much of CAF's latency it is. run.sh reports the defaults.
inline bool caf_spin() {
	const char *v = std::getenv("TURQUOISE_BENCH_CAF_SPIN");
	return v != nullptr && *v != '\0' && std::string(v) != "0";
}
struct Config : caf::actor_system_config {
	Config() {
		load<caf::io::middleman>();
		set("scheduler.max-threads", 2);
		if (caf_spin())
			set("work-stealing.moderate-sleep-duration", caf::timespan{0});
	}
};

} // namespace cafremote

#endif
