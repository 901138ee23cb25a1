// master_executor_calls.cpp — the calls that reach a custom executor (see master.hpp and
// master_executors.cpp): the scheduler's KILL (a task not yet delivered is killed by the agent,
// TASK_KILLED), SHUTDOWN (the SHUTDOWN event, then the process killed after the executor's
// shutdown grace period, 5 s by default) and MESSAGE; and the executor's own calls on the
// agent's /api/v1/executor (SUBSCRIBE, UPDATE, MESSAGE), answered as Mesos's agent answers them.
#include "master.hpp"

#include <turquoise/process/dispatch.hpp>

#include <algorithm>

namespace turquoise::mesos::local {

namespace exec = v1::executor;

void Master::kill_on_executor(framework_state &f, task_state &t, const v1::scheduler::Call::Kill &kill) {
	executor_state *e = executor(f, t.info.agent_id().value(), t.executor_id);
	if (!e || t.terminal_reported)
		return;
	auto queued = std::find(e->queued.begin(), e->queued.end(), t.info.task_id().value());
	if (queued != e->queued.end()) { // never delivered: killed by the agent
		e->queued.erase(queued);
		release(t);
		update(f, t, agent_status_of(t, v1::TASK_KILLED, "Killed before delivery to the executor",
		                             v1::TaskStatus::REASON_TASK_KILLED_DURING_LAUNCH));
		if (!e->ever_sent_task && e->queued.empty() && e->state == executor_state::phase::running)
			shutdown_executor(f, *e);
		return;
	}
	exec::Event event = executor_event(exec::Event::KILL);
	*event.mutable_kill()->mutable_task_id() = t.info.task_id();
	if (kill.has_kill_policy())
		*event.mutable_kill()->mutable_kill_policy() = kill.kill_policy();
	else if (t.info.has_kill_policy())
		*event.mutable_kill()->mutable_kill_policy() = t.info.kill_policy();
	send(*e, event);
}

void Master::shutdown_executor(framework_state &, executor_state &e) {
	if (e.shutdown_requested)
		return;
	e.shutdown_requested = true;
	e.state = executor_state::phase::terminating;
	auto grace = std::chrono::nanoseconds(e.info.has_shutdown_grace_period()
	                                          ? e.info.shutdown_grace_period().nanoseconds()
	                                          : std::chrono::nanoseconds(std::chrono::seconds(5)).count());
	if (!e.connection) {
		e.process->kill(std::chrono::nanoseconds::zero());
		return;
	}
	send(e, executor_event(exec::Event::SHUTDOWN));
	e.shutdown = delay(std::chrono::duration_cast<Clock::Duration>(grace), self(), &Master::kill_executor_now,
	                   e.framework_id, e.agent_id, e.info.executor_id().value(), e.run);
}

void Master::message_executor(framework_state &f, const v1::scheduler::Call::Message &message) {
	executor_state *e = executor(f, message.agent_id().value(), message.executor_id().value());
	if (!e)
		return; // dropped, as Mesos's agent drops a message to an unknown executor
	exec::Event event = executor_event(exec::Event::MESSAGE);
	event.mutable_message()->set_data(message.data());
	send(*e, event);
}

http::Response Master::executor_call(std::string agent_id, exec::Call call, ContentType events) {
	framework_state *f = framework(call.framework_id().value());
	if (!f)
		return http::BadRequest("Framework cannot be found");
	executor_state *e = executor(*f, agent_id, call.executor_id().value());
	if (!e)
		return http::BadRequest("Executor cannot be found");
	if (e->state == executor_state::phase::registering && call.type() != exec::Call::SUBSCRIBE)
		return http::Response(403, "Executor is not subscribed");
	switch (call.type()) {
	case exec::Call::SUBSCRIBE: {
		Pipe pipe;
		http::Response ok(200, {}, std::string(media_type(events)));
		ok.reader = pipe.reader();
		executor_subscribe(*f, *e, call.subscribe(), stream{pipe.writer(), events, {}});
		return ok;
	}
	case exec::Call::UPDATE:
		executor_update(*f, *e, call.update().status());
		return http::Accepted();
	case exec::Call::MESSAGE: {
		v1::scheduler::Event message;
		message.set_type(v1::scheduler::Event::MESSAGE);
		message.mutable_message()->mutable_agent_id()->set_value(agent_id);
		*message.mutable_message()->mutable_executor_id() = call.executor_id();
		message.mutable_message()->set_data(call.message().data());
		send(*f, message);
		return http::Accepted();
	}
	default:
		return http::Response(501, "Call type not implemented by the local cluster");
	}
}

} // namespace turquoise::mesos::local
