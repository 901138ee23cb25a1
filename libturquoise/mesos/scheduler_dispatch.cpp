// scheduler_dispatch.cpp — one scheduler event to the Scheduler's callback, with the driver's
// own handling around it (SUBSCRIBED's facts, automatic acknowledgement, ERROR stops).
#include "scheduler_state.hpp"

namespace turquoise::mesos {

using namespace std::chrono;
namespace sched = v1::scheduler;

void SchedulerDriver::state::dispatch(std::uint64_t gen, const sched::Event &event) {
	{
		lock l(mutex);
		if (stopped || gen != generation)
			return;
		if (event.type() == sched::Event::SUBSCRIBED && event.has_subscribed()) {
			const auto &s = event.subscribed();
			subscribed = true;
			counters.framework_id = s.framework_id();
			*info.mutable_id() = s.framework_id();
			++counters.subscriptions;
			backoff = options.backoff_min;
			if (s.has_heartbeat_interval_seconds() && s.heartbeat_interval_seconds() > 0) {
				heartbeat_timeout = duration_cast<nanoseconds>(
				    duration<double>(s.heartbeat_interval_seconds() * options.heartbeat_misses));
				// The watchdog armed with the default interval: due earlier (or later) now.
				if (watchdog)
					workers.cancel_timer(*watchdog);
				arm_watchdog(gen);
			}
		}
		++dispatching;
	}
	SchedulerDriver &d = *driver;
	switch (event.type()) {
	case sched::Event::SUBSCRIBED:
		scheduler->subscribed(d, event.subscribed());
		break;
	case sched::Event::OFFERS:
		scheduler->offers(d, std::vector<v1::Offer>(event.offers().offers().begin(), event.offers().offers().end()));
		break;
	case sched::Event::RESCIND:
		scheduler->rescind(d, event.rescind().offer_id());
		break;
	case sched::Event::UPDATE: {
		const v1::TaskStatus &status = event.update().status();
		scheduler->update(d, status);
		if (options.auto_acknowledge && status.has_uuid() && status.has_agent_id() && current(gen)) {
			auto self = shared_from_this();
			d.acknowledge(status).onFailed([self](const std::string &why) {
				lock l(self->mutex);
				self->counters.last_error = "automatic ACKNOWLEDGE failed: " + why;
			});
		}
		break;
	}
	case sched::Event::MESSAGE:
		scheduler->message(d, event.message().agent_id(), event.message().executor_id(), event.message().data());
		break;
	case sched::Event::FAILURE:
		scheduler->failure(d, event.failure());
		break;
	case sched::Event::ERROR:
		scheduler->error(d, event.error().message());
		// Mesos sends ERROR when it removed the framework: subscribing again is pointless.
		stop();
		break;
	case sched::Event::HEARTBEAT:
		scheduler->heartbeat(d);
		break;
	default: // INVERSE_OFFERS and others this driver does not model
		break;
	}
	--dispatching;
}

} // namespace turquoise::mesos
