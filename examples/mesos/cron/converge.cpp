// converge.cpp — the cron framework's pure decision functions (converge.hpp).
#include "converge.hpp"

#include <algorithm>
#include <set>

namespace cron {

std::string_view name_of(decision::kind k) {
	switch (k) {
	case decision::kind::add: return "add";
	case decision::kind::remove: return "remove";
	case decision::kind::replace: return "replace";
	case decision::kind::reschedule: return "reschedule";
	case decision::kind::keep: return "keep";
	case decision::kind::kill: return "kill";
	case decision::kind::launch: return "launch";
	case decision::kind::skip: return "skip";
	}
	return "?";
}

std::string to_string(const decision &d) {
	std::string s(name_of(d.what));
	s += " job=" + d.job;
	if (!d.task_id.empty())
		s += (d.what == decision::kind::skip ? " running=" : " task=") + d.task_id;
	if (d.what == decision::kind::launch || d.what == decision::kind::skip)
		s += " due=" + std::to_string(d.due.time_since_epoch().count());
	if (!d.why.empty()) { // quoted, with '"' and backslash escaped: a line stays one parseable record
		s += " why=\"";
		for (char c : d.why) {
			if (c == '"' || c == '\\')
				s += '\\';
			s += c;
		}
		s += '"';
	}
	return s;
}

namespace {

// The running tasks of one job, sorted by task id.
std::vector<std::string> instances_of(const std::string &job, const std::vector<running_task> &running) {
	std::vector<std::string> ids;
	for (const auto &r : running)
		if (r.job == job)
			ids.push_back(r.task_id);
	std::sort(ids.begin(), ids.end());
	return ids;
}

void kill_all(std::vector<decision> &out, const std::string &job, const std::vector<running_task> &running,
              const std::string &why) {
	for (auto &id : instances_of(job, running))
		out.push_back({decision::kind::kill, job, id, {}, why});
}

} // namespace

std::vector<decision> converge(const jobs &old_jobs, const jobs &new_jobs, const std::vector<running_task> &running) {
	std::set<std::string> names;
	for (const auto &[name, j] : old_jobs)
		names.insert(name);
	for (const auto &[name, j] : new_jobs)
		names.insert(name);
	using k = decision::kind;
	std::vector<decision> out;
	for (const auto &name : names) {
		auto was = old_jobs.find(name), is = new_jobs.find(name);
		if (was == old_jobs.end()) {
			out.push_back({k::add, name, {}, {}, "schedule \"" + is->second.schedule.text() + "\""});
		} else if (is == new_jobs.end()) {
			kill_all(out, name, running, "job removed");
			out.push_back({k::remove, name, {}, {}, {}});
		} else if (was->second.command != is->second.command) {
			kill_all(out, name, running, "command changed");
			std::string why = "command changed";
			if (!(was->second.schedule == is->second.schedule))
				why += ", schedule \"" + was->second.schedule.text() + "\" -> \"" + is->second.schedule.text() + "\"";
			out.push_back({k::replace, name, {}, {}, why});
		} else if (!(was->second.schedule == is->second.schedule)) {
			out.push_back({k::reschedule, name, {}, {},
			               "\"" + was->second.schedule.text() + "\" -> \"" + is->second.schedule.text() + "\""});
		} else {
			out.push_back({k::keep, name, {}, {}, {}});
		}
	}
	// Tasks of jobs neither configuration knows (left from an earlier configuration).
	std::vector<running_task> orphans;
	for (const auto &r : running)
		if (!names.count(r.job))
			orphans.push_back(r);
	std::sort(orphans.begin(), orphans.end(),
	          [](const running_task &a, const running_task &b) { return a.task_id < b.task_id; });
	for (const auto &r : orphans)
		out.push_back({k::kill, r.job, r.task_id, {}, "no such job"});
	return out;
}

std::vector<decision> due(const jobs &current, sys_seconds after, sys_seconds until,
                          const std::vector<running_task> &running) {
	std::vector<decision> out;
	if (until <= after)
		return out;
	for (const auto &[name, j] : current) {
		auto first = j.schedule.next_after(after);
		if (!first || *first > until)
			continue;
		std::string why;
		if (auto second = j.schedule.next_after(*first); second && *second <= until)
			why = "later ticks up to " + std::to_string(until.time_since_epoch().count()) + " coalesced";
		auto instances = instances_of(name, running);
		if (instances.empty())
			out.push_back({decision::kind::launch, name, {}, *first, why});
		else
			out.push_back({decision::kind::skip, name, instances.front(), *first, why});
	}
	return out;
}

} // namespace cron
