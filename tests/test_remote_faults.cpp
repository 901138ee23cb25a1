// Bad input and faults on the remote-process port (issue 10, "Bad input and faults"): each
// gets a clear outcome (4xx and close, or a dropped connection, counted), the runtime keeps
// serving, and a sender never blocks on a peer that is down or does not read.
#include "http_helpers.hpp"
#include "remote_helpers.hpp"

#include <turquoise/process/dispatch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

using namespace turquoise;
using namespace remote_test;
using http_test::raw_socket;

namespace {

// After each fault the port still delivers a good message.
void still_serves(inbox &box) {
	raw_socket s(box.self().address.port);
	REQUIRE(s.send("POST /" + box.self().id + "/m HTTP/1.0\r\nLibprocess-From: ok@1.2.3.4:5\r\nContent-Length: 2\r\n\r\nok"));
	auto r = s.response();
	REQUIRE(r);
	CHECK(r->status == 202);
	auto m = box.next();
	REQUIRE(m);
	CHECK(m->body == "ok");
}

// The status of the one answer to `bytes`, and whether the connection was closed after it.
std::pair<int, bool> answer(std::uint16_t port, const std::string &bytes) {
	raw_socket s(port);
	REQUIRE(s.connected());
	s.send(bytes);
	auto r = s.response();
	int status = r ? r->status : 0;
	return {status, s.closed_by_peer(5s)};
}

} // namespace

TEST_CASE("garbage, bad UPIDs, names with '/' or %00: 400 and close, counted - the port keeps serving") {
	runtime_options o = listening();
	runtime_scope scope(o);
	inbox box("box", {"m"});
	std::uint16_t port = spawn(box).address.port;
	const std::string from = "\r\nLibprocess-From: a@1.2.3.4:5\r\nContent-Length: 0\r\n\r\n";
	static const char garbage[] = "\x16\x03\x01\x02\x00garbage\r\n\r\n"; // a TLS hello's start, a NUL
	CHECK(answer(port, std::string(garbage, sizeof garbage - 1)) == std::pair{400, true});
	CHECK(answer(port, "POST /box/m HTTP/1.1\r\nLibprocess-From: not a upid\r\n\r\n") == std::pair{400, true});
	CHECK(answer(port, "POST /box/m HTTP/1.1\r\nLibprocess-From: a@1.2.3.4:99999\r\n\r\n") == std::pair{400, true});
	CHECK(answer(port, "POST /box/m HTTP/1.1\r\nUser-Agent: libprocess/@1.2.3.4:5\r\n\r\n") == std::pair{400, true});
	CHECK(answer(port, "POST /box/a/b HTTP/1.1" + from) == std::pair{400, true});
	CHECK(answer(port, "POST /box/a%2Fb HTTP/1.1" + from) == std::pair{400, true});
	CHECK(answer(port, "POST /box/a%00b HTTP/1.1" + from) == std::pair{400, true});
	CHECK(answer(port, "POST /box/ HTTP/1.1" + from) == std::pair{400, true});
	auto stats = runtime::current().network();
	CHECK(stats.bad_messages == 7);
	CHECK(stats.bad_requests >= 1); // the garbage, refused by the decoder
	CHECK(box.next(100ms) == std::nullopt);
	still_serves(box);
	terminate(box);
	wait(box);
}

TEST_CASE("oversized header and body: 431 / 413 and close - truncated requests are dropped") {
	runtime_options o = listening();
	o.network.max_message_bytes = 4096;
	runtime_scope scope(o);
	inbox box("box", {"m"});
	std::uint16_t port = spawn(box).address.port;
	std::string head = "POST /box/m HTTP/1.1\r\nLibprocess-From: a@1.2.3.4:5\r\n";
	CHECK(answer(port, head + "X: " + std::string(70000, 'h') + "\r\n\r\n").first == 431);
	CHECK(answer(port, head + "Content-Length: 5000\r\n\r\n" + std::string(5000, 'b')) == std::pair{413, true});
	CHECK(answer(port, head + "Transfer-Encoding: chunked\r\n\r\n1388\r\n" + std::string(5000, 'b') + "\r\n0\r\n\r\n") ==
	      std::pair{413, true});
	for (std::string cut : {head, head + "Content-Length: 10\r\n\r\nabc", head + "Transfer-Encoding: chunked\r\n\r\n5\r\nab"}) {
		raw_socket s(port);
		s.send(cut); // then closes: nothing is delivered
	}
	CHECK(box.next(200ms) == std::nullopt);
	still_serves(box);
	terminate(box);
	wait(box);
}

TEST_CASE("a peer that connects and sends nothing, or stops mid-request, is timed out and counted") {
	runtime_options o = listening();
	o.network.idle_timeout = 300ms;
	o.network.request_timeout = 300ms;
	runtime_scope scope(o);
	inbox box("box", {"m"});
	std::uint16_t port = spawn(box).address.port;
	raw_socket silent(port), slow(port);
	slow.send("POST /box/m HTTP/1.1\r\nLibprocess-From: a@1.2.3.4:5\r\nContent-Length: 10\r\n\r\nab");
	CHECK(silent.closed_by_peer(5s));
	CHECK(slow.closed_by_peer(5s));
	CHECK(runtime::current().network().timeouts >= 2);
	still_serves(box);
	terminate(box);
	wait(box);
}

TEST_CASE("a peer that stops reading: sends never block, the queue is bounded, the connection times out") {
	runtime_options o = listening();
	o.network.max_queued_bytes = 1 << 20;
	o.network.write_timeout = 500ms;
	runtime_scope scope(o);
	// A listener that accepts (the kernel does) and never reads.
	int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	sockaddr_in a{};
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	REQUIRE(::bind(lfd, reinterpret_cast<sockaddr *>(&a), sizeof a) == 0);
	REQUIRE(::listen(lfd, 4) == 0);
	socklen_t len = sizeof a;
	::getsockname(lfd, reinterpret_cast<sockaddr *>(&a), &len);
	UPID deaf("deaf", Address{"127.0.0.1", ntohs(a.sin_port)});
	inbox box("box", {});
	spawn(box);
	std::string body(64 * 1024, 'x');
	auto start = std::chrono::steady_clock::now();
	for (int i = 0; i < 400; ++i) // 25 MiB into a peer that takes a few MiB at most
		post(box.self(), deaf, "m", body);
	CHECK(std::chrono::steady_clock::now() - start < 5s); // never blocked on the peer
	auto s = runtime::current().network();
	CHECK(s.dropped > 200); // beyond the 1 MiB queue and what the kernel buffers
	// Keep output pending: once the kernel's buffers are full nothing moves for
	// write_timeout, the connection ends, and what was queued is dropped.
	int posted = 400;
	for (; posted < 1000 && runtime::current().network().connection_failures == 0; ++posted) {
		post(box.self(), deaf, "m", body);
		std::this_thread::sleep_for(10ms);
	}
	CHECK(runtime::current().network().connection_failures == 1);
	CHECK(eventually([&] {
		auto n = runtime::current().network();
		return n.dropped + n.sent == static_cast<std::uint64_t>(posted);
	}));
	::close(lfd);
	terminate(box);
	wait(box);
}

TEST_CASE("a peer that is down: messages dropped and counted, links exited, nothing blocks") {
	runtime_scope scope(listening());
	inbox box("box", {});
	spawn(box);
	UPID down("x", Address{"127.0.0.1", 1}); // nothing listens on port 1
	auto start = std::chrono::steady_clock::now();
	for (int i = 0; i < 1000; ++i)
		post(box.self(), down, "m", std::string("lost"));
	CHECK(std::chrono::steady_clock::now() - start < 2s);
	CHECK(eventually([] { return runtime::current().network().dropped == 1000; }));
	dispatch(box.self(), [&] { box.link(down); });
	auto pid = box.next_exited(5s);
	REQUIRE(pid);
	CHECK(*pid == down);
	terminate(box);
	wait(box);
}

TEST_CASE("LIBPROCESS_* variables set the network options - invalid ones are named in the error") {
	::setenv("LIBPROCESS_IP", "127.0.0.1", 1);
	::setenv("LIBPROCESS_PORT", "0", 1);
	::setenv("LIBPROCESS_ADVERTISE_IP", "10.9.8.7", 1);
	::setenv("LIBPROCESS_ADVERTISE_PORT", "4242", 1);
	runtime_options o = runtime_options::from_environment();
	CHECK(o.network.ip == "127.0.0.1");
	CHECK(o.network.advertise_ip == "10.9.8.7");
	CHECK(o.network.advertise_port == 4242);
	{
		runtime rt(o);
		auto a = rt.listen();
		REQUIRE_FALSE(a.isError());
		CHECK(a.get() == Address{"10.9.8.7", 4242});
		REQUIRE(rt.bound_address().isSome());
		CHECK(rt.bound_address().get().port != 0);
		runtime_scope scope(rt);
		inbox box("box", {});
		CHECK(spawn(box).str() == "box@10.9.8.7:4242");
		terminate(box);
		wait(box);
	}
	for (auto [name, value] : {std::pair{"LIBPROCESS_IP", "localhost"}, {"LIBPROCESS_PORT", "65536"},
	                          {"LIBPROCESS_PORT", "-1"}, {"LIBPROCESS_ADVERTISE_IP", "1.2.3"},
	                          {"LIBPROCESS_ADVERTISE_PORT", "0"}}) {
		INFO(name << "=" << value);
		::setenv(name, value, 1);
		try {
			runtime_options::from_environment();
			FAIL("no error");
		} catch (const std::invalid_argument &e) {
			CHECK(std::string(e.what()).find(name) != std::string::npos);
			CHECK(std::string(e.what()).find(value) != std::string::npos);
		}
		::unsetenv(name);
	}
	for (const char *v : {"LIBPROCESS_IP", "LIBPROCESS_PORT", "LIBPROCESS_ADVERTISE_IP", "LIBPROCESS_ADVERTISE_PORT"})
		::unsetenv(v);
	// A port that is taken: listen() names it.
	runtime first(listening());
	runtime_options clash = listening();
	clash.network.port = first.address().get().port;
	clash.network.listen = false;
	runtime second(clash);
	auto r = second.listen();
	REQUIRE(r.isError());
	CHECK(r.error().find(std::to_string(clash.network.port)) != std::string::npos);
}
