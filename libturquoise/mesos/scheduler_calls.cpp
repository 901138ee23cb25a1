// scheduler_calls.cpp — the SchedulerDriver's calls: each a scheduler::Call POSTed with the
// stream id on a connection of its own, answered 202.
#include "endpoint.hpp"
#include "scheduler_state.hpp"

namespace turquoise::mesos {

namespace sched = v1::scheduler;

Future<Nothing> SchedulerDriver::call(sched::Call call) {
	http::URL url;
	std::string stream;
	{
		state::lock l(state_->mutex);
		if (!state_->subscribed || !state_->counters.framework_id)
			return Failure("not subscribed");
		*call.mutable_framework_id() = *state_->counters.framework_id;
		url = state_->endpoint;
		stream = state_->stream_id;
	}
	Try<std::string> body = encode(call, state_->options.content_type);
	if (body.isError())
		return Failure(body.error());
	http::ClientRequest r = detail::make_post(url, state_->options.content_type, std::move(body.get()));
	r.headers.push_back({"Mesos-Stream-Id", std::move(stream)});
	std::string name = sched::Call::Type_Name(call.type());
	return state_->client.request(std::move(r)).then([name](const http::Response &answer) -> Future<Nothing> {
		if (answer.status == 202 || answer.status == 200)
			return Nothing{};
		return Failure(name + " answered " + detail::describe_answer(answer));
	});
}

Future<Nothing> SchedulerDriver::accept(std::vector<v1::OfferID> offer_ids, std::vector<v1::Offer::Operation> operations,
                                        std::optional<v1::Filters> filters) {
	sched::Call c;
	c.set_type(sched::Call::ACCEPT);
	auto *a = c.mutable_accept();
	for (auto &id : offer_ids)
		*a->add_offer_ids() = std::move(id);
	for (auto &op : operations)
		*a->add_operations() = std::move(op);
	if (filters)
		*a->mutable_filters() = std::move(*filters);
	return call(std::move(c));
}

Future<Nothing> SchedulerDriver::launch(std::vector<v1::OfferID> offer_ids, std::vector<v1::TaskInfo> tasks,
                                        std::optional<v1::Filters> filters) {
	v1::Offer::Operation op;
	op.set_type(v1::Offer::Operation::LAUNCH);
	for (auto &t : tasks)
		*op.mutable_launch()->add_task_infos() = std::move(t);
	return accept(std::move(offer_ids), {std::move(op)}, std::move(filters));
}

Future<Nothing> SchedulerDriver::decline(std::vector<v1::OfferID> offer_ids, std::optional<v1::Filters> filters) {
	sched::Call c;
	c.set_type(sched::Call::DECLINE);
	for (auto &id : offer_ids)
		*c.mutable_decline()->add_offer_ids() = std::move(id);
	if (filters)
		*c.mutable_decline()->mutable_filters() = std::move(*filters);
	return call(std::move(c));
}

Future<Nothing> SchedulerDriver::revive(std::vector<std::string> roles) {
	sched::Call c;
	c.set_type(sched::Call::REVIVE);
	for (auto &r : roles)
		c.mutable_revive()->add_roles(std::move(r));
	return call(std::move(c));
}

Future<Nothing> SchedulerDriver::suppress(std::vector<std::string> roles) {
	sched::Call c;
	c.set_type(sched::Call::SUPPRESS);
	for (auto &r : roles)
		c.mutable_suppress()->add_roles(std::move(r));
	return call(std::move(c));
}

Future<Nothing> SchedulerDriver::kill(v1::TaskID task_id, std::optional<v1::AgentID> agent_id,
                                      std::optional<v1::KillPolicy> kill_policy) {
	sched::Call c;
	c.set_type(sched::Call::KILL);
	*c.mutable_kill()->mutable_task_id() = std::move(task_id);
	if (agent_id)
		*c.mutable_kill()->mutable_agent_id() = std::move(*agent_id);
	if (kill_policy)
		*c.mutable_kill()->mutable_kill_policy() = std::move(*kill_policy);
	return call(std::move(c));
}

Future<Nothing> SchedulerDriver::shutdown(v1::ExecutorID executor_id, v1::AgentID agent_id) {
	sched::Call c;
	c.set_type(sched::Call::SHUTDOWN);
	*c.mutable_shutdown()->mutable_executor_id() = std::move(executor_id);
	*c.mutable_shutdown()->mutable_agent_id() = std::move(agent_id);
	return call(std::move(c));
}

Future<Nothing> SchedulerDriver::acknowledge(const v1::TaskStatus &status) {
	if (!status.has_uuid())
		return Nothing{};
	if (!status.has_agent_id())
		return Failure("cannot acknowledge an update without agent_id");
	sched::Call c;
	c.set_type(sched::Call::ACKNOWLEDGE);
	*c.mutable_acknowledge()->mutable_agent_id() = status.agent_id();
	*c.mutable_acknowledge()->mutable_task_id() = status.task_id();
	c.mutable_acknowledge()->set_uuid(status.uuid());
	return call(std::move(c));
}

Future<Nothing> SchedulerDriver::reconcile(std::vector<sched::Call::Reconcile::Task> tasks) {
	sched::Call c;
	c.set_type(sched::Call::RECONCILE);
	c.mutable_reconcile(); // present and empty: implicit reconciliation
	for (auto &t : tasks)
		*c.mutable_reconcile()->add_tasks() = std::move(t);
	return call(std::move(c));
}

Future<Nothing> SchedulerDriver::message(v1::AgentID agent_id, v1::ExecutorID executor_id, std::string data) {
	sched::Call c;
	c.set_type(sched::Call::MESSAGE);
	*c.mutable_message()->mutable_agent_id() = std::move(agent_id);
	*c.mutable_message()->mutable_executor_id() = std::move(executor_id);
	c.mutable_message()->set_data(std::move(data));
	return call(std::move(c));
}

Future<Nothing> SchedulerDriver::request(std::vector<v1::Request> requests) {
	sched::Call c;
	c.set_type(sched::Call::REQUEST);
	c.mutable_request();
	for (auto &r : requests)
		*c.mutable_request()->add_requests() = std::move(r);
	return call(std::move(c));
}

Future<Nothing> SchedulerDriver::teardown() {
	sched::Call c;
	c.set_type(sched::Call::TEARDOWN);
	Future<Nothing> sent = call(std::move(c));
	stop();
	return sent;
}

} // namespace turquoise::mesos
