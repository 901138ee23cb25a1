// test_mesos_codec.cpp — the Mesos v1 types and their two encodings: Mesos's JSON mapping both
// ways on Mesos-shaped documents, application/x-protobuf, and bad input of both.
#include "mesos_documents.hpp"

#include <turquoise/mesos/codec.hpp>
#include <turquoise/mesos/json.hpp>
#include <turquoise/mesos/types.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <random>

using namespace turquoise;
using namespace turquoise::mesos;
using nlohmann::json;
namespace sched = ::mesos::v1::scheduler;

namespace {
template <class M>
M decoded(const char *doc) {
	Try<M> m = parse_json<M>(doc);
	INFO(doc);
	REQUIRE(m.isSome());
	return m.get();
}
} // namespace

TEST_CASE("SUBSCRIBED as a master sends it decodes, skipping fields the subset does not model") {
	auto e = decoded<sched::Event>(mesos_documents::subscribed);
	CHECK(e.type() == sched::Event::SUBSCRIBED);
	CHECK(e.subscribed().framework_id().value() == "a3b5c6d7-1f2e-4c8a-9b0d-7e6f5a4b3c2d-0000");
	CHECK(e.subscribed().heartbeat_interval_seconds() == 15.0);
	CHECK(e.subscribed().master_info().address().ip() == "10.0.2.15");
	CHECK(e.subscribed().master_info().ip() == 251789322u);
	CHECK(e.subscribed().master_info().version() == "1.11.0");
}

TEST_CASE("OFFERS: scalars, port ranges, sets, attributes and url decode, and encode back identically") {
	auto e = decoded<sched::Event>(mesos_documents::offers);
	REQUIRE(e.offers().offers_size() == 2);
	const auto &o = e.offers().offers(0);
	CHECK(o.url().address().ip() == "10.0.2.16");
	CHECK(o.url().address().port() == 5051);
	REQUIRE(o.resources_size() == 4);
	CHECK(o.resources(0).name() == "cpus");
	CHECK(o.resources(0).scalar().value() == 4.0);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations" // Resource.role: deprecated, still sent
	CHECK(o.resources(0).role() == "*");
#pragma GCC diagnostic pop
	CHECK(o.resources(3).type() == v1::Value::RANGES);
	REQUIRE(o.resources(3).ranges().range_size() == 2);
	CHECK(o.resources(3).ranges().range(0).begin() == 31000u);
	CHECK(o.resources(3).ranges().range(1).end() == 33005u);
	CHECK(o.attributes(0).text().value() == "r1");
	CHECK(e.offers().offers(1).resources(1).set().item(1) == "g1");

	std::string written = to_json(e);
	CHECK(json::parse(written) == json::parse(mesos_documents::offers));
	// 64-bit integers are JSON numbers, as Mesos writes them (not protobuf's "31000").
	CHECK(written.find(R"("begin":31000)") != std::string::npos);
}

TEST_CASE("UPDATE: base64 uuid to 16 raw bytes and back, unmodelled fields skipped") {
	auto e = decoded<sched::Event>(mesos_documents::update);
	const auto &s = e.update().status();
	CHECK(s.state() == v1::TASK_RUNNING);
	CHECK(s.source() == v1::TaskStatus::SOURCE_EXECUTOR);
	CHECK(s.uuid().size() == 16);
	CHECK(static_cast<unsigned char>(s.uuid()[0]) == 0xde);
	CHECK(s.timestamp() == 1764756000.123456);
	CHECK(json::parse(to_json(e)) == json::parse(mesos_documents::update_known_fields));

	auto r = decoded<sched::Event>(mesos_documents::update_reconciliation);
	CHECK(r.update().status().reason() == v1::TaskStatus::REASON_RECONCILIATION);
	CHECK_FALSE(r.update().status().has_uuid());
	CHECK(json::parse(to_json(r)) == json::parse(mesos_documents::update_reconciliation));
}

TEST_CASE("ACCEPT with LAUNCH and filters: JSON -> message -> JSON and -> protobuf -> JSON") {
	auto c = decoded<sched::Call>(mesos_documents::accept);
	const auto &task = c.accept().operations(0).launch().task_infos(0);
	CHECK(task.command().value() == "echo $GREETING");
	CHECK(task.kill_policy().grace_period().nanoseconds() == 3'000'000'000);
	CHECK(c.accept().filters().refuse_seconds() == 10.0);
	CHECK(json::parse(to_json(c)) == json::parse(mesos_documents::accept));

	Try<std::string> wire = encode(c, ContentType::PROTOBUF);
	REQUIRE(wire.isSome());
	auto back = decode<sched::Call>(wire.get(), ContentType::PROTOBUF);
	REQUIRE(back.isSome());
	CHECK(json::parse(to_json(back.get())) == json::parse(mesos_documents::accept));
}

TEST_CASE("Built in C++: defaults written as Mesos writes them, int64 exact beyond 2^53") {
	sched::Call c;
	c.set_type(sched::Call::DECLINE);
	c.mutable_framework_id()->set_value("F0");
	c.mutable_decline()->add_offer_ids()->set_value("O1");
	c.mutable_decline()->mutable_filters(); // present, refuse_seconds unset: default 5
	json j = json::parse(to_json(c));
	CHECK(j["decline"]["filters"]["refuse_seconds"] == 5.0);
	CHECK(j["type"] == "DECLINE");

	v1::DurationInfo d;
	d.set_nanoseconds(9007199254740993); // 2^53 + 1: not representable as a double
	std::string text = to_json(d);
	CHECK(text == R"({"nanoseconds":9007199254740993})");
	CHECK(parse_json<v1::DurationInfo>(text).get().nanoseconds() == 9007199254740993);
	// Numbers in strings (protobuf's own JSON mapping) are accepted too.
	CHECK(parse_json<v1::DurationInfo>(R"({"nanoseconds":"-5"})").get().nanoseconds() == -5);
	// Enums may come as numbers; bytes with every padding length.
	CHECK(parse_json<v1::TaskStatus>(R"({"task_id":{"value":"t"},"state":2})").get().state() == v1::TASK_FINISHED);
	for (const std::string &bytes : std::vector<std::string>{"", "a", "ab", "abc", std::string("\0\xff\x10\x80", 4)}) {
		CHECK(base64_decode(base64_encode(bytes)).get() == bytes);
	}
	// Non-ASCII text is escaped: the stream stays ASCII.
	v1::TaskID id;
	id.set_value("t\xc3\xa9");
	CHECK(to_json(id) == R"({"value":"t\u00e9"})");
	CHECK(parse_json<v1::TaskID>(to_json(id)).get().value() == "t\xc3\xa9");
}

TEST_CASE("null means unset") {
	auto s = parse_json<v1::TaskStatus>(
	    R"({"task_id":{"value":"t"},"state":"TASK_LOST","agent_id":null,"uuid":null,"message":null})");
	REQUIRE(s.isSome());
	CHECK_FALSE(s.get().has_agent_id());
	CHECK_FALSE(s.get().has_uuid());
	CHECK_FALSE(s.get().has_message());
	auto missing = parse_json<v1::TaskStatus>(R"({"task_id":null,"state":"TASK_LOST"})");
	REQUIRE(missing.isError());
	CHECK_THAT(missing.error(), Catch::Contains("missing required fields") && Catch::Contains("task_id"));
}

TEST_CASE("Malformed JSON documents get an error naming the problem") {
	auto error = [](const char *doc) {
		auto r = parse_json<sched::Event>(doc);
		REQUIRE(r.isError());
		return r.error();
	};
	CHECK_THAT(error(R"({"type":"OFFERS",)"), Catch::StartsWith("malformed JSON"));
	CHECK_THAT(error(R"([1,2])"), Catch::Contains("expected an object"));
	CHECK_THAT(error(R"({"type":"NOT_A_TYPE"})"), Catch::Contains("type") && Catch::Contains("NOT_A_TYPE"));
	CHECK_THAT(error(R"({"offers":{"offers":{}}})"), Catch::Contains("offers.offers") && Catch::Contains("array"));
	CHECK_THAT(error(R"({"update":{"status":{"task_id":{"value":"t"},"state":"TASK_RUNNING","uuid":"###"}}})"),
	           Catch::Contains("update.status.uuid") && Catch::Contains("base64"));
	CHECK_THAT(error(R"({"subscribed":{"framework_id":{"value":7}}})"), Catch::Contains("expected a string"));
	CHECK_THAT(error(R"({"offers":{"offers":[{"id":{"value":"o"},"framework_id":{"value":"f"},)"
	                 R"("agent_id":{"value":"a"},"hostname":"h","url":{"scheme":"http","address":{"port":1e20}}}]}})"),
	           Catch::Contains("out of range"));
	CHECK_THAT(error(R"({"offers":{"offers":[{"id":{"value":"o"}}]}})"), Catch::Contains("missing required fields"));
	// Nesting deeper than any real message (ContainerID.parent recurses) is refused, not recursed.
	std::string deep = R"({"value":"c")";
	for (int i = 0; i < 200; ++i)
		deep = R"({"value":"c","parent":)" + deep + "}";
	auto c = parse_json<v1::ContainerID>(deep + "}");
	REQUIRE(c.isError());
	CHECK_THAT(c.error(), Catch::Contains("too deep"));
}

TEST_CASE("Mutated JSON and protobuf documents never crash the decoders (fuzz, seeded)") {
	std::mt19937 rng(20261203);
	std::vector<std::string> docs = {mesos_documents::subscribed, mesos_documents::offers,
	                                 mesos_documents::update, mesos_documents::accept};
	std::size_t json_ok = 0, proto_ok = 0;
	for (int round = 0; round < 4000; ++round) {
		std::string doc = docs[round % docs.size()];
		auto parsed = parse_json<sched::Event>(doc);
		std::string proto = round % 4 == 3 ? encode(parse_json<sched::Call>(doc).get(), ContentType::PROTOBUF).get()
		                                   : encode(parsed.get(), ContentType::PROTOBUF).get();
		for (std::string *s : {&doc, &proto}) {
			int edits = 1 + static_cast<int>(rng() % 4);
			for (int k = 0; k < edits && !s->empty(); ++k) {
				std::size_t at = rng() % s->size();
				switch (rng() % 3) {
				case 0: (*s)[at] = static_cast<char>(rng()); break;
				case 1: s->erase(at, 1 + rng() % 8); break;
				default: s->insert(at, 1, "{}[]\",:0n\\"[rng() % 10]); break;
				}
			}
		}
		sched::Event e;
		if (decode(doc, ContentType::JSON, e).isSome()) {
			++json_ok;
			CHECK(e.IsInitialized());
		}
		if (decode(proto, ContentType::PROTOBUF, e).isSome()) {
			++proto_ok;
			CHECK(e.IsInitialized());
		}
	}
	// Some mutations leave a valid document (e.g. a changed character inside a string).
	CHECK(json_ok > 0);
	CHECK(proto_ok > 0);
}

TEST_CASE("Content types: media type names, and incomplete messages are not encoded") {
	CHECK(parse_media_type("application/json") == ContentType::JSON);
	CHECK(parse_media_type(" Application/X-Protobuf ; q=1") == ContentType::PROTOBUF);
	CHECK_FALSE(parse_media_type("text/plain").has_value());
	CHECK(media_type(ContentType::PROTOBUF) == "application/x-protobuf");
	v1::Offer incomplete;
	incomplete.set_hostname("h");
	for (auto type : {ContentType::JSON, ContentType::PROTOBUF}) {
		auto r = encode(incomplete, type);
		REQUIRE(r.isError());
		CHECK_THAT(r.error(), Catch::Contains("missing required fields") && Catch::Contains("agent_id"));
	}
	auto truncated = decode<v1::TaskStatus>(std::string("\x0a\x05\x0a\x03", 4), ContentType::PROTOBUF);
	REQUIRE(truncated.isError());
	CHECK_THAT(truncated.error(), Catch::StartsWith("malformed protobuf"));
}
