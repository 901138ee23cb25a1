// turquoise_peer.cpp — remote-bench-peer: the far end of the turquoise half of bench/remote,
// an OS process of its own with one process ("peer") on the libprocess wire, doing what
// remote-bench-caf-peer's actor does (caf_messages.hpp):
//   ping <body>   -> pong <body> to the sender       request/response round trip
//   data <body>   -> counted, per sender              one-way throughput
//   flush         -> flushed <that sender's count since its last flush, decimal> to the sender
// (Counts are per sender, so that a client that gave up mid-burst cannot skew the next one's.)
//
//   remote-bench-peer [--port P]   (default 0: any free port; 2 workers, as the CAF peer)
//
// Prints `READY peer@127.0.0.1:<port>` (flushed) once listening, serves until SIGTERM/SIGINT,
// then prints its runtime's network counters on stderr (run.sh shows them).
#include <turquoise/process/process.hpp>
#include <turquoise/runtime.hpp>

#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <pthread.h>
#include <string>
#include <unordered_map>
#include <utility>

namespace {

using namespace turquoise;

class Peer : public Process<Peer> {
public:
	Peer() : ProcessBase("peer") {}

protected:
	void initialize() override {
		install("ping", &Peer::ping);
		install("data", &Peer::data);
		install("flush", &Peer::flush);
	}

private:
	void ping(const UPID &from, std::string &&body) { send(from, "pong", std::move(body)); }
	void data(const UPID &from, std::string &&) { ++counts_[from.str()]; }
	void flush(const UPID &from, std::string &&) {
		auto count = counts_.extract(from.str());
		send(from, "flushed", std::to_string(count.empty() ? 0 : count.mapped()));
	}
	std::unordered_map<std::string, std::uint64_t> counts_;
};

int usage() {
	std::fputs("usage: remote-bench-peer [--port P]\n", stderr);
	return 2;
}

} // namespace

int main(int argc, char **argv) {
	runtime_options options;
	options.pool.workers = 2;
	for (int i = 1; i < argc; ++i) {
		if (std::strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
			char *end = nullptr;
			long port = std::strtol(argv[++i], &end, 10);
			if (*end != '\0' || port < 0 || port > 65535)
				return usage();
			options.network.port = static_cast<std::uint16_t>(port);
		} else {
			return usage();
		}
	}
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, nullptr);

	runtime rt(options);
	runtime_scope scope(rt);
	Try<Address> address = rt.listen();
	if (address.isError()) {
		std::fprintf(stderr, "remote-bench-peer: cannot listen: %s\n", address.error().c_str());
		return 1;
	}
	Peer peer;
	UPID pid = spawn(peer);
	std::printf("READY %s\n", pid.str().c_str());
	std::fflush(stdout);
	int sig = 0;
	sigwait(&stop, &sig);
	const network_stats n = rt.network();
	std::fprintf(stderr,
	             "remote-bench-peer: received %llu, sent %llu, dropped %llu, not found %llu, bad "
	             "messages %llu, bad requests %llu, timeouts %llu, connection failures %llu\n",
	             static_cast<unsigned long long>(n.received), static_cast<unsigned long long>(n.sent),
	             static_cast<unsigned long long>(n.dropped), static_cast<unsigned long long>(n.not_found),
	             static_cast<unsigned long long>(n.bad_messages), static_cast<unsigned long long>(n.bad_requests),
	             static_cast<unsigned long long>(n.timeouts), static_cast<unsigned long long>(n.connection_failures));
	terminate(pid);
	wait(pid);
	return 0;
}
