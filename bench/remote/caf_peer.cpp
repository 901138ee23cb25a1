// caf_peer.cpp — remote-bench-caf-peer: the far end of the CAF half of bench/remote, an OS
// process of its own publishing one actor (caf_messages.hpp) with CAF 0.17's middleman.
//
//   remote-bench-caf-peer [--port P]   (default 0: any free port)
//
// Prints `READY <port>` (flushed) once published, then serves until SIGTERM or SIGINT.
#include "caf_messages.hpp"

#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <pthread.h>

namespace {

using namespace cafremote;

struct SinkState {
	std::uint64_t count = 0;
};

caf::behavior peer(caf::stateful_actor<SinkState> *self) {
	return {
	    [](ping_atom, std::string &body) { return caf::make_message(pong_atom::value, std::move(body)); },
	    [=](data_atom, const std::string &) { ++self->state.count; },
	    [=](flush_atom) {
		    std::uint64_t n = self->state.count;
		    self->state.count = 0;
		    return n;
	    },
	};
}

int usage() {
	std::fputs("usage: remote-bench-caf-peer [--port P]\n", stderr);
	return 2;
}

} // namespace

int main(int argc, char **argv) {
	long port = 0;
	for (int i = 1; i < argc; ++i) {
		if (std::strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
			char *end = nullptr;
			port = std::strtol(argv[++i], &end, 10);
			if (*end != '\0' || port < 0 || port > 65535)
				return usage();
		} else {
			return usage();
		}
	}
	// Block the stop signals before CAF starts its threads, so that only sigwait sees them.
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, nullptr);

	Config cfg;
	caf::actor_system sys{cfg};
	auto actor = sys.spawn(peer);
	auto bound = sys.middleman().publish(actor, static_cast<std::uint16_t>(port), "127.0.0.1", true);
	if (!bound) {
		std::fprintf(stderr, "remote-bench-caf-peer: cannot publish on port %ld: %s\n", port,
		             sys.render(bound.error()).c_str());
		return 1;
	}
	std::printf("READY %u\n", static_cast<unsigned>(*bound));
	std::fflush(stdout);

	int sig = 0;
	sigwait(&stop, &sig);
	caf::anon_send_exit(actor, caf::exit_reason::user_shutdown);
	std::_Exit(0); // CAF's orderly shutdown of the middleman can block on open connections
}
