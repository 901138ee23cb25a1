// scheduler_state.hpp — the SchedulerDriver's shared state (internal; scheduler_driver.cpp
// runs the subscription, scheduler_calls.cpp the calls).
#ifndef TURQUOISE_MESOS_SCHEDULER_STATE_HPP
#define TURQUOISE_MESOS_SCHEDULER_STATE_HPP

#include <turquoise/guarded_lock.hpp>
#include <turquoise/http/client.hpp>
#include <turquoise/mesos/scheduler.hpp>

#include <atomic>
#include <mutex>

namespace turquoise::mesos {

struct SchedulerDriver::state : std::enable_shared_from_this<state> {
	state(pool &p, Scheduler &s, SchedulerDriver &d, v1::FrameworkInfo i, scheduler_options o);

	pool &workers;
	http::Client client;
	const scheduler_options options;
	Scheduler *const scheduler;
	SchedulerDriver *const driver;
	std::atomic<int> dispatching{0}; // callbacks running (the destructor waits for them)

	mutable std::mutex mutex; // guards the rest; held in guarded_locks, never across a callback
	v1::FrameworkInfo info;
	http::URL endpoint; // <master>/api/v1/scheduler, after redirects
	bool started = false, stopped = false, subscribed = false;
	std::uint64_t generation = 0; // bumped when a stream is lost or the driver stops
	std::string stream_id;
	std::optional<Pipe::Reader> reader;
	std::chrono::nanoseconds heartbeat_timeout{};
	std::chrono::steady_clock::time_point last_event{};
	std::optional<pool::timer_id> watchdog, retry;
	std::chrono::nanoseconds backoff{};
	scheduler_status counters; // attempts, subscriptions, disconnections, last_error

	using lock = guarded_lock<std::mutex>;

	// The subscription (scheduler_driver.cpp).
	void subscribe(std::uint64_t gen, int redirects);
	void on_subscribe_answer(std::uint64_t gen, int redirects, const Future<http::Response> &answer);
	bool on_record(std::uint64_t gen); // an event arrived: false if gen is over
	bool current(std::uint64_t gen) const;
	void lost(std::uint64_t gen, const std::string &why);
	void retry_later(std::uint64_t gen, const std::string &why);
	void arm_watchdog(std::uint64_t gen); // with mutex held
	void dispatch(std::uint64_t gen, const v1::scheduler::Event &event);
	void stop();
};

} // namespace turquoise::mesos

#endif
