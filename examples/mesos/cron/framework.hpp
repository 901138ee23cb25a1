// framework.hpp — the cron framework: a Mesos scheduler that carries out the decisions of
// converge.hpp (ticks and configuration changes) with the offers it holds.
//
// Threads: the driver's callbacks (offers, updates) run on the runtime's pool; tick() and
// reconfigure() are called by the program's clock loop. One mutex guards the state; driver
// calls are made outside it.
//
// Offers are held (not declined) so that a due job launches at once; each offer is declined
// (refused for 1 s) once held longer than `hold`, so that a real master's other frameworks
// get it back and the cluster's offer timeout never rescinds it.
//
// Every action is one line on stdout (flushed), for people and for the tests:
//   tick launch job=J due=T task=J-4   a tick of J (T: UTC epoch seconds): J-4 waits for an offer
//   tick skip job=J running=J-3 due=T  J-3 has not ended: this tick is skipped
//   launched task=J-4 job=J due=T delay=0.152 agent=A   (delay: seconds after T)
//   end task=J-4 job=J state=TASK_FINISHED
//   config <decision>                  converge()'s decisions, one a line (converge.hpp)
#ifndef INGER_EXAMPLES_MESOS_CRON_FRAMEWORK_HPP
#define INGER_EXAMPLES_MESOS_CRON_FRAMEWORK_HPP

#include "converge.hpp"

#include <turquoise/async/future.hpp>
#include <turquoise/mesos/scheduler.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <vector>

namespace cron {

namespace tmesos = turquoise::mesos;
namespace v1 = ::mesos::v1;

struct framework_options {
	double task_cpus = 0.1;
	double task_mem = 32; // MB
	std::chrono::milliseconds hold{10'000};
	bool per_agent = false; // place by agent id, not hostname (the embedded cluster's agents share one)
};

struct framework_counts {
	std::uint64_t launched = 0, skipped = 0, finished = 0, failed = 0, killed = 0, reconfigured = 0;
	std::size_t running = 0; // launched or waiting to be, not ended
};

class CronFramework : public tmesos::Scheduler {
public:
	CronFramework(jobs initial, framework_options options);

	// The driver whose calls the clock loop's decisions make (set before start()).
	void attach(tmesos::SchedulerDriver &driver) { driver_ = &driver; }

	// The clock loop: the ticks in (after, until], launches on the offers held.
	void tick(sys_seconds after, sys_seconds until);
	// A new configuration: converge() from the current one, carried out.
	void reconfigure(jobs next);
	// Declines the offers held longer than options.hold.
	void release_old_offers();

	framework_counts counts() const;
	// Ready (true) once subscribed, false on an ERROR from the master.
	turquoise::Future<bool> ready() { return subscribed_.future(); }
	bool failed() const;

	void subscribed(tmesos::SchedulerDriver &, const v1::scheduler::Event::Subscribed &) override;
	void offers(tmesos::SchedulerDriver &, const std::vector<v1::Offer> &) override;
	void rescind(tmesos::SchedulerDriver &, const v1::OfferID &) override;
	void update(tmesos::SchedulerDriver &, const v1::TaskStatus &) override;
	void error(tmesos::SchedulerDriver &, const std::string &) override;
	void disconnected(tmesos::SchedulerDriver &, const std::string &) override;

private:
	struct pending_launch {
		std::string task_id, job;
		sys_seconds due;
	};
	struct launched_task {
		std::string job;
		v1::AgentID agent;
	};
	struct held_offer {
		v1::Offer offer;
		std::chrono::steady_clock::time_point since;
	};
	struct launch_call {
		v1::OfferID offer;
		std::vector<v1::TaskInfo> tasks;
	};

	std::vector<running_task> running_locked() const;
	// Places what is pending on the offers held; the calls to make (mutex held).
	std::vector<launch_call> place_locked();
	void launch(std::vector<launch_call> calls);

	const framework_options options_;
	tmesos::SchedulerDriver *driver_ = nullptr;
	mutable std::mutex mutex_;
	jobs jobs_;
	std::vector<pending_launch> pending_;
	std::map<std::string, launched_task> tasks_; // by task id: launched, not ended
	std::map<std::string, held_offer> offers_;   // by offer id
	std::map<std::string, std::uint64_t> serial_; // per job: the next instance number
	framework_counts counts_;
	bool failed_ = false;
	turquoise::Promise<bool> subscribed_;
};

} // namespace cron

#endif
