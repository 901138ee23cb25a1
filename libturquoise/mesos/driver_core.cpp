// driver_core.cpp — the drivers' shared life cycle and backoff (see driver_core.hpp).
#include "driver_core.hpp"

#include <thread>

namespace turquoise::mesos::detail {

namespace {
http::client_options client_options(std::chrono::milliseconds connect_timeout, std::chrono::milliseconds timeout) {
	http::client_options c;
	c.connect_timeout = connect_timeout;
	c.timeout = timeout;
	return c;
}
} // namespace

driver_core::driver_core(pool &p, std::chrono::milliseconds connect_timeout, std::chrono::milliseconds call_timeout,
                         std::chrono::nanoseconds backoff_min)
    : workers(p), client(p, client_options(connect_timeout, call_timeout)), backoff(backoff_min) {}

bool driver_core::start(const std::function<void(std::uint64_t)> &subscribe) {
	std::uint64_t gen;
	{
		lock l(mutex);
		if (started || stopped)
			return false;
		started = true;
		gen = generation;
	}
	subscribe(gen);
	return true;
}

bool driver_core::current(std::uint64_t gen) const {
	lock l(mutex);
	return !stopped && gen == generation;
}

std::optional<Pipe::Reader> driver_core::end_subscription(bool stop) {
	stopped = stopped || stop;
	subscribed = false;
	++generation;
	if (stop && retry) {
		workers.cancel_timer(*retry);
		retry.reset();
	}
	std::optional<Pipe::Reader> ended;
	ended.swap(reader); // (a move here: GCC 12 warns falsely, -Wmaybe-uninitialized)
	return ended;
}

std::optional<std::uint64_t> driver_core::lose(std::uint64_t gen, const std::function<void()> &bookkeeping,
                                               const std::function<void()> &tell) {
	std::optional<Pipe::Reader> r;
	std::uint64_t next;
	{
		lock l(mutex);
		if (stopped || gen != generation)
			return std::nullopt;
		r = end_subscription(false);
		next = generation;
		bookkeeping();
		++dispatching;
	}
	if (r)
		r->close();
	tell();
	--dispatching;
	return next;
}

void driver_core::stop(const std::function<void()> &bookkeeping) {
	std::optional<Pipe::Reader> r;
	{
		lock l(mutex);
		if (stopped)
			return;
		r = end_subscription(true);
		bookkeeping();
	}
	if (r)
		r->close();
}

std::chrono::nanoseconds driver_core::next_backoff(std::chrono::nanoseconds max) {
	std::chrono::nanoseconds delay = backoff;
	backoff = std::min(backoff * 2, max);
	return delay;
}

void driver_core::wait_for_callbacks() const {
	while (dispatching.load() > 0)
		std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

} // namespace turquoise::mesos::detail
