// master.hpp — the local cluster's master: one process (libprocess model) holding the
// frameworks, agents, offers and tasks, serving the v1 scheduler API's calls as a Mesos master
// does. Its members are implemented by topic: master_frameworks.cpp (subscription, streams,
// heartbeats, teardown), master_offers.cpp (offers, filters, rescinds), master_tasks.cpp
// (accept, launch, kill, reconcile), master_updates.cpp (status updates, acknowledgements,
// retries). (Internal to the local cluster.)
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

struct task_state {
	v1::TaskInfo info;
	std::string framework_id;
	resource_set resources;
	v1::TaskState state = v1::TASK_STAGING; // the latest state the agent reported
	std::optional<v1::TaskStatus> latest;
	std::deque<v1::TaskStatus> unacknowledged; // the front one is sent, awaiting its ack
	Timer retry;
	std::optional<task_process> process;
	bool terminal_reported = false; // a terminal state is queued: nothing follows it
};

struct offer_state {
	v1::Offer offer;
	resource_set resources;
	Timer timeout;
};

struct stream {
	Pipe::Writer writer;
	ContentType type;
	std::string id; // Mesos-Stream-Id
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

	// The agents (cluster.cpp adds them before the first subscription).
	void add_agent(agent_state agent);
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

// A fresh random uuid: 16 bytes, and as text (8-4-4-4-12 hex).
std::string random_uuid_bytes();
std::string uuid_text(const std::string &bytes);

} // namespace turquoise::mesos::local

#endif
