// subprocess.cpp — subprocess() (see turquoise/util/subprocess.hpp).
#include <turquoise/util/subprocess.hpp>

#include <turquoise/guarded_lock.hpp>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <mutex>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char **environ;

namespace turquoise {

struct Subprocess::data {
	pid_t pid = -1;
	std::atomic<int> in{-1}, out{-1}, err{-1};
	Future<Option<int>> status;
	~data() {
		for (auto *fd : {&in, &out, &err}) {
			int f = fd->exchange(-1);
			if (f >= 0)
				::close(f);
		}
	}
};

namespace {

void close_fd(std::atomic<int> &fd) {
	int f = fd.exchange(-1);
	if (f >= 0)
		::close(f);
}

Option<int> fd_of(const std::atomic<int> &fd) {
	int f = fd.load();
	if (f < 0)
		return None();
	return f;
}

// Reaping: the pidfd becomes readable once the child has exited.
struct reaper {
	reaper(pool &p, pid_t pid, int pidfd) : reactor(p), pid(pid), pidfd(pidfd) {}
	~reaper() {
		if (pidfd >= 0)
			::close(pidfd);
	}
	pool &reactor;
	pid_t pid;
	int pidfd;
	Promise<Option<int>> promise;
};

void reap_step(const std::shared_ptr<reaper> &r) {
	int status = 0;
	pid_t got;
	do
		got = ::waitpid(r->pid, &status, WNOHANG);
	while (got < 0 && errno == EINTR);
	if (got == 0) { // not yet (spurious wake-up)
		try {
			r->reactor.when_readable(r->pidfd, [r] { reap_step(r); });
			return;
		} catch (const std::exception &) {
			// The pool is shut down: block in a thread instead.
			std::thread([r] {
				int st = 0;
				pid_t g;
				do
					g = ::waitpid(r->pid, &st, 0);
				while (g < 0 && errno == EINTR);
				r->promise.set(g == r->pid ? Option<int>(st) : Option<int>(None()));
			}).detach();
			return;
		}
	}
	r->reactor.forget(r->pidfd);
	r->promise.set(got == r->pid ? Option<int>(status) : Option<int>(None()));
}

Future<Option<int>> watch(pool *p, pid_t pid) {
	detail::critical c;
	int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
	if (pidfd >= 0) {
		try {
			auto r = std::make_shared<reaper>(io::reactor(p), pid, pidfd);
			Future<Option<int>> f = r->promise.future();
			r->reactor.when_readable(pidfd, [r] { reap_step(r); });
			return f;
		} catch (const std::exception &) {
			// fall back to the thread (the reaper closed the pidfd)
		}
	}
	// No pidfd (old kernel, seccomp): a thread blocked in waitpid() for this child.
	Promise<Option<int>> promise;
	Future<Option<int>> f = promise.future();
	std::thread([pid, promise = std::move(promise)]() mutable {
		int st = 0;
		pid_t g;
		do
			g = ::waitpid(pid, &st, 0);
		while (g < 0 && errno == EINTR);
		promise.set(g == pid ? Option<int>(st) : Option<int>(None()));
	}).detach();
	return f;
}

// File descriptors created for one spawn, closed unless handed over.
struct fds {
	std::vector<int> list;
	~fds() {
		for (int f : list)
			::close(f);
	}
	int keep(int f) {
		for (auto &x : list)
			if (x == f)
				x = -1;
		std::erase(list, -1);
		return f;
	}
};

// A child-side fd numbered above 2 (so that the dup2s onto 0..2 cannot clobber one another):
// fd itself, or a close-on-exec copy (also recorded in `temp`); -1 on error.
int high(int fd, fds &temp) {
	if (fd > 2)
		return fd;
	int f = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (f >= 0)
		temp.list.push_back(f);
	return f;
}

struct spawn_setup {
	posix_spawn_file_actions_t actions;
	posix_spawnattr_t attr;
	spawn_setup() {
		posix_spawn_file_actions_init(&actions);
		posix_spawnattr_init(&attr);
	}
	~spawn_setup() {
		posix_spawn_file_actions_destroy(&actions);
		posix_spawnattr_destroy(&attr);
	}
};

} // namespace

pid_t Subprocess::pid() const { return data_->pid; }
Option<int> Subprocess::in() const { return fd_of(data_->in); }
Option<int> Subprocess::out() const { return fd_of(data_->out); }
Option<int> Subprocess::err() const { return fd_of(data_->err); }
void Subprocess::closeIn() const { close_fd(data_->in); }
void Subprocess::closeOut() const { close_fd(data_->out); }
void Subprocess::closeErr() const { close_fd(data_->err); }
Future<Option<int>> Subprocess::status() const { return data_->status; }

Try<Subprocess> subprocess(const std::string &path, const std::vector<std::string> &argv,
                           const Subprocess::IO &in, const Subprocess::IO &out,
                           const Subprocess::IO &err,
                           const Option<std::map<std::string, std::string>> &environment,
                           pool *reactor) {
	detail::critical c; // allocations, and a spawn that must not be preempted half-way
	fds temp;
	spawn_setup setup;
	int parent_end[3] = {-1, -1, -1};
	const Subprocess::IO *io[3] = {&in, &out, &err};
	for (int target = 0; target < 3; ++target) {
		const Subprocess::IO &x = *io[target];
		int rc = 0;
		switch (x.type()) {
		case Subprocess::IO::kind::pipe: {
			int p[2];
			if (::pipe2(p, O_CLOEXEC) != 0)
				return Error(std::string("subprocess: pipe: ") + std::strerror(errno));
			temp.list.push_back(p[0]);
			temp.list.push_back(p[1]);
			int child = high(target == 0 ? p[0] : p[1], temp);
			if (child < 0)
				return Error(std::string("subprocess: fcntl: ") + std::strerror(errno));
			parent_end[target] = target == 0 ? p[1] : p[0];
			rc = posix_spawn_file_actions_adddup2(&setup.actions, child, target);
			break;
		}
		case Subprocess::IO::kind::fd:
		{
			// Through a private copy above 2: a later dup2 onto 0..2 cannot clobber it, and
			// dup2 onto the target clears its close-on-exec flag.
			int f = x.fd() < 0 ? -1 : ::fcntl(x.fd(), F_DUPFD_CLOEXEC, 3);
			if (f < 0)
				return Error("subprocess: bad fd " + std::to_string(x.fd()) + ": " +
				             std::strerror(x.fd() < 0 ? EBADF : errno));
			temp.list.push_back(f);
			rc = posix_spawn_file_actions_adddup2(&setup.actions, f, target);
			break;
		}
		case Subprocess::IO::kind::path: {
			// Opened here rather than in the child, so that an error is reported to the caller.
			int flags = target == 0 ? O_RDONLY : O_WRONLY | O_CREAT | O_APPEND;
			int f = ::open(x.path().c_str(), flags | O_CLOEXEC, 0644);
			if (f < 0)
				return Error("subprocess: open " + x.path() + ": " + std::strerror(errno));
			temp.list.push_back(f);
			f = high(f, temp);
			if (f < 0)
				return Error(std::string("subprocess: fcntl: ") + std::strerror(errno));
			rc = posix_spawn_file_actions_adddup2(&setup.actions, f, target);
			break;
		}
		}
		if (rc != 0)
			return Error(std::string("subprocess: ") + std::strerror(rc));
	}

	sigset_t mask, defaults;
	sigemptyset(&mask);
	sigemptyset(&defaults);
	for (int sig = 1; sig < NSIG; ++sig)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaddset(&defaults, sig);
	posix_spawnattr_setsigmask(&setup.attr, &mask);
	posix_spawnattr_setsigdefault(&setup.attr, &defaults);
	posix_spawnattr_setflags(&setup.attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

	std::vector<char *> args;
	for (const auto &a : argv)
		args.push_back(const_cast<char *>(a.c_str()));
	args.push_back(nullptr);
	std::vector<std::string> env_strings;
	std::vector<char *> env;
	char **envp = environ;
	if (environment.isSome()) {
		for (const auto &[k, v] : environment.get())
			env_strings.push_back(k + "=" + v);
		for (auto &s : env_strings)
			env.push_back(s.data());
		env.push_back(nullptr);
		envp = env.data();
	}

	pid_t pid;
	int rc = posix_spawnp(&pid, path.c_str(), &setup.actions, &setup.attr, args.data(), envp);
	if (rc != 0)
		return Error("subprocess: " + path + ": " + std::strerror(rc));

	auto d = std::make_shared<Subprocess::data>();
	d->pid = pid;
	if (parent_end[0] >= 0)
		d->in = temp.keep(parent_end[0]);
	if (parent_end[1] >= 0)
		d->out = temp.keep(parent_end[1]);
	if (parent_end[2] >= 0)
		d->err = temp.keep(parent_end[2]);
	d->status = watch(reactor, pid);
	return Subprocess(std::move(d));
}

Try<Subprocess> subprocess(const std::string &command, const Subprocess::IO &in,
                           const Subprocess::IO &out, const Subprocess::IO &err,
                           const Option<std::map<std::string, std::string>> &environment,
                           pool *reactor) {
	return subprocess("/bin/sh", {"sh", "-c", command}, in, out, err, environment, reactor);
}

} // namespace turquoise
