// Helpers for the HTTP server and client tests: a raw loopback socket that speaks whatever it
// is told to (so tests can misbehave on purpose), and polling with deadlines.
#pragma once

#include <catch2/catch.hpp>

#include <turquoise/http/parser.hpp>

#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace http_test {

using namespace std::chrono_literals;

// Polls cond() every 2 ms until it holds or `limit` passes; the final value.
template <class F>
bool eventually(F &&cond, std::chrono::milliseconds limit = 10s) {
	auto deadline = std::chrono::steady_clock::now() + limit;
	while (!cond()) {
		if (std::chrono::steady_clock::now() > deadline)
			return cond();
		std::this_thread::sleep_for(2ms);
	}
	return true;
}

class raw_socket {
public:
	explicit raw_socket(std::uint16_t port) {
		fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		REQUIRE(fd_ >= 0);
		sockaddr_in addr{};
		addr.sin_family = AF_INET;
		addr.sin_port = htons(port);
		addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		connected_ = ::connect(fd_, reinterpret_cast<sockaddr *>(&addr), sizeof addr) == 0;
		int one = 1;
		setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	}
	~raw_socket() {
		if (fd_ >= 0)
			::close(fd_);
	}
	raw_socket(const raw_socket &) = delete;
	raw_socket &operator=(const raw_socket &) = delete;

	bool connected() const { return connected_; }
	int fd() const { return fd_; }

	// False if the peer is gone.
	bool send(std::string_view data) {
		while (!data.empty()) {
			ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
			if (n <= 0)
				return false;
			data.remove_prefix(static_cast<std::size_t>(n));
		}
		return true;
	}

	// The next response (decoded), or nullopt on EOF, reset or timeout.
	std::optional<turquoise::http::Response> response(bool head = false, std::chrono::milliseconds limit = 10s) {
		turquoise::http::response_parser p;
		p.expect_head(head);
		auto deadline = std::chrono::steady_clock::now() + limit;
		for (;;) {
			while (!buffer_.empty()) {
				std::size_t used = p.feed(buffer_);
				buffer_.erase(0, used);
				if (p.ready())
					return p.take();
				if (p.failed())
					return std::nullopt;
				if (used == 0)
					break;
			}
			if (!fill(deadline)) {
				if (eof_ && p.finish())
					return p.take();
				return std::nullopt;
			}
		}
	}

	// True once the peer has closed (EOF or reset) within `limit`; bytes before it are kept.
	bool closed_by_peer(std::chrono::milliseconds limit = 10s) {
		auto deadline = std::chrono::steady_clock::now() + limit;
		while (!eof_)
			if (!fill(deadline))
				break;
		return eof_;
	}

	const std::string &buffered() const { return buffer_; }

private:
	bool fill(std::chrono::steady_clock::time_point deadline) {
		if (eof_)
			return false;
		for (;;) {
			auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
			if (left.count() <= 0)
				return false;
			pollfd pfd{fd_, POLLIN, 0};
			int r = ::poll(&pfd, 1, static_cast<int>(std::min<long>(left.count(), 100)));
			if (r <= 0)
				continue;
			char buf[16384];
			ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
			if (n > 0) {
				buffer_.append(buf, static_cast<std::size_t>(n));
				return true;
			}
			if (n < 0 && errno == EINTR)
				continue;
			eof_ = true; // EOF or ECONNRESET
			return false;
		}
	}

	int fd_ = -1;
	bool connected_ = false;
	bool eof_ = false;
	std::string buffer_;
};

} // namespace http_test
