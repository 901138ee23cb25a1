// remote_peer.cpp — the other OS process of the remote-process tests: a runtime listening on
// 127.0.0.1 with one process that answers what the tests send (see the handlers below). Prints
// "READY <upid>" once listening; exits on a "quit" message, or after --lifetime-ms (60 s) so
// that a test that dies never leaves it behind.
//
//   remote_peer [--id ID] [--port P] [--lifetime-ms T]
#include "remote_test.pb.h"

#include <turquoise/process/process.hpp>
#include <turquoise/runtime.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
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
	// "tag n": n must count 0, 1, 2... per tag.
	void seq(const UPID &, std::string &&body) {
		auto space = body.find(' ');
		std::string tag = body.substr(0, space);
		long n = std::strtol(body.c_str() + space + 1, nullptr, 10);
		if (n != next_[tag])
			++out_of_order_;
		next_[tag] = n + 1;
		++received_;
	}
	void report(const UPID &from, std::string &&) {
		send(from, "report", std::to_string(received_) + " " + std::to_string(out_of_order_));
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
	std::map<std::string, long> next_;
	long received_ = 0, out_of_order_ = 0;
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
