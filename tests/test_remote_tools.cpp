// test_remote_tools.cpp — inger-ping and inger-pong as real OS processes over 127.0.0.1: every
// pong arrives, bad arguments, a refused port, a peer that never answers (a silent listener,
// a SIGSTOPped inger-pong), an inger-pong killed mid-run. Every wait is bounded.
#include "remote_tools_helpers.hpp"

#include <catch2/catch.hpp>

#include <csignal>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

using rt_tools::child;

const double slack = th::slack;

// An inger-pong on a free port; its UPID from the READY line.
struct pong_process {
	child process{{INGER_PONG, "--port", "0"}};
	std::string upid;
	pong_process() {
		std::string line;
		REQUIRE(process.wait_line("READY ", 20 * slack, line));
		upid = line.substr(6);
		REQUIRE(upid.rfind("pong@127.0.0.1:", 0) == 0);
	}
	// SIGTERM; its exit status; its stderr (the count of answered pings) in process.err().
	int stop() {
		kill(process.pid(), SIGTERM);
		return process.wait_exit(20 * slack);
	}
};

std::vector<std::string> ping_args(const std::string &upid, std::vector<std::string> flags) {
	std::vector<std::string> args{INGER_PING, upid};
	args.insert(args.end(), flags.begin(), flags.end());
	return args;
}

} // namespace

TEST_CASE("inger-ping gets every pong from inger-pong and prints the median and p99") {
	pong_process pong;
	for (const char *size : {"64", "0", "100000"}) {
		INFO("--size " << size);
		child ping(ping_args(pong.upid, {"--count", "200", "--size", size, "--timeout-ms", "10000"}));
		REQUIRE(ping.wait_exit(60 * slack) == 0);
		CHECK(ping.err().empty());
		const std::string head = "200 pongs from " + pong.upid + ", " + size + "-byte bodies: round trip median ";
		REQUIRE(ping.out().rfind(head, 0) == 0);
		double median = std::atof(ping.out().c_str() + head.size());
		auto p99_at = ping.out().find("p99 ");
		REQUIRE(p99_at != std::string::npos);
		double p99 = std::atof(ping.out().c_str() + p99_at + 4);
		CHECK(median > 0);
		CHECK(p99 >= median);
	}
	REQUIRE(pong.stop() == 0);
	CHECK(pong.process.err().find("answered 600 pings") != std::string::npos);
}

TEST_CASE("inger-ping and inger-pong refuse bad arguments with the usage and status 2") {
	const std::vector<std::vector<std::string>> pings = {
	    {},
	    {"pong@127.0.0.1:5050", "--count", "0"},
	    {"pong@127.0.0.1:5050", "--count", "ten"},
	    {"pong@127.0.0.1:5050", "--size", "-1"},
	    {"pong@127.0.0.1:5050", "--size", "67108865"},
	    {"pong@127.0.0.1:5050", "--timeout-ms"},
	    {"pong@127.0.0.1:5050", "--bogus", "1"},
	    {"pong@127.0.0.1:5050", "other@127.0.0.1:5051"},
	    {"pong"},
	    {"pong@127.0.0.1"},
	    {"pong@127.0.0.1:65536"},
	    {"pong@127.0.0.1:0"},
	    {"po/ng@127.0.0.1:5050"},
	    {"pong@localhost:5050"},
	};
	for (const auto &flags : pings) {
		std::vector<std::string> args{INGER_PING};
		args.insert(args.end(), flags.begin(), flags.end());
		child ping(args);
		INFO("inger-ping " << (flags.empty() ? "" : flags[0]) << (flags.size() > 1 ? " " + flags[1] : ""));
		CHECK(ping.wait_exit(20 * slack) == 2);
		CHECK(ping.err().find("usage: inger-ping") != std::string::npos);
	}
	const std::vector<std::vector<std::string>> pongs = {
	    {"--port", "65536"}, {"--port", ""}, {"--port"}, {"--ip", "300.1.1.1"},
	    {"--ip", "localhost"}, {"--id", "a/b"}, {"--id", "a@b"}, {"--id", ""}, {"extra"},
	};
	for (const auto &flags : pongs) {
		std::vector<std::string> args{INGER_PONG};
		args.insert(args.end(), flags.begin(), flags.end());
		child pong(args);
		INFO("inger-pong " << flags[0] << (flags.size() > 1 ? " '" + flags[1] + "'" : ""));
		CHECK(pong.wait_exit(20 * slack) == 2);
		CHECK(pong.err().find("usage: inger-pong") != std::string::npos);
		CHECK(pong.out().empty());
	}
}

TEST_CASE("inger-ping to a refused port says so and exits 1") {
	std::uint16_t port = 0;
	int fd = rt_tools::loopback_socket(false, port); // bound, not listening: connect is refused
	REQUIRE(fd >= 0);
	child ping(ping_args("pong@127.0.0.1:" + std::to_string(port), {"--timeout-ms", "2000"}));
	CHECK(ping.wait_exit(20 * slack) == 1);
	CHECK(ping.err().find("cannot connect to 127.0.0.1:" + std::to_string(port)) != std::string::npos);
	CHECK(ping.err().find("Connection refused") != std::string::npos);
	close(fd);
}

TEST_CASE("inger-ping to a listener that never answers times out and exits 3") {
	std::uint16_t port = 0;
	int fd = rt_tools::loopback_socket(true, port); // connections complete; nobody reads
	REQUIRE(fd >= 0);
	const auto start = th::now_ns();
	child ping(ping_args("pong@127.0.0.1:" + std::to_string(port), {"--timeout-ms", "300"}));
	CHECK(ping.wait_exit(20 * slack) == 3);
	CHECK(ping.err().find("timeout: no pong for ping 1") != std::string::npos);
	CHECK(ping.err().find("within 300 ms") != std::string::npos);
	CHECK(static_cast<double>(th::now_ns() - start) >= 0.3e9);
	close(fd);
}

TEST_CASE("inger-ping to a SIGSTOPped inger-pong times out and exits 3") {
	pong_process pong;
	{ // it answers while it runs
		child ping(ping_args(pong.upid, {"--count", "5", "--timeout-ms", "10000"}));
		REQUIRE(ping.wait_exit(30 * slack) == 0);
	}
	REQUIRE(kill(pong.process.pid(), SIGSTOP) == 0);
	child ping(ping_args(pong.upid, {"--count", "5", "--timeout-ms", "300"}));
	CHECK(ping.wait_exit(20 * slack) == 3);
	CHECK(ping.err().find("timeout: no pong for ping 1 from " + pong.upid) != std::string::npos);
	REQUIRE(kill(pong.process.pid(), SIGCONT) == 0);
	CHECK(pong.stop() == 0);
}

TEST_CASE("inger-ping whose inger-pong is killed mid-run says the peer went away and exits 4") {
	pong_process pong;
	child ping(ping_args(pong.upid, {"--count", "1000000000", "--timeout-ms", "20000"}));
	usleep(static_cast<useconds_t>(500000 * slack)); // a run in progress (it cannot finish)
	REQUIRE(kill(pong.process.pid(), SIGKILL) == 0);
	const auto killed = th::now_ns();
	CHECK(ping.wait_exit(20 * slack) == 4);
	// Reported by the link (a closed connection), long before the 20 s timeout.
	CHECK(static_cast<double>(th::now_ns() - killed) < 5e9 * slack);
	CHECK(ping.err().find("the peer went away: " + pong.upid) != std::string::npos);
	CHECK(ping.err().find(" of 1000000000 pongs arrived") != std::string::npos);
	CHECK(ping.err().find("(0 of") == std::string::npos);
}
