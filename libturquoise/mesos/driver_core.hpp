// driver_core.hpp — what the scheduler and executor drivers share (internal): the pool and the
// HTTP client, the lock and the life cycle (started, stopped, subscribed), the generation that
// ends a subscription, the event stream's reader, the retry timer with its doubling backoff,
// and the count of callbacks running (which the drivers' destructors wait for).
#ifndef TURQUOISE_MESOS_DRIVER_CORE_HPP
#define TURQUOISE_MESOS_DRIVER_CORE_HPP

#include <turquoise/guarded_lock.hpp>
#include <turquoise/http/client.hpp>
#include <turquoise/pool.hpp>
#include <turquoise/util/pipe.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>

namespace turquoise::mesos::detail {

struct driver_core {
	driver_core(pool &p, std::chrono::milliseconds connect_timeout, std::chrono::milliseconds call_timeout,
	            std::chrono::nanoseconds backoff_min);

	pool &workers;
	http::Client client;
	std::atomic<int> dispatching{0}; // callbacks running

	using lock = guarded_lock<std::mutex>;
	mutable std::mutex mutex; // guards the rest; held in guarded_locks, never across a callback
	bool started = false, stopped = false, subscribed = false;
	std::uint64_t generation = 0; // bumped when a stream is lost or the driver stops
	std::optional<Pipe::Reader> reader;
	std::optional<pool::timer_id> retry;
	std::chrono::nanoseconds backoff{};

	// Starts the first subscription (once; false if already started or stopped).
	bool start(const std::function<void(std::uint64_t gen)> &subscribe);
	// With the mutex held: the life cycle into a driver's status snapshot.
	template <class Status>
	void life_cycle(Status &s) const {
		s.started = started;
		s.stopped = stopped;
		s.subscribed = subscribed;
	}
	bool current(std::uint64_t gen) const; // gen is the live subscription
	// Ends subscription `gen` unless it is over already: `bookkeeping` runs with the mutex
	// held, then the stream's reader is closed and `tell` runs without the mutex (the
	// disconnected() callback). The next generation, or nothing if `gen` was over.
	std::optional<std::uint64_t> lose(std::uint64_t gen, const std::function<void()> &bookkeeping,
	                                  const std::function<void()> &tell);
	// Stops for good (idempotent): `bookkeeping` with the mutex held, then the reader closed.
	void stop(const std::function<void()> &bookkeeping);
	// With the mutex held: the delay before the next attempt (then doubled, up to max).
	std::chrono::nanoseconds next_backoff(std::chrono::nanoseconds max);
	// Sleeps until no callback runs (not from a callback).
	void wait_for_callbacks() const;

private:
	// With the mutex held: the subscription ends (stopped too if `stop`); the reader to close.
	std::optional<Pipe::Reader> end_subscription(bool stop);
};

} // namespace turquoise::mesos::detail

#endif
