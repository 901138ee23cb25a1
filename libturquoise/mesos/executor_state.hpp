// executor_state.hpp — the ExecutorDriver's shared state (internal; executor_driver.cpp runs
// the subscription, executor_dispatch.cpp the events and calls).
#ifndef TURQUOISE_MESOS_EXECUTOR_STATE_HPP
#define TURQUOISE_MESOS_EXECUTOR_STATE_HPP

#include "driver_core.hpp"

#include <turquoise/mesos/executor.hpp>

#include <map>

namespace turquoise::mesos {

struct ExecutorDriver::state : detail::driver_core, std::enable_shared_from_this<state> {
	state(pool &p, Executor &e, ExecutorDriver &d, executor_options o);

	const executor_options options;
	Executor *const executor;
	ExecutorDriver *const driver;
	http::URL endpoint; // <agent>/api/v1/executor

	// Under driver_core::mutex:
	std::optional<std::chrono::steady_clock::time_point> disconnected_since;
	// Unacknowledged updates by uuid (in the order sent), launched tasks without an
	// acknowledged terminal update, by task id.
	std::vector<v1::TaskStatus> unacked;
	std::map<std::string, v1::TaskInfo> tasks;
	executor_status counters;

	void subscribe(std::uint64_t gen);
	void on_subscribe_answer(std::uint64_t gen, const Future<http::Response> &answer);
	void lost(std::uint64_t gen, const std::string &why);
	void retry_later(std::uint64_t gen, const std::string &why);
	void dispatch(std::uint64_t gen, const v1::executor::Event &event);
	Future<Nothing> post(v1::executor::Call call); // UPDATE / MESSAGE
	void stop();
};

} // namespace turquoise::mesos

#endif
