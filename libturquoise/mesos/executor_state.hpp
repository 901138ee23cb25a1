// executor_state.hpp — the ExecutorDriver's shared state (internal; executor_driver.cpp runs
// the subscription, executor_dispatch.cpp the events and calls).
#ifndef TURQUOISE_MESOS_EXECUTOR_STATE_HPP
#define TURQUOISE_MESOS_EXECUTOR_STATE_HPP

#include <turquoise/guarded_lock.hpp>
#include <turquoise/http/client.hpp>
#include <turquoise/mesos/executor.hpp>

#include <atomic>
#include <map>
#include <mutex>

namespace turquoise::mesos {

struct ExecutorDriver::state : std::enable_shared_from_this<state> {
	state(pool &p, Executor &e, ExecutorDriver &d, executor_options o);

	pool &workers;
	http::Client client;
	const executor_options options;
	Executor *const executor;
	ExecutorDriver *const driver;
	http::URL endpoint; // <agent>/api/v1/executor
	std::atomic<int> dispatching{0};

	mutable std::mutex mutex; // guards the rest; held in guarded_locks, never across a callback
	bool started = false, stopped = false, subscribed = false;
	std::uint64_t generation = 0;
	std::optional<Pipe::Reader> reader;
	std::optional<pool::timer_id> retry;
	std::chrono::nanoseconds backoff{};
	std::optional<std::chrono::steady_clock::time_point> disconnected_since;
	// Unacknowledged updates by uuid (in the order sent), launched tasks without an
	// acknowledged terminal update, by task id.
	std::vector<v1::TaskStatus> unacked;
	std::map<std::string, v1::TaskInfo> tasks;
	executor_status counters;

	using lock = guarded_lock<std::mutex>;

	void subscribe(std::uint64_t gen);
	void on_subscribe_answer(std::uint64_t gen, const Future<http::Response> &answer);
	bool current(std::uint64_t gen) const;
	void lost(std::uint64_t gen, const std::string &why);
	void retry_later(std::uint64_t gen, const std::string &why);
	void dispatch(std::uint64_t gen, const v1::executor::Event &event);
	Future<Nothing> post(v1::executor::Call call); // UPDATE / MESSAGE
	void stop();
};

} // namespace turquoise::mesos

#endif
