// master_offers.cpp — the master's offers: each agent's free resources offered to one
// framework at a time (the one holding the fewest cpus first), DECLINE filters, REVIVE,
// SUPPRESS, and rescinds (offer timeout, disconnection) (see master.hpp).
#include "master.hpp"

#include <turquoise/process/dispatch.hpp>

#include <cstdio>

namespace turquoise::mesos::local {

void Master::schedule_allocation() {
	if (allocation_scheduled_ || stopped_)
		return;
	allocation_scheduled_ = true;
	dispatch(self(), &Master::allocate);
}

void Master::allocate() {
	allocation_scheduled_ = false;
	if (stopped_)
		return;
	std::map<std::string, v1::scheduler::Event> events; // by framework id
	Clock::Time now = Clock::now();
	for (auto &[agent_id, agent] : agents_) {
		resource_set free = agent.total;
		free -= agent.used;
		if (free.cpus <= 0 && free.mem <= 0)
			continue;
		framework_state *chosen = nullptr;
		std::string chosen_id;
		for (auto &[fid, f] : frameworks_) {
			if (!f.connection || f.suppressed)
				continue;
			auto refused = f.refused_until.find(agent_id);
			if (refused != f.refused_until.end()) {
				if (refused->second > now)
					continue;
				f.refused_until.erase(refused);
			}
			if (!chosen || f.allocated_cpus < chosen->allocated_cpus) {
				chosen = &f;
				chosen_id = fid;
			}
		}
		if (!chosen)
			continue;
		char id[32];
		std::snprintf(id, sizeof id, "-O%llu", static_cast<unsigned long long>(next_offer_++));
		offer_state o;
		o.resources = free;
		v1::Offer &offer = o.offer;
		offer.mutable_id()->set_value(master_id_ + id);
		offer.mutable_framework_id()->set_value(chosen_id);
		*offer.mutable_agent_id() = agent.info.id();
		offer.set_hostname(agent.info.hostname());
		v1::URL *url = offer.mutable_url();
		url->set_scheme("http");
		url->mutable_address()->set_hostname(agent.info.hostname());
		url->mutable_address()->set_ip(agent.ip);
		url->mutable_address()->set_port(agent.info.port());
		url->set_path("/slave(1)");
		*offer.mutable_resources() = to_protobuf(free, chosen->role);
		*offer.mutable_attributes() = agent.info.attributes();
		offer.mutable_allocation_info()->set_role(chosen->role);
		o.timeout = delay(options_.offer_timeout, self(), &Master::offer_timeout, offer.id().value());

		agent.used += free;
		chosen->allocated_cpus += free.cpus;
		chosen->offers.insert(offer.id().value());
		v1::scheduler::Event &event = events[chosen_id];
		event.set_type(v1::scheduler::Event::OFFERS);
		*event.mutable_offers()->add_offers() = offer;
		offers_.emplace(offer.id().value(), std::move(o));
	}
	for (auto &[fid, event] : events)
		if (framework_state *f = framework(fid))
			send(*f, event);
}

// Offers are also made periodically: filters expire.
void Master::allocation_tick() {
	if (stopped_)
		return;
	schedule_allocation();
	static_cast<void>(delay(options_.allocation_interval, self(), &Master::allocation_tick));
}

void Master::rescind_offer(const std::string &offer_id, bool tell_framework) {
	auto it = offers_.find(offer_id);
	if (it == offers_.end())
		return;
	offer_state &o = it->second;
	Clock::cancel(o.timeout);
	auto agent = agents_.find(o.offer.agent_id().value());
	if (agent != agents_.end())
		agent->second.used -= o.resources;
	if (framework_state *f = framework(o.offer.framework_id().value())) {
		f->offers.erase(offer_id);
		f->allocated_cpus -= o.resources.cpus;
		if (tell_framework) {
			v1::scheduler::Event event;
			event.set_type(v1::scheduler::Event::RESCIND);
			event.mutable_rescind()->mutable_offer_id()->set_value(offer_id);
			send(*f, event);
		}
	}
	offers_.erase(it);
	schedule_allocation();
}

void Master::offer_timeout(const std::string &offer_id) { rescind_offer(offer_id, true); }

void Master::refuse(framework_state &f, const std::string &agent_id, const v1::Filters &filters) {
	double seconds = filters.refuse_seconds(); // 5 unless set, the proto default
	if (!(seconds > 0))
		return;
	seconds = std::min(seconds, 365.0 * 24 * 3600); // Mesos caps filters at a year too
	auto until = Clock::now() + std::chrono::duration_cast<Clock::Duration>(std::chrono::duration<double>(seconds));
	auto &current = f.refused_until[agent_id];
	current = std::max(current, until);
	// Offered again as soon as the filter expires, not at the next periodic allocation: a
	// framework that launches with short filters gets its next offer without waiting.
	static_cast<void>(delay(until - Clock::now(), self(), &Master::schedule_allocation));
}

void Master::decline(framework_state &f, const v1::scheduler::Call::Decline &decline) {
	for (const auto &id : decline.offer_ids()) {
		auto it = offers_.find(id.value());
		if (it == offers_.end() || it->second.offer.framework_id().value() != f.info.id().value())
			continue; // Mesos ignores declines of offers that are no longer valid
		std::string agent_id = it->second.offer.agent_id().value();
		rescind_offer(id.value(), false);
		refuse(f, agent_id, decline.filters());
	}
}

} // namespace turquoise::mesos::local
