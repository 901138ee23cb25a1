// master_tasks.cpp — the master's tasks: ACCEPT (offer and task validation as Mesos does it),
// launching command tasks on an agent, their exit, KILL and SHUTDOWN (see master.hpp).
// Tasks with an ExecutorInfo go to master_executors.cpp.
#include "master.hpp"

#include <turquoise/process/dispatch.hpp>

#include <cstdlib>
#include <set>
#include <sys/wait.h>

namespace turquoise::mesos::local {

namespace {

bool is_terminal(v1::TaskState s) {
	switch (s) {
	case v1::TASK_FINISHED: case v1::TASK_FAILED: case v1::TASK_KILLED: case v1::TASK_ERROR:
	case v1::TASK_LOST: case v1::TASK_DROPPED: case v1::TASK_GONE: case v1::TASK_GONE_BY_OPERATOR:
		return true;
	default:
		return false;
	}
}

std::optional<std::string> invalid_command(const v1::TaskInfo &task) {
	if (task.has_executor() == task.has_command())
		return "Task should have at least one (but not both) of CommandInfo or ExecutorInfo present";
	if (!task.has_executor() && (!task.command().has_value() || task.command().value().empty()))
		return "Task's `CommandInfo` is invalid: 'value' must be set";
	return std::nullopt;
}

std::string sanitized(const std::string &id) {
	std::string s = id;
	for (char &c : s)
		if (c == '/' || c == '\0')
			c = '_';
	return s == "." || s == ".." ? "_" + s : s;
}

} // namespace

void Master::accept(framework_state &f, const v1::scheduler::Call::Accept &accept) {
	std::optional<std::string> error;
	std::set<std::string> seen;
	std::string agent_id;
	if (accept.offer_ids_size() == 0)
		error = "No offers specified";
	for (const auto &id : accept.offer_ids()) {
		if (error)
			break;
		auto it = offers_.find(id.value());
		if (!seen.insert(id.value()).second)
			error = "Duplicate offer " + id.value() + " in offer list";
		else if (it == offers_.end())
			error = "Offer " + id.value() + " is no longer valid";
		else if (it->second.offer.framework_id().value() != f.info.id().value())
			error = "Offer " + id.value() + " has invalid framework " +
			        it->second.offer.framework_id().value() + " while framework " + f.info.id().value() +
			        " is expected";
		else if (!agent_id.empty() && it->second.offer.agent_id().value() != agent_id)
			error = "Aggregated offers must belong to one single agent. Offer " + id.value() +
			        " uses agent " + it->second.offer.agent_id().value() + " and agent " + agent_id;
		else
			agent_id = it->second.offer.agent_id().value();
	}
	if (error) {
		// Every offer named here that exists is discarded, another framework's too (Mesos's
		// Master::accept): its resources return, and its holder is not told.
		for (const auto &id : accept.offer_ids())
			rescind_offer(id.value(), false);
		v1::TaskState lost = f.partition_aware ? v1::TASK_DROPPED : v1::TASK_LOST;
		for (const auto &op : accept.operations())
			if (op.type() == v1::Offer::Operation::LAUNCH)
				for (const auto &task : op.launch().task_infos())
					forward(f, master_status(task.task_id(), task.agent_id().value(), lost,
					                         "Task launched with invalid offers: " + *error,
					                         v1::TaskStatus::REASON_INVALID_OFFERS));
		return;
	}

	// Take the offers: what is not launched now goes back to the agent's free resources.
	resource_set remaining;
	for (const auto &id : accept.offer_ids()) {
		offer_state &o = offers_.at(id.value());
		Clock::cancel(o.timeout);
		remaining += o.resources;
		f.offers.erase(id.value());
		f.allocated_cpus -= o.resources.cpus;
		offers_.erase(id.value());
	}
	agent_state &agent = agents_.at(agent_id);
	agent.used -= remaining;
	for (const auto &op : accept.operations()) {
		if (op.type() != v1::Offer::Operation::LAUNCH)
			continue; // no other operation is supported; Mesos would answer OPERATION_ERROR
		for (const auto &task : op.launch().task_infos()) {
			auto fail = [&](const std::string &why) {
				forward(f, master_status(task.task_id(), task.agent_id().value(), v1::TASK_ERROR, why,
				                         v1::TaskStatus::REASON_TASK_INVALID));
			};
			if (task.task_id().value().empty()) {
				fail("ID must not be empty");
				continue;
			}
			if (f.tasks.count(task.task_id().value())) {
				fail("Task has duplicate ID: " + task.task_id().value());
				continue;
			}
			if (task.agent_id().value() != agent_id) {
				fail("Task uses invalid agent " + task.agent_id().value() + " while agent " + agent_id +
				     " is expected");
				continue;
			}
			if (auto why = invalid_command(task)) {
				fail(*why);
				continue;
			}
			v1::TaskInfo checked = task;
			resource_set executor_resources; // a new executor's own, beside the task's
			if (checked.has_executor()) {
				if (auto why = invalid_executor(f, agent_id, *checked.mutable_executor())) {
					fail(*why);
					continue;
				}
				Try<resource_set> er = from_protobuf(checked.executor().resources());
				if (er.isError()) {
					fail("Executor uses invalid resources: " + er.error());
					continue;
				}
				if (!executor(f, agent_id, checked.executor().executor_id().value()))
					executor_resources = er.get();
			}
			Try<resource_set> wanted = from_protobuf(checked.resources());
			if (wanted.isError()) {
				fail("Task uses invalid resources: " + wanted.error());
				continue;
			}
			if (wanted.get().empty()) {
				fail("Task uses no resources");
				continue;
			}
			resource_set total = wanted.get();
			total += executor_resources;
			if (!remaining.contains(total)) {
				fail("Total resources " + total.to_string() +
				     " required by task and its executor is more than available " + remaining.to_string());
				continue;
			}
			remaining -= total;
			if (checked.has_executor())
				launch_on_executor(f, agent, checked, wanted.get(), executor_resources);
			else
				launch(f, agent, checked, wanted.get());
		}
	}
	if (!remaining.empty())
		refuse(f, agent_id, accept.filters());
	schedule_allocation();
}

void Master::launch(framework_state &f, agent_state &agent, const v1::TaskInfo &task, resource_set resources) {
	const std::string &fid = f.info.id().value();
	const std::string &tid = task.task_id().value();
	agent.used += resources;
	f.allocated_cpus += resources.cpus;
	task_state &t = f.tasks[tid];
	t.info = task;
	t.framework_id = fid;
	t.resources = resources;

	std::string sandbox = sandbox_for(agent, fid, tid);
	command_line command = command_for(task.command(), sandbox, agent, fid, tid);
	command.environment["MESOS_TASK_ID"] = tid;

	update(f, t, agent_status(t, v1::TASK_STARTING, ""));
	Try<task_process> p = task_process::launch(command, sandbox, pool_);
	if (p.isError()) {
		release(t);
		update(f, t, agent_status(t, v1::TASK_FAILED, "Failed to launch task: " + p.error(),
		                          v1::TaskStatus::REASON_COMMAND_EXECUTOR_FAILED));
		return;
	}
	t.process = p.get();
	update(f, t, agent_status(t, v1::TASK_RUNNING, ""));
	p.get().exited().onReady(defer(self(), &Master::task_exited, fid, tid));
}

std::string Master::sandbox_for(const agent_state &agent, const std::string &framework_id,
                                const std::string &executor_id) const {
	return options_.work_dir + "/agents/" + agent.info.id().value() + "/frameworks/" + sanitized(framework_id) +
	       "/executors/" + sanitized(executor_id) + "/runs/" + uuid_text(random_uuid_bytes());
}

// The environment an agent gives an executor (Mesos's executorEnvironment(), the variables
// our executor driver and command tasks use) and the command's own variables.
command_line Master::command_for(const v1::CommandInfo &ci, const std::string &sandbox, const agent_state &agent,
                                 const std::string &framework_id, const std::string &executor_id) const {
	command_line command;
	command.shell = ci.shell();
	command.value = ci.value();
	command.arguments.assign(ci.arguments().begin(), ci.arguments().end());
	const char *path = std::getenv("PATH");
	command.environment = {
	    {"PATH", path && *path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
	    {"MESOS_SANDBOX", sandbox},
	    {"MESOS_DIRECTORY", sandbox},
	    {"MESOS_FRAMEWORK_ID", framework_id},
	    {"MESOS_EXECUTOR_ID", executor_id},
	    {"MESOS_SLAVE_ID", agent.info.id().value()},
	    {"MESOS_AGENT_ENDPOINT", agent.ip + ":" + std::to_string(agent.info.port())},
	    {"MESOS_CHECKPOINT", "0"},
	};
	for (const char *keep : {"HOME", "USER", "LANG", "TMPDIR"})
		if (const char *v = std::getenv(keep))
			command.environment[keep] = v;
	for (const auto &var : ci.environment().variables())
		if (var.type() != v1::Environment::Variable::SECRET)
			command.environment[var.name()] = var.value();
	return command;
}

void Master::task_exited(std::string framework_id, std::string task_id, int wait_status) {
	framework_state *f = framework(framework_id);
	if (!f)
		return;
	auto it = f->tasks.find(task_id);
	if (it == f->tasks.end())
		return;
	task_state &t = it->second;
	release(t);
	v1::TaskState state = WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0 ? v1::TASK_FINISHED
	                      : t.process && t.process->kill_requested()               ? v1::TASK_KILLED
	                                                                               : v1::TASK_FAILED;
	update(*f, t, agent_status(t, state, describe_exit(wait_status)));
	schedule_allocation();
}

void Master::kill(framework_state &f, const v1::scheduler::Call::Kill &kill) {
	auto it = f.tasks.find(kill.task_id().value());
	if (it == f.tasks.end()) {
		// As Mesos: an unknown task is answered by reconciling it.
		v1::scheduler::Call::Reconcile r;
		auto *t = r.add_tasks();
		*t->mutable_task_id() = kill.task_id();
		if (kill.has_agent_id())
			*t->mutable_agent_id() = kill.agent_id();
		reconcile(f, r);
		return;
	}
	task_state &t = it->second;
	if (kill.has_agent_id() && kill.agent_id().value() != t.info.agent_id().value())
		return; // Mesos ignores a kill naming another agent
	if (!t.executor_id.empty())
		return kill_on_executor(f, t, kill);
	if (t.terminal_reported || !t.process)
		return;
	std::chrono::nanoseconds grace = std::chrono::seconds(3);
	if (kill.has_kill_policy() && kill.kill_policy().has_grace_period())
		grace = std::chrono::nanoseconds(kill.kill_policy().grace_period().nanoseconds());
	else if (t.info.has_kill_policy() && t.info.kill_policy().has_grace_period())
		grace = std::chrono::nanoseconds(t.info.kill_policy().grace_period().nanoseconds());
	bool killing_state = false;
	for (const auto &c : f.info.capabilities())
		killing_state |= c.type() == v1::FrameworkInfo::Capability::TASK_KILLING_STATE;
	if (killing_state && !t.process->kill_requested())
		update(f, t, agent_status(t, v1::TASK_KILLING, ""));
	t.process->kill(grace);
}

void Master::shutdown_executor(framework_state &f, const v1::scheduler::Call::Shutdown &shutdown) {
	if (executor_state *e = executor(f, shutdown.agent_id().value(), shutdown.executor_id().value()))
		return shutdown_executor(f, *e);
	// A command task's executor has the task's id.
	auto it = f.tasks.find(shutdown.executor_id().value());
	if (it == f.tasks.end() || it->second.info.agent_id().value() != shutdown.agent_id().value())
		return;
	if (it->second.process && !it->second.terminal_reported)
		it->second.process->kill(std::chrono::seconds(5)); // the default shutdown grace period
}

bool terminal_state(v1::TaskState s) { return is_terminal(s); }

} // namespace turquoise::mesos::local
