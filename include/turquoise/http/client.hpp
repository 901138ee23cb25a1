// turquoise/http/client.hpp — the HTTP/1.1 client on the pool.
//
//   http::Client client(pool);                                  // explicit pool and options
//   Future<http::Response> r = client.get("http://127.0.0.1:8080/stats");
//   client.post("http://127.0.0.1:8080/x", "body", "text/plain");
//   http::get("http://127.0.0.1:8080/stats");                   // the process-wide client
//
// Each Client keeps a pool of idle keep-alive connections per host:port (at most
// max_idle_per_host each, closed after idle_timeout unused) and reuses them; one request at a
// time per connection (no client-side pipelining: a new request takes an idle connection or
// opens one). Request bodies are sent with Content-Length, or with Transfer-Encoding: chunked
// when `chunked` is set (`body` as one chunk). Responses are decoded by response_parser (parser.hpp: chunked,
// Content-Length or until the close; HEAD answers have no body).
//
// Streaming (`stream_response`): the future becomes ready once the head has arrived; the body
// comes through Response::reader chunk by chunk as it arrives ("" at its end; a failure if the
// connection breaks). The connection goes back to the pool after the last chunk. Data read
// and not yet taken from the reader is buffered without bound: read it (or close the reader,
// which drops the connection).
//
// Failures (the future fails with a message that starts with the reason):
//   "connection refused: ...", "connect timeout: ...", "timeout: ..." (no complete response
//   — for a stream, no head — within `timeout` of the call), "connection reset: ...",
//   "connection closed: ..." (the peer closed before the response was complete),
//   "malformed response: <what>", "bad url: ...". Discarding the future closes its
//   connection. A reused connection that the server closed meanwhile is detected before use
//   (and, if the close races with the request, the request fails with "connection closed").
//
// Host names are resolved with getaddrinfo on the calling thread (it blocks): use IPv4
// literals on the pool. https is not supported ("bad url").
#ifndef TURQUOISE_HTTP_CLIENT_HPP
#define TURQUOISE_HTTP_CLIENT_HPP

#include <turquoise/async/future.hpp>
#include <turquoise/async/try.hpp>
#include <turquoise/http/message.hpp>
#include <turquoise/http/parser.hpp>
#include <turquoise/pool.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace turquoise::http {

struct URL {
	std::string scheme = "http";
	std::string host;
	std::uint16_t port = 80;
	std::string path = "/"; // with the query, as sent in the request line

	// "http://host[:port][/path[?query]]" (a fragment is dropped).
	static Try<URL> parse(std::string_view text);
};

struct client_options {
	std::chrono::milliseconds connect_timeout{5'000};
	std::chrono::milliseconds timeout{30'000}; // total, per request (see the header comment)
	std::size_t max_idle_per_host = 8;
	std::chrono::milliseconds idle_timeout{30'000}; // an idle pooled connection older: closed
	parser_limits limits = response_limits(); // max_body (64 MiB) applies when not streaming
};

struct ClientRequest {
	std::string method = "GET";
	URL url;
	std::vector<header> headers; // Host, Content-Length, Transfer-Encoding, Connection are added
	std::string body;
	bool chunked = false;    // send `body` as a chunked body
	bool keep_alive = true;  // false: "Connection: close", not pooled
	bool stream_response = false;
	std::optional<std::chrono::milliseconds> timeout; // overrides client_options::timeout
};

struct client_stats {
	std::uint64_t connections_opened = 0;
	std::uint64_t connections_reused = 0;
	std::uint64_t requests = 0;
	std::uint64_t failures = 0;
};

class Client {
public:
	struct state; // internal
	explicit Client(pool &p, client_options options = {});
	~Client(); // closes the idle connections; requests in flight carry on
	Client(const Client &) = delete;
	Client &operator=(const Client &) = delete;

	Future<Response> request(ClientRequest r);
	Future<Response> get(const std::string &url, std::vector<header> headers = {});
	Future<Response> post(const std::string &url, std::string body, std::string content_type = "text/plain",
	                      std::vector<header> headers = {});

	client_stats stats() const;
	std::size_t idle_connections() const;

private:
	std::shared_ptr<state> state_;
};

// libprocess's free functions, on a process-wide Client whose pool is private to it (one
// worker, created on first use, never destroyed): their futures' callbacks run on that worker.
Future<Response> get(const std::string &url, std::vector<header> headers = {});
Future<Response> post(const std::string &url, std::string body, std::string content_type = "text/plain",
                      std::vector<header> headers = {});
Future<Response> request(ClientRequest r);

} // namespace turquoise::http

#endif
