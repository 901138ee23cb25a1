// test_mesos_cluster.cpp — inger-mesos-local as a real OS process over 127.0.0.1, driven by a
// hand-written v1 scheduler: subscription and heartbeats, offers, command tasks (true, false,
// missing programs), acknowledgements and resends, kill, reconciliation, filters, rescinds,
// teardown, a framework that disconnects, and the documented answers to bad calls.
#include "http_helpers.hpp"
#include "mesos_cluster_helpers.hpp"

#include <set>

using namespace mesos_test;

namespace {

pool &client_pool() {
	static pool p(pool_options{.workers = 2});
	return p;
}

std::vector<v1::OfferID> ids(const std::vector<v1::Offer> &offers) {
	std::vector<v1::OfferID> out;
	for (auto &o : offers)
		out.push_back(o.id());
	return out;
}

double scalar(const v1::Offer &o, const std::string &name) {
	double v = 0;
	for (auto &r : o.resources())
		if (r.name() == name)
			v += r.scalar().value();
	return v;
}

} // namespace

TEST_CASE("SUBSCRIBE: SUBSCRIBED, HEARTBEAT at once and then periodically, offers with url and resources") {
	cluster_process cluster({"--agents", "2", "--cpus", "2", "--mem", "1024", "--heartbeat-interval", "0.5"},
	                        client_pool());
	http::Client client(client_pool());
	framework f(client, cluster);
	CHECK(!f.id.value().empty());
	CHECK(f.stream_id.size() == 36);
	f.next([](const Event &e) { return e.type() == Event::HEARTBEAT; }, 2s);
	auto start = std::chrono::steady_clock::now();
	f.next([](const Event &e) { return e.type() == Event::HEARTBEAT; }, 5s);
	f.next([](const Event &e) { return e.type() == Event::HEARTBEAT; }, 5s);
	CHECK(std::chrono::steady_clock::now() - start >= 0.7s);

	std::vector<v1::Offer> offers = f.offers();
	std::set<std::string> agents;
	for (auto &o : offers) {
		agents.insert(o.agent_id().value());
		CHECK(o.framework_id().value() == f.id.value());
		CHECK(o.url().scheme() == "http");
		CHECK(o.url().address().ip() == "127.0.0.1");
		CHECK(o.url().address().port() > 0);
		CHECK(scalar(o, "cpus") == Approx(2));
		CHECK(scalar(o, "mem") == Approx(1024));
		bool ports = false;
		for (auto &r : o.resources())
			ports |= r.name() == "ports" && r.type() == v1::Value::RANGES && r.ranges().range_size() == 1;
		CHECK(ports);
	}
	CHECK(agents.size() == 2);
	// SIGTERM stops it cleanly (exit 0: no sanitizer report either) with a framework subscribed.
	CHECK(cluster.stop() == 0);
	CHECK(f.ended(5s));
}

TEST_CASE("each RecordIO record is its own HTTP chunk, no Accept header means JSON") {
	cluster_process cluster({"--heartbeat-interval", "0.3"}, client_pool());
	std::uint16_t port = static_cast<std::uint16_t>(std::stoi(cluster.address().substr(10)));
	http_test::raw_socket s(port);
	REQUIRE(s.connected());
	std::string call = R"({"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"u","name":"raw","id":null}}})";
	// A chunked request body, split in two chunks.
	std::string half = call.substr(0, 20), rest = call.substr(20);
	char a[16], b[16];
	std::snprintf(a, sizeof a, "%zx\r\n", half.size());
	std::snprintf(b, sizeof b, "%zx\r\n", rest.size());
	REQUIRE(s.send("POST /master/api/v1/scheduler HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
	               "Transfer-Encoding: chunked\r\n\r\n" + std::string(a) + half + "\r\n" + b + rest + "\r\n0\r\n\r\n"));
	s.closed_by_peer(1500ms); // reads what arrives meanwhile
	std::string in = s.buffered();
	auto head_end = in.find("\r\n\r\n");
	REQUIRE(head_end != std::string::npos);
	std::string head = in.substr(0, head_end);
	CHECK(head.rfind("HTTP/1.1 200", 0) == 0);
	CHECK(head.find("Content-Type: application/json") != std::string::npos);
	CHECK(head.find("Mesos-Stream-Id: ") != std::string::npos);
	CHECK(head.find("Transfer-Encoding: chunked") != std::string::npos);
	std::size_t pos = head_end + 4, chunks = 0;
	std::vector<std::string> types;
	while (pos < in.size()) {
		auto line_end = in.find("\r\n", pos);
		if (line_end == std::string::npos)
			break;
		std::size_t size = std::stoul(in.substr(pos, line_end - pos), nullptr, 16);
		if (line_end + 2 + size + 2 > in.size())
			break;
		std::string chunk = in.substr(line_end + 2, size);
		pos = line_end + 2 + size + 2;
		// The chunk is exactly one record: "<length>\n<record>".
		auto nl = chunk.find('\n');
		REQUIRE(nl != std::string::npos);
		CHECK(std::stoul(chunk.substr(0, nl)) == chunk.size() - nl - 1);
		Try<Event> e = tmesos::decode<Event>(chunk.substr(nl + 1), tmesos::ContentType::JSON);
		REQUIRE(e.isSome());
		for (unsigned char c : chunk)
			CHECK(c < 0x80); // ASCII JSON
		types.push_back(Event::Type_Name(e.get().type()));
		++chunks;
	}
	REQUIRE(types.size() >= 4);
	CHECK(types[0] == "SUBSCRIBED");
	CHECK(types[1] == "HEARTBEAT");
	CHECK(std::count(types.begin(), types.end(), "HEARTBEAT") >= 3);
	CHECK(std::count(types.begin(), types.end(), "OFFERS") >= 1);
}

TEST_CASE("command tasks: true, false, a missing command and a missing program") {
	cluster_process cluster({"--agents", "1", "--cpus", "4", "--mem", "4096"}, client_pool());
	http::Client client(client_pool());
	framework f(client, cluster);
	std::vector<v1::Offer> offers = f.offers();
	REQUIRE(offers.size() == 1);
	v1::TaskInfo argv_missing = command_task("argv-missing", offers[0], "no-such-program-inger");
	argv_missing.mutable_command()->set_shell(false);
	argv_missing.mutable_command()->add_arguments("no-such-program-inger");
	REQUIRE(f.call(accept(ids(offers), {command_task("ok", offers[0], "true"), command_task("bad", offers[0], "false"),
	                                    command_task("missing", offers[0], "no-such-command-inger"), argv_missing}))
	            .status == 202);

	auto run = [&](const std::string &task) {
		std::vector<v1::TaskStatus> seen;
		for (int i = 0; i < 5; ++i) {
			v1::TaskStatus s = f.update(task);
			CHECK(s.agent_id().value() == offers[0].agent_id().value());
			CHECK(s.uuid().size() == 16);
			CHECK(s.source() == v1::TaskStatus::SOURCE_EXECUTOR);
			seen.push_back(s);
			f.acknowledge(s);
			if (s.state() != v1::TASK_STARTING && s.state() != v1::TASK_RUNNING)
				break;
		}
		return seen;
	};
	auto ok = run("ok");
	REQUIRE(ok.size() == 3);
	CHECK(ok[0].state() == v1::TASK_STARTING);
	CHECK(ok[1].state() == v1::TASK_RUNNING);
	CHECK(ok[2].state() == v1::TASK_FINISHED);
	auto bad = run("bad");
	CHECK(bad.back().state() == v1::TASK_FAILED);
	CHECK(bad.back().message() == "Command exited with status 1");
	auto missing = run("missing");
	CHECK(missing.back().state() == v1::TASK_FAILED);
	CHECK(missing.back().message() == "Command exited with status 127");
	auto argv = run("argv-missing");
	CHECK(argv.back().state() == v1::TASK_FAILED);
	CHECK_THAT(argv.back().message(), Catch::Contains("no-such-program-inger"));
	// Every uuid differs.
	std::set<std::string> uuids;
	for (auto *v : {&ok, &bad, &missing, &argv})
		for (auto &s : *v)
			uuids.insert(s.uuid());
	CHECK(uuids.size() == ok.size() + bad.size() + missing.size() + argv.size());
}

TEST_CASE("the next update waits for the acknowledgement, unacknowledged ones are resent") {
	cluster_process cluster({"--update-retry-interval", "0.5"}, client_pool());
	http::Client client(client_pool());
	framework f(client, cluster);
	std::vector<v1::Offer> offers = f.offers();
	REQUIRE(f.call(accept(ids(offers), {command_task("t", offers[0], "true")})).status == 202);
	v1::TaskStatus starting = f.update("t");
	CHECK(starting.state() == v1::TASK_STARTING);
	v1::TaskStatus again = f.update("t", 5s); // resent, not followed by RUNNING
	CHECK(again.state() == v1::TASK_STARTING);
	CHECK(again.uuid() == starting.uuid());
	// A wrong uuid acknowledges nothing.
	v1::TaskStatus forged = starting;
	forged.set_uuid(std::string(16, 'x'));
	f.acknowledge(forged);
	CHECK(f.update("t", 5s).state() == v1::TASK_STARTING);
	f.acknowledge(starting);
	v1::TaskStatus running = f.next([](const Event &e) {
		                         return e.type() == Event::UPDATE && e.update().status().state() != v1::TASK_STARTING;
	                         }).update().status();
	CHECK(running.state() == v1::TASK_RUNNING);
	f.acknowledge(running);
	v1::TaskStatus finished = f.next([](const Event &e) {
		                          return e.type() == Event::UPDATE && e.update().status().state() == v1::TASK_FINISHED;
	                          }).update().status();
	f.acknowledge(finished);
	// Once acknowledged, the task is complete: reconciliation does not know it any more.
	Call r;
	r.set_type(Call::RECONCILE);
	r.mutable_reconcile()->add_tasks()->mutable_task_id()->set_value("t");
	REQUIRE(f.call(r).status == 202);
	v1::TaskStatus rec = f.next([](const Event &e) {
		                     return e.type() == Event::UPDATE && e.update().status().reason() == v1::TaskStatus::REASON_RECONCILIATION;
	                     }).update().status();
	CHECK(rec.state() == v1::TASK_LOST);
}

TEST_CASE("kill: SIGTERM, then SIGKILL after the grace period, unknown tasks are reconciled") {
	cluster_process cluster({}, client_pool());
	http::Client client(client_pool());
	framework f(client, cluster);
	std::vector<v1::Offer> offers = f.offers();
	REQUIRE(f.call(accept(ids(offers), {command_task("sleeper", offers[0], "sleep 60"),
	                                    command_task("stubborn", offers[0], "trap '' TERM; sleep 60")}))
	            .status == 202);
	for (const char *task : {"sleeper", "stubborn"})
		for (int i = 0; i < 2; ++i)
			f.acknowledge(f.update(task)); // STARTING, RUNNING
	std::this_thread::sleep_for(200ms); // the shells have set their traps
	auto kill = [&](const std::string &task, std::optional<double> grace) {
		Call k;
		k.set_type(Call::KILL);
		k.mutable_kill()->mutable_task_id()->set_value(task);
		if (grace)
			k.mutable_kill()->mutable_kill_policy()->mutable_grace_period()->set_nanoseconds(
			    static_cast<std::int64_t>(*grace * 1e9));
		REQUIRE(f.call(k).status == 202);
	};
	auto start = std::chrono::steady_clock::now();
	kill("sleeper", std::nullopt);
	v1::TaskStatus s = f.update("sleeper");
	CHECK(s.state() == v1::TASK_KILLED);
	CHECK(s.message() == "Command terminated with signal Terminated");
	CHECK(std::chrono::steady_clock::now() - start < 2.5s); // not the 3 s grace
	f.acknowledge(s);

	start = std::chrono::steady_clock::now();
	kill("stubborn", 0.4);
	s = f.update("stubborn");
	CHECK(s.state() == v1::TASK_KILLED);
	CHECK(s.message() == "Command terminated with signal Killed");
	CHECK(std::chrono::steady_clock::now() - start >= 0.35s);

	kill("never-launched", std::nullopt);
	s = f.update("never-launched");
	CHECK(s.state() == v1::TASK_LOST);
	CHECK(s.reason() == v1::TaskStatus::REASON_RECONCILIATION);
	CHECK(s.source() == v1::TaskStatus::SOURCE_MASTER);
	CHECK(!s.has_uuid());
}

TEST_CASE("reconciliation: implicit and explicit, from the master without a uuid") {
	cluster_process cluster({}, client_pool());
	http::Client client(client_pool());
	v1::FrameworkInfo info;
	info.add_capabilities()->set_type(v1::FrameworkInfo::Capability::PARTITION_AWARE);
	framework f(client, cluster, info);
	std::vector<v1::Offer> offers = f.offers();
	REQUIRE(f.call(accept(ids(offers), {command_task("long", offers[0], "sleep 60")})).status == 202);
	f.acknowledge(f.update("long"));
	f.acknowledge(f.update("long")); // RUNNING
	auto reconciled = [&] {
		return f.next([](const Event &e) {
			        return e.type() == Event::UPDATE && e.update().status().reason() == v1::TaskStatus::REASON_RECONCILIATION;
		        }).update().status();
	};
	Call implicit;
	implicit.set_type(Call::RECONCILE);
	implicit.mutable_reconcile();
	REQUIRE(f.call(implicit).status == 202);
	v1::TaskStatus s = reconciled();
	CHECK(s.task_id().value() == "long");
	CHECK(s.state() == v1::TASK_RUNNING);
	CHECK(s.source() == v1::TaskStatus::SOURCE_MASTER);
	CHECK(s.agent_id().value() == offers[0].agent_id().value());
	CHECK(!s.has_uuid());

	Call explicit_;
	explicit_.set_type(Call::RECONCILE);
	explicit_.mutable_reconcile()->add_tasks()->mutable_task_id()->set_value("long");
	explicit_.mutable_reconcile()->add_tasks()->mutable_task_id()->set_value("nobody");
	REQUIRE(f.call(explicit_).status == 202);
	v1::TaskStatus a = reconciled(), b = reconciled();
	CHECK(a.task_id().value() == "long");
	CHECK(a.state() == v1::TASK_RUNNING);
	CHECK(b.task_id().value() == "nobody");
	CHECK(b.state() == v1::TASK_UNKNOWN); // PARTITION_AWARE; TASK_LOST otherwise
	CHECK(!b.has_uuid());
}

TEST_CASE("accepting rescinded, declined or foreign offers (the foreign one is discarded), and launching more than an offer holds") {
	cluster_process cluster({"--agents", "2", "--cpus", "1", "--mem", "256"}, client_pool());
	http::Client client(client_pool());
	framework f(client, cluster);
	std::vector<v1::Offer> offers = f.offers();
	REQUIRE(offers.size() == 2);

	// Too much for the offer: TASK_ERROR; the task that fits still runs.
	REQUIRE(f.call(accept({offers[0].id()}, {command_task("huge", offers[0], "true", 1.5),
	                                         command_task("fits", offers[0], "true", 0.5)}))
	            .status == 202);
	v1::TaskStatus huge = f.update("huge");
	CHECK(huge.state() == v1::TASK_ERROR);
	CHECK(huge.reason() == v1::TaskStatus::REASON_TASK_INVALID);
	CHECK(huge.source() == v1::TaskStatus::SOURCE_MASTER);
	CHECK_THAT(huge.message(), Catch::Contains("more than available"));
	CHECK(!huge.has_uuid());
	CHECK(f.update("fits").state() == v1::TASK_STARTING);

	// The same offer again (used up): TASK_LOST with REASON_INVALID_OFFERS.
	REQUIRE(f.call(accept({offers[0].id()}, {command_task("late", offers[0], "true")})).status == 202);
	v1::TaskStatus late = f.update("late");
	CHECK(late.state() == v1::TASK_LOST);
	CHECK(late.reason() == v1::TaskStatus::REASON_INVALID_OFFERS);
	CHECK_THAT(late.message(), Catch::Contains("no longer valid"));

	// A declined offer is gone too; an offer of another framework is refused.
	Call d;
	d.set_type(Call::DECLINE);
	*d.mutable_decline()->add_offer_ids() = offers[1].id();
	REQUIRE(f.call(d).status == 202);
	v1::FrameworkInfo pa;
	pa.add_capabilities()->set_type(v1::FrameworkInfo::Capability::PARTITION_AWARE);
	framework g(client, cluster, pa);
	std::vector<v1::Offer> theirs = g.offers();
	REQUIRE(f.call(accept({offers[1].id()}, {command_task("declined", offers[1], "true")})).status == 202);
	CHECK(f.update("declined").state() == v1::TASK_LOST);
	REQUIRE(f.call(accept({theirs[0].id()}, {command_task("stolen", theirs[0], "true")})).status == 202);
	v1::TaskStatus stolen = f.update("stolen");
	CHECK(stolen.state() == v1::TASK_LOST);
	CHECK_THAT(stolen.message(), Catch::Contains("invalid framework"));
	// ... and, as Mesos's master does, discarded: its holder's accept of it fails too (a
	// PARTITION_AWARE framework gets TASK_DROPPED instead of TASK_LOST), and the cluster keeps
	// serving: its resources are offered again.
	REQUIRE(g.call(accept({theirs[0].id()}, {command_task("mine", theirs[0], "true")})).status == 202);
	v1::TaskStatus mine = g.update("mine");
	CHECK(mine.state() == v1::TASK_DROPPED);
	CHECK_THAT(mine.message(), Catch::Contains("no longer valid"));
	bool offered_again = false;
	for (int i = 0; i < 10 && !offered_again; ++i)
		for (auto &o : g.offers(10s))
			offered_again |= o.agent_id().value() == theirs[0].agent_id().value();
	CHECK(offered_again);
}

TEST_CASE("DECLINE filters the agent for refuse_seconds, REVIVE lifts it, unused offers are rescinded") {
	cluster_process cluster({"--offer-timeout", "1"}, client_pool());
	http::Client client(client_pool());
	framework f(client, cluster);
	std::vector<v1::Offer> offers = f.offers();
	// Left alone, the offer is rescinded after the offer timeout, then offered again.
	Event rescind = f.next([](const Event &e) { return e.type() == Event::RESCIND; }, 5s);
	CHECK(rescind.rescind().offer_id().value() == offers[0].id().value());
	offers = f.offers(5s);

	Call d;
	d.set_type(Call::DECLINE);
	*d.mutable_decline()->add_offer_ids() = offers[0].id();
	d.mutable_decline()->mutable_filters()->set_refuse_seconds(60);
	REQUIRE(f.call(d).status == 202);
	CHECK(!f.maybe_next([](const Event &e) { return e.type() == Event::OFFERS; }, 2500ms));
	Call revive;
	revive.set_type(Call::REVIVE);
	REQUIRE(f.call(revive).status == 202);
	offers = f.offers(5s);

	// The default filter is 5 s: no offer within 2 s of a plain decline.
	d.mutable_decline()->clear_filters();
	*d.mutable_decline()->mutable_offer_ids(0) = offers[0].id();
	REQUIRE(f.call(d).status == 202);
	CHECK(!f.maybe_next([](const Event &e) { return e.type() == Event::OFFERS; }, 2s));
	// SUPPRESS: no offers even after revive's effect would apply... until REVIVE.
	Call suppress;
	suppress.set_type(Call::SUPPRESS);
	REQUIRE(f.call(suppress).status == 202);
	CHECK(!f.maybe_next([](const Event &e) { return e.type() == Event::OFFERS; }, 4s));
	REQUIRE(f.call(revive).status == 202);
	f.offers(5s);
}

TEST_CASE("a framework that disconnects loses its tasks, other frameworks carry on, TEARDOWN ends the stream") {
	cluster_process cluster({"--agents", "2", "--cpus", "1", "--mem", "256", "--heartbeat-interval", "0.5"},
	                        client_pool());
	http::Client client(client_pool());
	auto a = std::make_unique<framework>(client, cluster);
	std::vector<v1::Offer> offers = a->offers();
	REQUIRE(offers.size() == 2);
	REQUIRE(a->call(accept({offers[0].id()}, {command_task("orphan", offers[0], "sleep 60", 1, 256)})).status == 202);
	a->acknowledge(a->update("orphan"));
	v1::TaskStatus running = a->update("orphan");
	CHECK(running.state() == v1::TASK_RUNNING);
	framework b(client, cluster, {}, tmesos::ContentType::PROTOBUF); // protobuf both ways
	std::string a_id = a->id.value(), a_stream = a->stream_id;
	a.reset(); // the stream's connection is closed mid-stream

	// b gets the whole of both agents once a's task has been killed and its offers returned.
	double cpus = 0;
	for (int i = 0; i < 10 && cpus < 2; ++i)
		for (auto &o : b.offers(10s))
			cpus += scalar(o, "cpus");
	CHECK(cpus == Approx(2));
	b.next([](const Event &e) { return e.type() == Event::HEARTBEAT; }, 3s);

	// The removed framework's calls are refused.
	Call c;
	c.set_type(Call::REVIVE);
	c.mutable_framework_id()->set_value(a_id);
	Future<http::Response> r = client.post(cluster.url(), body(c), "application/json", {{"Mesos-Stream-Id", a_stream}});
	REQUIRE(r.await(10s));
	CHECK(r.get().status == 400);
	CHECK(r.get().body == "Framework cannot be found");

	Call teardown;
	teardown.set_type(Call::TEARDOWN);
	REQUIRE(b.call(teardown).status == 202);
	CHECK(b.ended(5s));
	CHECK(b.stream_error().empty());
}

TEST_CASE("bad calls get Mesos's 4xx answers with a readable message") {
	cluster_process cluster({}, client_pool());
	http::Client client(client_pool());
	framework f(client, cluster);
	auto post = [&](std::string body, std::vector<http::header> headers, std::string method = "POST") {
		http::ClientRequest r;
		r.method = method;
		r.url = http::URL::parse(cluster.url()).get();
		r.headers = std::move(headers);
		r.body = std::move(body);
		Future<http::Response> resp = client.request(r);
		REQUIRE(resp.await(10s));
		REQUIRE(resp.isReady());
		return resp.get();
	};
	const http::header json{"Content-Type", "application/json"};
	const http::header sid{"Mesos-Stream-Id", f.stream_id};
	std::string revive = R"({"type":"REVIVE","framework_id":{"value":")" + f.id.value() + R"("}})";

	CHECK(post(revive, {json, sid}).status == 202);
	auto no_type = post(revive, {sid});
	CHECK(no_type.status == 400);
	CHECK(no_type.body == "Expecting 'Content-Type' to be present");
	CHECK(post(revive, {{"Content-Type", "text/plain"}, sid}).status == 415);
	CHECK(post(revive, {json, sid}, "GET").status == 405);

	auto malformed = post("{\"type\": ", {json, sid});
	CHECK(malformed.status == 400);
	CHECK_THAT(malformed.body, Catch::Contains("Failed to convert JSON into Call protobuf"));
	auto garbage = post("\xff\xff\xff", {{"Content-Type", "application/x-protobuf"}, sid});
	CHECK(garbage.status == 400);
	CHECK_THAT(garbage.body, Catch::Contains("Failed to parse body into Call protobuf"));
	auto unknown_type = post(R"({"type":"DANCE","framework_id":{"value":"x"}})", {json, sid});
	CHECK(unknown_type.status == 400);
	auto no_framework = post(R"({"type":"REVIVE"})", {json, sid});
	CHECK(no_framework.status == 400);
	CHECK(no_framework.body == "Failed to validate scheduler::Call: Expecting 'framework_id' to be present");
	auto no_accept = post(R"({"type":"ACCEPT","framework_id":{"value":")" + f.id.value() + R"("}})", {json, sid});
	CHECK(no_accept.status == 400);
	CHECK_THAT(no_accept.body, Catch::Contains("Expecting 'accept' to be present"));

	// Before SUBSCRIBE (an unknown framework), without or with a wrong stream id.
	auto unknown = post(R"({"type":"REVIVE","framework_id":{"value":"nobody"}})", {json, sid});
	CHECK(unknown.status == 400);
	CHECK(unknown.body == "Framework cannot be found");
	auto missing_sid = post(revive, {json});
	CHECK(missing_sid.status == 400);
	CHECK_THAT(missing_sid.body, Catch::Contains("Mesos-Stream-Id"));
	auto wrong_sid = post(revive, {json, {"Mesos-Stream-Id", "11111111-2222-3333-4444-555555555555"}});
	CHECK(wrong_sid.status == 400);
	CHECK_THAT(wrong_sid.body, Catch::Contains("didn't match the stream ID"));
	auto bad_uuid = post(R"({"type":"ACKNOWLEDGE","framework_id":{"value":")" + f.id.value() +
	                         R"("},"acknowledge":{"agent_id":{"value":"a"},"task_id":{"value":"t"},"uuid":"AAAA"}})",
	                     {json, sid});
	CHECK(bad_uuid.status == 400);
	auto subscribe_with_sid = post(R"({"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"u","name":"n"}}})",
	                               {json, sid});
	CHECK(subscribe_with_sid.status == 400);
	CHECK_THAT(subscribe_with_sid.body, Catch::Contains("should not include the 'Mesos-Stream-Id'"));
	auto not_acceptable = post(R"({"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"u","name":"n"}}})",
	                           {json, {"Accept", "text/html"}});
	CHECK(not_acceptable.status == 406);
	CHECK(post(R"({"type":"UNKNOWN","framework_id":{"value":")" + f.id.value() + R"("}})", {json, sid}).status == 501);

	// After all this, the framework's stream still works.
	f.next([](const Event &e) { return e.type() == Event::HEARTBEAT; }, 10s);
	CHECK(post(revive, {json, sid}).status == 202);
}
