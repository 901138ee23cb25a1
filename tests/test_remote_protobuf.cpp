// Protobuf messages through install<M> and send(to, M) (issue 10 item 3), and the local side
// of named messages: handlers per name, order per sender, unhandled names counted, reply().
// Runs with INGER_LIBSETS=0 (tests/CMakeLists.txt): under libgotcha's libsets a task calls a
// copy of libprotobuf that lacks the descriptors the program registered with the base copy.
#include "remote_helpers.hpp"
#include "remote_test.pb.h"

#include <turquoise/process/dispatch.hpp>
#include <turquoise/process/testing.hpp>

using namespace turquoise;
using namespace remote_test;

namespace {

class typed : public Process<typed> {
public:
	typed() : ProcessBase("typed") {}
	std::atomic<int> whole{0}, with_sender{0}, fields{0}, no_sender{0}, raw{0};
	std::string last_text;
	UPID last_from;

protected:
	void initialize() override {
		install<test::Ping>(&typed::on_ping);        // f(const M&)
		install<test::Pong>(&typed::on_pong);        // f(const UPID&, const M&)
		install("raw", &typed::on_raw);              // f(const UPID&, const std::string&)
	}

public:
	void fields_mode() { install<test::Ping>(&typed::on_fields, &test::Ping::text, &test::Ping::n); }
	void no_sender_mode() { install<test::Ping>(&typed::on_no_sender, &test::Ping::n); }

private:
	void on_ping(const test::Ping &p) {
		last_text = p.text();
		++whole;
		// reply(): to the sender of the message being handled.
		test::Pong pong;
		pong.set_text(p.text());
		pong.set_n(p.n() * 2);
		reply(pong);
	}
	void on_pong(const UPID &from, const test::Pong &p) {
		last_from = from;
		last_text = p.text();
		++with_sender;
	}
	void on_fields(const UPID &from, const std::string &text, std::int64_t n) {
		last_from = from;
		last_text = text + std::to_string(n);
		++fields;
	}
	void on_no_sender(std::int64_t n) {
		last_text = std::to_string(n);
		++no_sender;
	}
	void on_raw(const UPID &from, const std::string &body) {
		last_from = from;
		last_text = body;
		++raw;
	}
};

std::string serialized(const std::string &text, std::int64_t n) {
	test::Ping p;
	p.set_text(text);
	p.set_n(n);
	std::string out;
	p.SerializeToString(&out);
	return out;
}

} // namespace

TEST_CASE("install<M> variants receive parsed protobufs - reply() answers the sender") {
	runtime_scope scope(listening());
	typed t;
	inbox box("box", {});
	UPID me = spawn(box);
	UPID pid = spawn(t);
	Future<test::Pong> pong = FUTURE_PROTOBUF(test::Pong(), pid, me);
	post(me, pid, test::Ping().GetTypeName(), serialized("a", 21));
	REQUIRE(pong.await(10s));
	CHECK(pong.get().n() == 42);
	CHECK(t.whole.load() == 1);
	testing::clear_message_expectations();

	test::Pong p;
	p.set_text("p");
	std::string body;
	p.SerializeToString(&body);
	post(me, pid, p.GetTypeName(), body);
	REQUIRE(eventually([&] { return t.with_sender.load() == 1; }));
	CHECK(dispatch(pid, [&] { return t.last_from == me; }).get());

	dispatch(pid, [&] { t.fields_mode(); }).await();
	post(me, pid, test::Ping().GetTypeName(), serialized("f", 7));
	REQUIRE(eventually([&] { return t.fields.load() == 1; }));
	CHECK(dispatch(pid, [&] { return t.last_text; }).get() == "f7");

	dispatch(pid, [&] { t.no_sender_mode(); }).await();
	post(me, pid, test::Ping().GetTypeName(), serialized("", 9));
	REQUIRE(eventually([&] { return t.no_sender.load() == 1; }));
	CHECK(dispatch(pid, [&] { return t.last_text; }).get() == "9");

	// A body that does not parse as the type is dropped and counted as unhandled.
	auto unhandled = ProcessManager::stats().unhandled;
	post(me, pid, test::Ping().GetTypeName(), std::string("\xff\xff\xff", 3));
	REQUIRE(eventually([&] { return ProcessManager::stats().unhandled == unhandled + 1; }));
	CHECK(t.no_sender.load() == 1);
	terminate(t);
	terminate(box);
	wait(t);
	wait(box);
}

TEST_CASE("local messages: per-sender order, unhandled names counted, send() from a process, DROP_PROTOBUF") {
	runtime_scope scope(runtime_options{.pool = {.workers = 2}});
	typed t;
	inbox box("box", {"raw-back"});
	UPID pid = spawn(t);
	UPID me = spawn(box);
	CHECK(me.address.unspecified()); // not listening: the placeholder address
	auto unhandled = ProcessManager::stats().unhandled;
	post(me, pid, "no-such-name", std::string("x"));
	REQUIRE(eventually([&] { return ProcessManager::stats().unhandled == unhandled + 1; }));
	for (int i = 0; i < 1000; ++i)
		dispatch(me, [&, i] { box.send(pid, "raw", std::to_string(i)); });
	REQUIRE(eventually([&] { return t.raw.load() == 1000; }));
	CHECK(dispatch(pid, [&] { return t.last_text; }).get() == "999");
	Future<test::Ping> dropped = DROP_PROTOBUF(test::Ping(), me, pid);
	post(me, pid, test::Ping().GetTypeName(), serialized("d", 1));
	REQUIRE(dropped.await(5s));
	CHECK(dropped.get().text() == "d");
	CHECK(t.whole.load() == 0);
	testing::clear_message_expectations();
	CHECK(runtime::current().network().sent == 0);
	CHECK_FALSE(runtime::current().address().isSome()); // no socket was needed
	terminate(t);
	terminate(box);
	wait(t);
	wait(box);
}
