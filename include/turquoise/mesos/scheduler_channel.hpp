// turquoise/mesos/scheduler_channel.hpp — the scheduler as a channel of events, for code that
// prefers a receive loop to callbacks (as Mesomatic's core.async facade):
//
//   mesos::SchedulerChannel channel(pool, info, {.master = "127.0.0.1:5050"});
//   for (;;) {
//       mesos::SchedulerEvent e = channel.receive().get();   // or co_await / then()
//       if (auto *o = std::get_if<mesos::events::Offers>(&e)) channel.driver().decline(...);
//   }
//
// The driver (scheduler.hpp) runs underneath, with its options (acknowledgement, heartbeats,
// re-subscription); every callback becomes one event, queued in order (without bound: receive
// them). The channel subscribes on construction; destroying it stops the driver.
#ifndef TURQUOISE_MESOS_SCHEDULER_CHANNEL_HPP
#define TURQUOISE_MESOS_SCHEDULER_CHANNEL_HPP

#include <turquoise/mesos/scheduler.hpp>
#include <turquoise/util/queue.hpp>

#include <memory>
#include <string>
#include <variant>
#include <vector>

namespace turquoise::mesos {

namespace events {
struct Subscribed { v1::scheduler::Event::Subscribed subscribed; };
struct Offers { std::vector<v1::Offer> offers; };
struct Rescind { v1::OfferID offer_id; };
struct Update { v1::TaskStatus status; };
struct Message { v1::AgentID agent_id; v1::ExecutorID executor_id; std::string data; };
struct Failure { v1::scheduler::Event::Failure failure; };
struct Error { std::string message; };
struct Heartbeat {};
struct Disconnected { std::string why; };
} // namespace events

using SchedulerEvent = std::variant<events::Subscribed, events::Offers, events::Rescind, events::Update,
                                    events::Message, events::Failure, events::Error, events::Heartbeat,
                                    events::Disconnected>;

class SchedulerChannel {
public:
	SchedulerChannel(pool &p, v1::FrameworkInfo info, scheduler_options options = {});
	~SchedulerChannel();
	SchedulerChannel(const SchedulerChannel &) = delete;
	SchedulerChannel &operator=(const SchedulerChannel &) = delete;

	// The next event (waits for one).
	Future<SchedulerEvent> receive();
	// Events queued and not yet received.
	std::size_t pending() const;

	SchedulerDriver &driver() { return *driver_; }

private:
	class forwarder;
	Queue<SchedulerEvent> events_;
	std::unique_ptr<forwarder> forwarder_;
	std::unique_ptr<SchedulerDriver> driver_;
};

} // namespace turquoise::mesos

#endif
