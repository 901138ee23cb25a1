// turquoise::metrics: counters, gauges, timers, registry, JSON and Prometheus renderings, and
// the HTTP endpoint fetched over loopback.
#include <catch2/catch.hpp>

#include "helpers.hpp"

#include <turquoise/async/clock.hpp>
#include <turquoise/async/testing.hpp>
#include <turquoise/metrics/endpoint.hpp>
#include <turquoise/metrics/metrics.hpp>
#include <turquoise/pool.hpp>

#include <arpa/inet.h>
#include <chrono>
#include <cmath>
#include <netinet/in.h>
#include <poll.h>
#include <stdexcept>
#include <string>
#include <sys/socket.h>
#include <unistd.h>

using namespace std::chrono_literals;
using turquoise::Clock;
namespace metrics = turquoise::metrics;

namespace {
// Remove every registered metric (each test case runs in its own process, but be tidy).
struct clean_registry {
	clean_registry() { clear(); }
	~clean_registry() { clear(); }
	static void clear() {
		for (auto &n : metrics::names())
			metrics::remove(n);
	}
};

bool contains(const std::string &hay, const std::string &needle) {
	return hay.find(needle) != std::string::npos;
}

// A blocking loopback client for the test thread.
struct client {
	int fd = -1;
	explicit client(std::uint16_t port) {
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		REQUIRE(fd >= 0);
		sockaddr_in addr{};
		addr.sin_family = AF_INET;
		addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		addr.sin_port = htons(port);
		REQUIRE(connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) == 0);
		timeval tv{10, 0};
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	}
	~client() { close(fd); }
	void send_all(const std::string &s) {
		std::size_t off = 0;
		while (off < s.size()) {
			ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
			REQUIRE(n > 0);
			off += static_cast<std::size_t>(n);
		}
	}
	// Read one response (headers + Content-Length body); "" on EOF/timeout.
	std::string response() {
		for (;;) {
			auto head_end = buf.find("\r\n\r\n");
			if (head_end != std::string::npos) {
				std::size_t len = 0;
				auto cl = buf.find("Content-Length: ");
				if (cl != std::string::npos && cl < head_end)
					len = std::stoul(buf.substr(cl + 16));
				if (buf.size() >= head_end + 4 + len) {
					std::string r = buf.substr(0, head_end + 4 + len);
					buf.erase(0, head_end + 4 + len);
					return r;
				}
			}
			char tmp[4096];
			ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
			if (n <= 0)
				return "";
			buf.append(tmp, static_cast<std::size_t>(n));
		}
	}
	// True if the server closed the connection (EOF) within the timeout.
	bool eof() {
		char tmp[64];
		return ::recv(fd, tmp, sizeof tmp, 0) == 0;
	}
	std::string buf;
};

std::string body_of(const std::string &response) {
	auto p = response.find("\r\n\r\n");
	return p == std::string::npos ? "" : response.substr(p + 4);
}
} // namespace

TEST_CASE("counter: increments, copies share the value, JSON and Prometheus") {
	clean_registry clean;
	metrics::Counter c("http/requests");
	REQUIRE(metrics::add(c).isReady());
	CHECK(metrics::add(metrics::Counter("http/requests")).isFailed()); // name taken
	c.increment();
	++c;
	metrics::Counter copy = c;
	copy += 3;
	CHECK(c.value() == 5);
	CHECK(metrics::values().at("http/requests") == 5);
	CHECK(metrics::snapshot() == "{\"http/requests\":5}");
	CHECK(metrics::prometheus() == "# TYPE http_requests counter\nhttp_requests 5\n");
	c.reset();
	CHECK(metrics::snapshot() == "{\"http/requests\":0}");
	CHECK(metrics::remove(c));
	CHECK_FALSE(metrics::remove(c));
	CHECK(metrics::snapshot() == "{}");
	CHECK(metrics::prometheus().empty());
}

TEST_CASE("gauges: set and pull, a failing pull is omitted") {
	clean_registry clean;
	metrics::Gauge pushed("queue/depth");
	double level = 2.5;
	metrics::Gauge pulled("pool/level", [&] { return level; });
	metrics::Gauge broken("broken", []() -> double { throw std::runtime_error("no"); });
	REQUIRE(metrics::add(pushed).isReady());
	REQUIRE(metrics::add(pulled).isReady());
	REQUIRE(metrics::add(broken).isReady());
	pushed.set(7);
	CHECK(metrics::snapshot() == "{\"pool/level\":2.5,\"queue/depth\":7}");
	level = -0.125;
	CHECK(pulled.value() == -0.125);
	CHECK(std::isnan(broken.value()));
	std::string prom = metrics::prometheus();
	CHECK(contains(prom, "# TYPE pool_level gauge\npool_level -0.125\n"));
	CHECK(contains(prom, "# TYPE queue_depth gauge\nqueue_depth 7\n"));
	CHECK_FALSE(contains(prom, "broken"));
}

TEST_CASE("timer: lifetime count/sum, windowed percentiles on a paused clock") {
	clean_registry clean;
	Clock::pause();
	metrics::Timer t("rpc/latency_ms", 10s);
	REQUIRE(metrics::add(t).isReady());
	for (int i = 1; i <= 100; ++i)
		t.record(std::chrono::milliseconds(i));
	auto s = t.statistics();
	CHECK(s.count == 100);
	CHECK(s.sum_ms == Approx(5050));
	CHECK(s.window_count == 100);
	CHECK(s.min_ms == Approx(1));
	CHECK(s.max_ms == Approx(100));
	CHECK(s.p50_ms == Approx(50));
	CHECK(s.p90_ms == Approx(90));
	CHECK(s.p99_ms == Approx(99));

	std::string json = metrics::snapshot();
	CHECK(contains(json, "\"rpc/latency_ms/count\":100"));
	CHECK(contains(json, "\"rpc/latency_ms/sum\":5050"));
	CHECK(contains(json, "\"rpc/latency_ms/p50\":50"));
	CHECK(contains(json, "\"rpc/latency_ms/p90\":90"));
	CHECK(contains(json, "\"rpc/latency_ms/p99\":99"));
	CHECK(contains(json, "\"rpc/latency_ms/max\":100"));
	CHECK(contains(json, "\"rpc/latency_ms/min\":1"));

	std::string prom = metrics::prometheus();
	CHECK(contains(prom, "# TYPE rpc_latency_ms summary\n"));
	CHECK(contains(prom, "rpc_latency_ms{quantile=\"0.5\"} 50\n"));
	CHECK(contains(prom, "rpc_latency_ms{quantile=\"0.9\"} 90\n"));
	CHECK(contains(prom, "rpc_latency_ms{quantile=\"0.99\"} 99\n"));
	CHECK(contains(prom, "rpc_latency_ms_sum 5050\n"));
	CHECK(contains(prom, "rpc_latency_ms_count 100\n"));
	CHECK(contains(prom, "# TYPE rpc_latency_ms_max gauge\nrpc_latency_ms_max 100\n"));

	// The window slides: old samples leave the percentiles, the totals stay.
	Clock::advance(11s);
	t.record(std::chrono::microseconds(2500));
	s = t.statistics();
	CHECK(s.count == 101);
	CHECK(s.window_count == 1);
	CHECK(s.p99_ms == Approx(2.5));
	CHECK(s.max_ms == Approx(2.5));
	Clock::advance(11s);
	json = metrics::snapshot();
	CHECK(contains(json, "\"rpc/latency_ms/count\":101"));
	CHECK_FALSE(contains(json, "p50"));
	Clock::resume();
}

TEST_CASE("timer: time() records until a future completes") {
	clean_registry clean;
	Clock::pause();
	metrics::Timer t("op");
	turquoise::Promise<int> p;
	t.time(p.future());
	Clock::advance(250ms);
	p.set(1);
	auto s = t.statistics();
	CHECK(s.count == 1);
	CHECK(s.max_ms == Approx(250));
	Clock::resume();
}

TEST_CASE("prometheus names are sanitized") {
	clean_registry clean;
	CHECK(metrics::sanitize("a/b-c.d:e_f9") == "a_b_c_d:e_f9");
	CHECK(metrics::sanitize("9lives") == "_9lives");
	CHECK(metrics::sanitize("") == "_");
	metrics::Counter c("master/tasks finished");
	REQUIRE(metrics::add(c).isReady());
	c += 1.5;
	CHECK(metrics::prometheus() == "# TYPE master_tasks_finished counter\nmaster_tasks_finished 1.5\n");
	CHECK(metrics::snapshot() == "{\"master/tasks finished\":1.5}");
	CHECK(metrics::format_number(0.1) == "0.1");
	CHECK(metrics::format_number(1e21) == "1e+21");
}

TEST_CASE("HTTP endpoint: snapshot and Prometheus over loopback, keep-alive, 404, close") {
	clean_registry clean;
	turquoise::pool p(turquoise::pool_options{.workers = 2});
	metrics::Counter c("served/requests");
	REQUIRE(metrics::add(c).isReady());
	c += 42;
	auto ep = metrics::serve(p, 0);
	REQUIRE(ep.isSome());
	std::uint16_t port = ep.get().port();
	REQUIRE(port != 0);

	client cl(port);
	cl.send_all("GET /metrics/snapshot HTTP/1.1\r\nHost: localhost\r\n\r\n");
	std::string r1 = cl.response();
	CHECK(r1.rfind("HTTP/1.1 200", 0) == 0);
	CHECK(contains(r1, "Content-Type: application/json\r\n"));
	CHECK(body_of(r1) == "{\"served/requests\":42}");

	// Same connection (keep-alive); two pipelined requests answered in order.
	cl.send_all("GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n"
	            "GET /nope HTTP/1.1\r\nHost: localhost\r\n\r\n");
	std::string r2 = cl.response();
	CHECK(r2.rfind("HTTP/1.1 200", 0) == 0);
	CHECK(contains(r2, "Content-Type: text/plain; version=0.0.4\r\n"));
	CHECK(body_of(r2) == "# TYPE served_requests counter\nserved_requests 42\n");
	std::string r3 = cl.response();
	CHECK(r3.rfind("HTTP/1.1 404", 0) == 0);

	cl.send_all("POST /metrics HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n");
	std::string r4 = cl.response();
	CHECK(r4.rfind("HTTP/1.1 405", 0) == 0);

	// Values are live.
	++c;
	cl.send_all("GET /metrics/snapshot?jsonp=x HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
	std::string r5 = cl.response();
	CHECK(body_of(r5) == "{\"served/requests\":43}");
	CHECK(contains(r5, "Connection: close"));
	CHECK(cl.eof());

	// A malformed request gets the parser's status and the connection is closed.
	client bad(port);
	bad.send_all("GET /metrics HTTP/1.1\nHost: x\n\n");
	std::string r6 = bad.response();
	CHECK(r6.rfind("HTTP/1.1 400", 0) == 0);
	CHECK(bad.eof());

	// Bytes split anywhere.
	client slow(port);
	std::string req = "GET /metrics/snapshot HTTP/1.1\r\nHost: localhost\r\n\r\n";
	for (char ch : req) {
		slow.send_all(std::string(1, ch));
		std::this_thread::sleep_for(1ms);
	}
	CHECK(body_of(slow.response()) == "{\"served/requests\":43}");

	ep.get().stop();
	CHECK(slow.eof());
	CHECK(ep.get().connections() == 0);
	// Nothing listens any more.
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	sockaddr_in addr{};
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	addr.sin_port = htons(port);
	CHECK(connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0);
	close(fd);
}

TEST_CASE("HTTP endpoint: many concurrent clients") {
	clean_registry clean;
	turquoise::pool p(turquoise::pool_options{.workers = 2});
	metrics::Gauge g("g", 1);
	REQUIRE(metrics::add(g).isReady());
	auto ep = metrics::serve(p, 0);
	REQUIRE(ep.isSome());
	constexpr int n = 20;
	std::vector<std::unique_ptr<client>> clients;
	for (int i = 0; i < n; ++i)
		clients.push_back(std::make_unique<client>(ep.get().port()));
	for (auto &cl : clients)
		cl->send_all("GET /metrics/snapshot HTTP/1.1\r\nHost: h\r\n\r\n");
	int ok = 0;
	for (auto &cl : clients)
		ok += body_of(cl->response()) == "{\"g\":1}";
	CHECK(ok == n);
	// Closing clients: the endpoint drops their connections.
	clients.clear();
	auto deadline = std::chrono::steady_clock::now() + 10s;
	while (ep.get().connections() != 0 && std::chrono::steady_clock::now() < deadline)
		std::this_thread::sleep_for(5ms);
	CHECK(ep.get().connections() == 0);
}

TEST_CASE("serve on a port in use is an error") {
	turquoise::pool p(turquoise::pool_options{.workers = 1});
	auto a = metrics::serve(p, 0);
	REQUIRE(a.isSome());
	auto b = metrics::serve(p, a.get().port());
	CHECK(b.isError());
}
