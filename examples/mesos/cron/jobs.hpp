// jobs.hpp — the cron example's configuration: named jobs, each a schedule and a command.
//
// The text format, one job a line (blank lines and lines starting with '#' are ignored):
//   <name> <second> <minute> <hour> <day-of-month> <month> <day-of-week> <command...>
//   backup  0 */20 * * * *   tar czf /tmp/b.tgz /srv
// A name is 1-64 characters of [A-Za-z0-9_.-] starting with a letter or digit (task ids are
// made from it), unique in the file; the command is the rest of the line (run by /bin/sh),
// not empty. Errors name the line: `line 3: job "x" is already defined on line 1`.
#ifndef INGER_EXAMPLES_MESOS_CRON_JOBS_HPP
#define INGER_EXAMPLES_MESOS_CRON_JOBS_HPP

#include "schedule.hpp"

#include <map>
#include <stdexcept>
#include <string>
#include <string_view>

namespace cron {

struct job {
	std::string name;
	Schedule schedule;
	std::string command;
};

using jobs = std::map<std::string, job>; // by name

struct config_error : std::invalid_argument {
	using std::invalid_argument::invalid_argument;
};

// Throws config_error (what(): "line N: reason"). At most max_config_bytes.
jobs parse_jobs(std::string_view text);
inline constexpr std::size_t max_config_bytes = 1024 * 1024;

} // namespace cron

#endif
