// scheduler_http.cpp — POST /api/v1/scheduler as a Mesos master answers it (see
// scheduler_http.hpp): 405, 400, 415, 406 and 501 with Mesos's messages, SUBSCRIBE's stream.
#include "scheduler_http.hpp"

#include <turquoise/process/dispatch.hpp>

#include <algorithm>

namespace turquoise::mesos::local {

namespace {

using Call = v1::scheduler::Call;

// Mesos's checks of a decoded Call (validation::scheduler::call::validate): the reason, or
// nothing when the call is well-formed.
std::optional<std::string> invalid(const Call &call) {
	if (!call.has_type())
		return "Expecting 'type' to be present";
	if (call.type() == Call::SUBSCRIBE) {
		if (!call.has_subscribe())
			return "Expecting 'subscribe' to be present";
		const auto &info = call.subscribe().framework_info();
		if (info.has_id() != call.has_framework_id() ||
		    (info.has_id() && info.id().value() != call.framework_id().value()))
			return "'framework_id' differs from 'subscribe.framework_info.id'";
		return std::nullopt;
	}
	if (!call.has_framework_id())
		return "Expecting 'framework_id' to be present";
	auto expect = [](bool has, const char *name) -> std::optional<std::string> {
		if (has)
			return std::nullopt;
		return std::string("Expecting '") + name + "' to be present";
	};
	switch (call.type()) {
	case Call::ACCEPT: return expect(call.has_accept(), "accept");
	case Call::DECLINE: return expect(call.has_decline(), "decline");
	case Call::KILL: return expect(call.has_kill(), "kill");
	case Call::SHUTDOWN: return expect(call.has_shutdown(), "shutdown");
	case Call::RECONCILE: return expect(call.has_reconcile(), "reconcile");
	case Call::MESSAGE: return expect(call.has_message(), "message");
	case Call::REQUEST: return expect(call.has_request(), "request");
	case Call::ACKNOWLEDGE:
		if (!call.has_acknowledge())
			return "Expecting 'acknowledge' to be present";
		if (call.acknowledge().uuid().size() != 16)
			return "Not a valid UUID: 'acknowledge.uuid' must be 16 bytes";
		return std::nullopt;
	default: return std::nullopt;
	}
}

} // namespace

std::optional<ContentType> accepted_media_type(const http::Request &r) {
	auto accept = r.find_header("Accept");
	if (!accept)
		return ContentType::JSON;
	bool json = false, protobuf = false;
	std::string_view rest = *accept;
	while (!rest.empty()) {
		std::size_t comma = rest.find(',');
		std::string_view item = rest.substr(0, comma);
		rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
		std::size_t semi = item.find(';');
		std::string_view params = semi == std::string_view::npos ? std::string_view() : item.substr(semi);
		item = item.substr(0, semi);
		while (!item.empty() && (item.front() == ' ' || item.front() == '\t'))
			item.remove_prefix(1);
		while (!item.empty() && (item.back() == ' ' || item.back() == '\t'))
			item.remove_suffix(1);
		std::string type(item);
		std::transform(type.begin(), type.end(), type.begin(), [](unsigned char c) { return std::tolower(c); });
		if (params.find("q=0") != std::string_view::npos && params.find("q=0.") == std::string_view::npos)
			continue; // q=0: not acceptable
		if (type == "*/*" || type == "application/*")
			json = true;
		else if (auto t = parse_media_type(type))
			(*t == ContentType::JSON ? json : protobuf) = true;
	}
	if (json)
		return ContentType::JSON;
	if (protobuf)
		return ContentType::PROTOBUF;
	return std::nullopt;
}

std::optional<http::Response> decode_call(const http::Request &request, google::protobuf::Message &call) {
	if (request.method != "POST")
		return http::MethodNotAllowed("POST");
	auto content_type = request.find_header("Content-Type");
	if (!content_type)
		return http::BadRequest("Expecting 'Content-Type' to be present");
	std::optional<ContentType> type = parse_media_type(*content_type);
	if (!type)
		return http::Response(415, "Expecting 'Content-Type' of application/json or application/x-protobuf");
	Try<Nothing> decoded = decode(request.body, *type, call);
	if (decoded.isError())
		return http::BadRequest(std::string(*type == ContentType::JSON ? "Failed to convert JSON into Call protobuf: "
		                                                               : "Failed to parse body into Call protobuf: ") +
		                        decoded.error());
	return std::nullopt;
}

Future<http::Response> scheduler_endpoint(const PID<Master> &master, const http::Request &request) {
	Call call;
	if (std::optional<http::Response> refused = decode_call(request, call))
		return *refused;
	if (auto why = invalid(call))
		return http::BadRequest("Failed to validate scheduler::Call: " + *why);

	auto stream_id = request.find_header("Mesos-Stream-Id");
	if (call.type() != Call::SUBSCRIBE) {
		std::optional<std::string> id;
		if (stream_id)
			id = std::string(*stream_id);
		return dispatch(master, &Master::call, std::move(call), std::move(id));
	}

	std::optional<ContentType> events = accepted_media_type(request);
	if (!events)
		return http::Response(406, "Expecting 'Accept' to allow 'application/x-protobuf' or 'application/json'");
	if (stream_id)
		return http::BadRequest("Subscribe calls should not include the 'Mesos-Stream-Id' header");
	Pipe pipe;
	stream s{pipe.writer(), *events, uuid_text(random_uuid_bytes())};
	http::Response ok(200, {}, std::string(media_type(*events)));
	ok.headers.push_back({"Mesos-Stream-Id", s.id});
	ok.reader = pipe.reader();
	dispatch(master, &Master::subscribe, std::move(*call.mutable_subscribe()), std::move(s));
	return ok;
}

} // namespace turquoise::mesos::local
