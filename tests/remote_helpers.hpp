// Helpers for the remote-process tests: a peer OS process (remote_peer) started and stopped
// by the test, and a test process whose received messages the test thread can wait for.
#pragma once

#include "http_helpers.hpp"

#include <catch2/catch.hpp>

#include <turquoise/process/process.hpp>
#include <turquoise/runtime.hpp>

#include <chrono>
#include <condition_variable>
#include <csignal>
#include <fcntl.h>
#include <cstdio>
#include <deque>
#include <mutex>
#include <optional>
#include <poll.h>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace remote_test {

using namespace std::chrono_literals;
using turquoise::Message;
using turquoise::UPID;

// A remote_peer process: started by the constructor (its READY line read), SIGKILLed and
// reaped by kill() or the destructor.
class peer {
public:
	explicit peer(std::string id = "peer", std::vector<std::string> extra = {}) {
		int out[2];
		REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
		std::vector<std::string> args{REMOTE_PEER_PATH, "--id", id};
		args.insert(args.end(), extra.begin(), extra.end());
		pid_ = ::fork();
		REQUIRE(pid_ >= 0);
		if (pid_ == 0) {
			// The peer uses protobuf in its handlers: libgotcha's copies of libprotobuf do not
			// know the generated descriptors the base copy registered (a protobuf FATAL), so it
			// runs without libsets. (Reported in issue 10's notes.)
			::setenv("INGER_LIBSETS", "0", 1);
			::dup2(out[1], 1);
			std::vector<char *> argv;
			for (auto &a : args)
				argv.push_back(a.data());
			argv.push_back(nullptr);
			::execv(argv[0], argv.data());
			::_exit(127);
		}
		::close(out[1]);
		std::string line;
		char c;
		pollfd p{out[0], POLLIN, 0};
		auto deadline = std::chrono::steady_clock::now() + 20s;
		while (std::chrono::steady_clock::now() < deadline) {
			if (::poll(&p, 1, 100) <= 0)
				continue;
			if (::read(out[0], &c, 1) != 1)
				break;
			if (c == '\n')
				break;
			line += c;
		}
		::close(out[0]);
		REQUIRE(line.rfind("READY ", 0) == 0);
		upid_ = UPID::parse(line.substr(6));
		REQUIRE(upid_);
	}
	~peer() { kill(); }
	peer(const peer &) = delete;
	peer &operator=(const peer &) = delete;

	const UPID &upid() const { return upid_; }
	void kill() {
		if (pid_ > 0) {
			::kill(pid_, SIGKILL);
			::waitpid(pid_, nullptr, 0);
			pid_ = -1;
		}
	}

private:
	pid_t pid_ = -1;
	UPID upid_;
};

// A process that keeps every message it gets (of the names it is told), and exited pids.
class inbox : public turquoise::Process<inbox> {
public:
	explicit inbox(std::string id, std::vector<std::string> names) : ProcessBase(std::move(id)), names_(std::move(names)) {}

	// The next message (of any kept name) within `limit`, or nullopt.
	std::optional<Message> next(std::chrono::milliseconds limit = 10s) {
		std::unique_lock lock(mutex_);
		if (!cv_.wait_for(lock, limit, [&] { return !messages_.empty(); }))
			return std::nullopt;
		Message m = std::move(messages_.front());
		messages_.pop_front();
		return m;
	}
	std::optional<UPID> next_exited(std::chrono::milliseconds limit = 10s) {
		std::unique_lock lock(mutex_);
		if (!cv_.wait_for(lock, limit, [&] { return !exited_.empty(); }))
			return std::nullopt;
		UPID p = exited_.front();
		exited_.pop_front();
		return p;
	}
	std::size_t exited_count() {
		std::lock_guard lock(mutex_);
		return exited_.size();
	}

	using ProcessBase::link;
	using ProcessBase::send;

protected:
	void initialize() override {
		for (auto &n : names_)
			install(n, [this, n](const UPID &from, std::string &&body) {
				turquoise::detail::critical cs;
				std::lock_guard lock(mutex_);
				messages_.push_back(Message{n, from, self(), std::move(body)});
				cv_.notify_all();
			});
	}
	void exited(const UPID &pid) override {
		turquoise::detail::critical cs;
		std::lock_guard lock(mutex_);
		exited_.push_back(pid);
		cv_.notify_all();
	}

private:
	std::vector<std::string> names_;
	std::mutex mutex_;
	std::condition_variable cv_;
	std::deque<Message> messages_;
	std::deque<UPID> exited_;
};

using http_test::eventually;

// A runtime listening on 127.0.0.1 (a free port), installed for the test's lifetime.
inline turquoise::runtime_options listening(unsigned workers = 2) {
	turquoise::runtime_options o;
	o.pool.workers = workers;
	o.network.listen = true;
	return o;
}

} // namespace remote_test
