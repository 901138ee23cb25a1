// turquoise/mesos/cluster.hpp — an embedded local Mesos cluster: one master and N agents in
// this OS process, serving the v1 scheduler API on a port as a Mesos master does.
//
//   auto cluster = mesos::LocalCluster::start({.port = 0, .agents = 3});   // Try<...>
//   std::string master = cluster.get()->address();                         // "127.0.0.1:PORT"
//   ... point a scheduler (or any Mesos v1 HTTP client) at it ...
//   cluster.get()->stop();                                                  // or destroy it
//
// The scheduler API: POST /api/v1/scheduler (also /master/api/v1/scheduler), bodies in
// application/json (Mesos's JSON mapping) or application/x-protobuf (no Content-Type: 400,
// another one: 415; no Accept: JSON; chunked bodies accepted). SUBSCRIBE answers 200 with a
// Mesos-Stream-Id header and a stream of RecordIO records, each written as its own HTTP chunk:
// SUBSCRIBED, then HEARTBEAT at once and every heartbeat_interval, OFFERS, RESCIND, UPDATE,
// MESSAGE, FAILURE, ERROR. Every other call needs the framework id and the stream id (else
// 400 with the reason) and is answered 202; TEARDOWN ends the stream. Outcomes follow Mesos:
//   - ACCEPT naming offers that are unknown, rescinded or another framework's discards every
//     named offer that exists, another framework's included (as Mesos's master does);
//   - offers hold each agent's free resources (cpus, mem, disk, ports) and `url` with the
//     agent's address; one not used within offer_timeout is rescinded;
//   - DECLINE (and the unused part of an ACCEPT) refuses the agent to that framework for the
//     filter's refuse_seconds (default 5); REVIVE clears the filters and SUPPRESS stops offers;
//   - LAUNCH runs each command task as a child process in its sandbox directory
//     <work_dir>/agents/<agent>/frameworks/<framework>/executors/<task>/runs/<uuid>, stdout and
//     stderr captured there; updates TASK_STARTING, TASK_RUNNING, then TASK_FINISHED (exit 0),
//     TASK_FAILED (other exit, or a program that cannot run) or TASK_KILLED, each with agent_id
//     and a uuid; the next update of a task is sent once the previous one is acknowledged;
//     unacknowledged ones are resent every update_retry_interval (and on re-subscription);
//   - a task that is invalid or asks for more than its offers hold: TASK_ERROR (REASON_TASK_INVALID);
//     offers that are unknown, rescinded or another framework's: every task of the call gets
//     TASK_LOST, or TASK_DROPPED for a PARTITION_AWARE framework (REASON_INVALID_OFFERS);
//     these come from the master (SOURCE_MASTER) without a uuid, as Mesos sends them;
//   - KILL: SIGTERM to the task's process group, SIGKILL after the kill policy's grace period
//     (default 3 s); an unknown task is answered as reconciliation;
//   - RECONCILE: the latest state of the tasks asked about (all, if none) with
//     REASON_RECONCILIATION, SOURCE_MASTER and no uuid; unknown tasks TASK_LOST (TASK_UNKNOWN
//     for PARTITION_AWARE frameworks);
//   - a framework whose stream closes is removed (its tasks killed) after its FrameworkInfo's
//     failover_timeout; it may subscribe again with its id meanwhile. Other frameworks are
//     unaffected. SUBSCRIBE with the id of an unknown framework registers it under that id (as
//     a master that failed over would accept it).
//   - custom executors: a task with an ExecutorInfo (CUSTOM, with a command) starts that
//     executor on the agent with its first task (later tasks with the same executor id and
//     an identical ExecutorInfo go to the running one; the executor's resources are counted
//     once), in a sandbox .../executors/<executor>/runs/<uuid>, with MESOS_FRAMEWORK_ID,
//     MESOS_EXECUTOR_ID, MESOS_AGENT_ENDPOINT, MESOS_DIRECTORY, MESOS_SANDBOX, MESOS_SLAVE_ID.
//     It speaks the v1 executor API at http://<agent>/api/v1/executor (the address in the
//     offer's url): SUBSCRIBE answers 200 with a RecordIO stream (SUBSCRIBED, LAUNCH for every
//     task queued until then, KILL, MESSAGE, ACKNOWLEDGED, SHUTDOWN, HEARTBEAT); UPDATE and
//     MESSAGE are answered 202 (400 for an unknown framework or executor, 403 before
//     SUBSCRIBE). Its updates reach the scheduler with the executor's uuid, reliably as above;
//     the executor gets ACKNOWLEDGED once the agent holds an update (as Mesos's agent does),
//     and updates it resends on re-subscription are dropped as duplicates by uuid. The
//     scheduler's MESSAGE, KILL and SHUTDOWN (SHUTDOWN event, SIGKILL after the executor's
//     shutdown_grace_period, default 5 s) reach it; its MESSAGE reaches the scheduler. When
//     it exits, its live tasks go TASK_FAILED (REASON_EXECUTOR_TERMINATED, or
//     REASON_EXECUTOR_REGISTRATION_TIMEOUT if it never subscribed in time) and the scheduler
//     gets FAILURE with agent_id, executor_id and the wait status.
// Not provided: the DEFAULT executor (LAUNCH_GROUP), roles and reservations, quotas,
// operations other than LAUNCH, authentication, the operator API.
#ifndef TURQUOISE_MESOS_CLUSTER_HPP
#define TURQUOISE_MESOS_CLUSTER_HPP

#include <turquoise/async/try.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace turquoise::mesos {

struct cluster_options {
	std::string ip = "127.0.0.1";
	std::uint16_t port = 5050; // 0: any free port
	std::size_t agents = 1;
	// Per agent; unset: this machine's (hardware threads; physical memory minus 1 GiB, at
	// least 512 MB) divided among the agents.
	std::optional<double> cpus;
	std::optional<double> mem; // MB
	double disk = 10240;       // MB per agent (not enforced)
	std::uint64_t ports_begin = 31000; // agent i offers [begin + i*1000, begin + i*1000 + 999]
	std::string work_dir; // empty: a new directory under $TMPDIR (or /tmp), removed by stop()
	std::chrono::milliseconds heartbeat_interval{5'000};
	std::chrono::milliseconds offer_timeout{30'000};
	std::chrono::milliseconds update_retry_interval{10'000};
	std::chrono::milliseconds allocation_interval{1'000}; // offers are also made on changes
	// A custom executor that has not subscribed by then is killed (Mesos's agent flag
	// --executor_registration_timeout, default 1 min).
	std::chrono::milliseconds executor_registration_timeout{60'000};
};

class LocalCluster {
public:
	// Creates the work directory, starts the master and the agents and listens, on the
	// current runtime (runtime.hpp). An Error names what failed (e.g. the address in use).
	static Try<std::unique_ptr<LocalCluster>> start(cluster_options options = {});
	~LocalCluster(); // stop()

	const std::string &ip() const;
	std::uint16_t port() const;
	std::string address() const; // "ip:port"
	const std::string &work_dir() const;
	// Kills every task, closes every stream and stops listening. Idempotent.
	void stop();

	struct state; // internal
	explicit LocalCluster(std::unique_ptr<state> s);

private:
	std::unique_ptr<state> state_;
};

} // namespace turquoise::mesos

#endif
