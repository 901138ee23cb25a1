// test_mesos_executor.cpp — the executor facade against a scripted fake agent (our
// http::Server, speaking the v1 executor API as Mesos does): configuration from the MESOS_*
// environment, subscribe, events, UPDATE with a fresh uuid each, acknowledgements,
// unacknowledged updates and tasks resent in the next SUBSCRIBE, SHUTDOWN, malformed events,
// giving up after the recovery timeout.
#include "mesos_facade_helpers.hpp"

#include <turquoise/mesos/executor.hpp>
#include <turquoise/mesos/recordio.hpp>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <mutex>
#include <set>

using namespace turquoise;
using namespace turquoise::mesos;
using namespace std::chrono_literals;
using http_test::eventually;
namespace exec = ::mesos::v1::executor;
using fake_agent = mesos_test::fake_endpoint<exec::Call>;

namespace {

// Records callbacks; launch() answers TASK_RUNNING, kill() answers TASK_KILLED.
struct recorder : Executor, mesos_test::callback_log {
	static v1::TaskStatus status(const v1::TaskID &id, v1::TaskState state) {
		v1::TaskStatus s;
		*s.mutable_task_id() = id;
		s.set_state(state);
		return s;
	}
	void subscribed(ExecutorDriver &, const exec::Event::Subscribed &s) override {
		add("subscribed " + s.agent_info().hostname());
	}
	void launch(ExecutorDriver &d, const v1::TaskInfo &t) override {
		add("launch " + t.task_id().value());
		d.update(status(t.task_id(), v1::TASK_RUNNING));
	}
	void kill(ExecutorDriver &d, const v1::TaskID &id, const std::optional<v1::KillPolicy> &p) override {
		std::string line = "kill "; // appended: GCC 12 -O3 warns falsely (-Wrestrict) on " " + s
		line += id.value();
		if (p) {
			line += ' ';
			line += std::to_string(p->grace_period().nanoseconds());
		}
		add(line);
		d.update(status(id, v1::TASK_KILLED));
	}
	void acknowledged(ExecutorDriver &, const v1::TaskID &id, const std::string &) override { add("acknowledged " + id.value()); }
	void message(ExecutorDriver &, const std::string &data) override { add("message " + data); }
	void shutdown(ExecutorDriver &) override { add("shutdown"); }
	void error(ExecutorDriver &, const std::string &m) override { add("error " + m); }
	void disconnected(ExecutorDriver &, const std::string &why) override { add("disconnected " + why); }
};

std::string subscribed_event(ContentType type) {
	exec::Event e;
	e.set_type(exec::Event::SUBSCRIBED);
	auto *s = e.mutable_subscribed();
	s->mutable_executor_info()->mutable_executor_id()->set_value("E0");
	s->mutable_framework_info()->set_user("nobody");
	s->mutable_framework_info()->set_name("fw");
	s->mutable_agent_info()->set_hostname("agent-1");
	return encode(e, type).get();
}

executor_options options_for(const fake_agent &a, ContentType type = ContentType::JSON) {
	executor_options o;
	o.agent_endpoint = a.address();
	o.framework_id.set_value("F0");
	o.executor_id.set_value("E0");
	o.content_type = type;
	o.backoff_min = 50ms;
	return o;
}

// A fake agent that greets every stream with SUBSCRIBED, and a driver subscribed to it.
struct connected {
	explicit connected(ContentType type = ContentType::JSON)
	    : fx("/api/v1/executor", false, [](ContentType t) { return std::vector<std::string>{subscribed_event(t)}; }),
	      driver(fx.p, r, options_for(fx.endpoint, type)) {
		REQUIRE(driver.start());
		REQUIRE(r.saw("subscribed"));
	}
	mesos_test::fake_endpoint_fixture<exec::Call> fx;
	fake_agent &agent = fx.endpoint;
	recorder r;
	ExecutorDriver driver;
};

exec::Event launch_event(const std::string &task) {
	exec::Event e;
	e.set_type(exec::Event::LAUNCH);
	auto *t = e.mutable_launch()->mutable_task();
	t->set_name(task);
	t->mutable_task_id()->set_value(task);
	t->mutable_agent_id()->set_value("S0");
	return e;
}

exec::Event acknowledged_event(const exec::Call &update) {
	exec::Event e;
	e.set_type(exec::Event::ACKNOWLEDGED);
	*e.mutable_acknowledged()->mutable_task_id() = update.update().status().task_id();
	e.mutable_acknowledged()->set_uuid(update.update().status().uuid());
	return e;
}

} // namespace

TEST_CASE("options from the MESOS_* environment an agent sets, with a clear error when one is missing") {
	::setenv("MESOS_FRAMEWORK_ID", "F9", 1);
	::setenv("MESOS_EXECUTOR_ID", "E9", 1);
	::setenv("MESOS_AGENT_ENDPOINT", "127.0.0.1:5051", 1);
	::setenv("MESOS_DIRECTORY", "/tmp/sandbox", 1);
	auto o = executor_options::from_environment();
	REQUIRE(o.isSome());
	CHECK(o.get().framework_id.value() == "F9");
	CHECK(o.get().executor_id.value() == "E9");
	CHECK(o.get().agent_endpoint == "127.0.0.1:5051");
	CHECK(o.get().directory == "/tmp/sandbox");
	::unsetenv("MESOS_AGENT_ENDPOINT");
	auto missing = executor_options::from_environment();
	REQUIRE(missing.isError());
	CHECK_THAT(missing.error(), Catch::StartsWith("MESOS_AGENT_ENDPOINT is not set"));
}

TEST_CASE("subscribe, LAUNCH/KILL/MESSAGE events, UPDATE with a fresh uuid, ACKNOWLEDGED, both content types") {
	auto type = GENERATE(ContentType::JSON, ContentType::PROTOBUF);
	connected c(type);
	fake_agent &agent = c.agent;
	recorder &r = c.r;
	ExecutorDriver &driver = c.driver;
	REQUIRE(r.saw("subscribed agent-1"));
	auto sub = agent.calls(exec::Call::SUBSCRIBE);
	REQUIRE(sub.size() == 1);
	CHECK(sub[0].content_type == media_type(type));
	CHECK(sub[0].call.framework_id().value() == "F0");
	CHECK(sub[0].call.executor_id().value() == "E0");

	REQUIRE(agent.send(launch_event("t1")));
	REQUIRE(agent.wait_calls(exec::Call::UPDATE, 1));
	auto update = agent.calls(exec::Call::UPDATE)[0];
	const auto &status = update.call.update().status();
	CHECK(status.task_id().value() == "t1");
	CHECK(status.state() == v1::TASK_RUNNING);
	CHECK(status.uuid().size() == 16);
	CHECK(status.source() == v1::TaskStatus::SOURCE_EXECUTOR);
	CHECK(status.executor_id().value() == "E0");
	CHECK(status.timestamp() > 1.7e9);
	CHECK(driver.status().unacknowledged_updates == 1);
	REQUIRE(agent.send(acknowledged_event(update.call)));
	REQUIRE(r.saw("acknowledged t1"));
	CHECK(driver.status().unacknowledged_updates == 0);
	CHECK(driver.status().unacknowledged_tasks == 1); // running: not finished

	exec::Event kill;
	kill.set_type(exec::Event::KILL);
	kill.mutable_kill()->mutable_task_id()->set_value("t1");
	kill.mutable_kill()->mutable_kill_policy()->mutable_grace_period()->set_nanoseconds(2'000'000'000);
	REQUIRE(agent.send(kill));
	REQUIRE(r.saw("kill t1 2000000000"));
	REQUIRE(agent.wait_calls(exec::Call::UPDATE, 2));
	auto killed = agent.calls(exec::Call::UPDATE)[1];
	CHECK(killed.call.update().status().state() == v1::TASK_KILLED);
	CHECK(killed.call.update().status().uuid() != status.uuid());
	REQUIRE(agent.send(acknowledged_event(killed.call)));
	CHECK(eventually([&] { return driver.status().unacknowledged_tasks == 0; })); // terminal, acknowledged

	exec::Event message;
	message.set_type(exec::Event::MESSAGE);
	message.mutable_message()->set_data("ping");
	REQUIRE(agent.send(message));
	REQUIRE(r.saw("message ping"));
	Future<Nothing> sent = driver.message("pong");
	REQUIRE(sent.await(10s));
	REQUIRE(sent.isReady());
	CHECK(agent.calls(exec::Call::MESSAGE).at(0).call.message().data() == "pong");
	for (auto &c : agent.calls())
		CHECK(c.content_type == media_type(type));
}

TEST_CASE("unacknowledged updates and unfinished tasks are resent in the next SUBSCRIBE") {
	connected c;
	fake_agent &agent = c.agent;
	recorder &r = c.r;
	ExecutorDriver &driver = c.driver;
	REQUIRE(agent.send(launch_event("t1")));
	REQUIRE(agent.send(launch_event("t2")));
	REQUIRE(agent.wait_calls(exec::Call::UPDATE, 2));
	// The two UPDATEs come on connections of their own: in either order.
	auto updates = agent.calls(exec::Call::UPDATE);
	if (updates[0].call.update().status().task_id().value() != "t1")
		std::swap(updates[0], updates[1]);
	REQUIRE(updates[0].call.update().status().task_id().value() == "t1");
	REQUIRE(agent.send(acknowledged_event(updates[0].call))); // t1's, not t2's
	REQUIRE(r.saw("acknowledged t1"));

	// The agent restarts: the stream ends; while it is away, SUBSCRIBE is refused twice.
	std::atomic<int> refusals{0};
	agent.on_subscribe = [&](const exec::Call &) -> std::optional<http::Response> {
		if (refusals.fetch_add(1) < 2)
			return http::ServiceUnavailable("recovering\n");
		return std::nullopt;
	};
	agent.close_stream();
	REQUIRE(r.saw("disconnected stream closed"));
	// An update made while disconnected is queued for the next SUBSCRIBE.
	Future<std::string> queued = driver.update(recorder::status(updates[0].call.update().status().task_id(), v1::TASK_FINISHED));
	REQUIRE(queued.await(10s));
	REQUIRE(queued.isReady());
	REQUIRE(r.saw("subscribed", 2));
	auto subs = agent.calls(exec::Call::SUBSCRIBE);
	REQUIRE(subs.size() == 4);
	const auto &resent = subs.back().call.subscribe();
	REQUIRE(resent.unacknowledged_updates_size() == 2);
	CHECK(resent.unacknowledged_updates(0).status().uuid() == updates[1].call.update().status().uuid());
	CHECK(resent.unacknowledged_updates(1).status().uuid() == queued.get());
	CHECK(resent.unacknowledged_updates(1).status().state() == v1::TASK_FINISHED);
	std::set<std::string> tasks;
	for (auto &t : resent.unacknowledged_tasks())
		tasks.insert(t.task_id().value());
	CHECK(tasks == std::set<std::string>{"t1", "t2"});
	CHECK(agent.calls(exec::Call::UPDATE).size() == 2); // the queued one went only in SUBSCRIBE
}

TEST_CASE("SHUTDOWN: the executor is told, and the driver stops without re-subscribing") {
	connected c;
	fake_agent &agent = c.agent;
	recorder &r = c.r;
	ExecutorDriver &driver = c.driver;
	exec::Event shutdown;
	shutdown.set_type(exec::Event::SHUTDOWN);
	REQUIRE(agent.send(shutdown));
	REQUIRE(r.saw("shutdown"));
	CHECK(eventually([&] { return driver.status().stopped; }));
	agent.close_stream();
	std::this_thread::sleep_for(300ms);
	CHECK(agent.calls(exec::Call::SUBSCRIBE).size() == 1);
	CHECK(driver.update(recorder::status(v1::TaskID(), v1::TASK_FAILED)).isFailed());
}

TEST_CASE("a malformed event: a clear reason, no crash, and a new subscription") {
	connected c;
	fake_agent &agent = c.agent;
	recorder &r = c.r;
	// Valid framing and JSON, but a LAUNCH without its task.
	REQUIRE(agent.send_raw(recordio::encode(R"({"type":"LAUNCH","launch":{}})")));
	REQUIRE(r.saw("disconnected malformed event"));
	auto lines = r.lines();
	CHECK_THAT(lines.back(), Catch::Contains("missing required fields"));
	REQUIRE(r.saw("subscribed", 2));
}

TEST_CASE("no agent for the recovery timeout: error(), then the driver stops") {
	pool p(pool_options{.workers = 2});
	std::uint16_t port;
	{
		fake_agent gone(p, "/api/v1/executor", false);
		port = gone.port();
	}
	recorder r;
	executor_options o;
	o.agent_endpoint = "127.0.0.1:" + std::to_string(port);
	o.framework_id.set_value("F0");
	o.executor_id.set_value("E0");
	o.backoff_min = 20ms;
	o.backoff_max = 50ms;
	o.recovery_timeout = 300ms;
	ExecutorDriver driver(p, r, o);
	driver.start();
	REQUIRE(r.saw("error agent unreachable"));
	CHECK(eventually([&] { return driver.status().stopped; }));
	CHECK(driver.status().subscribe_attempts >= 3);
}
