// launcher.cpp — task_process: spawn in a sandbox, reap, kill (see launcher.hpp).
#include "launcher.hpp"

#include <turquoise/guarded_lock.hpp>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <mutex>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace turquoise::mesos::local {

struct task_process::state {
	state(pool &p, pid_t pid) : reactor(p), pid(pid) {}
	pool &reactor;
	const pid_t pid;
	int pidfd = -1;
	std::mutex mutex;
	bool reaped = false; // under mutex: once set, pid may be reused, so nothing signals it
	std::atomic<bool> kill_requested{false};
	Promise<int> exit_status;
	Future<int> exited = exit_status.future();
};

namespace {

using state = task_process::state;

// Signals the task's process group unless the task has been reaped.
void signal_group(state &s, int sig) {
	guarded_lock<std::mutex> lock(s.mutex);
	if (!s.reaped)
		::kill(-s.pid, sig);
}

// Collects the task's exit once it has exited (blocking: waits for that). While the exited
// task is a zombie its pid, and so its group id, cannot be reused: its leftovers in the group
// (e.g. `sleep 100 &`) are killed then, and only then is it reaped. False: not exited yet.
bool collect(const std::shared_ptr<state> &s, bool blocking) {
	siginfo_t info{};
	int rc;
	do
		rc = ::waitid(P_PID, static_cast<id_t>(s->pid), &info, WEXITED | WNOWAIT | (blocking ? 0 : WNOHANG));
	while (rc < 0 && errno == EINTR);
	if (rc == 0 && info.si_pid == 0)
		return false;
	int status = SIGKILL; // if someone else reaped our child: reported as killed
	{
		guarded_lock<std::mutex> lock(s->mutex);
		if (rc == 0) {
			::kill(-s->pid, SIGKILL);
			pid_t got;
			do
				got = ::waitpid(s->pid, &status, 0);
			while (got < 0 && errno == EINTR);
			if (got != s->pid)
				status = SIGKILL;
		}
		s->reaped = true;
	}
	s->exit_status.set(status);
	return true;
}

void reap_in_thread(const std::shared_ptr<state> &s) {
	std::thread([s] { collect(s, true); }).detach();
}

void reap_step(const std::shared_ptr<state> &s) {
	if (collect(s, false)) {
		s->reactor.forget(s->pidfd);
		::close(s->pidfd);
		s->pidfd = -1;
		return;
	}
	try { // a spurious wake-up
		s->reactor.when_readable(s->pidfd, [s] { reap_step(s); });
	} catch (const std::exception &) { // the pool is shutting down
		try {
			s->reactor.forget(s->pidfd);
		} catch (const std::exception &) {
		}
		::close(s->pidfd);
		s->pidfd = -1;
		reap_in_thread(s);
	}
}

void watch(const std::shared_ptr<state> &s) {
	s->pidfd = static_cast<int>(::syscall(SYS_pidfd_open, s->pid, 0));
	if (s->pidfd >= 0) {
		try {
			s->reactor.when_readable(s->pidfd, [s] { reap_step(s); });
			return;
		} catch (const std::exception &) {
			::close(s->pidfd);
			s->pidfd = -1;
		}
	}
	reap_in_thread(s); // no pidfd (old kernel, seccomp)
}

struct spawn_setup {
	posix_spawn_file_actions_t actions;
	posix_spawnattr_t attr;
	std::vector<int> fds;
	spawn_setup() {
		posix_spawn_file_actions_init(&actions);
		posix_spawnattr_init(&attr);
	}
	~spawn_setup() {
		posix_spawn_file_actions_destroy(&actions);
		posix_spawnattr_destroy(&attr);
		for (int fd : fds)
			::close(fd);
	}
	// Opens `path` here (so that an error reaches the caller) on a descriptor above 2, to be
	// dup2'ed onto `target` in the child.
	Try<Nothing> redirect(int target, const std::string &path, int flags) {
		int fd = ::open(path.c_str(), flags | O_CLOEXEC, 0644);
		if (fd < 0)
			return Error("cannot open " + path + ": " + std::strerror(errno));
		if (fd <= 2) {
			int high = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
			::close(fd);
			if (high < 0)
				return Error(std::string("fcntl: ") + std::strerror(errno));
			fd = high;
		}
		fds.push_back(fd);
		if (int rc = posix_spawn_file_actions_adddup2(&actions, fd, target))
			return Error(std::string("posix_spawn_file_actions_adddup2: ") + std::strerror(rc));
		return Nothing();
	}
};

} // namespace

Try<task_process> task_process::launch(const command_line &command, const std::string &sandbox,
                                       pool &reactor) {
	inger::critical_section no_preemption; // a spawn must not be preempted half-way
	std::error_code ec;
	std::filesystem::create_directories(sandbox, ec);
	if (ec)
		return Error("cannot create sandbox " + sandbox + ": " + ec.message());

	spawn_setup setup;
	for (auto [target, path, flags] : {std::tuple{0, std::string("/dev/null"), O_RDONLY},
	                                   std::tuple{1, sandbox + "/stdout", O_WRONLY | O_CREAT | O_APPEND},
	                                   std::tuple{2, sandbox + "/stderr", O_WRONLY | O_CREAT | O_APPEND}}) {
		Try<Nothing> r = setup.redirect(target, path, flags);
		if (r.isError())
			return Error(r.error());
	}
	if (int rc = posix_spawn_file_actions_addchdir_np(&setup.actions, sandbox.c_str()))
		return Error(std::string("posix_spawn_file_actions_addchdir_np: ") + std::strerror(rc));

	sigset_t empty, defaults;
	sigemptyset(&empty);
	sigfillset(&defaults);
	sigdelset(&defaults, SIGKILL);
	sigdelset(&defaults, SIGSTOP);
	posix_spawnattr_setsigmask(&setup.attr, &empty);
	posix_spawnattr_setsigdefault(&setup.attr, &defaults);
	posix_spawnattr_setflags(&setup.attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSID);

	std::string program = command.shell ? "/bin/sh" : command.value;
	std::vector<std::string> argv;
	if (command.shell)
		argv = {"sh", "-c", command.value};
	else
		argv = command.arguments.empty() ? std::vector<std::string>{command.value} : command.arguments;
	if (program.empty())
		return Error("no command to run");
	std::vector<char *> args;
	for (auto &a : argv)
		args.push_back(a.data());
	args.push_back(nullptr);
	std::vector<std::string> env_strings;
	for (const auto &[k, v] : command.environment)
		env_strings.push_back(k + "=" + v);
	std::vector<char *> env;
	for (auto &e : env_strings)
		env.push_back(e.data());
	env.push_back(nullptr);

	// posix_spawnp searches the PATH of *this* process; the task's own PATH decides, as an
	// exec in the child would.
	std::string resolved = program;
	if (program.find('/') == std::string::npos) {
		auto path = command.environment.find("PATH");
		std::string dirs = path != command.environment.end() ? path->second : "/usr/local/bin:/usr/bin:/bin";
		resolved.clear();
		for (std::size_t begin = 0; begin <= dirs.size();) {
			std::size_t end = dirs.find(':', begin);
			if (end == std::string::npos)
				end = dirs.size();
			std::string dir = dirs.substr(begin, end - begin);
			std::string candidate = (dir.empty() ? "." : dir) + "/" + program;
			if (::access(candidate.c_str(), X_OK) == 0) {
				resolved = candidate;
				break;
			}
			begin = end + 1;
		}
		if (resolved.empty())
			return Error("cannot run '" + program + "': No such file or directory");
	}

	pid_t pid;
	if (int rc = posix_spawn(&pid, resolved.c_str(), &setup.actions, &setup.attr, args.data(), env.data()))
		return Error("cannot run '" + program + "': " + std::strerror(rc));
	auto s = std::make_shared<state>(reactor, pid);
	watch(s);
	return task_process(std::move(s));
}

pid_t task_process::pid() const { return state_->pid; }
Future<int> task_process::exited() const { return state_->exited; }
bool task_process::kill_requested() const { return state_->kill_requested.load(); }

void task_process::kill(std::chrono::nanoseconds grace) const {
	state_->kill_requested = true;
	if (grace <= std::chrono::nanoseconds::zero()) {
		signal_group(*state_, SIGKILL);
		return;
	}
	signal_group(*state_, SIGTERM);
	std::weak_ptr<state> weak = state_;
	try {
		state_->reactor.after(grace, [weak] {
			if (auto s = weak.lock())
				signal_group(*s, SIGKILL);
		});
	} catch (const std::exception &) {
		signal_group(*state_, SIGKILL); // the pool is shutting down: no time for grace
	}
}

std::string describe_exit(int status) {
	if (WIFEXITED(status))
		return "Command exited with status " + std::to_string(WEXITSTATUS(status));
	if (WIFSIGNALED(status)) {
		const char *name = ::sigdescr_np(WTERMSIG(status));
		return std::string("Command terminated with signal ") + (name ? name : std::to_string(WTERMSIG(status)).c_str());
	}
	return "Command ended with wait status " + std::to_string(status);
}

} // namespace turquoise::mesos::local
