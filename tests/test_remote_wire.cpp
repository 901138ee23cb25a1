// The libprocess wire as pure functions (issue 10): strict UPID parsing, encoding a message as
// libprocess does byte for byte, classifying received requests; and a random/mutation fuzz of
// the UPID parser and the request classifier.
#include <catch2/catch.hpp>

#include <turquoise/http/parser.hpp>
#include <turquoise/process/wire.hpp>

#include <random>
#include <string>

using namespace turquoise;

namespace {

http::Request parse_request(const std::string &bytes) {
	http::request_parser p;
	std::string_view in = bytes;
	while (!in.empty() && !p.ready() && !p.failed())
		in.remove_prefix(p.feed(in));
	REQUIRE(p.ready());
	return p.take();
}

} // namespace

TEST_CASE("UPID::parse_strict accepts id@ip:port and host names") {
	auto a = UPID::parse_strict("master@10.0.0.1:5050");
	REQUIRE_FALSE(a.isError());
	CHECK(a.get().id == "master");
	CHECK(a.get().address.host == "10.0.0.1");
	CHECK(a.get().address.port == 5050);
	auto b = UPID::parse_strict("scheduler-1a2b(1)@my-host.example:1");
	REQUIRE_FALSE(b.isError());
	CHECK(b.get().id == "scheduler-1a2b(1)");
	CHECK(UPID::parse_strict("x@127.0.0.1:65535").get().address.port == 65535);
}

TEST_CASE("UPID::parse_strict refuses malformed UPIDs with a message") {
	for (const char *bad : {"", "master", "@1.2.3.4:5", "m@", "m@1.2.3.4", "m@1.2.3.4:", "m@:5",
	                        "m@1.2.3.4:65536", "m@1.2.3.4:-1", "m@1.2.3.4:+5", "m@1.2.3.4:05",
	                        "m@1.2.3.4:5x", "m@1.2.3.256:5", "m@1.2.3:5", "m@1.2.3.4.5:5", "m/x@1.2.3.4:5",
	                        "m x@1.2.3.4:5", "m%00@1.2.3.4:5", "m@a..b:5", "m@-a:5", "m@a_b:5", "m@@a:5"}) {
		INFO(bad);
		auto r = UPID::parse_strict(bad);
		REQUIRE(r.isError());
		CHECK(r.error().rfind("invalid UPID", 0) == 0);
	}
	std::string nul("m\0x@1.2.3.4:5", 13);
	CHECK(UPID::parse_strict(nul).isError());
}

TEST_CASE("append_message writes what libprocess writes, byte for byte") {
	Message m;
	m.name = "ping";
	m.from = UPID("client", Address{"127.0.0.1", 4000});
	m.to = UPID("pong", Address{"10.1.2.3", 5050});
	m.body = "hello";
	std::string out;
	wire::append_message(out, m);
	CHECK(out == "POST /pong/ping HTTP/1.1\r\n"
	             "User-Agent: libprocess/client@127.0.0.1:4000\r\n"
	             "Libprocess-From: client@127.0.0.1:4000\r\n"
	             "Connection: Keep-Alive\r\n"
	             "Host: 10.1.2.3:5050\r\n"
	             "Transfer-Encoding: chunked\r\n\r\n"
	             "5\r\nhello\r\n0\r\n\r\n");
	m.body.clear();
	out.clear();
	wire::append_message(out, m);
	CHECK(out == "POST /pong/ping HTTP/1.1\r\n"
	             "User-Agent: libprocess/client@127.0.0.1:4000\r\n"
	             "Libprocess-From: client@127.0.0.1:4000\r\n"
	             "Connection: Keep-Alive\r\n"
	             "Host: 10.1.2.3:5050\r\n\r\n");
	// And our own decoder reads it back as that message.
	m.body = std::string(300, 'b');
	out.clear();
	wire::append_message(out, m);
	auto c = wire::classify(parse_request(out));
	CHECK(c.what == wire::Classified::kind::message);
	CHECK(c.id == "pong");
	CHECK(c.name == "ping");
	CHECK(c.from == m.from);
}

TEST_CASE("classify: Libprocess-From, User-Agent only, both, neither") {
	auto c = wire::classify(parse_request("POST /m/x HTTP/1.0\r\nLibprocess-From: a@1.2.3.4:5\r\nContent-Length: 0\r\n\r\n"));
	CHECK(c.what == wire::Classified::kind::message);
	CHECK(c.from.str() == "a@1.2.3.4:5");
	c = wire::classify(parse_request("POST /m/x HTTP/1.1\r\nUser-Agent: libprocess/b@1.2.3.4:6\r\n\r\n"));
	CHECK(c.what == wire::Classified::kind::message);
	CHECK(c.from.str() == "b@1.2.3.4:6");
	c = wire::classify(parse_request(
	    "POST /m/x HTTP/1.1\r\nUser-Agent: libprocess/b@1.2.3.4:6\r\nLibprocess-From: a@1.2.3.4:5\r\n\r\n"));
	CHECK(c.from.str() == "a@1.2.3.4:5"); // Libprocess-From wins
	c = wire::classify(parse_request("POST /m/x/y HTTP/1.1\r\nUser-Agent: curl/8\r\n\r\n"));
	CHECK(c.what == wire::Classified::kind::route);
	CHECK(c.id == "m");
	CHECK(c.path == "/x/y");
	c = wire::classify(parse_request("GET /m%281%29/x HTTP/1.1\r\n\r\n"));
	CHECK(c.what == wire::Classified::kind::route);
	CHECK(c.id == "m(1)");
	c = wire::classify(parse_request("GET / HTTP/1.1\r\n\r\n"));
	CHECK(c.what == wire::Classified::kind::unknown);
}

TEST_CASE("classify refuses bad messages: sender, name with / or %00, no name") {
	const char *from = "\r\nLibprocess-From: a@1.2.3.4:5\r\n\r\n";
	for (const char *target : {"/m/a/b", "/m/a%2Fb", "/m/a%00b", "/m/", "/m", "/%00/x", "/m%2Fn/x"}) {
		INFO(target);
		auto c = wire::classify(parse_request(std::string("POST ") + target + " HTTP/1.1" + from));
		CHECK(c.what == wire::Classified::kind::bad);
		CHECK_FALSE(c.why.empty());
	}
	for (const char *sender : {"nobody", "a@1.2.3.4", "a@1.2.3.4:99999", "@1.2.3.4:5"}) {
		INFO(sender);
		auto c = wire::classify(parse_request(std::string("POST /m/x HTTP/1.1\r\nLibprocess-From: ") + sender + "\r\n\r\n"));
		CHECK(c.what == wire::Classified::kind::bad);
		CHECK(c.why.find("invalid UPID") != std::string::npos);
	}
}

TEST_CASE("fuzz: UPID::parse_strict and classify on random and mutated inputs") {
	std::mt19937_64 rng(20261203);
	const std::string seeds[] = {"master@10.0.0.1:5050", "x(1)@host-a.b:1", "a@1.2.3.4:0"};
	const char alphabet[] = "@:./%0123456789abcxyz()-_ \r\n\t\x00\xff";
	std::size_t valid = 0;
	for (int i = 0; i < 200000; ++i) {
		std::string s = seeds[rng() % 3];
		int edits = 1 + static_cast<int>(rng() % 4);
		for (int e = 0; e < edits; ++e) {
			std::size_t at = s.empty() ? 0 : rng() % (s.size() + 1);
			char ch = alphabet[rng() % (sizeof alphabet - 1)];
			switch (rng() % 3) {
			case 0: s.insert(at, 1, ch); break;
			case 1: if (at < s.size()) s.erase(at, 1); break;
			default: if (at < s.size()) s[at] = ch; break;
			}
		}
		auto r = UPID::parse_strict(s);
		if (!r.isError()) {
			++valid;
			// What is accepted prints back as itself and parses the same.
			REQUIRE(r.get().str() == s);
		} else {
			REQUIRE_FALSE(r.error().empty());
		}
		// The same text as a sender and in the path never throws and is classified.
		http::Request req;
		req.method = "POST";
		req.path = "/" + s + "/" + s;
		req.headers.push_back({(rng() & 1) ? "Libprocess-From" : "User-Agent", (rng() & 1) ? s : "libprocess/" + s});
		auto c = wire::classify(req);
		if (c.what == wire::Classified::kind::message) {
			REQUIRE_FALSE(c.name.empty());
			REQUIRE(c.name.find('/') == std::string::npos);
			REQUIRE(c.from);
		}
	}
	CHECK(valid > 100); // the mutations also produce valid UPIDs
}
