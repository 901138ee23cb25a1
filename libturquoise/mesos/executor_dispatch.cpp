// executor_dispatch.cpp — the ExecutorDriver's events (bookkeeping of launched tasks and
// unacknowledged updates, then the Executor's callback) and its calls (UPDATE, MESSAGE).
#include "endpoint.hpp"
#include "executor_state.hpp"

#include <algorithm>

namespace turquoise::mesos {

using namespace std::chrono;
namespace exec = v1::executor;

namespace {
bool terminal(v1::TaskState s) {
	switch (s) {
	case v1::TASK_FINISHED: case v1::TASK_FAILED: case v1::TASK_KILLED: case v1::TASK_ERROR:
	case v1::TASK_LOST: case v1::TASK_DROPPED: case v1::TASK_GONE: case v1::TASK_GONE_BY_OPERATOR:
		return true;
	default:
		return false;
	}
}
} // namespace

void ExecutorDriver::state::dispatch(std::uint64_t gen, const exec::Event &event) {
	{
		lock l(mutex);
		if (stopped || gen != generation)
			return;
		switch (event.type()) {
		case exec::Event::SUBSCRIBED:
			subscribed = true;
			++counters.subscriptions;
			backoff = options.backoff_min;
			disconnected_since.reset();
			break;
		case exec::Event::LAUNCH:
			tasks[event.launch().task().task_id().value()] = event.launch().task();
			break;
		case exec::Event::LAUNCH_GROUP:
			for (const auto &t : event.launch_group().task_group().tasks())
				tasks[t.task_id().value()] = t;
			break;
		case exec::Event::ACKNOWLEDGED: {
			const std::string &uuid = event.acknowledged().uuid();
			auto it = std::find_if(unacked.begin(), unacked.end(), [&](auto &u) { return u.uuid() == uuid; });
			if (it != unacked.end()) {
				if (terminal(it->state()))
					tasks.erase(it->task_id().value());
				unacked.erase(it);
			}
			break;
		}
		default:
			break;
		}
		++dispatching;
	}
	ExecutorDriver &d = *driver;
	switch (event.type()) {
	case exec::Event::SUBSCRIBED:
		executor->subscribed(d, event.subscribed());
		break;
	case exec::Event::LAUNCH:
		executor->launch(d, event.launch().task());
		break;
	case exec::Event::LAUNCH_GROUP:
		executor->launch_group(d, event.launch_group().task_group());
		break;
	case exec::Event::KILL:
		executor->kill(d, event.kill().task_id(),
		               event.kill().has_kill_policy() ? std::optional(event.kill().kill_policy()) : std::nullopt);
		break;
	case exec::Event::ACKNOWLEDGED:
		executor->acknowledged(d, event.acknowledged().task_id(), event.acknowledged().uuid());
		break;
	case exec::Event::MESSAGE:
		executor->message(d, event.message().data());
		break;
	case exec::Event::ERROR:
		executor->error(d, event.error().message());
		break;
	case exec::Event::SHUTDOWN:
		executor->shutdown(d);
		stop(); // the agent is done with this executor: no re-subscription
		break;
	default: // HEARTBEAT and others
		break;
	}
	--dispatching;
}

Future<Nothing> ExecutorDriver::state::post(exec::Call call) {
	*call.mutable_framework_id() = options.framework_id;
	*call.mutable_executor_id() = options.executor_id;
	Try<std::string> body = encode(call, options.content_type);
	if (body.isError())
		return Failure(body.error());
	std::string name = exec::Call::Type_Name(call.type());
	return client.request(detail::make_post(endpoint, options.content_type, std::move(body.get())))
	    .then([name](const http::Response &answer) -> Future<Nothing> {
		    if (answer.status == 202 || answer.status == 200)
			    return Nothing{};
		    return Failure(name + " answered " + detail::describe_answer(answer));
	    });
}

Future<std::string> ExecutorDriver::update(v1::TaskStatus status) {
	std::string uuid = detail::random_uuid();
	status.set_uuid(uuid);
	*status.mutable_executor_id() = state_->options.executor_id;
	status.set_source(v1::TaskStatus::SOURCE_EXECUTOR);
	if (!status.has_timestamp())
		status.set_timestamp(duration<double>(system_clock::now().time_since_epoch()).count());
	if (!status.IsInitialized())
		return Failure("TaskStatus: missing required fields: " + status.InitializationErrorString());
	exec::Call call;
	call.set_type(exec::Call::UPDATE);
	*call.mutable_update()->mutable_status() = status;
	{
		state::lock l(state_->mutex);
		if (state_->stopped)
			return Failure("stopped");
		state_->unacked.push_back(std::move(status));
		if (!state_->subscribed)
			return uuid; // sent with the next SUBSCRIBE
	}
	return state_->post(std::move(call)).then([uuid] { return uuid; });
}

Future<Nothing> ExecutorDriver::message(std::string data) {
	{
		state::lock l(state_->mutex);
		if (!state_->subscribed)
			return Failure("not subscribed");
	}
	exec::Call call;
	call.set_type(exec::Call::MESSAGE);
	call.mutable_message()->set_data(std::move(data));
	return state_->post(std::move(call));
}

} // namespace turquoise::mesos
