// launcher.hpp — command tasks as child processes of the local cluster: spawned in their
// sandbox directory with stdout/stderr captured there, reaped without blocking a worker, killed
// with SIGTERM and, after a grace period, SIGKILL. (Internal to the local cluster.)
//
// A task runs as the leader of a new session (so of a new process group): kill() signals the
// whole group, as Mesos kills a task's whole process tree, and once the task itself has
// exited whatever it left behind in its group is killed too.
//
// Spawning uses posix_spawn (vfork-style, safe in our multithreaded, preemptive runtime; never
// a plain fork), with an empty signal mask, every signal at its default action, stdin from
// /dev/null, and the given environment only. Reaping watches a pidfd on the reactor (a thread
// blocked in waitpid() where pidfds are unavailable), as turquoise::subprocess does; this
// launcher exists beside it because a task also needs a working directory and its own session,
// which subprocess() does not offer.
#ifndef TURQUOISE_MESOS_CLUSTER_LAUNCHER_HPP
#define TURQUOISE_MESOS_CLUSTER_LAUNCHER_HPP

#include <turquoise/async/future.hpp>
#include <turquoise/async/try.hpp>
#include <turquoise/pool.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <sys/types.h>
#include <vector>

namespace turquoise::mesos::local {

struct command_line {
	bool shell = true;       // `/bin/sh -c value`
	std::string value;       // shell: the command line; else the program (searched in PATH)
	std::vector<std::string> arguments; // not shell: argv (argv[0] included; empty: {value})
	std::map<std::string, std::string> environment; // the child's whole environment
};

class task_process {
public:
	struct state; // internal
	// Creates `sandbox` (and its parents) and the files sandbox/stdout and sandbox/stderr, and
	// spawns. An Error names what failed (e.g. "cannot run 'nope': No such file or directory").
	static Try<task_process> launch(const command_line &command, const std::string &sandbox,
	                                pool &reactor);

	pid_t pid() const;
	// The waitpid() status once the task has exited (never fails).
	Future<int> exited() const;
	// SIGTERM to the task's process group, and SIGKILL `grace` later if it is still running
	// (grace <= 0: SIGKILL at once). Later calls may only shorten the grace period.
	void kill(std::chrono::nanoseconds grace) const;
	bool kill_requested() const;

private:
	explicit task_process(std::shared_ptr<state> s) : state_(std::move(s)) {}
	std::shared_ptr<state> state_;
};

// Mesos's words for how a command ended: "Command exited with status 1",
// "Command terminated with signal Killed".
std::string describe_exit(int wait_status);

} // namespace turquoise::mesos::local

#endif
