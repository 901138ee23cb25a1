// Remote processes between real OS processes over 127.0.0.1 (issue 10): install/send both ways
// with raw and protobuf bodies, order and loss under load, three processes, link/exited.
#include "remote_helpers.hpp"
#include "remote_sequence.hpp"
#include "remote_test.pb.h"

#include <turquoise/process/dispatch.hpp>
#include <turquoise/process/testing.hpp>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <thread>
#include <tuple>

using namespace turquoise;
using namespace remote_test;

TEST_CASE("a message to a local process is handled by its installed handler") {
	runtime_scope scope(listening());
	inbox box("box", {"hello"});
	spawn(box);
	post(box.self(), "hello", std::string("world"));
	auto m = box.next();
	REQUIRE(m);
	CHECK(m->body == "world");
	CHECK(m->name == "hello");
	CHECK(runtime::current().network().sent == 0); // no socket
	terminate(box);
	wait(box);
}

TEST_CASE("ping to a peer OS process comes back as pong, raw bodies both ways") {
	runtime_scope scope(listening());
	peer other;
	inbox box("client", {"pong"});
	UPID me = spawn(box);
	CHECK(me.address.port != 0);
	std::string big(70000, 'x');
	for (std::string body : {std::string("hello"), std::string(), big}) {
		post(me, other.upid(), "ping", body);
		auto m = box.next();
		REQUIRE(m);
		CHECK(m->name == "pong");
		CHECK(m->body == body);
		CHECK(m->from == other.upid());
	}
	terminate(box);
	wait(box);
}

TEST_CASE("protobuf messages: install<M> with fields, send(to, message), FUTURE_PROTOBUF") {
	runtime_scope scope(listening());
	peer other;
	inbox box("client", {});
	UPID me = spawn(box);
	Future<test::Pong> pong = FUTURE_PROTOBUF(test::Pong(), other.upid(), me);
	test::Ping ping;
	ping.set_text("proto");
	ping.set_n(41);
	std::string body;
	ping.SerializeToString(&body);
	post(me, other.upid(), ping.GetTypeName(), body);
	REQUIRE(pong.await(10s));
	REQUIRE(pong.isReady());
	CHECK(pong.get().text() == "proto");
	CHECK(pong.get().n() == 42);
	testing::clear_message_expectations();
	terminate(box);
	wait(box);
}

namespace {

// Counts "seq" messages and checks their order.
class counter : public Process<counter> {
public:
	counter() : ProcessBase("counter") {}
	sequence_check order;

protected:
	void initialize() override { install("seq", &counter::seq); }

private:
	void seq(const UPID &, std::string &&body) { order.saw(body); }
};

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

TEST_CASE("100 000 messages to a peer OS process: none lost, in order") {
	runtime_scope scope(listening());
	peer other;
	inbox box("client", {"report"});
	spawn(box);
	for (long i = 0; i < 100000; ++i)
		post(box.self(), other.upid(), "seq", "t " + std::to_string(i));
	auto [received, bad] = report(box, other.upid());
	CHECK(received == 100000);
	CHECK(bad == 0);
	CHECK(runtime::current().network().dropped == 0);
	terminate(box);
	wait(box);
}

TEST_CASE("three OS processes: two senders into one receiver, and a peer blasting back at us") {
	runtime_scope scope(listening());
	peer a("a"), b("b");
	inbox box("client", {"report", "blasted"});
	counter count;
	spawn(box);
	UPID counted = spawn(count);
	// b -> a and us -> a at the same time, 50 000 each.
	post(box.self(), b.upid(), "blast", a.upid().str() + " 50000 b");
	for (long i = 0; i < 50000; ++i)
		post(box.self(), a.upid(), "seq", "t " + std::to_string(i));
	auto blasted = box.next(60s);
	REQUIRE(blasted);
	CHECK(blasted->name == "blasted");
	// b's "blasted" reached us on another connection than its messages to a: ask a until
	// it has them all (none lost: exactly 100 000, never more).
	long received = 0, bad = 0;
	CHECK(eventually([&] {
		std::tie(received, bad) = report(box, a.upid());
		return received >= 100000;
	}, 30s));
	CHECK(received == 100000);
	CHECK(bad == 0);
	INFO("our network: sent " << runtime::current().network().sent << " dropped " << runtime::current().network().dropped);
	CHECK(runtime::current().network().dropped == 0);
	// a -> us: "blasted" comes after the 20 000 on the same connection.
	post(box.self(), a.upid(), "blast", counted.str() + " 20000 a");
	blasted = box.next(60s);
	REQUIRE(blasted);
	// (Delivered in order, but the counter may still be handling its queue.)
	CHECK(eventually([&] { return count.order.received.load() == 20000; }));
	CHECK(count.order.out_of_order.load() == 0);
	terminate(box);
	terminate(count);
	wait(box);
	wait(count);
}

TEST_CASE("link to a peer, SIGKILL it: exited within 1 s, once - later messages are dropped and counted") {
	runtime_scope scope(listening());
	peer other;
	inbox box("client", {"pong"});
	spawn(box);
	dispatch(box.self(), [&] { box.link(other.upid()); box.link(other.upid()); });
	post(box.self(), other.upid(), "ping", std::string("x")); // the connection is up
	REQUIRE(box.next());
	auto killed = std::chrono::steady_clock::now();
	other.kill();
	auto pid = box.next_exited(5s);
	auto took = std::chrono::steady_clock::now() - killed;
	REQUIRE(pid);
	CHECK(*pid == other.upid());
	CHECK(took < 1s);
	std::this_thread::sleep_for(200ms);
	CHECK(box.exited_count() == 0); // once, though linked twice
	auto before = runtime::current().network().dropped;
	for (int i = 0; i < 10; ++i)
		post(box.self(), other.upid(), "ping", std::string("lost"));
	CHECK(eventually([&] { return runtime::current().network().dropped >= before + 10; }));
	terminate(box);
	wait(box);
}

TEST_CASE("a remote process that terminates while its host lives is reported (turquoise.exited)") {
	runtime_scope scope(listening());
	peer other;
	inbox box("client", {"victim", "pong"});
	spawn(box);
	post(box.self(), other.upid(), "spawn-victim", std::string());
	auto v = box.next();
	REQUIRE(v);
	UPID victim = UPID::parse(v->body);
	REQUIRE(victim.id == "victim");
	dispatch(box.self(), [&] { box.link(victim); });
	post(box.self(), other.upid(), "kill-victim", std::string());
	auto pid = box.next_exited(5s);
	REQUIRE(pid);
	CHECK(*pid == victim);
	post(box.self(), other.upid(), "ping", std::string("alive")); // its host still answers
	auto pong = box.next();
	REQUIRE(pong);
	CHECK(pong->body == "alive");
	// Linking to a process that does not exist there is reported at once.
	dispatch(box.self(), [&] { box.link(UPID("nobody", other.upid().address)); });
	pid = box.next_exited(5s);
	REQUIRE(pid);
	CHECK(pid->id == "nobody");
	terminate(box);
	wait(box);
}

TEST_CASE("a peer linked to our process hears when it terminates - a refused link is exited at once") {
	runtime_scope scope(listening());
	peer other;
	inbox watched("watched", {}), controller("controller", {"exited"});
	spawn(watched);
	spawn(controller);
	post(controller.self(), other.upid(), "link", watched.self().str());
	std::this_thread::sleep_for(300ms); // the peer's link message reaches us
	terminate(watched);
	wait(watched);
	auto m = controller.next(5s);
	REQUIRE(m);
	CHECK(m->body == watched.self().str());
	// Nothing listens on the port of a killed peer: refused, exited.
	UPID gone = other.upid();
	other.kill();
	inbox box("client", {});
	spawn(box);
	std::this_thread::sleep_for(100ms);
	dispatch(box.self(), [&] { box.link(UPID("x", gone.address)); });
	auto pid = box.next_exited(5s);
	REQUIRE(pid);
	CHECK(pid->id == "x");
	terminate(controller);
	terminate(box);
	wait(controller);
	wait(box);
}

TEST_CASE("filters on remote messages: DROP_MESSAGE, FUTURE_MESSAGE, DROP_MESSAGES by name, from, to") {
	runtime_scope scope(listening());
	peer other;
	inbox box("client", {"pong"});
	UPID me = spawn(box);
	Future<Message> dropped = DROP_MESSAGE("pong", other.upid(), me);
	Future<Message> seen = FUTURE_MESSAGE("pong", testing::any_process, me);
	post(me, other.upid(), "ping", std::string("1"));
	post(me, other.upid(), "ping", std::string("2"));
	auto m = box.next();
	REQUIRE(m);
	CHECK(m->body == "2");
	REQUIRE(dropped.await(5s));
	CHECK(dropped.get().body == "1");
	CHECK(dropped.get().from == other.upid());
	REQUIRE(seen.isReady());
	CHECK(seen.get().body == "2");
	auto all = DROP_MESSAGES("pong", testing::any_process, testing::any_process);
	for (int i = 0; i < 5; ++i)
		post(me, other.upid(), "ping", std::string("x"));
	CHECK(eventually([&] { return all.count() == 5; }));
	CHECK_FALSE(box.next(200ms));
	testing::clear_message_expectations();
	terminate(box);
	wait(box);
}
