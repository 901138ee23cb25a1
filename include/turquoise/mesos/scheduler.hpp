// turquoise/mesos/scheduler.hpp — a Mesos framework scheduler on the v1 HTTP API.
//
//   struct Hello : mesos::Scheduler {
//       void offers(mesos::SchedulerDriver &d, const std::vector<v1::Offer> &offers) override {
//           for (auto &o : offers) d.decline({o.id()});
//       }
//   };
//   Hello hello;
//   v1::FrameworkInfo info; info.set_user("nobody"); info.set_name("hello");
//   mesos::SchedulerDriver driver(pool, hello, info, {.master = "127.0.0.1:5050"});
//   driver.start();
//
// Protocol, as Mesos's own scheduler library speaks it: SUBSCRIBE is POSTed to
// <master>/api/v1/scheduler and answered 200 with a stream of RecordIO-framed events and a
// Mesos-Stream-Id header; every later call goes on another connection with that header and is
// answered 202. A 307 answer's Location (the leading master) is followed. The subscription is
// lost when the stream ends or fails, when an event is malformed (a clear reason, never a
// crash), or when nothing arrives for heartbeat_misses heartbeat intervals; the driver then
// calls disconnected() and subscribes again with the framework id it was given, after a
// backoff that doubles from backoff_min up to backoff_max (reset by a SUBSCRIBED). An ERROR
// event means the master removed the framework: the driver stops after error() returns.
//
// Callbacks run one at a time, in the order the master sent the events, on the driver's pool
// (preemptibly: a callback that spins does not starve the pool). They may call the driver
// (and stop() it), but must not destroy it. Status updates that carry a uuid are acknowledged
// after update() returns unless auto_acknowledge is false (then call acknowledge()).
//
// Calls return a Future<Nothing>: ready once the master answered 202 (or 200); failed with
// "not subscribed" before SUBSCRIBED (or after a disconnection), with "<status> <reason>:
// <body>" for any other answer, or with the HTTP client's failure.
#ifndef TURQUOISE_MESOS_SCHEDULER_HPP
#define TURQUOISE_MESOS_SCHEDULER_HPP

#include <turquoise/async/future.hpp>
#include <turquoise/async/nothing.hpp>
#include <turquoise/mesos/codec.hpp>
#include <turquoise/mesos/types.hpp>
#include <turquoise/pool.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace turquoise::mesos {

class SchedulerDriver;

// The callbacks; each default does nothing.
class Scheduler {
public:
	virtual ~Scheduler() = default;
	virtual void subscribed(SchedulerDriver &, const v1::scheduler::Event::Subscribed &) {}
	virtual void offers(SchedulerDriver &, const std::vector<v1::Offer> &) {}
	virtual void rescind(SchedulerDriver &, const v1::OfferID &) {}
	virtual void update(SchedulerDriver &, const v1::TaskStatus &) {}
	virtual void message(SchedulerDriver &, const v1::AgentID &, const v1::ExecutorID &, const std::string &/*data*/) {}
	virtual void failure(SchedulerDriver &, const v1::scheduler::Event::Failure &) {}
	virtual void error(SchedulerDriver &, const std::string &/*message*/) {}
	virtual void heartbeat(SchedulerDriver &) {}
	// The subscription was lost (why: "stream closed", "no heartbeat for 75 s", "malformed
	// event: ..."); the driver re-subscribes unless stopped.
	virtual void disconnected(SchedulerDriver &, const std::string &/*why*/) {}
};

struct scheduler_options {
	// "host:port", "http://host:port" or "http://host:port/prefix" (the API is at
	// <prefix>/api/v1/scheduler). IPv4 literals: host names are resolved on the pool.
	std::string master = "127.0.0.1:5050";
	ContentType content_type = ContentType::JSON;
	bool auto_acknowledge = true;
	double heartbeat_misses = 5; // intervals without any event before giving up the stream
	// Until SUBSCRIBED says otherwise (Mesos's default interval).
	std::chrono::milliseconds heartbeat_interval{15'000};
	std::chrono::milliseconds backoff_min{500};
	std::chrono::milliseconds backoff_max{30'000};
	std::chrono::milliseconds connect_timeout{5'000};
	std::chrono::milliseconds call_timeout{30'000}; // per call; for SUBSCRIBE, to the response head
	int max_redirects = 8; // per subscription attempt
	std::size_t max_event_bytes = 64 * 1024 * 1024;
};

// What the driver is doing (a snapshot).
struct scheduler_status {
	bool started = false, stopped = false, subscribed = false;
	std::optional<v1::FrameworkID> framework_id;
	std::string stream_id; // empty unless subscribed
	std::string master;    // the base URL in use (after redirects), e.g. "http://10.0.0.1:5050"
	std::uint64_t subscribe_attempts = 0, subscriptions = 0, disconnections = 0;
	std::string last_error; // why the last attempt or subscription ended
};

class SchedulerDriver {
public:
	struct state; // internal

	// The framework's id, if info has one, is used from the first SUBSCRIBE on.
	SchedulerDriver(pool &p, Scheduler &scheduler, v1::FrameworkInfo info, scheduler_options options = {});
	~SchedulerDriver(); // stop(), then waits for a callback in progress (not from a callback!)
	SchedulerDriver(const SchedulerDriver &) = delete;
	SchedulerDriver &operator=(const SchedulerDriver &) = delete;

	// Subscribe (once; false if already started or stopped). Returns at once.
	bool start();
	// Close the stream, cancel timers; no more callbacks after the current one. Idempotent.
	void stop();

	scheduler_status status() const;

	// ACCEPT: operations on the offers (all of one agent), with filters for what is left.
	Future<Nothing> accept(std::vector<v1::OfferID> offer_ids, std::vector<v1::Offer::Operation> operations,
	                       std::optional<v1::Filters> filters = std::nullopt);
	// ACCEPT with one LAUNCH operation of these tasks.
	Future<Nothing> launch(std::vector<v1::OfferID> offer_ids, std::vector<v1::TaskInfo> tasks,
	                       std::optional<v1::Filters> filters = std::nullopt);
	Future<Nothing> decline(std::vector<v1::OfferID> offer_ids, std::optional<v1::Filters> filters = std::nullopt);
	Future<Nothing> revive(std::vector<std::string> roles = {});
	Future<Nothing> suppress(std::vector<std::string> roles = {});
	Future<Nothing> kill(v1::TaskID task_id, std::optional<v1::AgentID> agent_id = std::nullopt,
	                     std::optional<v1::KillPolicy> kill_policy = std::nullopt);
	Future<Nothing> shutdown(v1::ExecutorID executor_id, v1::AgentID agent_id);
	// ACKNOWLEDGE (agent_id, task_id, uuid) of the status; ready at once if it has no uuid.
	Future<Nothing> acknowledge(const v1::TaskStatus &status);
	// RECONCILE: explicit (these tasks) or, with none, implicit (every task the master knows).
	Future<Nothing> reconcile(std::vector<v1::scheduler::Call::Reconcile::Task> tasks = {});
	Future<Nothing> message(v1::AgentID agent_id, v1::ExecutorID executor_id, std::string data);
	Future<Nothing> request(std::vector<v1::Request> requests);
	// TEARDOWN, then stop(): the master kills the framework's tasks and ends the stream.
	Future<Nothing> teardown();
	// Any call (framework_id is filled in).
	Future<Nothing> call(v1::scheduler::Call call);

private:
	std::shared_ptr<state> state_;
};

} // namespace turquoise::mesos

#endif
