// turquoise/util/subprocess.hpp — run a child process with redirected stdin/stdout/stderr and
// reap it asynchronously (libprocess's process::subprocess).
//
//   auto s = subprocess("/bin/echo", {"echo", "hi"}, Subprocess::FD(STDIN_FILENO),
//                       Subprocess::PIPE());
//   Future<std::string> out = io::read(*s->out());
//   Future<Option<int>> st = s->status();   // waitpid status: WIFEXITED(*st.get()) ...
//
// IO: PIPE() a new pipe (the parent's end is in()/out()/err(), close-on-exec);
//     FD(fd) the given descriptor (dup2'ed in the child; the parent keeps ownership);
//     PATH(p) a file opened in the child (stdin: O_RDONLY; stdout/stderr: O_WRONLY|O_CREAT|
//     O_APPEND, 0644).
// The child is started with posix_spawnp (argv[0] is passed as given; `path` without a '/' is
// searched in PATH), with an empty signal mask and every signal at its default action.
// Errors (bad path, unopenable PATH(), out of fds) are returned as Error.
//
// status(): the waitpid() status once the child has exited, reaped without blocking a worker
// and without SIGCHLD: a pidfd (pidfd_open, Linux 5.3+) watched by the reactor (see io.hpp for
// which pool), else a reaper thread blocked in waitpid(). None if the child could not be reaped
// (someone else reaped it). The future ignores discard requests (the child is still reaped),
// so `s.status().after(d, [pid](auto f) { kill(pid, SIGKILL); f.discard();
// return Failure("timed out"); })` fails after d and the child is reaped once killed. If the
// reactor pool shuts down first, the future is abandoned (the child is left unreaped).
//
// The parent's pipe ends are owned by the Subprocess (copies share them) and closed when the
// last copy is destroyed; closeIn()/closeOut()/closeErr() close one earlier (e.g. closeIn()
// sends EOF to the child). Never close() them directly. io::read()/io::write() work on
// duplicates, so they are unaffected by these closes.
#ifndef TURQUOISE_UTIL_SUBPROCESS_HPP
#define TURQUOISE_UTIL_SUBPROCESS_HPP

#include <turquoise/async/future.hpp>
#include <turquoise/async/option.hpp>
#include <turquoise/async/try.hpp>
#include <turquoise/pool.hpp>
#include <turquoise/util/io.hpp>

#include <map>
#include <memory>
#include <string>
#include <sys/types.h>
#include <vector>

namespace turquoise {

class Subprocess {
public:
	class IO {
	public:
		enum class kind { pipe, fd, path };
		kind type() const { return kind_; }
		int fd() const { return fd_; }
		const std::string &path() const { return path_; }

	private:
		friend class Subprocess;
		IO(kind k, int fd, std::string path) : kind_(k), fd_(fd), path_(std::move(path)) {}
		kind kind_;
		int fd_;
		std::string path_;
	};

	static IO PIPE() { return IO(IO::kind::pipe, -1, {}); }
	static IO FD(int fd) { return IO(IO::kind::fd, fd, {}); }
	static IO PATH(std::string path) { return IO(IO::kind::path, -1, std::move(path)); }

	pid_t pid() const;
	// The parent's end of a PIPE() redirection (None for FD/PATH, or once closed).
	Option<int> in() const;
	Option<int> out() const;
	Option<int> err() const;
	void closeIn() const;
	void closeOut() const;
	void closeErr() const;

	Future<Option<int>> status() const;

	struct data;

private:
	friend Try<Subprocess> subprocess(const std::string &, const std::vector<std::string> &,
	                                  const IO &, const IO &, const IO &,
	                                  const Option<std::map<std::string, std::string>> &, pool *);
	explicit Subprocess(std::shared_ptr<data> d) : data_(std::move(d)) {}
	std::shared_ptr<data> data_;
};

// `environment`: the child's whole environment (None: the parent's).
Try<Subprocess> subprocess(const std::string &path, const std::vector<std::string> &argv,
                           const Subprocess::IO &in = Subprocess::FD(0),
                           const Subprocess::IO &out = Subprocess::FD(1),
                           const Subprocess::IO &err = Subprocess::FD(2),
                           const Option<std::map<std::string, std::string>> &environment = None(),
                           pool *reactor = nullptr);

// `sh -c command`.
Try<Subprocess> subprocess(const std::string &command,
                           const Subprocess::IO &in = Subprocess::FD(0),
                           const Subprocess::IO &out = Subprocess::FD(1),
                           const Subprocess::IO &err = Subprocess::FD(2),
                           const Option<std::map<std::string, std::string>> &environment = None(),
                           pool *reactor = nullptr);

} // namespace turquoise

#endif
