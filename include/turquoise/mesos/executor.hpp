// turquoise/mesos/executor.hpp — a custom Mesos executor on the v1 executor API of an agent.
//
//   struct Echo : mesos::Executor {
//       void launch(mesos::ExecutorDriver &d, const v1::TaskInfo &task) override {
//           v1::TaskStatus s; *s.mutable_task_id() = task.task_id(); s.set_state(v1::TASK_FINISHED);
//           d.update(s);
//       }
//   };
//   Echo echo;
//   mesos::ExecutorDriver driver(pool, echo, mesos::executor_options::from_environment().get());
//   driver.start();
//
// Protocol, as Mesos's executor library speaks it: SUBSCRIBE is POSTed to
// http://<MESOS_AGENT_ENDPOINT>/api/v1/executor and answered 200 with a RecordIO stream of
// events (SUBSCRIBED, LAUNCH, LAUNCH_GROUP, KILL, ACKNOWLEDGED, MESSAGE, SHUTDOWN, ERROR,
// HEARTBEAT); UPDATE and MESSAGE are POSTed on other connections, answered 202.
//
// update(status) fills in a fresh uuid (16 random bytes), the executor id, source
// SOURCE_EXECUTOR and the timestamp, and keeps the update until the agent's ACKNOWLEDGED for
// that uuid. When the stream is lost (closed, failed, malformed) the driver calls
// disconnected() and subscribes again after a doubling backoff, sending every unacknowledged
// update and the tasks launched and not finished (Call.Subscribe's unacknowledged_updates /
// unacknowledged_tasks), as Mesos's protocol has the agent resend them; it gives up after
// recovery_timeout without a subscription (error(), then stop). After SHUTDOWN the driver
// stops once shutdown() returns.
//
// Callbacks run one at a time, in order, on the driver's pool; they may call the driver and
// stop() it, but must not destroy it.
#ifndef TURQUOISE_MESOS_EXECUTOR_HPP
#define TURQUOISE_MESOS_EXECUTOR_HPP

#include <turquoise/async/future.hpp>
#include <turquoise/async/nothing.hpp>
#include <turquoise/async/try.hpp>
#include <turquoise/mesos/codec.hpp>
#include <turquoise/mesos/types.hpp>
#include <turquoise/pool.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace turquoise::mesos {

class ExecutorDriver;

class Executor {
public:
	virtual ~Executor() = default;
	virtual void subscribed(ExecutorDriver &, const v1::executor::Event::Subscribed &) {}
	virtual void launch(ExecutorDriver &, const v1::TaskInfo &) {}
	virtual void launch_group(ExecutorDriver &, const v1::TaskGroupInfo &) {}
	virtual void kill(ExecutorDriver &, const v1::TaskID &, const std::optional<v1::KillPolicy> &) {}
	virtual void acknowledged(ExecutorDriver &, const v1::TaskID &, const std::string & /*uuid*/) {}
	virtual void message(ExecutorDriver &, const std::string & /*data*/) {}
	virtual void shutdown(ExecutorDriver &) {}
	virtual void error(ExecutorDriver &, const std::string & /*message*/) {}
	virtual void disconnected(ExecutorDriver &, const std::string & /*why*/) {}
};

struct executor_options {
	std::string agent_endpoint; // "ip:port" (or "http://ip:port")
	v1::FrameworkID framework_id;
	v1::ExecutorID executor_id;
	std::string directory; // the sandbox
	ContentType content_type = ContentType::JSON;
	std::chrono::milliseconds backoff_min{200};
	std::chrono::milliseconds backoff_max{5'000};
	std::chrono::milliseconds recovery_timeout{15 * 60'000}; // Mesos's default
	std::chrono::milliseconds connect_timeout{5'000};
	std::chrono::milliseconds call_timeout{30'000};
	std::size_t max_event_bytes = 64 * 1024 * 1024;

	// From MESOS_FRAMEWORK_ID, MESOS_EXECUTOR_ID, MESOS_AGENT_ENDPOINT (required) and
	// MESOS_DIRECTORY (optional), as an agent sets them; an error names what is missing.
	static Try<executor_options> from_environment();
};

struct executor_status {
	bool started = false, stopped = false, subscribed = false;
	std::size_t unacknowledged_updates = 0, unacknowledged_tasks = 0;
	std::uint64_t subscribe_attempts = 0, subscriptions = 0, disconnections = 0;
	std::string last_error;
};

class ExecutorDriver {
public:
	struct state; // internal

	ExecutorDriver(pool &p, Executor &executor, executor_options options);
	~ExecutorDriver(); // stop(), then waits for a callback in progress (not from a callback!)
	ExecutorDriver(const ExecutorDriver &) = delete;
	ExecutorDriver &operator=(const ExecutorDriver &) = delete;

	bool start();
	void stop();
	executor_status status() const;

	// UPDATE (see above). Ready, with the uuid given to the update (16 raw bytes), once the
	// agent answered 202, or, while disconnected, once queued for the next SUBSCRIBE; failed
	// for an incomplete status or another answer (the update stays queued unless incomplete).
	Future<std::string> update(v1::TaskStatus status);
	// MESSAGE to the scheduler; fails "not subscribed" while disconnected.
	Future<Nothing> message(std::string data);

private:
	std::shared_ptr<state> state_;
};

} // namespace turquoise::mesos

#endif
