// The HTTP decoders beyond the request line and headers (test_http.cpp has those): chunked
// request bodies, the response decoder, and fuzzing of both with random and mutated input.
#include <catch2/catch.hpp>

#include <turquoise/http/parser.hpp>

#include <chrono>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace http = turquoise::http;
using http::parse_error;

namespace {

struct requests_outcome {
	std::vector<http::Request> requests;
	parse_error error = parse_error::none;
	std::size_t max_buffered = 0;
};

// Feed in pieces of `piece` bytes (0: all at once).
requests_outcome parse_requests(std::string_view data, std::size_t piece = 0, http::parser_limits limits = {}) {
	http::request_parser p(limits);
	requests_outcome o;
	std::size_t pos = 0;
	while (pos < data.size() && !p.failed()) {
		std::string_view in = data.substr(pos, piece ? piece : data.size());
		pos += in.size();
		while (!in.empty()) {
			in.remove_prefix(p.feed(in));
			o.max_buffered = std::max(o.max_buffered, p.buffered());
			if (p.ready())
				o.requests.push_back(p.take());
			else
				break;
		}
	}
	o.error = p.error();
	return o;
}

struct responses_outcome {
	std::vector<http::Response> responses;
	parse_error error = parse_error::none;
	bool pending = false; // a response was in progress at the end (before finish())
	std::size_t max_buffered = 0;
};

responses_outcome parse_responses(std::string_view data, std::size_t piece = 0, bool eof = true,
                                  bool head = false, http::parser_limits limits = http::response_limits()) {
	http::response_parser p(limits);
	p.expect_head(head);
	responses_outcome o;
	std::size_t pos = 0;
	while (pos < data.size() && !p.failed()) {
		std::string_view in = data.substr(pos, piece ? piece : data.size());
		pos += in.size();
		while (!in.empty() && !p.failed()) {
			in.remove_prefix(p.feed(in));
			o.max_buffered = std::max(o.max_buffered, p.buffered());
			if (p.ready())
				o.responses.push_back(p.take());
			else
				break;
		}
	}
	o.pending = !p.idle() && !p.failed();
	if (eof && !p.failed() && p.finish())
		o.responses.push_back(p.take());
	o.error = p.error();
	return o;
}

} // namespace

TEST_CASE("chunked request bodies are decoded, split anywhere, extensions and trailers dropped") {
	std::string req = "POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
	                  "5;name=value\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nX-Checksum: 1\r\n\r\n"
	                  "GET /next HTTP/1.1\r\n\r\n";
	for (std::size_t piece : {0, 1, 2, 3, 7}) {
		INFO(piece);
		requests_outcome o = parse_requests(req, piece);
		REQUIRE(o.error == parse_error::none);
		REQUIRE(o.requests.size() == 2);
		CHECK(o.requests[0].body == "hello world");
		CHECK(o.requests[0].chunked);
		CHECK(o.requests[0].headers.size() == 2); // the trailer is not merged into the headers
		CHECK(o.requests[1].path == "/next");
	}
	CHECK(parse_requests("POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n0\r\n\r\n").requests.size() == 1);
	CHECK(parse_requests("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nfF\r\n" + std::string(255, 'x') +
	                     "\r\n0\r\n\r\n")
	          .requests.at(0)
	          .body.size() == 255);
}

TEST_CASE("malformed chunks and chunked limits are rejected with their own errors") {
	auto error = [](std::string body, http::parser_limits limits = {}) {
		return parse_requests("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + body, 0, limits).error;
	};
	CHECK(error("g\r\nx\r\n0\r\n\r\n") == parse_error::bad_chunk);           // not hex
	CHECK(error("\r\n") == parse_error::bad_chunk);                          // no size
	CHECK(error("-1\r\n") == parse_error::bad_chunk);
	CHECK(error("5 x\r\nhello\r\n") == parse_error::bad_chunk);              // junk after the size
	CHECK(error("5\r\nhelloXX0\r\n\r\n") == parse_error::bad_chunk);         // no CRLF after the data
	CHECK(error("5\nhello\r\n") == parse_error::bad_line_ending);
	CHECK(error("1234567890abcdef0\r\n") == parse_error::bad_chunk);         // 17 hex digits
	CHECK(error(std::string(2000, '0')) == parse_error::bad_chunk);          // endless size line
	CHECK(error("5;a=\x01\r\nhello\r\n") == parse_error::bad_chunk);         // control char in an extension
	CHECK(error("0\r\nbad trailer\r\n\r\n") == parse_error::header_without_colon);
	http::parser_limits small;
	small.max_body = 10;
	CHECK(error("6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n", small) == parse_error::body_too_large);
	CHECK(error("ffffffffffffff\r\n") == parse_error::body_too_large); // refused before any data
	CHECK(http::status_for(parse_error::bad_chunk) == 400);
	small.max_header_bytes = 64;
	CHECK(error("0\r\nX: " + std::string(100, 'v') + "\r\n\r\n", small) == parse_error::headers_too_large);
}

TEST_CASE("response decoder: Content-Length, chunked, until close, HEAD and bodiless statuses") {
	responses_outcome o = parse_responses("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
	                                      "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
	                                      "HTTP/1.1 200 \r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
	                                      1, false);
	REQUIRE(o.error == parse_error::none);
	REQUIRE(o.responses.size() == 3);
	CHECK(o.responses[0].body == "hello");
	CHECK(o.responses[1].status == 404);
	CHECK(o.responses[2].body == "abc");
	CHECK(o.responses[2].find_header("transfer-encoding") == "chunked");

	// No length: the body runs to the close.
	o = parse_responses("HTTP/1.0 200 OK\r\nServer: x\r\n\r\nall of it", 4);
	REQUIRE(o.responses.size() == 1);
	CHECK(o.responses[0].body == "all of it");
	// A HEAD answer and a 204/304 have no body whatever their headers say.
	o = parse_responses("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", 0, false, true);
	CHECK(o.responses.size() == 1);
	o = parse_responses("HTTP/1.1 204 No Content\r\nContent-Length: 3\r\n\r\nHTTP/1.1 304 Not Modified\r\n\r\n", 0, false);
	CHECK(o.responses.size() == 2);

	// Keep-alive follows the version and Connection.
	http::response_parser p;
	p.feed("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
	CHECK((p.ready() && !p.keep_alive()));
	p.take();
	p.feed("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n");
	CHECK((p.ready() && !p.keep_alive()));
	p.take();
	p.feed("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	CHECK((p.ready() && p.keep_alive()));
}

TEST_CASE("response decoder: bad status lines, truncation and limits") {
	for (const char *bad : {"HTTP/2 200 OK\r\n\r\n", "HTTP/1.1 20 OK\r\n\r\n", "HTTP/1.1 200OK\r\n\r\n",
	                        "HTTP/1.1 099 x\r\n\r\n", "ICY 200 OK\r\n\r\n", "HTTP/1.1 2x0 OK\r\n\r\n",
	                        "\x16\x03\x01 garbage"}) {
		INFO(bad);
		CHECK(parse_responses(bad, 0, false).error == parse_error::bad_status_line);
	}
	CHECK(parse_responses("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort").error == parse_error::truncated);
	CHECK(parse_responses("HTTP/1.1 200 OK\r\nContent-Len").error == parse_error::truncated);
	CHECK(parse_responses("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab").error ==
	      parse_error::truncated);
	CHECK(parse_responses("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n").error ==
	      parse_error::conflicting_content_length);
	CHECK(parse_responses("HTTP/1.1 200 OK\r\nX: a\nY: b\r\n\r\n").error == parse_error::bad_line_ending);
	http::parser_limits small = http::response_limits();
	small.max_body = 4;
	CHECK(parse_responses("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 0, true, false, small).error ==
	      parse_error::body_too_large);
	CHECK(parse_responses("HTTP/1.1 200 OK\r\n\r\nhello", 0, true, false, small).error == parse_error::body_too_large);
	// Streaming lifts max_body: the consumer takes the body as it comes.
	http::response_parser s(small);
	s.set_streaming(true);
	s.feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
	CHECK(s.head_done());
	CHECK(s.take_body() == "hello");
	s.feed("6\r\n world\r\n0\r\n\r\n");
	CHECK(s.ready());
	CHECK(s.take_body() == " world");
}

// Random and mutated inputs, fed whole and in random pieces: the same verdict and the same
// messages either way, no crash, and bounded memory. Bounded in time as well as iterations.
TEST_CASE("fuzz: chunked requests and responses, random and mutated, split at random") {
	std::mt19937_64 rng(0xc0ffee);
	auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
	const std::vector<std::string> requests = {
	    "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n0\r\nT: v\r\n\r\n",
	    "POST /d HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n!\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n",
	    "PUT /e HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc",
	};
	const std::vector<std::string> responses = {
	    "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nwiki\r\n0\r\n\r\n",
	    "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n",
	    "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end",
	    "HTTP/1.1 204 No Content\r\n\r\n",
	};
	const std::string alphabet = "0123456789abcdefABCDEF;=: \r\n\tHTTP/1.x\x01\x7f\x80\xff";
	auto mutate = [&](std::string data) {
		for (std::size_t m = 1 + pick(5); m > 0; --m) {
			std::size_t at = data.empty() ? 0 : pick(data.size());
			switch (pick(5)) {
			case 0: if (!data.empty()) data[at] = static_cast<char>(rng()); break;
			case 1: data.insert(at, 1, alphabet[pick(alphabet.size())]); break;
			case 2: data.erase(at, pick(8)); break;
			case 3: data.insert(at, data.substr(at, pick(64))); break;
			default: data.insert(at, pick(16) ? 200 : 70000, alphabet[pick(alphabet.size())]); break;
			}
		}
		return data;
	};
	http::parser_limits small;
	small.max_request_line = 64;
	small.max_header_bytes = 256;
	small.max_headers = 5;
	small.max_body = 100;
	auto started = std::chrono::steady_clock::now();
	std::size_t messages = 0, failures = 0, iterations = 0;
	for (; iterations < 20000 && std::chrono::steady_clock::now() - started < std::chrono::seconds(20); ++iterations) {
		bool as_response = iterations % 2;
		const auto &corpus = as_response ? responses : requests;
		std::string data;
		if (pick(4) == 0) {
			for (std::size_t n = pick(300); n > 0; --n)
				data += pick(3) ? alphabet[pick(alphabet.size())] : static_cast<char>(rng());
		} else {
			for (std::size_t n = 1 + pick(3); n > 0; --n)
				data += corpus[pick(corpus.size())];
			data = mutate(std::move(data));
		}
		http::parser_limits limits = pick(2) ? small : (as_response ? http::response_limits() : http::parser_limits{});
		std::size_t piece = 1 + pick(pick(4) == 0 ? 3 : 50);
		std::size_t bound = 2 * (limits.max_request_line + 2) + 2 * limits.max_header_bytes + limits.max_body + 2048;
		if (as_response) {
			responses_outcome whole = parse_responses(data, 0, true, false, limits);
			responses_outcome split = parse_responses(data, piece, true, false, limits);
			REQUIRE((whole.error == parse_error::none) == (split.error == parse_error::none));
			REQUIRE(whole.responses.size() == split.responses.size());
			for (std::size_t i = 0; i < whole.responses.size(); ++i) {
				REQUIRE(whole.responses[i].status == split.responses[i].status);
				REQUIRE(whole.responses[i].body == split.responses[i].body);
			}
			REQUIRE(whole.max_buffered <= bound);
			REQUIRE(split.max_buffered <= bound);
			messages += whole.responses.size();
			failures += whole.error != parse_error::none;
		} else {
			requests_outcome whole = parse_requests(data, 0, limits);
			requests_outcome split = parse_requests(data, piece, limits);
			REQUIRE((whole.error == parse_error::none) == (split.error == parse_error::none));
			REQUIRE(whole.requests.size() == split.requests.size());
			for (std::size_t i = 0; i < whole.requests.size(); ++i)
				REQUIRE(whole.requests[i].body == split.requests[i].body);
			REQUIRE(whole.max_buffered <= bound);
			REQUIRE(split.max_buffered <= bound);
			messages += whole.requests.size();
			failures += whole.error != parse_error::none;
		}
	}
	INFO(iterations << " iterations");
	CHECK(messages > iterations / 4);
	CHECK(failures > iterations / 4);
}
