// remote_peer.cpp — the other OS process of the remote-process tests: a runtime listening on
// 127.0.0.1 with one process that answers what the tests send (see the handlers below). Prints
// "READY <upid>" once listening; exits on a "quit" message, or after --lifetime-ms (60 s) so
// that a test that dies never leaves it behind.
//
//   remote_peer [--id ID] [--port P] [--lifetime-ms T]
#include "remote_sequence.hpp"
#include "remote_test.pb.h"

#include <turquoise/process/process.hpp>
#include <turquoise/runtime.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

using namespace turquoise;

namespace {

class Victim : public Process<Victim> {
public:
	Victim() : ProcessBase("victim") {}
};

class Peer : public Process<Peer> {
public:
	explicit Peer(std::string id, Promise<Nothing> &quit) : ProcessBase(std::move(id)), quit_(quit) {}

protected:
	void initialize() override {
		install("ping", &Peer::ping);
		install("seq", &Peer::seq);
		install("report", &Peer::report);
		install("link", &Peer::link_to);
		install("blast", &Peer::blast);
		install("spawn-victim", &Peer::spawn_victim);
		install("kill-victim", &Peer::kill_victim);
		install("quit", &Peer::quit);
		install<test::Ping>(&Peer::proto_ping, &test::Ping::text, &test::Ping::n);
	}
	void exited(const UPID &pid) override { send(controller_, "exited", pid.str()); }

private:
	// ping -> pong with the same body, to the sender.
	void ping(const UPID &from, std::string &&body) { send(from, "pong", std::move(body)); }
	// Ping{text, n} -> Pong{text, n + 1}.
	void proto_ping(const UPID &from, const std::string &text, std::int64_t n) {
		test::Pong pong;
		pong.set_text(text);
		pong.set_n(n + 1);
		send(from, pong);
	}
	void seq(const UPID &, std::string &&body) { order_.saw(body); }
	void report(const UPID &from, std::string &&) {
		std::string tags;
		for (auto &[tag, n] : order_.next)
			tags += " " + tag + "=" + std::to_string(n);
		auto n = runtime::current().network();
		tags += " bad_requests=" + std::to_string(n.bad_requests) + " timeouts=" + std::to_string(n.timeouts) +
		        " bad_messages=" + std::to_string(n.bad_messages) + " not_found=" + std::to_string(n.not_found) +
		        " dropped=" + std::to_string(n.dropped);
		send(from, "report", std::to_string(order_.received) + " " + std::to_string(order_.out_of_order) + tags);
	}
	// body: a UPID to link to; exited goes to the sender of this message.
	void link_to(const UPID &from, std::string &&body) {
		controller_ = from;
		link(UPID::parse(body));
	}
	// body: "<upid> <count> <tag>": send count "seq" messages there.
	void blast(const UPID &from, std::string &&body) {
		char upid[256], tag[64];
		long count = 0;
		if (std::sscanf(body.c_str(), "%255s %ld %63s", upid, &count, tag) != 3)
			return;
		UPID to = UPID::parse(upid);
		for (long i = 0; i < count; ++i)
			send(to, "seq", std::string(tag) + " " + std::to_string(i));
		send(from, "blasted", tag);
	}
	void spawn_victim(const UPID &from, std::string &&) { send(from, "victim", spawn(victim_).str()); }
	void kill_victim(const UPID &, std::string &&) { terminate(victim_); }
	void quit(const UPID &, std::string &&) { quit_.set(Nothing()); }

	Promise<Nothing> &quit_;
	UPID controller_;
	remote_test::sequence_check order_;
	Victim victim_;
};

} // namespace

int main(int argc, char **argv) {
	std::string id = "peer";
	runtime_options options = runtime_options::from_environment();
	options.network.listen = true;
	long lifetime_ms = 60'000;
	for (int i = 1; i + 1 < argc; i += 2) {
		std::string flag = argv[i];
		if (flag == "--id")
			id = argv[i + 1];
		else if (flag == "--port")
			options.network.port = static_cast<std::uint16_t>(std::atoi(argv[i + 1]));
		else if (flag == "--lifetime-ms")
			lifetime_ms = std::atol(argv[i + 1]);
	}
	options.pool.workers = 2;
	runtime rt(options);
	runtime_scope scope(rt);
	Promise<Nothing> quit;
	Peer peer(id, quit);
	UPID pid = spawn(peer);
	std::printf("READY %s\n", pid.str().c_str());
	std::fflush(stdout);
	quit.future().await(std::chrono::milliseconds(lifetime_ms));
	terminate(peer);
	wait(peer);
	return 0;
}
