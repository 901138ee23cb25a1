// remote_tools_helpers.hpp — test_remote_tools's child processes (inger-ping, inger-pong run
// as real OS processes, their output captured, every wait bounded) and loopback sockets.
#ifndef INGER_TESTS_REMOTE_TOOLS_HELPERS_HPP
#define INGER_TESTS_REMOTE_TOOLS_HELPERS_HPP

#include "helpers.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace rt_tools {

// A program running with its stdout and stderr on pipes. Destroying it kills it.
class child {
public:
	explicit child(const std::vector<std::string> &args) {
		int out[2], err[2];
		if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0)
			return;
		std::vector<char *> argv;
		for (const auto &a : args)
			argv.push_back(const_cast<char *>(a.c_str()));
		argv.push_back(nullptr);
		pid_ = fork();
		if (pid_ == 0) {
			dup2(out[1], 1);
			dup2(err[1], 2);
			execv(argv[0], argv.data());
			_exit(127);
		}
		close(out[1]);
		close(err[1]);
		out_ = out[0];
		err_ = err[0];
	}
	child(const child &) = delete;
	child &operator=(const child &) = delete;
	~child() {
		if (pid_ > 0) {
			kill(pid_, SIGKILL);
			int status;
			waitpid(pid_, &status, 0);
		}
		if (out_ >= 0)
			close(out_);
		if (err_ >= 0)
			close(err_);
	}

	pid_t pid() const { return pid_; }
	const std::string &out() const { return out_text_; }
	const std::string &err() const { return err_text_; }

	// Reads stdout until it holds a whole line starting with `prefix` (true), or until EOF or
	// the deadline (false). Returns that line without the newline in `line`.
	bool wait_line(const std::string &prefix, double seconds, std::string &line) {
		const std::uint64_t deadline = th::now_ns() + static_cast<std::uint64_t>(seconds * 1e9);
		for (;;) {
			for (std::size_t at = 0; at < out_text_.size();) {
				std::size_t end = out_text_.find('\n', at);
				if (end == std::string::npos)
					break;
				if (out_text_.compare(at, prefix.size(), prefix) == 0) {
					line = out_text_.substr(at, end - at);
					return true;
				}
				at = end + 1;
			}
			if (th::now_ns() >= deadline || !pump(deadline))
				return false;
		}
	}

	// Waits for the exit (reading the output meanwhile) for at most `seconds`; then kills.
	// Returns the exit status, 128 + the signal for a signal, -1 if it had to be killed.
	int wait_exit(double seconds) {
		const std::uint64_t deadline = th::now_ns() + static_cast<std::uint64_t>(seconds * 1e9);
		while (pump(deadline)) {
		}
		int status = 0;
		while (th::now_ns() < deadline) {
			if (waitpid(pid_, &status, WNOHANG) == pid_) {
				pid_ = -1;
				return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
			}
			usleep(5000);
		}
		kill(pid_, SIGKILL);
		waitpid(pid_, &status, 0);
		pid_ = -1;
		return -1;
	}

private:
	// Reads what is available on stdout and stderr (waiting up to 50 ms); false once both are
	// at EOF or the deadline passed.
	bool pump(std::uint64_t deadline) {
		if ((out_ < 0 && err_ < 0) || th::now_ns() >= deadline)
			return false;
		pollfd p[2] = {{out_, POLLIN, 0}, {err_, POLLIN, 0}};
		if (poll(p, 2, 50) <= 0)
			return true;
		int *fds[2] = {&out_, &err_};
		std::string *texts[2] = {&out_text_, &err_text_};
		for (int i = 0; i < 2; ++i) {
			if (*fds[i] < 0 || p[i].revents == 0)
				continue;
			char buffer[4096];
			ssize_t n = read(*fds[i], buffer, sizeof buffer);
			if (n > 0) {
				texts[i]->append(buffer, static_cast<std::size_t>(n));
			} else if (n == 0 || errno != EINTR) {
				close(*fds[i]);
				*fds[i] = -1;
			}
		}
		return true;
	}

	pid_t pid_ = -1;
	int out_ = -1, err_ = -1;
	std::string out_text_, err_text_;
};

// A TCP socket bound to 127.0.0.1 on a free port; listening if `listening` (with a backlog, so
// that connections complete in the kernel even though nobody accepts). -1 on failure.
inline int loopback_socket(bool listening, std::uint16_t &port) {
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	sockaddr_in address{};
	address.sin_family = AF_INET;
	address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t length = sizeof address;
	if (fd < 0 || bind(fd, reinterpret_cast<sockaddr *>(&address), sizeof address) != 0 ||
	    (listening && listen(fd, 16) != 0) ||
	    getsockname(fd, reinterpret_cast<sockaddr *>(&address), &length) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	port = ntohs(address.sin_port);
	return fd;
}

} // namespace rt_tools

#endif
