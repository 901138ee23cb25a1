// test_mesos_scheduler.cpp — the scheduler facade against a scripted fake master (our
// http::Server, speaking as Mesos does): subscribe, event dispatch, calls with the stream id,
// acknowledgements, both content types, redirect, heartbeat loss and closed streams with
// re-subscription and backoff, malformed events, and the channel facade.
#include "mesos_documents.hpp"
#include "mesos_facade_helpers.hpp"

#include <turquoise/mesos/json.hpp>
#include <turquoise/mesos/scheduler.hpp>
#include <turquoise/mesos/scheduler_channel.hpp>

#include <catch2/catch.hpp>

#include <mutex>

using namespace turquoise;
using namespace turquoise::mesos;
using namespace std::chrono_literals;
using http_test::eventually;
namespace sched = ::mesos::v1::scheduler;
using fake_master = mesos_test::fake_endpoint<sched::Call>;

namespace {

// Records every callback as a line ("subscribed F0", "offers 2", ...).
struct recorder : Scheduler, mesos_test::callback_log {
	std::mutex mutex; // guards updates
	std::vector<v1::TaskStatus> updates;
	void subscribed(SchedulerDriver &, const sched::Event::Subscribed &s) override {
		add("subscribed " + s.framework_id().value());
	}
	void offers(SchedulerDriver &, const std::vector<v1::Offer> &o) override {
		add("offers " + std::to_string(o.size()) + " " + o[0].url().address().ip());
	}
	void rescind(SchedulerDriver &, const v1::OfferID &id) override { add("rescind " + id.value()); }
	void update(SchedulerDriver &, const v1::TaskStatus &s) override {
		{
			guarded_lock<std::mutex> l(mutex);
			updates.push_back(s);
		}
		add("update " + s.task_id().value() + " " + v1::TaskState_Name(s.state()));
	}
	void message(SchedulerDriver &, const v1::AgentID &, const v1::ExecutorID &e, const std::string &data) override {
		add("message " + e.value() + " " + data);
	}
	void failure(SchedulerDriver &, const sched::Event::Failure &f) override {
		add("failure " + std::to_string(f.status()));
	}
	void error(SchedulerDriver &, const std::string &m) override { add("error " + m); }
	void heartbeat(SchedulerDriver &) override { add("heartbeat"); }
	void disconnected(SchedulerDriver &, const std::string &why) override { add("disconnected " + why); }
};

std::string subscribed_event(ContentType type, const std::string &framework_id, double interval = 15) {
	sched::Event e;
	e.set_type(sched::Event::SUBSCRIBED);
	e.mutable_subscribed()->mutable_framework_id()->set_value(framework_id);
	e.mutable_subscribed()->set_heartbeat_interval_seconds(interval);
	return encode(e, type).get();
}

std::string heartbeat_event(ContentType type) {
	sched::Event e;
	e.set_type(sched::Event::HEARTBEAT);
	return encode(e, type).get();
}

// Greets every new stream as a Mesos master does: SUBSCRIBED, then HEARTBEAT at once.
void greet(fake_master &m, std::string framework_id, double interval = 15) {
	m.greeting = [framework_id, interval](ContentType t) {
		return std::vector<std::string>{subscribed_event(t, framework_id, interval), heartbeat_event(t)};
	};
}

v1::FrameworkInfo framework() {
	v1::FrameworkInfo info;
	info.set_user("nobody");
	info.set_name("test-framework");
	return info;
}

template <class T>
void await_ready(const Future<T> &f) {
	REQUIRE(f.await(10s));
	INFO((f.isFailed() ? f.failure() : std::string()));
	REQUIRE(f.isReady());
}

} // namespace

TEST_CASE("subscribe, events in order, calls with the stream id, automatic acknowledgement, both content types") {
	auto type = GENERATE(ContentType::JSON, ContentType::PROTOBUF);
	pool p(pool_options{.workers = 2});
	fake_master master(p, "/api/v1/scheduler", true);
	greet(master, "F0");
	recorder r;
	scheduler_options o;
	o.master = master.address();
	o.content_type = type;
	SchedulerDriver driver(p, r, framework(), o);
	CHECK(driver.decline({}).failure() == "not subscribed");
	REQUIRE(driver.start());
	REQUIRE(r.saw("heartbeat"));
	CHECK(driver.status().subscribed);
	CHECK(driver.status().framework_id->value() == "F0");

	auto subscribe = master.calls(sched::Call::SUBSCRIBE);
	REQUIRE(subscribe.size() == 1);
	CHECK(subscribe[0].content_type == media_type(type));
	CHECK(subscribe[0].accept == media_type(type));
	CHECK(subscribe[0].stream_id.empty()); // SUBSCRIBE must not carry one
	CHECK(subscribe[0].call.subscribe().framework_info().name() == "test-framework");
	CHECK_FALSE(subscribe[0].call.has_framework_id());

	REQUIRE(master.send(parse_json<sched::Event>(mesos_documents::offers).get()));
	sched::Event rescind;
	rescind.set_type(sched::Event::RESCIND);
	rescind.mutable_rescind()->mutable_offer_id()->set_value("O1");
	REQUIRE(master.send(rescind));
	REQUIRE(master.send(parse_json<sched::Event>(mesos_documents::update).get()));
	sched::Event message;
	message.set_type(sched::Event::MESSAGE);
	message.mutable_message()->mutable_agent_id()->set_value("S0");
	message.mutable_message()->mutable_executor_id()->set_value("E0");
	message.mutable_message()->set_data(std::string("hi\0!", 4));
	REQUIRE(master.send(message));
	sched::Event failure;
	failure.set_type(sched::Event::FAILURE);
	failure.mutable_failure()->set_status(137);
	REQUIRE(master.send(failure));
	REQUIRE(r.saw("failure 137"));
	CHECK(r.lines() == std::vector<std::string>{"subscribed F0", "heartbeat", "offers 2 10.0.2.16", "rescind O1",
	                                            "update task-1 TASK_RUNNING", "message E0 " + std::string("hi\0!", 4),
	                                            "failure 137"});

	// The UPDATE's uuid is acknowledged, with the stream id, on another connection.
	REQUIRE(master.wait_calls(sched::Call::ACKNOWLEDGE, 1));
	auto ack = master.calls(sched::Call::ACKNOWLEDGE)[0];
	CHECK(ack.stream_id == master.stream_id());
	CHECK(ack.call.framework_id().value() == "F0");
	CHECK(ack.call.acknowledge().uuid() == r.updates[0].uuid());
	CHECK(ack.call.acknowledge().task_id().value() == "task-1");
	CHECK(ack.call.acknowledge().agent_id().value() == "a3b5c6d7-1f2e-4c8a-9b0d-7e6f5a4b3c2d-S0");

	// Calls: each answered 202, carrying the stream id and the content type.
	v1::OfferID offer;
	offer.set_value("O0");
	v1::Filters filters;
	filters.set_refuse_seconds(30);
	v1::TaskInfo task;
	task.set_name("t");
	task.mutable_task_id()->set_value("t1");
	task.mutable_agent_id()->set_value("S0");
	task.mutable_command()->set_value("true");
	await_ready(driver.launch({offer}, {task}, filters));
	await_ready(driver.decline({offer}));
	await_ready(driver.revive({"*"}));
	await_ready(driver.suppress());
	await_ready(driver.kill(task.task_id(), task.agent_id()));
	await_ready(driver.reconcile());
	sched::Call::Reconcile::Task explicit_task;
	*explicit_task.mutable_task_id() = task.task_id();
	await_ready(driver.reconcile({explicit_task}));
	v1::ExecutorID executor;
	executor.set_value("E0");
	await_ready(driver.message(task.agent_id(), executor, "data"));
	await_ready(driver.request({}));
	await_ready(driver.shutdown(executor, task.agent_id()));

	auto accept = master.calls(sched::Call::ACCEPT);
	REQUIRE(accept.size() == 1);
	CHECK(accept[0].call.accept().operations(0).type() == v1::Offer::Operation::LAUNCH);
	CHECK(accept[0].call.accept().operations(0).launch().task_infos(0).command().value() == "true");
	CHECK(accept[0].call.accept().filters().refuse_seconds() == 30);
	auto reconcile = master.calls(sched::Call::RECONCILE);
	REQUIRE(reconcile.size() == 2);
	CHECK(reconcile[0].call.reconcile().tasks_size() == 0); // implicit
	CHECK(reconcile[1].call.reconcile().tasks(0).task_id().value() == "t1");
	for (auto &c : master.calls()) {
		CHECK(c.content_type == media_type(type));
		if (c.call.type() != sched::Call::SUBSCRIBE)
			CHECK(c.stream_id == master.stream_id());
	}
	CHECK(master.bad_calls() == 0);
	CHECK(master.calls().size() == 12); // SUBSCRIBE, ACKNOWLEDGE and the ten above

	// ERROR: the framework was removed; the driver stops.
	sched::Event error;
	error.set_type(sched::Event::ERROR);
	error.mutable_error()->set_message("Framework has been removed");
	REQUIRE(master.send(error));
	REQUIRE(r.saw("error Framework has been removed"));
	CHECK(eventually([&] { return driver.status().stopped; }));
	CHECK(driver.decline({offer}).failure() == "not subscribed");
}

TEST_CASE("manual acknowledgement: nothing acknowledged until the scheduler says so") {
	pool p(pool_options{.workers = 2});
	fake_master master(p, "/api/v1/scheduler", true);
	greet(master, "F1");
	recorder r;
	scheduler_options o;
	o.master = master.address();
	o.auto_acknowledge = false;
	SchedulerDriver driver(p, r, framework(), o);
	driver.start();
	REQUIRE(r.saw("heartbeat"));
	REQUIRE(master.send(parse_json<sched::Event>(mesos_documents::update).get()));
	// A reconciliation answer has no uuid: there is nothing to acknowledge.
	REQUIRE(master.send(parse_json<sched::Event>(mesos_documents::update_reconciliation).get()));
	REQUIRE(r.saw("update task-1", 2));
	std::this_thread::sleep_for(200ms);
	CHECK(master.calls(sched::Call::ACKNOWLEDGE).empty());
	await_ready(driver.acknowledge(r.updates[1])); // no uuid: ready without a call
	CHECK(master.calls(sched::Call::ACKNOWLEDGE).empty());
	await_ready(driver.acknowledge(r.updates[0]));
	REQUIRE(master.calls(sched::Call::ACKNOWLEDGE).size() == 1);
	CHECK(master.calls(sched::Call::ACKNOWLEDGE)[0].call.acknowledge().uuid() == r.updates[0].uuid());
}

TEST_CASE("307 with Location: the driver subscribes at the leading master and calls go there") {
	pool p(pool_options{.workers = 2});
	fake_master leader(p, "/master/api/v1/scheduler", true);
	greet(leader, "F2");
	fake_master follower(p, "/api/v1/scheduler", true);
	follower.on_subscribe = [&](const sched::Call &) -> std::optional<http::Response> {
		http::Response moved(307, {}, {});
		// As a Mesos master writes it: scheme-relative, with the /master prefix.
		moved.headers.push_back({"Location", "//127.0.0.1:" + std::to_string(leader.port()) + "/master/api/v1/scheduler"});
		return moved;
	};
	recorder r;
	scheduler_options o;
	o.master = "http://" + follower.address();
	SchedulerDriver driver(p, r, framework(), o);
	driver.start();
	REQUIRE(r.saw("subscribed F2"));
	CHECK(follower.calls(sched::Call::SUBSCRIBE).size() == 1);
	CHECK(leader.calls(sched::Call::SUBSCRIBE).size() == 1);
	CHECK(driver.status().master == "http://127.0.0.1:" + std::to_string(leader.port()));
	await_ready(driver.revive());
	CHECK(leader.calls(sched::Call::REVIVE).size() == 1);
	CHECK(follower.calls(sched::Call::REVIVE).empty());
}

TEST_CASE("missed heartbeats: disconnected, then re-subscription with the framework id and growing backoff") {
	pool p(pool_options{.workers = 2});
	fake_master master(p, "/api/v1/scheduler", true);
	greet(master, "F3", 0.1); // 5 intervals: 0.5 s of silence loses the stream
	recorder r;
	scheduler_options o;
	o.master = master.address();
	o.backoff_min = 100ms;
	o.backoff_max = 2s;
	SchedulerDriver driver(p, r, framework(), o);
	driver.start();
	REQUIRE(r.saw("subscribed F3"));
	// After that, the master answers SUBSCRIBE 503 three times before it streams again.
	std::atomic<int> refusals{0};
	master.on_subscribe = [&](const sched::Call &) -> std::optional<http::Response> {
		if (refusals.fetch_add(1) < 3)
			return http::ServiceUnavailable("not yet\n");
		return std::nullopt;
	};
	auto silent_since = std::chrono::steady_clock::now();
	REQUIRE(r.saw("disconnected"));
	auto lost_after = std::chrono::steady_clock::now() - silent_since;
	CHECK(lost_after >= 400ms);
	CHECK(lost_after < 5s);
	bool heartbeat_reason = false;
	for (auto &l : r.lines())
		heartbeat_reason |= l.find("heartbeats missed") != std::string::npos;
	CHECK(heartbeat_reason);
	REQUIRE(r.saw("subscribed F3", 2));
	auto subs = master.calls(sched::Call::SUBSCRIBE);
	REQUIRE(subs.size() == 5);
	for (std::size_t i = 1; i < subs.size(); ++i) {
		CHECK(subs[i].call.framework_id().value() == "F3");
		CHECK(subs[i].call.subscribe().framework_info().id().value() == "F3");
	}
	// Backoff: 100, 200, 400, 800 ms (loosely: each gap at least the nominal, growing).
	auto gap = [&](std::size_t i) { return subs[i + 1].at - subs[i].at; };
	CHECK(gap(1) >= 180ms);
	CHECK(gap(3) >= 700ms);
	CHECK(gap(3) > gap(1));
	CHECK(driver.status().subscriptions == 2);
	CHECK(driver.status().disconnections >= 1);
}

TEST_CASE("a stream the master closes means disconnection and a new subscription") {
	pool p(pool_options{.workers = 2});
	fake_master master(p, "/api/v1/scheduler", true);
	greet(master, "F4");
	recorder r;
	scheduler_options o;
	o.master = master.address();
	o.backoff_min = 50ms;
	SchedulerDriver driver(p, r, framework(), o);
	driver.start();
	REQUIRE(r.saw("subscribed F4"));
	std::string first = master.stream_id();
	master.close_stream();
	REQUIRE(r.saw("disconnected stream closed"));
	REQUIRE(r.saw("subscribed F4", 2));
	CHECK(master.stream_id() != first);
	await_ready(driver.revive());
	CHECK(master.calls(sched::Call::REVIVE)[0].stream_id == master.stream_id());
}

TEST_CASE("malformed events and framing: a clear reason, no crash, and the driver recovers") {
	auto garbage = GENERATE(as<std::string>{}, "7\nnotjson", "5\n[1,2]", "27\n{\"type\":\"OFFERS\",\"offers\":7}",
	                        "12x\n", "99999999999\n", "\x80\n");
	pool p(pool_options{.workers = 2});
	fake_master master(p, "/api/v1/scheduler", true);
	greet(master, "F5");
	recorder r;
	scheduler_options o;
	o.master = master.address();
	o.backoff_min = 50ms;
	o.max_event_bytes = 1 << 20;
	SchedulerDriver driver(p, r, framework(), o);
	driver.start();
	REQUIRE(r.saw("subscribed F5"));
	REQUIRE(master.send_raw(garbage));
	REQUIRE(r.saw("disconnected"));
	auto lines = r.lines();
	std::string why = *std::find_if(lines.begin(), lines.end(), [](auto &l) { return l.rfind("disconnected", 0) == 0; });
	INFO(why);
	CHECK((why.find("malformed event") != std::string::npos || why.find("malformed RecordIO") != std::string::npos));
	REQUIRE(r.saw("subscribed F5", 2));
}

TEST_CASE("calls answered with an error fail with the master's message") {
	pool p(pool_options{.workers = 2});
	fake_master master(p, "/api/v1/scheduler", true);
	greet(master, "F6");
	recorder r;
	scheduler_options o;
	o.master = master.address();
	SchedulerDriver driver(p, r, framework(), o);
	driver.start();
	REQUIRE(r.saw("subscribed F6"));
	// A TaskID without its required value is refused before it is sent.
	Future<Nothing> incomplete = driver.kill(v1::TaskID());
	REQUIRE(incomplete.isFailed());
	CHECK_THAT(incomplete.failure(), Catch::Contains("missing required fields"));
	// The master refuses a call: the future fails with its status and body.
	master.server().route("/api/v1/scheduler", [](const http::Request &) -> Future<http::Response> {
		return http::BadRequest("Framework cannot be found\n");
	});
	Future<Nothing> refused = driver.revive();
	REQUIRE(refused.await(10s));
	REQUIRE(refused.isFailed());
	CHECK(refused.failure() == "REVIVE answered 400 Bad Request: Framework cannot be found");
}

TEST_CASE("nothing listening: attempts back off, and stop() ends them") {
	pool p(pool_options{.workers = 2});
	std::uint16_t port;
	{
		fake_master gone(p, "/api/v1/scheduler", true);
		port = gone.port();
	}
	recorder r;
	scheduler_options o;
	o.master = "127.0.0.1:" + std::to_string(port);
	o.backoff_min = 20ms;
	o.backoff_max = 100ms;
	SchedulerDriver driver(p, r, framework(), o);
	driver.start();
	REQUIRE(eventually([&] { return driver.status().subscribe_attempts >= 4; }));
	CHECK_THAT(driver.status().last_error, Catch::Contains("SUBSCRIBE failed"));
	CHECK_FALSE(driver.status().subscribed);
	driver.stop();
	auto attempts = driver.status().subscribe_attempts;
	std::this_thread::sleep_for(300ms);
	CHECK(driver.status().subscribe_attempts == attempts);
	CHECK(r.lines().empty()); // never subscribed: no callback
}

TEST_CASE("channel facade: events as a queue of variants, calls through its driver") {
	pool p(pool_options{.workers = 2});
	fake_master master(p, "/api/v1/scheduler", true);
	greet(master, "F7");
	scheduler_options o;
	o.master = master.address();
	SchedulerChannel channel(p, framework(), o);
	auto next = [&] {
		Future<SchedulerEvent> e = channel.receive();
		REQUIRE(e.await(10s));
		return e.get();
	};
	SchedulerEvent first = next();
	REQUIRE(std::holds_alternative<events::Subscribed>(first));
	CHECK(std::get<events::Subscribed>(first).subscribed.framework_id().value() == "F7");
	CHECK(std::holds_alternative<events::Heartbeat>(next()));
	REQUIRE(master.send(parse_json<sched::Event>(mesos_documents::offers).get()));
	SchedulerEvent offers = next();
	REQUIRE(std::holds_alternative<events::Offers>(offers));
	auto &o0 = std::get<events::Offers>(offers).offers[0];
	await_ready(channel.driver().decline({o0.id()}));
	CHECK(master.calls(sched::Call::DECLINE).at(0).call.decline().offer_ids(0).value() == o0.id().value());
	master.close_stream();
	SchedulerEvent lost = next();
	REQUIRE(std::holds_alternative<events::Disconnected>(lost));
	CHECK(std::get<events::Disconnected>(lost).why == "stream closed");
}
