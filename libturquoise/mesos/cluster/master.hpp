// master.hpp — the local cluster's master: one process (libprocess model) holding the
// frameworks, agents, offers and tasks, serving the v1 scheduler API's calls as a Mesos master
// does. Its members are implemented by topic: master_frameworks.cpp (subscription, streams,
// heartbeats, teardown), master_offers.cpp (offers, filters, rescinds), master_tasks.cpp
// (accept, launch, kill, reconcile), master_updates.cpp (status updates, acknowledgements,
// retries), master_executors.cpp (custom executors: the agents' v1 executor API).
// (Internal to the local cluster.)
#ifndef TURQUOISE_MESOS_CLUSTER_MASTER_HPP
#define TURQUOISE_MESOS_CLUSTER_MASTER_HPP

#include "launcher.hpp"
#include "resources.hpp"

#include <turquoise/async/clock.hpp>
#include <turquoise/http/message.hpp>
#include <turquoise/mesos/cluster.hpp>
#include <turquoise/mesos/codec.hpp>
#include <turquoise/mesos/types.hpp>
#include <turquoise/process/process.hpp>
#include <turquoise/util/pipe.hpp>

#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace turquoise::mesos::local {

struct agent_state {
	v1::AgentInfo info; // id, hostname, resources, port (its HTTP address)
	std::string ip;
	resource_set total;
	resource_set used; // by tasks and by outstanding offers
};

struct stream {
	Pipe::Writer writer;
	ContentType type;
	std::string id; // Mesos-Stream-Id
};

struct task_state {
	v1::TaskInfo info;
	std::string framework_id;
	resource_set resources;
	v1::TaskState state = v1::TASK_STAGING; // the latest state the agent reported
	std::optional<v1::TaskStatus> latest;
	std::deque<v1::TaskStatus> unacknowledged; // the front one is sent, awaiting its ack
	Timer retry;
	std::optional<task_process> process; // a command task's
	std::string executor_id;              // a custom executor's task: that executor's id
	std::set<std::string> executor_uuids; // updates the executor sent (duplicates are dropped)
	bool terminal_reported = false; // a terminal state is queued: nothing follows it
};

// A custom executor (ExecutorInfo with a command) on one agent: started with its first task,
// it SUBSCRIBEs at the agent's /api/v1/executor; tasks launched before that are queued.
struct executor_state {
	enum class phase { registering, running, terminating };
	v1::ExecutorInfo info;
	std::string framework_id, agent_id;
	std::string run;                 // this run's id (a later run may reuse the executor id)
	resource_set resources;          // its own, held until it exits
	std::optional<task_process> process;
	phase state = phase::registering;
	std::optional<stream> connection; // its event stream (id: a counter, as text)
	std::uint64_t connections = 0;
	std::vector<std::string> queued;  // task ids to send once it subscribes, in launch order
	std::set<std::string> tasks;      // every task id given to it
	bool ever_sent_task = false, shutdown_requested = false;
	std::optional<v1::TaskStatus::Reason> termination_reason; // why the agent killed it
	Timer registration, heartbeat, shutdown;
};

struct offer_state {
	v1::Offer offer;
	resource_set resources;
	Timer timeout;
};

struct framework_state {
	v1::FrameworkInfo info;
	std::string role = "*";
	bool partition_aware = false;
	std::optional<stream> connection;
	Timer heartbeat;
	Timer failover; // removal once disconnected for failover_timeout
	bool suppressed = false;
	std::map<std::string, Clock::Time> refused_until; // by agent id (DECLINE filters)
	std::map<std::string, task_state> tasks;             // by task id; until the terminal ack
	std::map<std::pair<std::string, std::string>, executor_state> executors; // by (agent, executor id)
	std::set<std::string> offers;
	std::int64_t allocated_cpus = 0; // for fair offering
};

class Master : public Process<Master> {
public:
	explicit Master(cluster_options options);

	// A validated call from the HTTP endpoint (scheduler_http.cpp); `stream_id` is the
	// request's Mesos-Stream-Id header. SUBSCRIBE is not handled here.
	http::Response call(v1::scheduler::Call call, std::optional<std::string> stream_id);
	void subscribe(v1::scheduler::Call::Subscribe subscribe, stream s);
	// A validated call of the executor API on agent `agent_id` (executor_http.cpp);
	// `events` is the content type of SUBSCRIBE's stream.
	http::Response executor_call(std::string agent_id, v1::executor::Call call, ContentType events);

	// The agents (cluster.cpp adds them before the first subscription).
	std::string add_agent(agent_state agent); // its id
	std::vector<v1::AgentInfo> agents() const;

	void stop(); // kills every task (cluster shutdown)

protected:
	void initialize() override;

private:
	// master_frameworks.cpp
	void send(framework_state &f, const v1::scheduler::Event &event);
	void heartbeat(const std::string &framework_id, const std::string &stream_id);
	void disconnected(const std::string &framework_id, const std::string &stream_id);
	void remove_framework(const std::string &framework_id, const std::string &why);
	framework_state *framework(const std::string &id);

	// master_offers.cpp
	void allocate();
	void allocation_tick();
	void schedule_allocation();
	void rescind_offer(const std::string &offer_id, bool tell_framework);
	void offer_timeout(const std::string &offer_id);
	void decline(framework_state &f, const v1::scheduler::Call::Decline &decline);
	void refuse(framework_state &f, const std::string &agent_id, const v1::Filters &filters);

	// master_tasks.cpp
	void accept(framework_state &f, const v1::scheduler::Call::Accept &accept);
	void launch(framework_state &f, agent_state &agent, const v1::TaskInfo &task, resource_set resources);
	void kill(framework_state &f, const v1::scheduler::Call::Kill &kill);
	void shutdown_executor(framework_state &f, const v1::scheduler::Call::Shutdown &shutdown);
	void reconcile(framework_state &f, const v1::scheduler::Call::Reconcile &reconcile);
	void task_exited(std::string framework_id, std::string task_id, int wait_status);
	command_line command_for(const v1::CommandInfo &ci, const std::string &sandbox, const agent_state &agent,
	                         const std::string &framework_id, const std::string &executor_id) const;
	std::string sandbox_for(const agent_state &agent, const std::string &framework_id,
	                        const std::string &executor_id) const;

	// master_executors.cpp
	std::optional<std::string> invalid_executor(framework_state &f, const std::string &agent_id,
	                                            v1::ExecutorInfo &executor);
	void launch_on_executor(framework_state &f, agent_state &agent, const v1::TaskInfo &task,
	                        resource_set task_resources, resource_set executor_resources);
	executor_state *start_executor(framework_state &f, agent_state &agent, const v1::ExecutorInfo &info,
	                               resource_set resources, std::string &error);
	executor_state *executor(framework_state &f, const std::string &agent_id, const std::string &executor_id);
	void send(executor_state &e, const v1::executor::Event &event);
	void send_launch(executor_state &e, const task_state &t);
	void executor_subscribe(framework_state &f, executor_state &e, const v1::executor::Call::Subscribe &s,
	                        stream connection);
	void executor_update(framework_state &f, executor_state &e, v1::TaskStatus status);
	void executor_heartbeat(std::string framework_id, std::string agent_id, std::string executor_id,
	                        std::string stream_id);
	void executor_disconnected(std::string framework_id, std::string agent_id, std::string executor_id,
	                           std::string stream_id);
	void executor_registration_timeout(std::string framework_id, std::string agent_id,
	                                   std::string executor_id, std::string run);
	void executor_exited(std::string framework_id, std::string agent_id, std::string executor_id,
	                     std::string run, int wait_status);
	void kill_on_executor(framework_state &f, task_state &t, const v1::scheduler::Call::Kill &kill);
	void shutdown_executor(framework_state &f, executor_state &e);
	void message_executor(framework_state &f, const v1::scheduler::Call::Message &message);
	void kill_executor_now(std::string framework_id, std::string agent_id, std::string executor_id,
	                       std::string run);
	v1::TaskStatus agent_status_of(const task_state &t, v1::TaskState state, const std::string &message,
	                               v1::TaskStatus::Reason reason);

	// master_updates.cpp
	v1::TaskStatus agent_status(const task_state &t, v1::TaskState state, const std::string &message,
	                            std::optional<v1::TaskStatus::Reason> reason = std::nullopt);
	v1::TaskStatus master_status(const v1::TaskID &task, const std::string &agent_id,
	                             v1::TaskState state, const std::string &message,
	                             v1::TaskStatus::Reason reason);
	void update(framework_state &f, task_state &t, v1::TaskStatus status); // reliable, with uuid
	void forward(framework_state &f, const v1::TaskStatus &status);       // unreliable, no uuid
	void send_unacknowledged(framework_state &f, task_state &t);
	void retry_update(std::string framework_id, std::string task_id, std::string uuid);
	void acknowledge(framework_state &f, const v1::scheduler::Call::Acknowledge &ack);
	void release(task_state &t);

	cluster_options options_;
	pool &pool_; // the runtime's pool at construction: tasks are reaped on its reactor
	std::string master_id_;
	std::uint64_t next_framework_ = 0, next_offer_ = 0;
	std::map<std::string, agent_state> agents_; // by agent id, in creation order of ids
	std::map<std::string, framework_state> frameworks_;
	std::set<std::string> removed_frameworks_;
	std::map<std::string, offer_state> offers_;
	bool allocation_scheduled_ = false;
	bool stopped_ = false;
};

bool terminal_state(v1::TaskState state);
v1::executor::Event executor_event(v1::executor::Event::Type type); // an event with just its type

// A fresh random uuid: 16 bytes, and as text (8-4-4-4-12 hex).
std::string random_uuid_bytes();
std::string uuid_text(const std::string &bytes);

} // namespace turquoise::mesos::local

#endif
