// executor_http.hpp — the v1 executor API's HTTP endpoint of the local cluster's agents
// (POST /api/v1/executor on each agent's address): content types, decoding and validating a
// Call as Mesos's agent does (Http::executor, validateExecutorCall), then handing it to the
// Master process, which holds the agents' executors. (Internal to the local cluster.)
#ifndef TURQUOISE_MESOS_CLUSTER_EXECUTOR_HTTP_HPP
#define TURQUOISE_MESOS_CLUSTER_EXECUTOR_HTTP_HPP

#include "master.hpp"

#include <turquoise/async/future.hpp>
#include <turquoise/http/message.hpp>

namespace turquoise::mesos::local {

Future<http::Response> executor_endpoint(const PID<Master> &master, const std::string &agent_id,
                                         const http::Request &request);

} // namespace turquoise::mesos::local

#endif
