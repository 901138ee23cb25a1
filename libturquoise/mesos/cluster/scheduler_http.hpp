// scheduler_http.hpp — the v1 scheduler API's HTTP endpoint of the local cluster's master:
// content types, decoding and validating a Call, then handing it to the Master process.
// (Internal to the local cluster.)
#ifndef TURQUOISE_MESOS_CLUSTER_SCHEDULER_HTTP_HPP
#define TURQUOISE_MESOS_CLUSTER_SCHEDULER_HTTP_HPP

#include "master.hpp"

#include <turquoise/async/future.hpp>
#include <turquoise/http/message.hpp>

namespace turquoise::mesos::local {

Future<http::Response> scheduler_endpoint(const PID<Master> &master, const http::Request &request);

} // namespace turquoise::mesos::local

#endif
