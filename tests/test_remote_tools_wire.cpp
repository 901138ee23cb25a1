// test_remote_tools_wire.cpp — inger-pong and inger-ping facing a hand-written libprocess peer
// (remote_tools_wire.hpp) over 127.0.0.1: the messages on the wire as libprocess peers send
// and expect them (turquoise/process/network.hpp, the notes' libprocess facts).
#include "remote_tools_helpers.hpp"
#include "remote_tools_wire.hpp"

#include <catch2/catch.hpp>

#include <csignal>
#include <memory>
#include <string>
#include <vector>

namespace {

using rt_tools::child;
using rt_wire::connection;
using rt_wire::http_message;

const double slack = th::slack;

std::uint64_t deadline_in(double seconds) {
	return th::now_ns() + static_cast<std::uint64_t>(seconds * slack * 1e9);
}

// Accepts a connection on `listener` within the deadline; -1 if none.
int accept_within(int listener, std::uint64_t deadline_ns) {
	pollfd p{listener, POLLIN, 0};
	const std::uint64_t now = th::now_ns();
	if (now >= deadline_ns || poll(&p, 1, static_cast<int>((deadline_ns - now) / 1000000 + 1)) <= 0)
		return -1;
	return accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
}

} // namespace

TEST_CASE("inger-pong answers HTTP/1.0 and User-Agent-only pings on its own connection") {
	child pong({INGER_PONG, "--port", "0", "--id", "pong"});
	std::string line;
	REQUIRE(pong.wait_line("READY ", 20 * slack, line));
	const std::string upid = line.substr(6);
	std::uint16_t tester_port = 0;
	int listener = rt_tools::loopback_socket(true, tester_port);
	REQUIRE(listener >= 0);
	const std::string tester = "tester@127.0.0.1:" + std::to_string(tester_port);

	// HTTP/1.0, Content-Length, no Host, Libprocess-From (answered, then closed as HTTP/1.0
	// asks); then an older peer's HTTP/1.1 with only User-Agent: libprocess/<from>.
	const std::string requests[] = {
	    "POST /pong/ping HTTP/1.0\r\nLibprocess-From: " + tester + "\r\nContent-Length: 5\r\n\r\nhello",
	    "POST /pong/ping HTTP/1.1\r\nHost: " + upid.substr(5) + "\r\nUser-Agent: libprocess/" + tester +
	        "\r\nContent-Length: 6\r\nConnection: Keep-Alive\r\n\r\nworld!",
	};
	for (const std::string &request : requests) {
		connection in(rt_wire::connect_loopback(rt_wire::loopback_port(upid)));
		REQUIRE(in.fd >= 0);
		REQUIRE(in.write_all(request));
		http_message answer;
		REQUIRE(in.read_message(deadline_in(10), answer));
		CHECK(answer.start_line.rfind("HTTP/1.", 0) == 0);
		CHECK(answer.start_line.find(" 202 ") != std::string::npos);
		close(in.fd);
	}

	// The pongs come on inger-pong's own connection to the tester's address.
	connection out(accept_within(listener, deadline_in(10)));
	REQUIRE(out.fd >= 0);
	std::vector<std::string> bodies;
	http_message m;
	while (bodies.size() < 2 && out.read_message(deadline_in(10), m)) {
		REQUIRE(out.write_all("HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"));
		if (m.start_line.find("/tester/pong ") == std::string::npos)
			continue; // not a pong (a message of turquoise's own, ignored as libprocess does)
		CHECK(m.start_line == "POST /tester/pong HTTP/1.1");
		CHECK(m.header["libprocess-from"] == upid);
		CHECK(m.header["user-agent"] == "libprocess/" + upid);
		CHECK(m.header.count("host") == 1);
		bodies.push_back(m.body);
	}
	REQUIRE(bodies.size() == 2);
	CHECK(bodies[0] == "hello");
	CHECK(bodies[1] == "world!");
	close(out.fd);
	close(listener);
	kill(pong.pid(), SIGTERM);
	CHECK(pong.wait_exit(20 * slack) == 0);
}

TEST_CASE("inger-ping gets its pongs from a libprocess peer that answers on its own connection") {
	std::uint16_t port = 0;
	int listener = rt_tools::loopback_socket(true, port);
	REQUIRE(listener >= 0);
	const std::string me = "tester@127.0.0.1:" + std::to_string(port);
	child ping({INGER_PING, me, "--count", "3", "--size", "10", "--timeout-ms", "10000"});

	// Serve inbound connections (inger-ping's reachability check, its link and its messages)
	// until three pings are answered; answer each with an HTTP/1.0 pong on a connection of
	// our own to the sender's address, as some libprocess implementations do.
	std::vector<std::unique_ptr<connection>> inbound;
	int answered = 0;
	const std::uint64_t deadline = deadline_in(30);
	while (answered < 3 && th::now_ns() < deadline) {
		std::vector<pollfd> p{{listener, POLLIN, 0}};
		for (auto &c : inbound)
			p.push_back({c->closed ? -1 : c->fd, POLLIN, 0});
		if (poll(p.data(), p.size(), 100) <= 0)
			continue;
		if (p[0].revents != 0)
			inbound.push_back(std::make_unique<connection>(accept4(listener, nullptr, nullptr, SOCK_CLOEXEC)));
		for (std::size_t i = 1; i < p.size(); ++i) {
			if (p[i].revents == 0)
				continue;
			connection &c = *inbound[i - 1];
			http_message m;
			// Every message the read brought (a link and a ping can come in one segment).
			while (c.read_message(deadline_in(10), m)) {
				REQUIRE(c.write_all("HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"));
				if (m.start_line.rfind("POST /tester/ping ", 0) == 0) {
					const std::string from = m.header["libprocess-from"];
					CHECK(m.header["user-agent"] == "libprocess/" + from);
					CHECK(m.body.size() == 10);
					// HTTP/1.0: one connection per message, closed by the receiver.
					connection out(rt_wire::connect_loopback(rt_wire::loopback_port(from)));
					REQUIRE(out.fd >= 0);
					const std::string id = from.substr(0, from.find('@'));
					REQUIRE(out.write_all("POST /" + id + "/pong HTTP/1.0\r\nLibprocess-From: " + me +
					                      "\r\nContent-Length: " + std::to_string(m.body.size()) +
					                      "\r\n\r\n" + m.body));
					http_message answer;
					REQUIRE(out.read_message(deadline_in(10), answer));
					CHECK(answer.start_line.find(" 202 ") != std::string::npos);
					close(out.fd);
					++answered;
				}
				if (c.buffer.empty())
					break; // nothing more buffered: back to poll
			}
		}
	}
	CHECK(answered == 3);
	CHECK(ping.wait_exit(20 * slack) == 0);
	CHECK(ping.out().rfind("3 pongs from " + me + ", 10-byte bodies: round trip median ", 0) == 0);
	for (auto &c : inbound)
		close(c->fd);
	close(listener);
}
