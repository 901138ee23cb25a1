// master_executors.cpp — custom executors, as a Mesos agent runs them (see master.hpp): the
// executor's command starts with its first task, in its own sandbox, with the MESOS_*
// environment; it SUBSCRIBEs at the agent's /api/v1/executor and gets SUBSCRIBED, then LAUNCH
// for each task (queued until then), KILL, MESSAGE, ACKNOWLEDGED, SHUTDOWN and HEARTBEATs. Its
// UPDATEs go to the scheduler reliably, with the executor's uuid; it gets ACKNOWLEDGED as soon
// as the agent holds the update (Mesos's Slave::___statusUpdate), the scheduler's
// acknowledgement only releases the next update. When it exits, its live tasks get
// TASK_FAILED (REASON_EXECUTOR_TERMINATED, or REASON_EXECUTOR_REGISTRATION_TIMEOUT when it never
// subscribed in time) and the scheduler a FAILURE event with the wait status.
#include "master.hpp"

#include <turquoise/mesos/recordio.hpp>
#include <turquoise/process/dispatch.hpp>

#include <algorithm>

namespace turquoise::mesos::local {

namespace exec = v1::executor;

exec::Event executor_event(exec::Event::Type type) {
	exec::Event e;
	e.set_type(type);
	return e;
}

executor_state *Master::executor(framework_state &f, const std::string &agent_id, const std::string &executor_id) {
	auto it = f.executors.find({agent_id, executor_id});
	return it == f.executors.end() ? nullptr : &it->second;
}

// Mesos's checks of a task's ExecutorInfo (master/validation.cpp); fills in its framework id.
std::optional<std::string> Master::invalid_executor(framework_state &f, const std::string &agent_id,
                                                    v1::ExecutorInfo &info) {
	if (info.executor_id().value().empty())
		return "ExecutorID must not be empty";
	if (!info.has_framework_id())
		info.mutable_framework_id()->set_value(f.info.id().value());
	if (info.framework_id().value() != f.info.id().value())
		return "ExecutorInfo has an invalid FrameworkID (Actual: " + info.framework_id().value() +
		       " vs Expected: " + f.info.id().value() + ")";
	if (info.has_type() && info.type() != v1::ExecutorInfo::CUSTOM)
		return "'ExecutorInfo.type' must be 'CUSTOM'";
	if (!info.has_command() || !info.command().has_value() || info.command().value().empty())
		return "'ExecutorInfo.command' must be set";
	if (info.has_shutdown_grace_period() && info.shutdown_grace_period().nanoseconds() < 0)
		return "ExecutorInfo's 'shutdown_grace_period' must be non-negative";
	if (executor_state *e = executor(f, agent_id, info.executor_id().value())) {
		if (e->info.SerializeAsString() != info.SerializeAsString())
			return "ExecutorInfo is not compatible with existing ExecutorInfo with same ExecutorID";
	}
	return std::nullopt;
}

v1::TaskStatus Master::agent_status_of(const task_state &t, v1::TaskState state, const std::string &message,
                                       v1::TaskStatus::Reason reason) {
	v1::TaskStatus s = agent_status(t, state, message, reason);
	s.set_source(v1::TaskStatus::SOURCE_AGENT);
	s.mutable_executor_id()->set_value(t.executor_id);
	return s;
}

executor_state *Master::start_executor(framework_state &f, agent_state &agent, const v1::ExecutorInfo &info,
                                       resource_set resources, std::string &error) {
	const std::string &fid = f.info.id().value(), &eid = info.executor_id().value();
	std::string sandbox = sandbox_for(agent, fid, eid);
	Try<task_process> p = task_process::launch(command_for(info.command(), sandbox, agent, fid, eid), sandbox, pool_);
	if (p.isError()) {
		error = "Failed to launch executor: " + p.error();
		return nullptr;
	}
	executor_state &e = f.executors[{agent.info.id().value(), eid}];
	e.info = info;
	e.framework_id = fid;
	e.agent_id = agent.info.id().value();
	e.run = uuid_text(random_uuid_bytes());
	e.resources = resources;
	e.process = p.get();
	agent.used += resources;
	f.allocated_cpus += resources.cpus;
	e.registration = delay(options_.executor_registration_timeout, self(), &Master::executor_registration_timeout,
	                       fid, e.agent_id, eid, e.run);
	p.get().exited().onReady(defer(self(), &Master::executor_exited, fid, e.agent_id, eid, e.run));
	return &e;
}

void Master::launch_on_executor(framework_state &f, agent_state &agent, const v1::TaskInfo &task,
                                resource_set task_resources, resource_set executor_resources) {
	const std::string &tid = task.task_id().value(), &eid = task.executor().executor_id().value();
	agent.used += task_resources;
	f.allocated_cpus += task_resources.cpus;
	task_state &t = f.tasks[tid];
	t.info = task;
	t.framework_id = f.info.id().value();
	t.resources = task_resources;
	t.executor_id = eid;
	executor_state *e = executor(f, agent.info.id().value(), eid);
	if (!e) {
		std::string error;
		e = start_executor(f, agent, task.executor(), executor_resources, error);
		if (!e) {
			release(t);
			update(f, t, agent_status_of(t, v1::TASK_FAILED, error, v1::TaskStatus::REASON_CONTAINER_LAUNCH_FAILED));
			return;
		}
	}
	if (e->state == executor_state::phase::terminating) {
		release(t);
		update(f, t, agent_status_of(t, f.partition_aware ? v1::TASK_DROPPED : v1::TASK_LOST,
		                             "Executor terminating", v1::TaskStatus::REASON_EXECUTOR_TERMINATED));
		return;
	}
	e->tasks.insert(tid);
	if (e->state == executor_state::phase::running && e->connection)
		send_launch(*e, t);
	else
		e->queued.push_back(tid);
}

void Master::send(executor_state &e, const exec::Event &event) {
	if (!e.connection)
		return;
	Try<std::string> data = encode(event, e.connection->type);
	if (data.isError())
		return;
	if (!e.connection->writer.write(recordio::encode(data.get())))
		dispatch(self(), &Master::executor_disconnected, e.framework_id, e.agent_id,
		         e.info.executor_id().value(), e.connection->id);
}

void Master::send_launch(executor_state &e, const task_state &t) {
	exec::Event launch = executor_event(exec::Event::LAUNCH);
	*launch.mutable_launch()->mutable_task() = t.info;
	e.ever_sent_task = true;
	send(e, launch);
}

void Master::executor_subscribe(framework_state &f, executor_state &e, const exec::Call::Subscribe &s,
                                stream connection) {
	const std::string eid = e.info.executor_id().value();
	if (e.connection) // a retried SUBSCRIBE: the newest connection wins
		e.connection->writer.close();
	e.connection = std::move(connection);
	e.connection->id = std::to_string(++e.connections);
	e.connection->writer.readerClosed().onReady(
	    defer(self(), &Master::executor_disconnected, e.framework_id, e.agent_id, eid, e.connection->id));
	if (e.state == executor_state::phase::terminating) {
		send(e, executor_event(exec::Event::SHUTDOWN));
		e.connection->writer.close();
		e.connection.reset();
		return;
	}
	e.state = executor_state::phase::running;
	Clock::cancel(e.registration);

	// What it sent and never saw acknowledged (duplicates are dropped by uuid), then the tasks
	// it was sent and does not know: lost on the way, as Mesos's agent reports them.
	for (const auto &u : s.unacknowledged_updates())
		executor_update(f, e, u.status());
	std::set<std::string> known;
	for (const auto &t : s.unacknowledged_tasks())
		known.insert(t.task_id().value());
	for (const std::string &tid : e.tasks) {
		auto t = f.tasks.find(tid);
		bool queued = std::find(e.queued.begin(), e.queued.end(), tid) != e.queued.end();
		if (t == f.tasks.end() || queued || known.count(tid) || t->second.state != v1::TASK_STAGING)
			continue;
		release(t->second);
		update(f, t->second, agent_status_of(t->second, f.partition_aware ? v1::TASK_DROPPED : v1::TASK_LOST,
		                                     "Task unknown to the executor on its subscription",
		                                     v1::TaskStatus::REASON_EXECUTOR_UNREGISTERED));
	}
	if (!e.ever_sent_task && e.queued.empty())
		return shutdown_executor(f, e); // every task was killed before delivery (MESOS-8411)

	exec::Event subscribed = executor_event(exec::Event::SUBSCRIBED);
	auto *sub = subscribed.mutable_subscribed();
	*sub->mutable_executor_info() = e.info;
	*sub->mutable_framework_info() = f.info;
	*sub->mutable_agent_info() = agents_.at(e.agent_id).info;
	sub->mutable_container_id()->set_value(e.run);
	send(e, subscribed);
	std::vector<std::string> queued = std::move(e.queued);
	e.queued.clear();
	for (const std::string &tid : queued)
		if (auto t = f.tasks.find(tid); t != f.tasks.end() && !t->second.terminal_reported)
			send_launch(e, t->second);
	executor_heartbeat(e.framework_id, e.agent_id, eid, e.connection ? e.connection->id : "");
}

void Master::executor_update(framework_state &f, executor_state &e, v1::TaskStatus status) {
	exec::Event ack = executor_event(exec::Event::ACKNOWLEDGED);
	*ack.mutable_acknowledged()->mutable_task_id() = status.task_id();
	ack.mutable_acknowledged()->set_uuid(status.uuid());
	auto it = f.tasks.find(status.task_id().value());
	if (it != f.tasks.end() && it->second.executor_id == e.info.executor_id().value() &&
	    it->second.info.agent_id().value() == e.agent_id && it->second.executor_uuids.insert(status.uuid()).second) {
		task_state &t = it->second;
		*status.mutable_agent_id() = t.info.agent_id();
		*status.mutable_executor_id() = e.info.executor_id();
		if (terminal_state(status.state()) && !t.terminal_reported) {
			release(t);
			schedule_allocation();
		}
		update(f, t, std::move(status));
	}
	// Unknown tasks and duplicates are acknowledged too: the executor may forget them.
	send(e, ack);
}

void Master::executor_heartbeat(std::string framework_id, std::string agent_id, std::string executor_id,
                                std::string stream_id) {
	framework_state *f = framework(framework_id);
	executor_state *e = f ? executor(*f, agent_id, executor_id) : nullptr;
	if (!e || !e->connection || e->connection->id != stream_id)
		return;
	send(*e, executor_event(exec::Event::HEARTBEAT));
	e->heartbeat = delay(options_.heartbeat_interval, self(), &Master::executor_heartbeat, framework_id, agent_id,
	                     executor_id, stream_id);
}

void Master::executor_disconnected(std::string framework_id, std::string agent_id, std::string executor_id,
                                   std::string stream_id) {
	framework_state *f = framework(framework_id);
	executor_state *e = f ? executor(*f, agent_id, executor_id) : nullptr;
	if (!e || !e->connection || e->connection->id != stream_id)
		return;
	// It may subscribe again; its process's exit is what ends it.
	e->connection->writer.close();
	e->connection.reset();
	Clock::cancel(e->heartbeat);
}

void Master::executor_registration_timeout(std::string framework_id, std::string agent_id,
                                           std::string executor_id, std::string run) {
	framework_state *f = framework(framework_id);
	executor_state *e = f ? executor(*f, agent_id, executor_id) : nullptr;
	if (!e || e->run != run || e->state != executor_state::phase::registering)
		return;
	e->termination_reason = v1::TaskStatus::REASON_EXECUTOR_REGISTRATION_TIMEOUT;
	e->state = executor_state::phase::terminating;
	e->process->kill(std::chrono::nanoseconds::zero());
}

void Master::kill_executor_now(std::string framework_id, std::string agent_id, std::string executor_id,
                               std::string run) {
	framework_state *f = framework(framework_id);
	executor_state *e = f ? executor(*f, agent_id, executor_id) : nullptr;
	if (e && e->run == run && e->process)
		e->process->kill(std::chrono::nanoseconds::zero());
}

void Master::executor_exited(std::string framework_id, std::string agent_id, std::string executor_id,
                             std::string run, int wait_status) {
	framework_state *f = framework(framework_id);
	if (!f)
		return;
	auto it = f->executors.find({agent_id, executor_id});
	if (it == f->executors.end() || it->second.run != run)
		return;
	executor_state &e = it->second;
	for (Timer *timer : {&e.registration, &e.heartbeat, &e.shutdown})
		Clock::cancel(*timer);
	if (e.connection)
		e.connection->writer.close();
	v1::TaskStatus::Reason reason = e.termination_reason.value_or(v1::TaskStatus::REASON_EXECUTOR_TERMINATED);
	std::string message = reason == v1::TaskStatus::REASON_EXECUTOR_REGISTRATION_TIMEOUT
	                          ? "Executor did not register within the registration timeout"
	                          : "Executor terminated";
	for (const std::string &tid : e.tasks) {
		auto t = f->tasks.find(tid);
		if (t == f->tasks.end() || t->second.terminal_reported)
			continue;
		release(t->second);
		update(*f, t->second, agent_status_of(t->second, v1::TASK_FAILED, message, reason));
	}
	auto agent = agents_.find(agent_id);
	if (agent != agents_.end())
		agent->second.used -= e.resources;
	f->allocated_cpus -= e.resources.cpus;
	f->executors.erase(it);

	v1::scheduler::Event failure;
	failure.set_type(v1::scheduler::Event::FAILURE);
	failure.mutable_failure()->mutable_agent_id()->set_value(agent_id);
	failure.mutable_failure()->mutable_executor_id()->set_value(executor_id);
	failure.mutable_failure()->set_status(wait_status);
	send(*f, failure);
	schedule_allocation();
}

} // namespace turquoise::mesos::local
