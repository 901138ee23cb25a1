// master_updates.cpp — status updates: the agent's, reliable (a uuid each, one at a time per
// task, resent until acknowledged), and the master's own, sent once without a uuid (invalid
// tasks, reconciliation, RECONCILE's answers), as Mesos sends them (see master.hpp).
#include "master.hpp"

#include <turquoise/process/dispatch.hpp>

#include <chrono>

namespace turquoise::mesos::local {

namespace {

double wall_clock_seconds() {
	return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

} // namespace

v1::TaskStatus Master::agent_status(const task_state &t, v1::TaskState state, const std::string &message,
                                    std::optional<v1::TaskStatus::Reason> reason) {
	v1::TaskStatus s;
	*s.mutable_task_id() = t.info.task_id();
	s.set_state(state);
	if (!message.empty())
		s.set_message(message);
	s.set_source(v1::TaskStatus::SOURCE_EXECUTOR);
	if (reason)
		s.set_reason(*reason);
	*s.mutable_agent_id() = t.info.agent_id();
	s.mutable_executor_id()->set_value(t.info.task_id().value());
	s.set_timestamp(wall_clock_seconds());
	s.set_uuid(random_uuid_bytes());
	return s;
}

v1::TaskStatus Master::master_status(const v1::TaskID &task, const std::string &agent_id, v1::TaskState state,
                                     const std::string &message, v1::TaskStatus::Reason reason) {
	v1::TaskStatus s;
	*s.mutable_task_id() = task;
	s.set_state(state);
	s.set_message(message);
	s.set_source(v1::TaskStatus::SOURCE_MASTER);
	s.set_reason(reason);
	if (!agent_id.empty())
		s.mutable_agent_id()->set_value(agent_id);
	s.set_timestamp(wall_clock_seconds());
	return s;
}

void Master::forward(framework_state &f, const v1::TaskStatus &status) {
	v1::scheduler::Event event;
	event.set_type(v1::scheduler::Event::UPDATE);
	*event.mutable_update()->mutable_status() = status;
	send(f, event);
}

void Master::update(framework_state &f, task_state &t, v1::TaskStatus status) {
	if (t.terminal_reported)
		return; // nothing follows a terminal state
	t.state = status.state();
	t.latest = status;
	t.terminal_reported = terminal_state(status.state());
	t.unacknowledged.push_back(std::move(status));
	if (t.unacknowledged.size() == 1)
		send_unacknowledged(f, t);
}

void Master::send_unacknowledged(framework_state &f, task_state &t) {
	Clock::cancel(t.retry);
	if (t.unacknowledged.empty())
		return;
	forward(f, t.unacknowledged.front());
	t.retry = delay(options_.update_retry_interval, self(), &Master::retry_update, f.info.id().value(),
	                t.info.task_id().value(), t.unacknowledged.front().uuid());
}

void Master::retry_update(std::string framework_id, std::string task_id, std::string uuid) {
	framework_state *f = framework(framework_id);
	if (!f)
		return;
	auto it = f->tasks.find(task_id);
	if (it == f->tasks.end() || it->second.unacknowledged.empty() ||
	    it->second.unacknowledged.front().uuid() != uuid)
		return;
	send_unacknowledged(*f, it->second);
}

void Master::acknowledge(framework_state &f, const v1::scheduler::Call::Acknowledge &ack) {
	auto it = f.tasks.find(ack.task_id().value());
	if (it == f.tasks.end())
		return; // Mesos drops acknowledgements of unknown tasks
	task_state &t = it->second;
	if (t.info.agent_id().value() != ack.agent_id().value() || t.unacknowledged.empty() ||
	    t.unacknowledged.front().uuid() != ack.uuid())
		return; // not the update awaiting its acknowledgement: ignored, as by the agent
	Clock::cancel(t.retry);
	bool terminal = terminal_state(t.unacknowledged.front().state());
	t.unacknowledged.pop_front();
	if (terminal) {
		release(t);
		f.tasks.erase(it); // completed
		return;
	}
	send_unacknowledged(f, t);
}

void Master::release(task_state &t) {
	if (t.resources.empty() && t.resources.ports.empty())
		return;
	auto agent = agents_.find(t.info.agent_id().value());
	if (agent != agents_.end())
		agent->second.used -= t.resources;
	if (framework_state *f = framework(t.framework_id))
		f->allocated_cpus -= t.resources.cpus;
	t.resources = {};
}

void Master::reconcile(framework_state &f, const v1::scheduler::Call::Reconcile &reconcile) {
	auto latest = [&](const task_state &t) {
		v1::TaskStatus s = master_status(t.info.task_id(), t.info.agent_id().value(), t.state,
		                                 "Reconciliation: Latest task state",
		                                 v1::TaskStatus::REASON_RECONCILIATION);
		s.mutable_executor_id()->set_value(t.executor_id.empty() ? t.info.task_id().value() : t.executor_id);
		return s;
	};
	if (reconcile.tasks_size() == 0) {
		for (auto &[id, t] : f.tasks)
			forward(f, latest(t));
		return;
	}
	for (const auto &rt : reconcile.tasks()) {
		auto it = f.tasks.find(rt.task_id().value());
		if (it != f.tasks.end()) {
			forward(f, latest(it->second));
		} else if (rt.has_agent_id() && agents_.count(rt.agent_id().value())) {
			forward(f, master_status(rt.task_id(), rt.agent_id().value(),
			                         f.partition_aware ? v1::TASK_GONE : v1::TASK_LOST,
			                         "Reconciliation: Task is unknown to the agent",
			                         v1::TaskStatus::REASON_RECONCILIATION));
		} else {
			forward(f, master_status(rt.task_id(), rt.has_agent_id() ? rt.agent_id().value() : "",
			                         f.partition_aware ? v1::TASK_UNKNOWN : v1::TASK_LOST,
			                         "Reconciliation: Task is unknown", v1::TaskStatus::REASON_RECONCILIATION));
		}
	}
}

} // namespace turquoise::mesos::local
