// turquoise/http.hpp — a strict, incremental HTTP/1.1 request parser and a tiny response builder.
//
//   turquoise::http::request_parser p;
//   std::string_view in = bytes_from_the_socket;
//   while (!in.empty()) {
//       in.remove_prefix(p.feed(in));          // consumes up to the end of one request
//       if (p.ready())  handle(p.take());       // take() resets the parser for the next one
//       else if (p.failed()) { reply(status_for(p.error())); close(); break; }
//   }
//
// Bytes may be split anywhere; a buffer may hold several pipelined requests (feed() stops after
// each complete one, so the caller takes requests in order and keeps the rest for later).
// Memory is bounded by the limits, whatever it is fed: a parser holds at most one line (request
// line or header line, each within its limit), the parsed request line and header fields
// (within max_request_line and max_header_bytes, a few times over for the decoded copies) and a
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
//   - Transfer-Encoding (any value) is not implemented: 501 Not Implemented (the body cannot be
//     framed, so the connection must be closed after the answer);
//   - more than one Host field: 400 (a missing Host is tolerated);
//   - limits: request line > 8 KiB: 414; header section > 64 KiB or > 100 fields: 431;
//     body > 1 MiB: 413.
// Empty lines (CRLF) before a request line are skipped (RFC 9112 §2.2), counted against the
// request-line limit. After an error the parser stays failed until reset().
#ifndef TURQUOISE_HTTP_HPP
#define TURQUOISE_HTTP_HPP

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace turquoise::http {

struct header {
	std::string name;  // as received
	std::string value; // leading and trailing whitespace removed
};

struct request {
	std::string method;
	std::string target; // the request-target as received
	std::string path;   // the path part of the target (not percent-decoded); "*" for asterisk-form
	std::string query;  // the raw query (after '?'), possibly empty
	std::vector<std::pair<std::string, std::string>> query_params; // decoded ('+' is a space)
	int version_major = 1;
	int version_minor = 1;
	std::vector<header> headers; // in order received
	std::string body;            // Content-Length bytes
	bool keep_alive = true;      // HTTP/1.1: unless "Connection: close"; 1.0: only with "keep-alive"

	// First header with this name (ASCII case-insensitive), or nullopt.
	std::optional<std::string_view> find_header(std::string_view name) const;
	// First query parameter with this (decoded, case-sensitive) name, or nullopt.
	std::optional<std::string_view> find_query(std::string_view name) const;
};

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
	headers_too_large,       // 431: header section over max_header_bytes
	too_many_headers,        // 431: over max_headers fields
	bad_content_length,      // 400: not 1*DIGIT, or too large a number
	conflicting_content_length, // 400: several Content-Length fields that disagree
	duplicate_host,          // 400
	transfer_encoding,       // 501: Transfer-Encoding is not implemented
	body_too_large,          // 413: Content-Length over max_body
};

// The status code to answer a parse error with (400, 413, 414, 431, 501 or 505).
int status_for(parse_error e) noexcept;
// A short description ("obsolete line folding"), for logs and error bodies.
std::string_view to_string(parse_error e) noexcept;

struct parser_limits {
	std::size_t max_request_line = 8 * 1024; // bytes, without the CRLF
	std::size_t max_header_bytes = 64 * 1024; // the header section: every field line with its CRLF
	std::size_t max_headers = 100;
	std::size_t max_body = 1024 * 1024;
};

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
	request take();

	// Back to the initial state (also clears an error).
	void reset();

	// Bytes held for the request in progress (for tests of the memory bound).
	std::size_t buffered() const noexcept;

	const parser_limits &limits() const noexcept { return limits_; }

private:
	enum class state { request_line, headers, body, ready, failed };

	void fail(parse_error e);
	void on_request_line(std::string_view line);
	void on_header_line(std::string_view line);
	void on_headers_done();
	bool partial_request_line_ok() const;

	parser_limits limits_;
	state state_ = state::request_line;
	parse_error error_ = parse_error::none;
	std::string line_;          // the line in progress, CRLF included once complete
	std::size_t skipped_ = 0;   // bytes of empty lines skipped before this request line
	std::size_t header_bytes_ = 0;
	std::uint64_t body_remaining_ = 0;
	request req_;
};

// Reason phrase of a status code ("OK", "Not Found", ...; "Unknown" for others).
std::string_view reason_phrase(int status) noexcept;

struct response {
	int status = 200;
	std::string_view content_type = "text/plain"; // empty: no Content-Type field
	std::string_view body;
	bool keep_alive = true;
	std::vector<std::pair<std::string_view, std::string_view>> extra_headers; // e.g. {"Allow", "GET"}
};

// Append "HTTP/1.1 <status> <reason>", Content-Type, Content-Length, Connection
// (keep-alive or close), the extra headers, and the body.
void append_response(std::string &out, const response &r);
std::string make_response(const response &r);

} // namespace turquoise::http

#endif
