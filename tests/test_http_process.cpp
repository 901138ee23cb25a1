// The HTTP server and client against other OS processes over 127.0.0.1: our client against
// inger-sla-server and python3's http.server (HTTP/1.0 answers), and curl (when installed)
// against our server: keep-alive reuse, pipelining, chunked uploads.
#include "http_helpers.hpp"

#include <turquoise/http/client.hpp>
#include <turquoise/http/server.hpp>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <vector>

namespace http = turquoise::http;
using turquoise::Future;
using namespace std::chrono_literals;

namespace {

// A child process with its stdout and stderr in one pipe; killed (SIGTERM, then SIGKILL) when
// it goes out of scope.
struct child {
	pid_t pid = -1;
	int out = -1;
	std::string output;

	explicit child(std::vector<std::string> args) {
		int fds[2];
		REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
		std::vector<char *> argv;
		for (auto &a : args)
			argv.push_back(a.data());
		argv.push_back(nullptr);
		pid = ::fork();
		REQUIRE(pid >= 0);
		if (pid == 0) {
			::dup2(fds[1], 1);
			::dup2(fds[1], 2);
			::execvp(argv[0], argv.data());
			::_exit(127);
		}
		::close(fds[1]);
		out = fds[0];
	}

	// Reads until `what` appears in the output (true) or the child ends or `limit` passes.
	bool wait_for(const std::string &what, std::chrono::milliseconds limit = 20s) {
		auto deadline = std::chrono::steady_clock::now() + limit;
		while (output.find(what) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
			pollfd pfd{out, POLLIN, 0};
			if (::poll(&pfd, 1, 100) <= 0)
				continue;
			char buf[1024];
			ssize_t n = ::read(out, buf, sizeof buf);
			if (n <= 0)
				break;
			output.append(buf, static_cast<std::size_t>(n));
		}
		return output.find(what) != std::string::npos;
	}

	// The exit status once it ends by itself within `limit` (-1 otherwise).
	int wait_exit(std::chrono::milliseconds limit = 30s) {
		wait_for("\x01never\x01", limit); // drain the output until EOF or the limit
		auto deadline = std::chrono::steady_clock::now() + 2s;
		int status = 0;
		while (std::chrono::steady_clock::now() < deadline) {
			if (::waitpid(pid, &status, WNOHANG) == pid) {
				pid = -1;
				return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
			}
			std::this_thread::sleep_for(10ms);
		}
		return -1;
	}

	~child() {
		if (pid > 0) {
			::kill(pid, SIGTERM);
			int status;
			for (int i = 0; i < 200 && ::waitpid(pid, &status, WNOHANG) != pid; ++i)
				std::this_thread::sleep_for(10ms);
			if (::waitpid(pid, &status, WNOHANG) == 0) {
				::kill(pid, SIGKILL);
				::waitpid(pid, &status, 0);
			}
		}
		if (out >= 0)
			::close(out);
	}
};

bool installed(const char *program) {
	std::string cmd = std::string("command -v ") + program + " >/dev/null 2>&1";
	return std::system(cmd.c_str()) == 0;
}

int port_after(const std::string &text, const std::string &marker) {
	auto at = text.find(marker);
	return at == std::string::npos ? 0 : std::atoi(text.c_str() + at + marker.size());
}

http::Response await_ok(const Future<http::Response> &f) {
	REQUIRE(f.await(20s));
	INFO((f.isFailed() ? f.failure() : std::string()));
	REQUIRE(f.isReady());
	return f.get();
}

} // namespace

TEST_CASE("our client against inger-sla-server in its own process: keep-alive reuse, errors") {
	child server({INGER_SLA_SERVER, "--port", "0", "--workers", "2"});
	REQUIRE(server.wait_for("port="));
	int port = port_after(server.output, "port=");
	REQUIRE(port > 0);
	turquoise::pool p(turquoise::pool_options{.workers = 1});
	http::Client client(p);
	std::string base = "http://127.0.0.1:" + std::to_string(port);
	for (int i = 0; i < 30; ++i)
		CHECK(await_ok(client.get(base + "/spin?us=50")).body == "ok");
	CHECK(client.stats().connections_opened == 1); // one connection, reused 29 times
	http::Response stats = await_ok(client.get(base + "/stats"));
	CHECK(stats.find_header("content-type") == "application/json");
	CHECK(stats.body.find("\"tasks_completed\"") != std::string::npos);
	CHECK(await_ok(client.get(base + "/spin?us=x")).status == 400);
	CHECK(await_ok(client.post(base + "/spin?us=1", "x")).status == 405);
	// Concurrent requests from one client, to the server in the other process.
	std::vector<Future<http::Response>> all;
	for (int i = 0; i < 20; ++i)
		all.push_back(client.get(base + "/spin?us=200"));
	for (auto &f : all)
		CHECK(await_ok(f).status == 200);
	// The server goes away: the next request fails clearly (refused), it does not hang.
	::kill(server.pid, SIGKILL);
	::waitpid(server.pid, nullptr, 0);
	server.pid = -1;
	Future<http::Response> gone = client.get(base + "/spin?us=1");
	REQUIRE(gone.await(20s));
	REQUIRE(gone.isFailed());
	INFO(gone.failure());
	CHECK((gone.failure().rfind("connection refused", 0) == 0 || gone.failure().rfind("connection closed", 0) == 0 ||
	       gone.failure().rfind("connection reset", 0) == 0));
}

TEST_CASE("our client against python3's http.server (HTTP/1.0 answers, closed after each)") {
	if (!installed("python3")) {
		WARN("python3 not installed: skipped");
		return;
	}
	char dir[] = "/tmp/inger-http-XXXXXX";
	REQUIRE(::mkdtemp(dir));
	std::string big(300000, 'z');
	std::ofstream(std::string(dir) + "/big.txt") << big;
	std::ofstream(std::string(dir) + "/small.txt") << "small\n";
	child py({"python3", "-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", dir});
	REQUIRE(py.wait_for("port "));
	int port = port_after(py.output, "port ");
	REQUIRE(port > 0);
	turquoise::pool p(turquoise::pool_options{.workers = 1});
	http::Client client(p);
	std::string base = "http://127.0.0.1:" + std::to_string(port);
	CHECK(await_ok(client.get(base + "/small.txt")).body == "small\n");
	CHECK(await_ok(client.get(base + "/big.txt")).body == big);
	CHECK(await_ok(client.get(base + "/missing")).status == 404);
	http::ClientRequest head;
	head.method = "HEAD";
	head.url = http::URL::parse(base + "/big.txt").get();
	http::Response h = await_ok(client.request(head));
	CHECK(h.find_header("content-length") == "300000");
	CHECK(h.body.empty());
	CHECK(client.idle_connections() == 0); // HTTP/1.0 without keep-alive: nothing to pool
	std::system((std::string("rm -rf ") + dir).c_str());
}

TEST_CASE("curl against our server: keep-alive reuse, chunked upload, HTTP/1.0") {
	if (!installed("curl")) {
		WARN("curl not installed: skipped");
		return;
	}
	turquoise::pool p(turquoise::pool_options{.workers = 2});
	auto s = http::Server::listen(p);
	REQUIRE(s.isSome());
	s.get().route("/echo", [](const http::Request &r) -> Future<http::Response> {
		return http::OK(r.method + (r.chunked ? " chunked " : " plain ") + std::to_string(r.body.size()) + "\n");
	});
	std::string base = "http://127.0.0.1:" + std::to_string(s.get().port());
	{
		// Three URLs in one curl: one connection (curl reports the reuse), three answers.
		child curl({"curl", "-sS", "-v", "--http1.1", base + "/echo", base + "/echo", base + "/nope"});
		CHECK(curl.wait_exit() == 0);
		INFO(curl.output);
		CHECK(curl.output.find("GET plain 0") != std::string::npos);
		CHECK(curl.output.find("Re-using existing connection") != std::string::npos);
		CHECK(s.get().stats().accepted == 1);
	}
	{
		child curl({"curl", "-sS", "--http1.1", "-H", "Transfer-Encoding: chunked", "--data-binary", std::string(5000, 'c'),
		            base + "/echo"});
		CHECK(curl.wait_exit() == 0);
		INFO(curl.output);
		CHECK(curl.output.find("POST chunked 5000") != std::string::npos);
	}
	{
		child curl({"curl", "-sS", "--http1.0", "--data-binary", "abc", base + "/echo"});
		CHECK(curl.wait_exit() == 0);
		CHECK(curl.output.find("POST plain 3") != std::string::npos);
	}
}
