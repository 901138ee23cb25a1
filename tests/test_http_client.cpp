// http::Client against http::Server in one process, and against raw loopback peers that
// misbehave: keep-alive reuse, chunked both ways, streaming, timeouts, refused and reset
// connections, malformed responses.
#include "http_helpers.hpp"

#include <turquoise/http/client.hpp>
#include <turquoise/http/server.hpp>
#include <turquoise/util/pipe.hpp>

#include <atomic>
#include <memory>
#include <string>
#include <thread>

namespace http = turquoise::http;
using turquoise::Future;
using turquoise::Promise;
using namespace std::chrono_literals;
using http_test::eventually;

namespace {

http::Server listen(turquoise::pool &p, http::server_options o = {}) {
	auto s = http::Server::listen(p, std::move(o));
	REQUIRE(s.isSome());
	return std::move(s).get();
}

std::string url(const http::Server &s, const std::string &path) {
	return "http://127.0.0.1:" + std::to_string(s.port()) + path;
}

// Waits (loosely) and returns the response; fails the test with the failure message.
http::Response await_ok(const Future<http::Response> &f) {
	REQUIRE(f.await(20s));
	INFO((f.isFailed() ? f.failure() : std::string()));
	REQUIRE(f.isReady());
	return f.get();
}

std::string await_failure(const Future<http::Response> &f) {
	REQUIRE(f.await(20s));
	REQUIRE(f.isFailed());
	return f.failure();
}

// A one-shot peer on 127.0.0.1: accepts one connection, reads what comes for a moment, writes
// `reply`, then closes (with a reset if `reset`).
struct scripted_peer {
	int listen_fd = -1;
	std::uint16_t port = 0;
	std::thread thread;
	explicit scripted_peer(std::string reply, bool reset = false) {
		listen_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		sockaddr_in addr{};
		addr.sin_family = AF_INET;
		addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		socklen_t len = sizeof addr;
		REQUIRE(::bind(listen_fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) == 0);
		REQUIRE(::listen(listen_fd, 4) == 0);
		::getsockname(listen_fd, reinterpret_cast<sockaddr *>(&addr), &len);
		port = ntohs(addr.sin_port);
		thread = std::thread([this, reply = std::move(reply), reset] {
			int fd = ::accept(listen_fd, nullptr, nullptr);
			if (fd < 0)
				return;
			pollfd pfd{fd, POLLIN, 0};
			char buf[4096];
			if (::poll(&pfd, 1, 2000) > 0)
				[[maybe_unused]] ssize_t n = ::recv(fd, buf, sizeof buf, 0);
			[[maybe_unused]] ssize_t n = ::send(fd, reply.data(), reply.size(), MSG_NOSIGNAL);
			if (reset) {
				linger lg{1, 0};
				setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
			}
			::close(fd);
		});
	}
	~scripted_peer() {
		::shutdown(listen_fd, SHUT_RDWR);
		thread.join();
		::close(listen_fd);
	}
};

} // namespace

TEST_CASE("client: get and post, keep-alive reuse of one connection, the server sees one connection") {
	turquoise::pool p(turquoise::pool_options{.workers = 2});
	http::Server s = listen(p);
	s.route("/echo", [](const http::Request &r) -> Future<http::Response> {
		return http::OK(r.method + " " + r.body + " " + std::string(r.find_header("content-type").value_or("")));
	});
	http::Client client(p);
	CHECK(await_ok(client.get(url(s, "/echo"))).body == "GET  ");
	for (int i = 0; i < 20; ++i) {
		// Built by appending: GCC 12 at -O3 warns falsely (-Wrestrict) on "n" + std::to_string(i).
		std::string body = "n";
		body += std::to_string(i);
		CHECK(await_ok(client.post(url(s, "/echo"), body, "text/x")).body == "POST " + body + " text/x");
	}
	CHECK(client.stats().connections_opened == 1);
	CHECK(client.stats().connections_reused == 20);
	CHECK(s.stats().accepted == 1);
	CHECK(client.idle_connections() == 1);
	// Concurrent requests need more connections; they all go back to the pool (up to its cap).
	std::vector<Future<http::Response>> many;
	for (int i = 0; i < 10; ++i)
		many.push_back(client.get(url(s, "/echo")));
	for (auto &f : many)
		CHECK(await_ok(f).status == 200);
	CHECK(eventually([&] { return client.idle_connections() >= 1; }));
	CHECK(client.idle_connections() <= 8);
	CHECK(await_ok(client.get(url(s, "/nope"))).status == 404);
}

TEST_CASE("client: chunked both ways, and a streamed response read as it arrives") {
	turquoise::pool p(turquoise::pool_options{.workers = 2});
	http::Server s = listen(p);
	s.route("/upload", [](const http::Request &r) -> Future<http::Response> {
		return http::OK(std::string(r.chunked ? "chunked " : "length ") + std::to_string(r.body.size()));
	});
	turquoise::Pipe events;
	s.route("/events", [&](const http::Request &) -> Future<http::Response> {
		http::Response r = http::OK();
		r.reader = events.reader();
		return r;
	});
	http::Client client(p);
	http::ClientRequest up;
	up.method = "POST";
	up.url = http::URL::parse(url(s, "/upload")).get();
	up.body = std::string(100000, 'u');
	up.chunked = true;
	CHECK(await_ok(client.request(up)).body == "chunked 100000");
	up.chunked = false;
	CHECK(await_ok(client.request(up)).body == "length 100000");

	http::ClientRequest sub;
	sub.url = http::URL::parse(url(s, "/events")).get();
	sub.stream_response = true;
	sub.timeout = 2s; // for the head only: the stream outlives it below
	Future<http::Response> head = client.request(sub);
	http::Response r = await_ok(head);
	REQUIRE(r.reader);
	CHECK(r.find_header("transfer-encoding") == "chunked");
	turquoise::Pipe::Writer w = events.writer();
	for (int i = 0; i < 5; ++i) {
		std::string record = "record " + std::to_string(i);
		REQUIRE(w.write(record));
		// Each record arrives before the next one is written.
		std::string got;
		while (got.size() < record.size()) {
			Future<std::string> chunk = r.reader->read();
			REQUIRE(chunk.await(10s));
			REQUIRE(chunk.isReady());
			REQUIRE_FALSE(chunk.get().empty());
			got += chunk.get();
		}
		CHECK(got == record);
		if (i == 2)
			std::this_thread::sleep_for(2500ms); // past the request's timeout: no effect on a stream
	}
	w.close();
	Future<std::string> end = r.reader->read();
	REQUIRE(end.await(10s));
	CHECK(end.get().empty());
	// The connection went back to the pool and is reused.
	CHECK(eventually([&] { return client.idle_connections() == 1; }));
	CHECK(await_ok(client.request(up)).status == 200);
	CHECK(client.stats().connections_opened == 1);

	// A non-streaming request to a streamed answer gets the whole body.
	turquoise::Pipe more;
	s.route("/events", [&](const http::Request &) -> Future<http::Response> {
		http::Response a = http::OK();
		a.reader = more.reader();
		return a;
	});
	Future<http::Response> whole = client.get(url(s, "/events"));
	more.writer().write("ab");
	more.writer().write("cd");
	more.writer().close();
	CHECK(await_ok(whole).body == "abcd");
}

TEST_CASE("client: refused, timeout, reset, closed early, malformed, bad urls, discard") {
	turquoise::pool p(turquoise::pool_options{.workers = 2});
	http::Client client(p);
	std::uint16_t dead_port;
	{
		// A port that was just ours, nothing listens there now.
		http::Server s = listen(p);
		dead_port = s.port();
	}
	std::string refused = await_failure(client.get("http://127.0.0.1:" + std::to_string(dead_port) + "/"));
	CHECK(refused.rfind("connection refused", 0) == 0);

	http::Server s = listen(p);
	Promise<http::Response> never;
	s.route("/never", [&](const http::Request &) { return never.future(); });
	http::ClientRequest r;
	r.url = http::URL::parse(url(s, "/never")).get();
	r.timeout = 200ms;
	auto t0 = std::chrono::steady_clock::now();
	std::string timeout = await_failure(client.request(r));
	CHECK(timeout.rfind("timeout", 0) == 0);
	CHECK(std::chrono::steady_clock::now() - t0 >= 150ms);

	{
		scripted_peer garbage("SSH-2.0-OpenSSH_9.2\r\n");
		CHECK(await_failure(client.get("http://127.0.0.1:" + std::to_string(garbage.port) + "/")).rfind("malformed response", 0) == 0);
	}
	{
		scripted_peer early("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part");
		CHECK(await_failure(client.get("http://127.0.0.1:" + std::to_string(early.port) + "/")).rfind("connection closed", 0) == 0);
	}
	{
		scripted_peer silent_close("");
		CHECK(await_failure(client.get("http://127.0.0.1:" + std::to_string(silent_close.port) + "/")).rfind("connection closed", 0) == 0);
	}
	{
		scripted_peer reset("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npart", true);
		std::string why = await_failure(client.get("http://127.0.0.1:" + std::to_string(reset.port) + "/"));
		INFO(why);
		CHECK(why.rfind("connection reset", 0) == 0);
	}
	{
		// HTTP/1.0 answer without a length: the body is what comes before the close.
		scripted_peer old("HTTP/1.0 200 OK\r\n\r\nto the end");
		CHECK(await_ok(client.get("http://127.0.0.1:" + std::to_string(old.port) + "/")).body == "to the end");
	}
	CHECK(await_failure(client.get("https://127.0.0.1/")).rfind("bad url", 0) == 0);
	CHECK(await_failure(client.get("http://127.0.0.1:99999/")).rfind("bad url", 0) == 0);
	CHECK(await_failure(client.get("http:///x")).rfind("bad url", 0) == 0);
	http::ClientRequest inject;
	inject.url = http::URL::parse(url(s, "/")).get();
	inject.headers.push_back({"X", "a\r\nGET /smuggled HTTP/1.1"});
	CHECK(await_failure(client.request(inject)).rfind("bad request", 0) == 0);

	// Discarding the future closes its connection: the late answer finds the peer gone.
	http::ClientRequest d;
	d.url = http::URL::parse(url(s, "/never")).get();
	Future<http::Response> pending = client.request(d);
	REQUIRE(eventually([&] { return s.connections() >= 1; }));
	pending.discard();
	REQUIRE(pending.await(5s));
	CHECK(pending.isDiscarded());
	CHECK(client.idle_connections() == 0);
	never.set(http::OK("late"));
	CHECK(eventually([&] { return s.connections() == 0; }));
}

TEST_CASE("client: connect timeout against a listener that never completes the handshake") {
	// A listener with a full accept queue that nobody accepts from: the kernel drops further
	// SYNs, so a new connect stays pending.
	int l = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	sockaddr_in addr{};
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof addr;
	REQUIRE(::bind(l, reinterpret_cast<sockaddr *>(&addr), sizeof addr) == 0);
	REQUIRE(::listen(l, 0) == 0);
	::getsockname(l, reinterpret_cast<sockaddr *>(&addr), &len);
	std::vector<int> fillers;
	for (int i = 0; i < 8; ++i) { // fill the queue (its length is backlog + 1, give or take)
		int f = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		::connect(f, reinterpret_cast<sockaddr *>(&addr), sizeof addr);
		fillers.push_back(f);
	}
	turquoise::pool p(turquoise::pool_options{.workers = 1});
	http::client_options o;
	o.connect_timeout = 300ms;
	http::Client client(p, o);
	auto t0 = std::chrono::steady_clock::now();
	std::string why = await_failure(client.get("http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/"));
	INFO(why);
	CHECK(why.rfind("connect timeout", 0) == 0);
	CHECK(std::chrono::steady_clock::now() - t0 >= 250ms);
	for (int f : fillers)
		::close(f);
	::close(l);
}

TEST_CASE("client: a pooled connection the server closed is not reused") {
	turquoise::pool p(turquoise::pool_options{.workers = 2});
	http::server_options o;
	o.idle_timeout = 100ms;
	http::Server s = listen(p, o);
	s.route("/", [](const http::Request &) -> Future<http::Response> { return http::OK("x"); });
	http::Client client(p);
	CHECK(await_ok(client.get(url(s, "/"))).body == "x");
	REQUIRE(eventually([&] { return s.connections() == 0; })); // the server's idle timeout
	CHECK(await_ok(client.get(url(s, "/"))).body == "x");
	CHECK(client.stats().connections_opened == 2);
	CHECK(client.stats().failures == 0);
}

TEST_CASE("the free functions use a process-wide client") {
	turquoise::pool p(turquoise::pool_options{.workers = 1});
	http::Server s = listen(p);
	s.route("/", [](const http::Request &r) -> Future<http::Response> { return http::OK(r.body); });
	CHECK(await_ok(http::get(url(s, "/"))).status == 200);
	CHECK(await_ok(http::post(url(s, "/"), "posted")).body == "posted");
	http::ClientRequest r;
	r.method = "PUT";
	r.url = http::URL::parse(url(s, "/")).get();
	r.body = "put";
	CHECK(await_ok(http::request(r)).body == "put");
}
