// scheduler_http.hpp — the v1 scheduler API's HTTP endpoint of the local cluster's master:
// content types, decoding and validating a Call, then handing it to the Master process.
// (Internal to the local cluster.)
#ifndef TURQUOISE_MESOS_CLUSTER_SCHEDULER_HTTP_HPP
#define TURQUOISE_MESOS_CLUSTER_SCHEDULER_HTTP_HPP

#include "master.hpp"

#include <turquoise/async/future.hpp>
#include <turquoise/http/message.hpp>

namespace turquoise::mesos::local {

// The event stream's content type from the Accept header: JSON when absent or when it allows
// JSON, else protobuf when it allows that, else nothing (406). (Also the executor API's.)
std::optional<ContentType> accepted_media_type(const http::Request &request);

// A call's method, Content-Type and body checked and decoded as Mesos's master and agent do
// it: the answer to refuse it with (405, 400, 415), or nothing. (Also the executor API's.)
std::optional<http::Response> decode_call(const http::Request &request, google::protobuf::Message &call);

Future<http::Response> scheduler_endpoint(const PID<Master> &master, const http::Request &request);

} // namespace turquoise::mesos::local

#endif
