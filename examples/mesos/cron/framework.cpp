// framework.cpp — the cron framework's scheduler (framework.hpp): carrying out decisions.
#include "framework.hpp"

#include <turquoise/mesos/allocation.hpp>

#include <algorithm>
#include <cstdio>
#include <set>

namespace cron {

using namespace std::chrono;
using lock = std::lock_guard<std::mutex>;

namespace {

// One line on stdout, whole: callbacks and the clock loop print concurrently, and one stdio
// call holds the stream's lock for the whole line.
void say(const std::string &line) {
	std::printf("%s\n", line.c_str());
	std::fflush(stdout);
}

bool terminal(v1::TaskState s) {
	switch (s) {
	case v1::TASK_STAGING:
	case v1::TASK_STARTING:
	case v1::TASK_RUNNING:
	case v1::TASK_KILLING:
		return false;
	default:
		return true;
	}
}

double seconds_since(sys_seconds t) {
	return duration<double>(system_clock::now() - t).count();
}

} // namespace

CronFramework::CronFramework(jobs initial, framework_options options)
    : options_(std::move(options)), jobs_(std::move(initial)) {}

std::vector<running_task> CronFramework::running_locked() const {
	std::vector<running_task> out;
	for (const auto &p : pending_)
		out.push_back({p.task_id, p.job});
	for (const auto &[id, t] : tasks_)
		out.push_back({id, t.job});
	return out;
}

void CronFramework::tick(sys_seconds after, sys_seconds until) {
	std::vector<launch_call> calls;
	{
		lock l(mutex_);
		for (const auto &d : due(jobs_, after, until, running_locked())) {
			if (d.what == decision::kind::skip) {
				++counts_.skipped;
				say("tick " + to_string(d));
				continue;
			}
			std::string id = d.job + "-" + std::to_string(serial_[d.job]++);
			pending_.push_back({id, d.job, d.due});
			say("tick " + to_string(d) + " task=" + id);
		}
		calls = place_locked();
	}
	launch(std::move(calls));
}

void CronFramework::reconfigure(jobs next) {
	std::vector<std::pair<v1::TaskID, v1::AgentID>> kills;
	{
		lock l(mutex_);
		++counts_.reconfigured;
		for (const auto &d : converge(jobs_, next, running_locked())) {
			say("config " + to_string(d));
			if (d.what != decision::kind::kill)
				continue;
			auto waiting = std::find_if(pending_.begin(), pending_.end(),
			                            [&](const pending_launch &p) { return p.task_id == d.task_id; });
			if (waiting != pending_.end()) { // never launched: nothing to kill on the cluster
				pending_.erase(waiting);
				say("end task=" + d.task_id + " job=" + d.job + " state=NOT_LAUNCHED");
				continue;
			}
			auto t = tasks_.find(d.task_id);
			if (t == tasks_.end())
				continue;
			v1::TaskID id;
			id.set_value(d.task_id);
			kills.emplace_back(id, t->second.agent);
		}
		jobs_ = std::move(next);
	}
	// The update (TASK_KILLED) ends the task; until then it counts as running.
	for (auto &[task, agent] : kills)
		driver_->kill(task, agent);
}

std::vector<CronFramework::launch_call> CronFramework::place_locked() {
	if (pending_.empty() || offers_.empty())
		return {};
	std::vector<v1::Offer> offers;
	for (const auto &[id, h] : offers_)
		offers.push_back(h.offer);
	std::vector<tmesos::task_spec> specs;
	for (const auto &p : pending_) {
		tmesos::task_spec s;
		s.name = p.task_id;
		s.count = 1;
		s.cpus = options_.task_cpus;
		s.mem = options_.task_mem;
		specs.push_back(s);
	}
	tmesos::allocation_options by;
	by.host_key = options_.per_agent ? tmesos::allocation_options::key::agent_id
	                                 : tmesos::allocation_options::key::hostname;
	tmesos::allocation a = tmesos::allocate(tmesos::offered_from(offers), specs, by);

	std::map<std::size_t, launch_call> by_offer;
	std::set<std::size_t> placed;
	for (const auto &p : a.placements) {
		const pending_launch &w = pending_[p.spec];
		const v1::Offer &offer = offers[p.offer];
		v1::TaskInfo prototype;
		prototype.set_name(w.job);
		prototype.mutable_command()->set_value(jobs_.count(w.job) ? jobs_.at(w.job).command : "true");
		launch_call &c = by_offer[p.offer];
		c.offer = offer.id();
		c.tasks.push_back(tmesos::task_for(p, specs[p.spec], offer, w.task_id, prototype));
		tasks_[w.task_id] = {w.job, offer.agent_id()};
		++counts_.launched;
		char delay[32];
		std::snprintf(delay, sizeof delay, "%.3f", seconds_since(w.due));
		say("launched task=" + w.task_id + " job=" + w.job + " due=" +
		    std::to_string(w.due.time_since_epoch().count()) + " delay=" + delay + " agent=" +
		    offer.agent_id().value());
		placed.insert(p.spec);
	}
	std::vector<pending_launch> left;
	for (std::size_t i = 0; i < pending_.size(); ++i)
		if (!placed.count(i))
			left.push_back(std::move(pending_[i]));
	pending_ = std::move(left);
	std::vector<launch_call> calls;
	for (auto &[index, c] : by_offer) {
		offers_.erase(c.offer.value()); // an offer is used once; what is left is offered again
		calls.push_back(std::move(c));
	}
	return calls;
}

void CronFramework::launch(std::vector<launch_call> calls) {
	v1::Filters again_soon; // the rest of the offer comes back at the next allocation
	again_soon.set_refuse_seconds(0);
	for (auto &c : calls) {
		std::vector<std::string> ids;
		for (const auto &t : c.tasks)
			ids.push_back(t.task_id().value());
		driver_->launch({c.offer}, std::move(c.tasks), again_soon).onFailed([ids](const std::string &why) {
			for (const auto &id : ids)
				say("launch of " + id + " failed: " + why);
		});
	}
}

void CronFramework::release_old_offers() {
	std::vector<v1::OfferID> old;
	{
		lock l(mutex_);
		auto now = steady_clock::now();
		for (auto it = offers_.begin(); it != offers_.end();) {
			if (now - it->second.since < options_.hold) {
				++it;
				continue;
			}
			old.push_back(it->second.offer.id());
			it = offers_.erase(it);
		}
	}
	if (old.empty())
		return;
	v1::Filters brief;
	brief.set_refuse_seconds(1);
	driver_->decline(std::move(old), brief);
}

framework_counts CronFramework::counts() const {
	lock l(mutex_);
	framework_counts c = counts_;
	c.running = pending_.size() + tasks_.size();
	return c;
}

bool CronFramework::failed() const {
	lock l(mutex_);
	return failed_;
}

void CronFramework::subscribed(tmesos::SchedulerDriver &, const v1::scheduler::Event::Subscribed &s) {
	say("subscribed framework=" + s.framework_id().value());
	subscribed_.set(true);
}

void CronFramework::offers(tmesos::SchedulerDriver &, const std::vector<v1::Offer> &offers) {
	std::vector<launch_call> calls;
	{
		lock l(mutex_);
		for (const auto &o : offers)
			offers_[o.id().value()] = {o, steady_clock::now()};
		calls = place_locked();
	}
	launch(std::move(calls));
}

void CronFramework::rescind(tmesos::SchedulerDriver &, const v1::OfferID &id) {
	lock l(mutex_);
	offers_.erase(id.value());
}

void CronFramework::update(tmesos::SchedulerDriver &, const v1::TaskStatus &status) {
	if (!terminal(status.state()))
		return;
	lock l(mutex_);
	auto t = tasks_.find(status.task_id().value());
	if (t == tasks_.end())
		return; // a resent update of a task that ended
	switch (status.state()) {
	case v1::TASK_FINISHED: ++counts_.finished; break;
	case v1::TASK_KILLED: ++counts_.killed; break;
	default: ++counts_.failed; break;
	}
	say("end task=" + t->first + " job=" + t->second.job + " state=" + v1::TaskState_Name(status.state()) +
	    (status.has_message() ? " message=\"" + status.message() + "\"" : std::string()));
	tasks_.erase(t);
}

void CronFramework::error(tmesos::SchedulerDriver &, const std::string &message) {
	say("error: the master says: " + message);
	{
		lock l(mutex_);
		failed_ = true;
	}
	subscribed_.set(false);
}

void CronFramework::disconnected(tmesos::SchedulerDriver &, const std::string &why) {
	say("disconnected: " + why + " (subscribing again)");
	lock l(mutex_);
	offers_.clear(); // a new subscription gets new offers
}

} // namespace cron
