// libturquoise reactor: a task waits for a socket without blocking its worker.
#include <catch2/catch.hpp>

#include "helpers.hpp"

#include <turquoise/pool.hpp>

#include <atomic>
#include <chrono>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace std::chrono_literals;
using turquoise::pool;

namespace {
struct socket_pair {
	int fd[2];
	socket_pair() {
		REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fd) == 0);
	}
	~socket_pair() {
		close(fd[0]);
		close(fd[1]);
	}
};
} // namespace

TEST_CASE("when_readable wakes a task once the socket has data, and only then") {
	pool p(turquoise::pool_options{.workers = 1});
	socket_pair s;
	turquoise::Promise<std::string> got;
	auto f = got.future();
	p.when_readable(s.fd[0], [&] {
		char buf[16];
		ssize_t n = read(s.fd[0], buf, sizeof buf);
		got.set(std::string(buf, n > 0 ? static_cast<std::size_t>(n) : 0));
	});
	// The worker is free meanwhile: other tasks run.
	CHECK(p.submit([] { return 7; }).get() == 7);
	CHECK_FALSE(f.await(50ms));
	REQUIRE(write(s.fd[1], "hello", 5) == 5);
	REQUIRE(f.await(2s * th::slack));
	CHECK(f.get() == "hello");
}

TEST_CASE("readable and writable interests on one fd are independent") {
	pool p(turquoise::pool_options{.workers = 2});
	socket_pair s;
	std::atomic<int> writable{0}, readable{0};
	p.when_readable(s.fd[0], [&] { readable++; });
	p.when_writable(s.fd[0], [&] { writable++; });
	std::this_thread::sleep_for(50ms * th::slack);
	CHECK(writable.load() == 1); // an empty socket buffer is writable at once
	CHECK(readable.load() == 0);
	REQUIRE(write(s.fd[1], "x", 1) == 1);
	std::this_thread::sleep_for(50ms * th::slack);
	CHECK(readable.load() == 1);
	CHECK(writable.load() == 1); // one-shot
}

TEST_CASE("forget() drops a pending wait") {
	pool p(turquoise::pool_options{.workers = 1});
	socket_pair s;
	std::atomic<int> readable{0};
	p.when_readable(s.fd[0], [&] { readable++; });
	p.forget(s.fd[0]);
	REQUIRE(write(s.fd[1], "x", 1) == 1);
	std::this_thread::sleep_for(50ms * th::slack);
	CHECK(readable.load() == 0);
}

TEST_CASE("an fd epoll cannot watch is reported, not ignored") {
	pool p(turquoise::pool_options{.workers = 1});
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC); // regular files: EPERM from epoll
	REQUIRE(fd >= 0);
	CHECK_THROWS_AS(p.when_readable(fd, [] {}), std::system_error);
	close(fd);
}

TEST_CASE("an fd can be waited for again after its wait fired") {
	pool p(turquoise::pool_options{.workers = 1});
	socket_pair s;
	for (int round = 0; round < 3; ++round) {
		turquoise::Promise<char> got;
		auto f = got.future();
		p.when_readable(s.fd[0], [&] {
			char c = 0;
			got.set(read(s.fd[0], &c, 1) == 1 ? c : '?'); // no Catch assertions off-thread
		});
		char c = static_cast<char>('a' + round);
		REQUIRE(write(s.fd[1], &c, 1) == 1);
		REQUIRE(f.await(2s * th::slack));
		CHECK(f.get() == c);
	}
}

TEST_CASE("an fd closed without forget() and reopened under the same number can be watched") {
	pool p(turquoise::pool_options{.workers = 1});
	int fds[2];
	REQUIRE(pipe(fds) == 0);
	std::atomic<int> fired{0};
	p.when_readable(fds[0], [&] { fired++; });
	REQUIRE(write(fds[1], "x", 1) == 1);
	std::this_thread::sleep_for(50ms * th::slack);
	REQUIRE(fired.load() == 1);
	int number = fds[0];
	close(fds[0]);
	close(fds[1]);
	REQUIRE(pipe(fds) == 0);
	REQUIRE(fds[0] == number); // the lowest free number comes back
	p.when_readable(fds[0], [&] { fired++; });
	REQUIRE(write(fds[1], "y", 1) == 1);
	std::this_thread::sleep_for(50ms * th::slack);
	CHECK(fired.load() == 2);
	p.forget(fds[0]);
	close(fds[0]);
	close(fds[1]);
}
