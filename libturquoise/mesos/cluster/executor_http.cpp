// executor_http.cpp — POST /api/v1/executor as a Mesos agent answers it (see
// executor_http.hpp): 405, 400, 415, 406 with Mesos's messages; 202 for HEARTBEAT.
#include "executor_http.hpp"
#include "scheduler_http.hpp"

#include <turquoise/process/dispatch.hpp>

namespace turquoise::mesos::local {

namespace {

using Call = v1::executor::Call;

// Mesos's common::validation::validateExecutorCall: the reason, or nothing.
std::optional<std::string> invalid(const Call &call) {
	if (!call.IsInitialized())
		return "Not initialized: " + call.InitializationErrorString();
	if (!call.has_type())
		return "Expecting 'type' to be present";
	switch (call.type()) {
	case Call::SUBSCRIBE:
		if (!call.has_subscribe())
			return "Expecting 'subscribe' to be present";
		return std::nullopt;
	case Call::UPDATE: {
		if (!call.has_update())
			return "Expecting 'update' to be present";
		const v1::TaskStatus &status = call.update().status();
		if (!status.has_uuid())
			return "Expecting 'uuid' to be present";
		if (status.uuid().size() != 16)
			return "Not a valid UUID: 'uuid' must be 16 bytes";
		if (status.has_executor_id() && status.executor_id().value() != call.executor_id().value())
			return "ExecutorID in Call: " + call.executor_id().value() +
			       " does not match ExecutorID in TaskStatus: " + status.executor_id().value();
		if (status.source() != v1::TaskStatus::SOURCE_EXECUTOR)
			return "Received Call from executor " + call.executor_id().value() + " of framework " +
			       call.framework_id().value() + " with invalid source, expecting 'SOURCE_EXECUTOR'";
		if (status.state() == v1::TASK_STAGING)
			return "Received TASK_STAGING from executor " + call.executor_id().value() + " of framework " +
			       call.framework_id().value() + " which is not allowed";
		return std::nullopt;
	}
	case Call::MESSAGE:
		if (!call.has_message())
			return "Expecting 'message' to be present";
		return std::nullopt;
	default:
		return std::nullopt;
	}
}

} // namespace

Future<http::Response> executor_endpoint(const PID<Master> &master, const std::string &agent_id,
                                         const http::Request &request) {
	Call call;
	if (std::optional<http::Response> refused = decode_call(request, call))
		return *refused;
	if (auto why = invalid(call))
		return http::BadRequest("Failed to validate Executor::Call: " + *why);
	ContentType events = ContentType::JSON;
	if (call.type() == Call::SUBSCRIBE) {
		std::optional<ContentType> accepted = accepted_media_type(request);
		if (!accepted)
			return http::Response(406, "Expecting 'Accept' to allow 'application/x-protobuf' or 'application/json'");
		events = *accepted;
	} else if (call.type() == Call::HEARTBEAT) {
		return http::Accepted(); // as Mesos: before any look-up
	}
	return dispatch(master, &Master::executor_call, agent_id, std::move(call), events);
}

} // namespace turquoise::mesos::local
