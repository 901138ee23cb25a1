// converge.hpp — the cron framework's decisions, as pure functions of configurations, running
// tasks and time (the Mesomatic pattern: compute what to do, then do it).
//
//   converge(old_jobs, new_jobs, running)  a changed configuration:
//     add         a job only in the new configuration (it ticks from now on)
//     remove      a job only in the old one (no more ticks); each running instance: kill
//     replace     the command changed (the schedule may have too); each running instance,
//                 which runs the old command, is killed first: kill
//     reschedule  only the schedule changed (a running instance is left to finish)
//     keep        nothing changed (also when the schedule's text changed but not its times)
//     kill        also for a running task of a job in neither configuration (an orphan)
//   due(jobs, after, until, running)       the ticks in (after, until]:
//     launch      the job's schedule matches a second in the interval and no instance runs
//     skip        it matches, but an instance still runs (or waits to be launched): the
//                 tick is skipped, not queued
//   Several matching seconds of one job in one interval (the clock jumped, the process
//   stalled) are coalesced into one decision, due at the first of them.
//
// Decisions come sorted by job name (a job's kills before its other decision), orphans' kills
// last, sorted by task id: same input, same output.
#ifndef INGER_EXAMPLES_MESOS_CRON_CONVERGE_HPP
#define INGER_EXAMPLES_MESOS_CRON_CONVERGE_HPP

#include "jobs.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace cron {

// A task the framework launched (or is about to) that has not ended.
struct running_task {
	std::string task_id;
	std::string job;
	bool operator==(const running_task &) const = default;
};

struct decision {
	enum class kind { add, remove, replace, reschedule, keep, kill, launch, skip };
	kind what;
	std::string job;
	std::string task_id; // kill: the task to kill; skip: the instance still running
	sys_seconds due{};   // launch, skip: the tick
	std::string why;     // for people: what changed, what was coalesced
	bool operator==(const decision &) const = default;
};

std::string_view name_of(decision::kind k);
// "kill job=x task=x-3 why=\"job removed\"", "launch job=x due=1764770400", ... (in why,
// '"' and backslash are escaped with a backslash)
std::string to_string(const decision &d);

std::vector<decision> converge(const jobs &old_jobs, const jobs &new_jobs, const std::vector<running_task> &running);
std::vector<decision> due(const jobs &current, sys_seconds after, sys_seconds until,
                          const std::vector<running_task> &running);

} // namespace cron

#endif
