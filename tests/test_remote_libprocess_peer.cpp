// A raw socket plays a libprocess peer byte by byte (issue 10 item 4): what it may send us
// (HTTP/1.1 chunked with both headers, HTTP/1.0 with Content-Length and no Host, User-Agent
// only) is delivered and answered 202/404; what we send it is libprocess's request, byte for
// byte, on one keep-alive connection, in order; our reply goes out on our own connection.
#include "http_helpers.hpp"
#include "remote_helpers.hpp"

#include <turquoise/http/parser.hpp>
#include <turquoise/process/dispatch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

using namespace turquoise;
using namespace remote_test;
using http_test::raw_socket;

namespace {

// A listening socket on 127.0.0.1 that plays the remote side.
class raw_listener {
public:
	raw_listener() {
		fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		REQUIRE(fd_ >= 0);
		sockaddr_in a{};
		a.sin_family = AF_INET;
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		REQUIRE(::bind(fd_, reinterpret_cast<sockaddr *>(&a), sizeof a) == 0);
		REQUIRE(::listen(fd_, 16) == 0);
		socklen_t len = sizeof a;
		REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr *>(&a), &len) == 0);
		port_ = ntohs(a.sin_port);
	}
	~raw_listener() { ::close(fd_); }
	std::uint16_t port() const { return port_; }
	// An accepted connection within `limit`, or -1.
	int accept(std::chrono::milliseconds limit = 5s) {
		pollfd p{fd_, POLLIN, 0};
		if (::poll(&p, 1, static_cast<int>(limit.count())) <= 0)
			return -1;
		return ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
	}

private:
	int fd_;
	std::uint16_t port_ = 0;
};

// Read from fd until `bytes` holds `count` whole requests (or `limit` passes).
std::vector<std::string> read_requests(int fd, std::size_t count, std::chrono::milliseconds limit = 5s) {
	std::vector<std::string> out;
	std::string buf;
	auto deadline = std::chrono::steady_clock::now() + limit;
	while (out.size() < count && std::chrono::steady_clock::now() < deadline) {
		pollfd p{fd, POLLIN, 0};
		if (::poll(&p, 1, 50) <= 0)
			continue;
		char tmp[65536];
		ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
		if (n <= 0)
			break;
		buf.append(tmp, static_cast<std::size_t>(n));
		for (;;) { // split whole requests off the front
			http::request_parser parser;
			std::size_t used = 0;
			std::string_view in = buf;
			while (!in.empty() && !parser.ready() && !parser.failed()) {
				std::size_t k = parser.feed(in);
				used += k;
				in.remove_prefix(k);
				if (k == 0)
					break;
			}
			if (!parser.ready())
				break;
			out.push_back(buf.substr(0, used));
			buf.erase(0, used);
		}
	}
	return out;
}

void send_all(int fd, std::string_view s) {
	while (!s.empty()) {
		ssize_t n = ::send(fd, s.data(), s.size(), MSG_NOSIGNAL);
		REQUIRE(n > 0);
		s.remove_prefix(static_cast<std::size_t>(n));
	}
}

} // namespace

TEST_CASE("what a libprocess peer sends is delivered: chunked with both headers, HTTP/1.0 without Host, User-Agent only") {
	runtime_scope scope(listening());
	inbox box("box", {"m"});
	UPID me = spawn(box);
	raw_socket s(me.address.port);
	REQUIRE(s.connected());
	// libprocess itself.
	REQUIRE(s.send("POST /box/m HTTP/1.1\r\nUser-Agent: libprocess/lp@10.0.0.9:5051\r\n"
	               "Libprocess-From: lp@10.0.0.9:5051\r\nConnection: Keep-Alive\r\nHost: 127.0.0.1\r\n"
	               "Transfer-Encoding: chunked\r\n\r\n3\r\none\r\n0\r\n\r\n"));
	auto r = s.response();
	REQUIRE(r);
	CHECK(r->status == 202);
	auto m = box.next();
	REQUIRE(m);
	CHECK(m->body == "one");
	CHECK(m->from.str() == "lp@10.0.0.9:5051");
	// Other implementations: HTTP/1.0, Content-Length, no Host, on the same connection.
	REQUIRE(s.send("POST /box/m HTTP/1.0\r\nLibprocess-From: go@10.0.0.8:7000\r\nConnection: Keep-Alive\r\n"
	               "Content-Length: 3\r\n\r\ntwo"));
	r = s.response();
	REQUIRE(r);
	CHECK(r->status == 202);
	m = box.next();
	REQUIRE(m);
	CHECK(m->body == "two");
	CHECK(m->from.str() == "go@10.0.0.8:7000");
	// An older peer: User-Agent only, empty body with Content-Length: 0; then pipelined ones.
	REQUIRE(s.send("POST /box/m HTTP/1.1\r\nUser-Agent: libprocess/old@10.0.0.7:1\r\nContent-Length: 0\r\n\r\n"
	               "POST /box/m HTTP/1.1\r\nLibprocess-From: x@1.1.1.1:1\r\nContent-Length: 1\r\n\r\na"
	               "POST /box/m HTTP/1.1\r\nLibprocess-From: x@1.1.1.1:1\r\nContent-Length: 1\r\n\r\nb"
	               "POST /nobody/m HTTP/1.1\r\nLibprocess-From: x@1.1.1.1:1\r\nContent-Length: 1\r\n\r\nc"));
	for (int status : {202, 202, 202, 404}) {
		r = s.response();
		REQUIRE(r);
		CHECK(r->status == status);
	}
	for (const char *body : {"", "a", "b"}) {
		m = box.next();
		REQUIRE(m);
		CHECK(m->body == body);
	}
	CHECK(box.next(100ms) == std::nullopt);
	CHECK(runtime::current().network().not_found == 1);
	terminate(box);
	wait(box);
}

TEST_CASE("what we send a libprocess peer: its request byte for byte, one keep-alive connection, in order - replies on our connection") {
	runtime_scope scope(listening());
	raw_listener lp;
	inbox box("client", {"pong"});
	UPID me = spawn(box);
	UPID pong("pong", Address{"127.0.0.1", lp.port()});
	post(me, pong, "ping", std::string("hello"));
	post(me, pong, "ping", std::string());
	for (int i = 0; i < 100; ++i)
		post(me, pong, "n", std::to_string(i));
	int fd = lp.accept();
	REQUIRE(fd >= 0);
	auto requests = read_requests(fd, 102);
	REQUIRE(requests.size() == 102);
	std::string from = me.str();
	CHECK(requests[0] == "POST /pong/ping HTTP/1.1\r\nUser-Agent: libprocess/" + from + "\r\nLibprocess-From: " + from +
	                         "\r\nConnection: Keep-Alive\r\nHost: 127.0.0.1:" + std::to_string(lp.port()) +
	                         "\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
	CHECK(requests[1] == "POST /pong/ping HTTP/1.1\r\nUser-Agent: libprocess/" + from + "\r\nLibprocess-From: " + from +
	                         "\r\nConnection: Keep-Alive\r\nHost: 127.0.0.1:" + std::to_string(lp.port()) + "\r\n\r\n");
	for (int i = 0; i < 100; ++i) {
		std::string n = std::to_string(i);
		CHECK(requests[2 + i].find("\r\n\r\n" + std::to_string(n.size()) + "\r\n" + n + "\r\n0\r\n\r\n") != std::string::npos);
	}
	CHECK(lp.accept(200ms) == -1); // one connection only
	// The peer answers 202s (which we read and ignore) and replies on a connection of its own.
	for (int i = 0; i < 102; ++i)
		send_all(fd, "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n");
	raw_socket reply(me.address.port);
	REQUIRE(reply.send("POST /client/pong HTTP/1.1\r\nUser-Agent: libprocess/pong@127.0.0.1:" +
	                   std::to_string(lp.port()) + "\r\nLibprocess-From: pong@127.0.0.1:" + std::to_string(lp.port()) +
	                   "\r\nConnection: Keep-Alive\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
	                   "5\r\nhello\r\n0\r\n\r\n"));
	auto m = box.next();
	REQUIRE(m);
	CHECK(m->body == "hello");
	CHECK(m->from == pong);
	// Our answer to that goes out on the connection we opened, not on the inbound one.
	dispatch(me, [&] { box.send(m->from, "ping", "again"); });
	requests = read_requests(fd, 1);
	REQUIRE(requests.size() == 1);
	CHECK(requests[0].find("again") != std::string::npos);
	auto ack = reply.response(); // the inbound connection carries only the 202 for the pong
	REQUIRE(ack);
	CHECK(ack->status == 202);
	CHECK_FALSE(reply.response(false, 200ms));
	::close(fd);
	terminate(box);
	wait(box);
}
