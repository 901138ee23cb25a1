// scheduler_state.hpp — the SchedulerDriver's shared state (internal; scheduler_driver.cpp
// runs the subscription, scheduler_calls.cpp the calls).
#ifndef TURQUOISE_MESOS_SCHEDULER_STATE_HPP
#define TURQUOISE_MESOS_SCHEDULER_STATE_HPP

#include "driver_core.hpp"

#include <turquoise/mesos/scheduler.hpp>

namespace turquoise::mesos {

struct SchedulerDriver::state : detail::driver_core, std::enable_shared_from_this<state> {
	state(pool &p, Scheduler &s, SchedulerDriver &d, v1::FrameworkInfo i, scheduler_options o);

	const scheduler_options options;
	Scheduler *const scheduler;
	SchedulerDriver *const driver;

	// Under driver_core::mutex:
	v1::FrameworkInfo info;
	http::URL endpoint; // <master>/api/v1/scheduler, after redirects
	std::string stream_id;
	std::chrono::nanoseconds heartbeat_timeout{};
	std::chrono::steady_clock::time_point last_event{};
	std::optional<pool::timer_id> watchdog;
	scheduler_status counters; // attempts, subscriptions, disconnections, last_error

	// The subscription (scheduler_driver.cpp).
	void subscribe(std::uint64_t gen, int redirects);
	void on_subscribe_answer(std::uint64_t gen, int redirects, const Future<http::Response> &answer);
	bool on_record(std::uint64_t gen); // an event arrived: false if gen is over
	void lost(std::uint64_t gen, const std::string &why);
	void retry_later(std::uint64_t gen, const std::string &why);
	void arm_watchdog(std::uint64_t gen); // with mutex held
	void dispatch(std::uint64_t gen, const v1::scheduler::Event &event);
	void stop();
	void forget_stream(); // with the mutex held
};

} // namespace turquoise::mesos

#endif
