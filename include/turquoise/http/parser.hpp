// turquoise/http/parser.hpp — strict, incremental HTTP/1.1 decoders: requests (servers) and
// responses (clients).
//
//   turquoise::http::request_parser p;
//   std::string_view in = bytes_from_the_socket;
//   while (!in.empty()) {
//       in.remove_prefix(p.feed(in));          // consumes up to the end of one request
//       if (p.ready())  handle(p.take());       // take() resets the parser for the next one
//       else if (p.failed()) { reply(status_for(p.error())); close(); break; }
//   }
//
// Bytes may be split anywhere; a buffer may hold several pipelined messages (feed() stops after
// each complete one, so the caller takes them in order and keeps the rest for later).
// Memory is bounded by the limits, whatever it is fed: a parser holds at most one line (start
// line, header line, chunk-size line or trailer line, each within its limit), the parsed start
// line and header fields (within the limits, a few times over for the decoded copies) and a
// body of at most max_body bytes.
//
// Strictness (RFC 9112 "MUST reject" cases and a few more), each with its own error:
//   - lines end in CRLF; a bare LF, a stray CR or a NUL anywhere in the head is rejected;
//   - request line: token SP request-target SP HTTP-version, single spaces, nothing else;
//     the target is origin-form ("/path?query"), absolute-form ("http://host/path") or "*"
//     (OPTIONS only), visible ASCII only, no fragment, valid %XX escapes;
//   - version "HTTP/d.d": 1.0 and 1.1 are served; other well-formed versions get 505;
//   - header lines need "name:" with a token name (no whitespace before the colon); a line that
//     starts with whitespace is obsolete line folding and is rejected; values may hold visible
//     ASCII, obs-text, SP and HTAB only;
//   - Content-Length: 1*DIGIT (at most 18 digits); several Content-Length fields must agree
//     (identical repeats are accepted, a comma list "5, 5" is rejected as non-numeric);
//   - Transfer-Encoding: "chunked" alone is decoded (chunk sizes 1..15 hex digits, extensions
//     ignored, trailer fields checked and dropped); with Content-Length as well: 400 (the
//     framing is ambiguous: request smuggling); other codings ("gzip, chunked"): 501; a list
//     that does not end in chunked: 400; in an HTTP/1.0 request: 400;
//   - more than one Host field: 400 (a missing Host is tolerated: HTTP/1.0 libprocess peers);
//   - limits (parser_limits): request line > 8 KiB: 414; header section (or chunked trailer
//     section) > 64 KiB or > 100 fields: 431; body (Content-Length or the sum of the chunks)
//     > 1 MiB: 413; a chunk-size line over 1 KiB: 400.
// Empty lines (CRLF) before a request line are skipped (RFC 9112 §2.2), counted against the
// request-line limit. After an error the parser stays failed until reset().
//
// The response decoder applies the same rules to the status line ("HTTP/1.x DDD reason") and
// headers; its body is framed as RFC 9112 §6.3 says: none for a HEAD request or a 1xx/204/304,
// else chunked, else Content-Length, else everything until the connection closes (finish()).
#ifndef TURQUOISE_HTTP_PARSER_HPP
#define TURQUOISE_HTTP_PARSER_HPP

#include <turquoise/http/message.hpp>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

namespace turquoise::http {

enum class parse_error {
	none = 0,
	bad_request_line,        // 400: shape of the request line, bad method token, stray bytes
	bad_target,              // 400: request-target syntax, bad %-escape
	bad_version,             // 400: not "HTTP/d.d"
	unsupported_version,     // 505: well-formed, but not 1.0 or 1.1
	bad_line_ending,         // 400: bare LF or stray CR, NUL
	request_line_too_long,   // 414
	header_without_colon,    // 400
	bad_header_name,         // 400: empty, non-token, whitespace before the colon
	bad_header_value,        // 400: control characters
	obsolete_line_folding,   // 400: a header line starting with SP/HTAB
	headers_too_large,       // 431: header (or trailer) section over max_header_bytes
	too_many_headers,        // 431: over max_headers fields
	bad_content_length,      // 400: not 1*DIGIT, or too large a number
	conflicting_content_length, // 400: several Content-Length fields that disagree
	duplicate_host,          // 400
	transfer_encoding,       // 501: a transfer coding other than chunked
	bad_transfer_encoding,   // 400: not ending in chunked, with Content-Length, or in HTTP/1.0
	bad_chunk,               // 400: malformed chunk size line, missing CRLF after chunk data
	body_too_large,          // 413: Content-Length (or the chunks) over max_body
	bad_status_line,         // (responses) not "HTTP/1.x DDD reason"
	truncated,               // (responses) the connection closed inside the message
};

// The status code to answer a parse error with (400, 413, 414, 431, 501 or 505).
int status_for(parse_error e) noexcept;
// A short description ("obsolete line folding"), for logs and error bodies.
std::string_view to_string(parse_error e) noexcept;

struct parser_limits {
	std::size_t max_request_line = 8 * 1024; // bytes, without the CRLF (a status line, too)
	std::size_t max_header_bytes = 64 * 1024; // the header section: every field line with its CRLF
	std::size_t max_headers = 100;
	std::size_t max_body = 1024 * 1024;
};

// The response decoder's defaults: a body of up to 64 MiB (unless streamed).
inline parser_limits response_limits() {
	parser_limits l;
	l.max_body = 64u << 20;
	return l;
}

} // namespace turquoise::http

#include <turquoise/http/detail/chunked.hpp>

namespace turquoise::http {

class request_parser {
public:
	explicit request_parser(parser_limits limits = {});

	// Consume bytes until one request is complete, an error is found, or `bytes` runs out;
	// returns the number of bytes consumed (the rest belongs to the next request). Feeding a
	// parser that is ready() or failed() consumes nothing.
	std::size_t feed(std::string_view bytes);

	bool ready() const noexcept { return state_ == state::ready; }
	bool failed() const noexcept { return state_ == state::failed; }
	parse_error error() const noexcept { return error_; }
	// True between requests with nothing of the next one received (a clean place to close).
	bool idle() const noexcept { return state_ == state::request_line && line_.empty() && !skipped_; }

	// The complete request; the parser then starts on the next one. Only when ready().
	Request take();

	// Back to the initial state (also clears an error).
	void reset();

	// Bytes held for the request in progress (for tests of the memory bound).
	std::size_t buffered() const noexcept;

	const parser_limits &limits() const noexcept { return limits_; }

private:
	enum class state { request_line, headers, body, chunked, ready, failed };

	void fail(parse_error e);
	void on_request_line(std::string_view line);
	void on_headers_done();
	bool partial_request_line_ok() const;

	parser_limits limits_;
	state state_ = state::request_line;
	parse_error error_ = parse_error::none;
	std::string line_;          // the line in progress, CRLF included once complete
	std::size_t skipped_ = 0;   // bytes of empty lines skipped before this request line
	std::size_t header_bytes_ = 0;
	std::uint64_t body_remaining_ = 0;
	detail::chunked_decoder chunks_;
	Request req_;
};

// The response decoder (clients). Set expect_head() before feeding the answer to a HEAD.
class response_parser {
public:
	explicit response_parser(parser_limits limits = response_limits());

	std::size_t feed(std::string_view bytes);
	// The peer closed: completes a body framed by the close; otherwise fails with `truncated`
	// if a response was in progress. Returns ready().
	bool finish();

	void expect_head(bool head) noexcept { head_request_ = head; }
	// Streaming: body bytes are handed out by take_body() as they arrive, and max_body does
	// not apply (the consumer bounds what it keeps).
	void set_streaming(bool on) noexcept { streaming_ = on; }

	bool head_done() const noexcept { return state_ >= state::body && state_ != state::failed; }
	bool ready() const noexcept { return state_ == state::ready; }
	bool failed() const noexcept { return state_ == state::failed; }
	parse_error error() const noexcept { return error_; }
	bool idle() const noexcept { return state_ == state::status_line && line_.empty(); }
	// The peer keeps the connection open after this response (meaningful once head_done()).
	bool keep_alive() const noexcept { return keep_alive_; }

	// Status and headers so far (complete once head_done()).
	const Response &current() const noexcept { return resp_; }
	// Body bytes received since the last call (streaming).
	std::string take_body();
	// The complete response; the parser then starts on the next one. Only when ready().
	Response take();
	void reset();
	std::size_t buffered() const noexcept;

private:
	enum class state { status_line, headers, body, chunked, until_close, ready, failed };
	void fail(parse_error e);
	void on_status_line(std::string_view line);
	void on_headers_done();

	parser_limits limits_;
	state state_ = state::status_line;
	parse_error error_ = parse_error::none;
	std::string line_;
	std::size_t header_bytes_ = 0;
	std::uint64_t body_remaining_ = 0;
	std::uint64_t body_total_ = 0;
	bool head_request_ = false;
	bool streaming_ = false;
	bool keep_alive_ = true;
	int minor_ = 1;
	detail::chunked_decoder chunks_;
	Response resp_;
};

} // namespace turquoise::http

#endif
