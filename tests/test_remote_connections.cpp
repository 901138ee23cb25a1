// test_remote_connections.cpp — the lifetime of a runtime's connections (issue 10's open
// list): an unlinked outbound connection closes once idle (as libprocess closes its temporary
// sockets), a linked one stays, and a remote linker whose host dies is forgotten at once.
// Real OS processes (remote_peer) over 127.0.0.1.
#include "remote_helpers.hpp"

#include <turquoise/process/dispatch.hpp>

#include <cstdio>
#include <string>
#include <thread>
#include <tuple>

using namespace turquoise;
using namespace remote_test;

namespace {

network_stats stats() { return runtime::current().network(); }

// "received out_of_order" from the peer's report.
std::pair<long, long> report(inbox &box, const UPID &peer) {
	post(box.self(), peer, "report", std::string());
	auto m = box.next(60s);
	REQUIRE(m);
	REQUIRE(m->name == "report");
	long received = 0, bad = 0;
	std::sscanf(m->body.c_str(), "%ld %ld", &received, &bad);
	UNSCOPED_INFO("report: " << m->body);
	return {received, bad};
}

} // namespace

TEST_CASE("an unlinked outbound connection closes once idle - the next message opens another") {
	runtime_options o = listening();
	o.network.unlinked_linger = 1000ms;
	runtime_scope scope(o);
	peer other;
	inbox box("client", {"pong"});
	spawn(box);
	post(box.self(), other.upid(), "ping", std::string("x"));
	REQUIRE(box.next());
	CHECK(stats().outbound_open == 1);
	CHECK(eventually([] { return stats().outbound_open == 0; }, 10s));
	post(box.self(), other.upid(), "ping", std::string("again"));
	auto pong = box.next();
	REQUIRE(pong);
	CHECK(pong->body == "again");
	CHECK(stats().connections_opened == 2);
	CHECK(stats().connection_failures == 0);
	CHECK(stats().dropped == 0);
	terminate(box);
	wait(box);
}

// Known fault (README limits; why unlinked_linger is off by default): a message sent while its
// connection closes can be lost. Seen in 6 of 12 runs of remote-speed's own build.
TEST_CASE("unlinked_linger 0: closed as soon as the peer has answered, bursts across reconnects stay in order",
          "[!mayfail]") {
	runtime_options o = listening();
	o.network.unlinked_linger = 0ms;
	runtime_scope scope(o);
	peer other;
	inbox box("client", {"report"});
	spawn(box);
	long n = 0;
	auto opened_at_drain = stats().connections_opened;
	for (int burst = 0; burst < 30; ++burst) {
		for (int i = 0; i < 200; ++i, ++n)
			post(box.self(), other.upid(), "seq", "t " + std::to_string(n));
		if (burst % 3 == 0) { // let it drain and close now and then (10 times)
			// Sending is asynchronous: first the connection these bursts need must exist (else
			// "none open" may be seen before it was opened), then it must close.
			REQUIRE(eventually([&] { return stats().connections_opened > opened_at_drain; }, 10s));
			REQUIRE(eventually([] { return stats().outbound_open == 0; }, 10s));
			opened_at_drain = stats().connections_opened;
		}
	}
	CHECK(eventually([] { return stats().outbound_open == 0; }, 10s));
	auto [received, bad] = report(box, other.upid());
	CHECK(received == n);
	CHECK(bad == 0);
	INFO("connections opened: " << stats().connections_opened);
	CHECK(stats().connections_opened >= 11); // closed between bursts, reopened
	CHECK(stats().dropped == 0);
	CHECK(stats().connection_failures == 0);
	terminate(box);
	wait(box);
}

TEST_CASE("a linked outbound connection stays open while idle") {
	runtime_options o = listening();
	o.network.unlinked_linger = 0ms;
	runtime_scope scope(o);
	peer other;
	inbox box("client", {"pong"});
	spawn(box);
	dispatch(box.self(), [&] { box.link(other.upid()); });
	post(box.self(), other.upid(), "ping", std::string("x"));
	REQUIRE(box.next());
	std::this_thread::sleep_for(600ms); // three sweeps
	CHECK(stats().outbound_open == 1);
	CHECK(stats().connections_opened == 1);
	CHECK(box.exited_count() == 0);
	terminate(box);
	wait(box);
}

TEST_CASE("a remote linker whose host dies is forgotten at once, not kept until our process ends") {
	runtime_scope scope(listening());
	peer other;
	inbox watched("watched", {}), controller("controller", {"exited"});
	spawn(watched);
	spawn(controller);
	post(controller.self(), other.upid(), "link", watched.self().str());
	CHECK(eventually([] { return stats().remote_linkers == 1; }, 10s));
	other.kill();
	CHECK(eventually([] { return stats().remote_linkers == 0; }, 5s));
	terminate(watched); // nobody to tell: nothing sent, nothing dropped
	wait(watched);
	std::this_thread::sleep_for(300ms);
	CHECK(stats().dropped == 0);
	terminate(controller);
	wait(controller);
}

TEST_CASE("a remote linker on a live host keeps its record and hears of our process's end") {
	runtime_options o = listening();
	o.network.unlinked_linger = 0ms; // the watching connection must not close as idle
	runtime_scope scope(o);
	peer other;
	inbox watched("watched", {}), controller("controller", {"exited"});
	spawn(watched);
	spawn(controller);
	post(controller.self(), other.upid(), "link", watched.self().str());
	CHECK(eventually([] { return stats().remote_linkers == 1; }, 10s));
	std::this_thread::sleep_for(600ms); // three sweeps: the record and its connection stay
	CHECK(stats().remote_linkers == 1);
	terminate(watched);
	wait(watched);
	auto m = controller.next(5s);
	REQUIRE(m);
	CHECK(m->body == watched.self().str());
	CHECK(stats().remote_linkers == 0);
	terminate(controller);
	wait(controller);
}
