// http::Server over loopback, driven by raw sockets that misbehave on purpose: routes,
// keep-alive, pipelining order, every limit's answer, timeouts, streaming, preemptible handlers.
#include "http_helpers.hpp"

#include <turquoise/http/server.hpp>
#include <turquoise/metrics/metrics.hpp>
#include <turquoise/util/pipe.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

namespace http = turquoise::http;
using turquoise::Future;
using turquoise::Promise;
using namespace std::chrono_literals;
using http_test::eventually;
using http_test::raw_socket;

namespace {

http::Server listen(turquoise::pool &p, http::server_options o = {}) {
	auto s = http::Server::listen(p, std::move(o));
	INFO((s.isError() ? s.error() : ""));
	REQUIRE(s.isSome());
	return std::move(s).get();
}

Future<http::Response> echo_path(const http::Request &r) { return http::OK("path=" + r.path + " body=" + r.body); }

} // namespace

TEST_CASE("routes: exact, prefix, fallback, 404, HEAD, failures and exceptions are 500") {
	turquoise::pool p(turquoise::pool_options{.workers = 2});
	http::Server s = listen(p);
	s.route("/a", echo_path);
	s.route("/a/b", [](const http::Request &) -> Future<http::Response> { return http::OK("deeper"); });
	s.route("/fail", [](const http::Request &) -> Future<http::Response> { return turquoise::Failure("it broke"); });
	s.route("/throw", [](const http::Request &) -> Future<http::Response> { throw std::runtime_error("thrown"); });
	s.route("/abandon", [](const http::Request &) -> Future<http::Response> { return Promise<http::Response>().future(); });
	raw_socket c(s.port());
	REQUIRE(c.connected());
	auto ask = [&](std::string target, std::string method = "GET") {
		REQUIRE(c.send(method + " " + target + " HTTP/1.1\r\nHost: x\r\n\r\n"));
		auto r = c.response(method == "HEAD");
		REQUIRE(r);
		return *r;
	};
	CHECK(ask("/a").body == "path=/a body=");
	CHECK(ask("/a/x/y?q=1").body == "path=/a/x/y body=");
	CHECK(ask("/a/b/c").body == "deeper");
	CHECK(ask("/ab").status == 404);
	http::Response head = ask("/a", "HEAD");
	CHECK(head.body.empty());
	CHECK(head.find_header("content-length") == "13"); // the GET answer's length
	http::Response failed = ask("/fail");
	CHECK(failed.status == 500);
	CHECK(failed.body == "it broke\n");
	CHECK(ask("/throw").status == 500);
	CHECK(ask("/abandon").status == 503);
	s.fallback([](const http::Request &) -> Future<http::Response> { return http::OK("fallback"); });
	raw_socket c2(s.port());
	REQUIRE(c2.send("GET /nothing/here HTTP/1.1\r\n\r\n"));
	CHECK(c2.response()->body == "fallback");
}

TEST_CASE("keep-alive: many requests on one connection, HTTP/1.0 without Host, Connection: close") {
	turquoise::pool p(turquoise::pool_options{.workers = 2});
	http::Server s = listen(p);
	s.route("/a", echo_path);
	raw_socket c(s.port());
	for (int i = 0; i < 50; ++i) {
		REQUIRE(c.send("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi"));
		auto r = c.response();
		REQUIRE(r);
		CHECK(r->body == "path=/a body=hi");
		CHECK(r->find_header("connection") == "keep-alive");
	}
	CHECK(s.stats().accepted == 1);
	// libprocess's older peers: HTTP/1.0, Content-Length, no Host. Answered, then closed.
	raw_socket old(s.port());
	REQUIRE(old.send("POST /a HTTP/1.0\r\nContent-Length: 4\r\n\r\nping"));
	auto r = old.response();
	REQUIRE(r);
	CHECK(r->body == "path=/a body=ping");
	CHECK(r->find_header("connection") == "close");
	CHECK(old.closed_by_peer());
	raw_socket closing(s.port());
	REQUIRE(closing.send("GET /a HTTP/1.1\r\nConnection: close\r\n\r\n"));
	CHECK(closing.response()->status == 200);
	CHECK(closing.closed_by_peer());
	CHECK(eventually([&] { return s.connections() == 1; }));
}

TEST_CASE("pipelining: answers in request order even when a later one is ready first") {
	turquoise::pool p(turquoise::pool_options{.workers = 2});
	http::Server s = listen(p);
	s.route("/slow", [&p](const http::Request &r) -> Future<http::Response> {
		auto promise = std::make_shared<Promise<http::Response>>();
		std::string tag = std::string(r.find_query("tag").value_or(""));
		p.after(std::chrono::milliseconds(100), [promise, tag] { promise->set(http::OK("slow " + tag)); });
		return promise->future();
	});
	s.route("/fast", [](const http::Request &r) -> Future<http::Response> {
		return http::OK("fast " + std::string(r.find_query("tag").value_or("")));
	});
	raw_socket c(s.port());
	std::string burst;
	for (int i = 0; i < 10; ++i)
		burst += std::string("GET /") + (i % 3 == 0 ? "slow" : "fast") + "?tag=" + std::to_string(i) + " HTTP/1.1\r\n\r\n";
	REQUIRE(c.send(burst));
	for (int i = 0; i < 10; ++i) {
		auto r = c.response();
		REQUIRE(r);
		CHECK(r->body == std::string(i % 3 == 0 ? "slow " : "fast ") + std::to_string(i));
	}
	// A malformed request in the middle: the earlier ones are answered, then 400 and close.
	raw_socket d(s.port());
	REQUIRE(d.send("GET /slow?tag=a HTTP/1.1\r\n\r\nGET /fast?tag=b HTTP/1.1\r\n\r\nBAD REQUEST\r\n\r\nGET /fast HTTP/1.1\r\n\r\n"));
	CHECK(d.response()->body == "slow a");
	CHECK(d.response()->body == "fast b");
	auto bad = d.response();
	REQUIRE(bad);
	CHECK(bad->status == 400);
	CHECK(bad->find_header("connection") == "close");
	CHECK(d.closed_by_peer());
	CHECK(d.buffered().empty());
	CHECK(s.stats().bad_requests == 1);
}

TEST_CASE("limits: 431 for headers, 413 for a body, 414 for the request line, 503 past max_connections") {
	turquoise::pool p(turquoise::pool_options{.workers = 2});
	http::server_options o;
	o.limits.max_header_bytes = 1024;
	o.limits.max_body = 4096;
	o.limits.max_request_line = 256;
	o.max_connections = 3;
	http::Server s = listen(p, o);
	s.route("/", echo_path);
	{
		raw_socket c(s.port());
		REQUIRE(c.send("GET / HTTP/1.1\r\nX-Big: " + std::string(2000, 'h') + "\r\n\r\n"));
		auto r = c.response();
		REQUIRE(r);
		CHECK(r->status == 431);
		CHECK(c.closed_by_peer());
	}
	{
		// The peer goes on sending its body: the answer still arrives (lingering close).
		raw_socket c(s.port());
		REQUIRE(c.send("POST / HTTP/1.1\r\nContent-Length: 100000\r\n\r\n"));
		c.send(std::string(60000, 'b'));
		auto r = c.response();
		REQUIRE(r);
		CHECK(r->status == 413);
		CHECK(c.closed_by_peer());
	}
	{
		raw_socket c(s.port());
		REQUIRE(c.send("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1000\r\n" + std::string(4096, 'c') +
		               "\r\n1\r\nc\r\n0\r\n\r\n"));
		CHECK(c.response()->status == 413); // the chunks add up past max_body
	}
	{
		raw_socket c(s.port());
		REQUIRE(c.send("GET /" + std::string(300, 'u') + " HTTP/1.1\r\n\r\n"));
		CHECK(c.response()->status == 414);
	}
	CHECK(s.stats().bad_requests == 4);
	CHECK(eventually([&] { return s.connections() == 0; }));
	raw_socket a(s.port()), b(s.port()), c(s.port());
	REQUIRE(a.send("GET / HTTP/1.1\r\n\r\n"));
	REQUIRE(b.send("GET / HTTP/1.1\r\n\r\n"));
	REQUIRE(c.send("GET / HTTP/1.1\r\n\r\n"));
	CHECK(a.response()->status == 200);
	CHECK(b.response()->status == 200);
	CHECK(c.response()->status == 200);
	raw_socket over(s.port());
	auto r = over.response();
	if (r) // the 503 may be lost to the reset if our request crossed it; the close is certain
		CHECK(r->status == 503);
	CHECK(over.closed_by_peer());
	CHECK(s.stats().rejected_connections == 1);
	raw_socket still(s.port()); // the three others are still served
	REQUIRE(a.send("GET /?x HTTP/1.1\r\n\r\n"));
	CHECK(a.response()->body == "path=/ body=");
}

TEST_CASE("timeouts: silent peer, slowloris, a peer that stops reading, memory stays bounded") {
	turquoise::pool p(turquoise::pool_options{.workers = 2});
	http::server_options o;
	o.idle_timeout = 300ms;
	o.request_timeout = 300ms;
	o.write_timeout = 300ms;
	o.max_output = 64 * 1024;
	http::Server s = listen(p, o);
	s.route("/big", [](const http::Request &) -> Future<http::Response> { return http::OK(std::string(4 << 20, 'x')); });
	s.route("/", echo_path);

	auto t0 = std::chrono::steady_clock::now();
	raw_socket silent(s.port());
	CHECK(silent.closed_by_peer(5s));
	CHECK(std::chrono::steady_clock::now() - t0 >= 250ms);

	raw_socket slow(s.port());
	REQUIRE(slow.send("GET / HTTP/1.1\r\nHos"));
	for (int i = 0; i < 3; ++i) { // dribbling keeps it active, but not complete
		std::this_thread::sleep_for(120ms);
		slow.send("t");
	}
	auto r = slow.response(false, 5s);
	REQUIRE(r);
	CHECK(r->status == 408);
	CHECK(slow.closed_by_peer());

	// A keep-alive connection that answered and then idles is closed too.
	raw_socket idle(s.port());
	REQUIRE(idle.send("GET / HTTP/1.1\r\n\r\n"));
	CHECK(idle.response()->status == 200);
	CHECK(idle.closed_by_peer(5s));

	// Pipelined requests for big answers that the peer never reads: the server stops reading,
	// the output stalls, the connection is closed after write_timeout.
	raw_socket stuck(s.port());
	int small = 4096;
	setsockopt(stuck.fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
	std::string many;
	for (int i = 0; i < 20; ++i)
		many += "GET /big HTTP/1.1\r\n\r\n";
	REQUIRE(stuck.send(many));
	CHECK(eventually([&] { return s.stats().timeouts >= 4; }, 10s));
	CHECK(eventually([&] { return s.connections() == 0; }, 10s));
	CHECK(s.stats().timeouts == 4);
}

TEST_CASE("streamed answers: a Response with a reader goes out chunk by chunk as it is written") {
	turquoise::pool p(turquoise::pool_options{.workers = 2});
	http::Server s = listen(p);
	turquoise::Pipe pipe;
	s.route("/events", [&pipe](const http::Request &) -> Future<http::Response> {
		http::Response r = http::OK({}, "application/recordio");
		r.reader = pipe.reader();
		return r;
	});
	s.route("/after", echo_path);
	raw_socket c(s.port());
	REQUIRE(c.send("GET /events HTTP/1.1\r\n\r\nGET /after HTTP/1.1\r\n\r\n"));
	turquoise::Pipe::Writer w = pipe.writer();
	REQUIRE(w.write("first"));
	// The head and the first chunk arrive while the stream is still open.
	CHECK(eventually([&] {
		c.closed_by_peer(10ms);
		return c.buffered().find("5\r\nfirst\r\n") != std::string::npos;
	}));
	CHECK(c.buffered().find("Transfer-Encoding: chunked\r\n") != std::string::npos);
	w.write("second");
	w.close();
	auto r = c.response();
	REQUIRE(r);
	CHECK(r->body == "firstsecond");
	auto after = c.response();
	INFO(c.buffered());
	REQUIRE(after);
	CHECK(after->body == "path=/after body="); // the next answer follows the stream

	// A subscriber that goes away: the producer sees its reader closed.
	turquoise::Pipe second;
	s.route("/events", [&second](const http::Request &) -> Future<http::Response> {
		http::Response a = http::OK();
		a.reader = second.reader();
		return a;
	});
	{
		raw_socket gone(s.port());
		REQUIRE(gone.send("GET /events HTTP/1.1\r\n\r\n"));
		REQUIRE(second.writer().write("hello"));
		CHECK(eventually([&] {
			gone.closed_by_peer(10ms);
			return gone.buffered().find("hello") != std::string::npos;
		}));
	}
	Future<turquoise::Nothing> closed = second.writer().readerClosed();
	CHECK(eventually([&] {
		second.writer().write("tick"); // the server notices the close when it writes
		return closed.isReady();
	}));
}

TEST_CASE("a spinning handler is preempted: other connections are answered meanwhile") {
	turquoise::pool p(turquoise::pool_options{.workers = 1, .quantum = std::chrono::microseconds(1000)});
	http::Server s = listen(p);
	std::atomic<bool> stop{false};
	std::atomic<bool> spinning{false};
	s.route("/spin", [&](const http::Request &) -> Future<http::Response> {
		spinning = true;
		auto until = std::chrono::steady_clock::now() + 20s;
		while (!stop.load() && std::chrono::steady_clock::now() < until) {
		}
		return http::OK("spun");
	});
	s.route("/quick", echo_path);
	raw_socket spinner(s.port());
	REQUIRE(spinner.send("GET /spin HTTP/1.1\r\n\r\n"));
	REQUIRE(eventually([&] { return spinning.load(); }));
	for (int i = 0; i < 5; ++i) {
		raw_socket q(s.port());
		REQUIRE(q.send("GET /quick HTTP/1.1\r\n\r\n"));
		auto r = q.response(false, 5s);
		REQUIRE(r);
		CHECK(r->status == 200);
	}
	stop = true;
	CHECK(spinner.response()->body == "spun");
}

TEST_CASE("garbage, truncated requests and resets: 400 or a dropped connection, the server carries on") {
	turquoise::pool p(turquoise::pool_options{.workers = 2});
	http::Server s = listen(p);
	s.route("/", echo_path);
	{
		raw_socket g(s.port());
		REQUIRE(g.send(std::string("\x16\x03\x01\x00\xa5garbage\r\n\r\n", 16)));
		auto r = g.response();
		REQUIRE(r);
		CHECK(r->status == 400);
		CHECK(g.closed_by_peer());
	}
	{
		raw_socket t(s.port());
		REQUIRE(t.send("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc"));
		::shutdown(t.fd(), SHUT_WR); // truncated: the rest never comes
		CHECK(t.closed_by_peer());
		CHECK(t.buffered().empty());
	}
	{
		raw_socket reset(s.port());
		linger lg{1, 0};
		setsockopt(reset.fd(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
		REQUIRE(reset.send("GET / HTTP/1.1\r\n\r\n"));
	}
	raw_socket ok(s.port());
	REQUIRE(ok.send("GET / HTTP/1.1\r\n\r\n"));
	CHECK(ok.response()->status == 200);
	CHECK(eventually([&] { return s.connections() == 1; }));
	s.stop();
	CHECK(ok.closed_by_peer());
	CHECK(s.connections() == 0);
}

TEST_CASE("server counters as metrics: registered by listen, live, removed by stop") {
	turquoise::pool p(turquoise::pool_options{.workers = 1});
	http::server_options o;
	o.metrics_prefix = "test_http_server";
	http::Server s = listen(p, o);
	s.route("/", echo_path);
	{
		raw_socket c(s.port());
		REQUIRE(c.send("GET / HTTP/1.1\r\n\r\nNOT HTTP\r\n\r\n"));
		CHECK(c.response()->status == 200);
		CHECK(c.response()->status == 400);
	}
	std::string snap = turquoise::metrics::snapshot();
	INFO(snap);
	CHECK(snap.find("\"test_http_server/bad_requests\":1") != std::string::npos);
	CHECK(snap.find("\"test_http_server/requests\":1") != std::string::npos);
	CHECK(snap.find("\"test_http_server/accepted\":1") != std::string::npos);
	// A second server under the same prefix is refused.
	auto twin = http::Server::listen(p, o);
	CHECK(twin.isError());
	s.stop();
	CHECK(turquoise::metrics::snapshot().find("test_http_server/") == std::string::npos);
}
