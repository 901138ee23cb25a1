// scheduler_channel.cpp — SchedulerChannel: a Scheduler whose callbacks queue events.
#include <turquoise/mesos/scheduler_channel.hpp>

namespace turquoise::mesos {

class SchedulerChannel::forwarder : public Scheduler {
public:
	explicit forwarder(Queue<SchedulerEvent> q) : q_(std::move(q)) {}
	void subscribed(SchedulerDriver &, const v1::scheduler::Event::Subscribed &s) override {
		q_.put(events::Subscribed{s});
	}
	void offers(SchedulerDriver &, const std::vector<v1::Offer> &o) override { q_.put(events::Offers{o}); }
	void rescind(SchedulerDriver &, const v1::OfferID &id) override { q_.put(events::Rescind{id}); }
	void update(SchedulerDriver &, const v1::TaskStatus &s) override { q_.put(events::Update{s}); }
	void message(SchedulerDriver &, const v1::AgentID &a, const v1::ExecutorID &e, const std::string &data) override {
		q_.put(events::Message{a, e, data});
	}
	void failure(SchedulerDriver &, const v1::scheduler::Event::Failure &f) override { q_.put(events::Failure{f}); }
	void error(SchedulerDriver &, const std::string &m) override { q_.put(events::Error{m}); }
	void heartbeat(SchedulerDriver &) override { q_.put(events::Heartbeat{}); }
	void disconnected(SchedulerDriver &, const std::string &why) override { q_.put(events::Disconnected{why}); }

private:
	Queue<SchedulerEvent> q_;
};

SchedulerChannel::SchedulerChannel(pool &p, v1::FrameworkInfo info, scheduler_options options)
    : forwarder_(std::make_unique<forwarder>(events_)),
      driver_(std::make_unique<SchedulerDriver>(p, *forwarder_, std::move(info), std::move(options))) {
	driver_->start();
}

SchedulerChannel::~SchedulerChannel() { driver_.reset(); } // before the forwarder it calls

Future<SchedulerEvent> SchedulerChannel::receive() { return events_.get(); }

std::size_t SchedulerChannel::pending() const { return events_.size(); }

} // namespace turquoise::mesos
