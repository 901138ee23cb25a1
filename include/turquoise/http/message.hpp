// turquoise/http/message.hpp — HTTP requests and responses as values, and the response writer.
//
// `Request` is what the request decoder produces and what a server handler
// gets; `Response` is what a handler returns and what the client's futures hold (libprocess's
// http::Response: status, headers, body, or a streamed body through `reader`). `response` is
// the low-level head writer both build on (views, no allocation of its own).
#ifndef TURQUOISE_HTTP_MESSAGE_HPP
#define TURQUOISE_HTTP_MESSAGE_HPP

#include <turquoise/util/pipe.hpp>

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

// First header with this name (ASCII case-insensitive), or nullopt.
std::optional<std::string_view> find_header(const std::vector<header> &headers, std::string_view name);

struct Request {
	std::string method;
	std::string target; // the request-target as received
	std::string path;   // the path part of the target (not percent-decoded); "*" for asterisk-form
	std::string query;  // the raw query (after '?'), possibly empty
	std::vector<std::pair<std::string, std::string>> query_params; // decoded ('+' is a space)
	int version_major = 1;
	int version_minor = 1;
	std::vector<header> headers; // in order received
	std::string body;            // the body (Content-Length or de-chunked)
	bool chunked = false;        // the body came with Transfer-Encoding: chunked
	bool keep_alive = true;      // HTTP/1.1: unless "Connection: close"; 1.0: only with "keep-alive"

	std::optional<std::string_view> find_header(std::string_view name) const {
		return http::find_header(headers, name);
	}
	// First query parameter with this (decoded, case-sensitive) name, or nullopt.
	std::optional<std::string_view> find_query(std::string_view name) const;
};


// A response as a value. The server adds the framing fields itself (Content-Length, or
// Transfer-Encoding: chunked when `reader` is set, and Connection): do not put them in
// `headers`. On the client side `headers` are the received ones, framing included.
struct Response {
	int status = 200;
	std::vector<header> headers;
	std::string body;
	// Streamed body: the server writes each chunk read from it as an HTTP chunk until the
	// stream ends (a failed stream ends the connection abruptly); the client, when asked to
	// stream, gives the body here chunk by chunk instead of in `body`.
	std::optional<Pipe::Reader> reader;

	Response() = default;
	explicit Response(int status_code, std::string body_text = {}, std::string content_type = "text/plain")
	    : status(status_code), body(std::move(body_text)) {
		if (!content_type.empty())
			headers.push_back({"Content-Type", std::move(content_type)});
	}
	std::optional<std::string_view> find_header(std::string_view name) const {
		return http::find_header(headers, name);
	}
};

// libprocess's names for the common responses.
inline Response OK(std::string body = {}, std::string content_type = "text/plain") {
	return Response(200, std::move(body), std::move(content_type));
}
inline Response Accepted() { return Response(202, {}, {}); }
inline Response BadRequest(std::string why = {}) { return Response(400, std::move(why)); }
inline Response NotFound(std::string why = {}) { return Response(404, std::move(why)); }
inline Response MethodNotAllowed(std::string allowed) {
	Response r(405, "method not allowed\n");
	r.headers.push_back({"Allow", std::move(allowed)});
	return r;
}
inline Response InternalServerError(std::string why = {}) { return Response(500, std::move(why)); }
inline Response ServiceUnavailable(std::string why = {}) { return Response(503, std::move(why)); }

// Reason phrase of a status code ("OK", "Not Found", ...; "Unknown" for others).
std::string_view reason_phrase(int status) noexcept;

// The low-level writer: a response head and a body given as views.
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

// Append a Response: status line, its headers, then Content-Length (or, when it has a reader,
// Transfer-Encoding: chunked and no body: the chunks follow), Connection, and the body unless
// `head_only` (an answer to HEAD keeps the Content-Length of the body it does not send).
void append_response(std::string &out, const Response &r, bool keep_alive, bool head_only = false);

// Append one chunk of a chunked body ("" appends the last chunk, "0\r\n\r\n").
void append_chunk(std::string &out, std::string_view data);

} // namespace turquoise::http

#endif
