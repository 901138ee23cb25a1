// turquoise/http/server.hpp — the HTTP/1.1 server on the pool: a handler per route.
//
//   turquoise::pool pool;
//   auto server = http::Server::listen(pool);   // Try<Server>; server_options: port 0 (any)
//   server.get().route("/hello", [](const http::Request &r) -> Future<http::Response> {
//       return http::OK("hi\n");
//   });
//   server.get().port();  // the port bound
//
// Connections are driven by pool tasks (reactor waits, no thread per connection). Handlers
// run in those tasks, preemptibly: a handler that spins is preempted at the pool's quantum
// and other connections are served meanwhile. A handler returns a Future<Response>; a failed
// future (or an exception from the handler) answers 500 with the message, a discarded or
// abandoned one 503. A Response with a `reader` is streamed as a chunked body.
//
// Routing: the handler whose path equals the request's path, else the one with the longest
// path P such that the request's path starts with P + "/" (libprocess's rule), else the
// fallback (default: 404). Routes may be added and replaced at any time.
//
// Protocol: HTTP/1.1 and HTTP/1.0 requests (see parser.hpp for what is accepted); keep-alive
// (HTTP/1.1 unless "Connection: close"; HTTP/1.0 only with "Connection: keep-alive");
// pipelining: requests on one connection are handled in order and answered in request order
// (a later answer that is ready first waits for the earlier ones); HEAD gets the headers of the
// GET answer without its body.
//
// Limits and faults, each answered and counted (server_stats, and metrics if asked for):
//   - header section over limits.max_header_bytes (64 KiB) or limits.max_headers (100): 431,
//     request line over limits.max_request_line (8 KiB): 414; body over limits.max_body
//     (1 MiB): 413; malformed request: 400 (or 501/505): the answer is sent after the answers
//     of earlier requests, then the connection is closed (bad_requests);
//   - more than max_connections open: the new connection gets a 503 and is closed
//     (rejected_connections);
//   - a request that has not arrived completely request_timeout after its first byte (a
//     slowloris peer): 408 and close (timeouts);
//   - a connection idle (nothing in progress) for idle_timeout, including one that never
//     sends a byte: closed (timeouts);
//   - output pending and not accepted by the peer for write_timeout (a peer that stops
//     reading): closed (timeouts); reading stops while max_output bytes wait to be written or
//     max_pipelined requests wait for their answers, so memory per connection stays bounded
//     (~ read buffer 256 KiB + max_output + max_pipelined requests within the parser limits);
//   - reset or closed peers: the connection is dropped (dropped).
// After its last answer a closing connection half-closes and drains what the peer still sends
// (up to 1 MiB, for at most 2 s) so that the peer reads the answer before the close.
//
// Lifetime: stop() (or the destructor) closes the listening socket and every connection;
// handlers already running finish, their answers are dropped. Stop the server before the pool
// is destroyed.
#ifndef TURQUOISE_HTTP_SERVER_HPP
#define TURQUOISE_HTTP_SERVER_HPP

#include <turquoise/async/future.hpp>
#include <turquoise/async/try.hpp>
#include <turquoise/http/message.hpp>
#include <turquoise/http/parser.hpp>
#include <turquoise/pool.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace turquoise::http {

struct server_options {
	std::string ip = "127.0.0.1"; // IPv4 address to listen on ("0.0.0.0": every interface)
	std::uint16_t port = 0;       // 0: any free port (see Server::port())
	int backlog = 1024;
	parser_limits limits;                  // 414 / 431 / 413, see parser.hpp
	std::size_t max_connections = 10000;   // open at once; beyond: 503 and close
	std::size_t max_pipelined = 64;        // requests read ahead of their answers, per connection
	std::size_t max_output = 1024 * 1024;  // answer bytes waiting for the peer before reading stops
	std::chrono::milliseconds idle_timeout{60'000};
	std::chrono::milliseconds request_timeout{10'000};
	std::chrono::milliseconds write_timeout{10'000};
	// Non-empty: the server_stats counters are also metrics (metrics.hpp), as gauges named
	// "<prefix>/accepted", "/requests", "/bad_requests", "/rejected_connections", "/timeouts",
	// "/dropped", "/open", registered by listen() and removed by stop(). listen() fails if one
	// of the names is taken.
	std::string metrics_prefix;
};

struct server_stats {
	std::uint64_t accepted = 0;
	std::uint64_t requests = 0;             // handed to a handler (or answered 404)
	std::uint64_t bad_requests = 0;         // answered 4xx/5xx by the decoder, then closed
	std::uint64_t rejected_connections = 0; // over max_connections
	std::uint64_t timeouts = 0;             // request, idle and write timeouts
	std::uint64_t dropped = 0;              // closed by a peer's reset or error mid-exchange
	std::uint64_t open = 0;                 // connections open now
};

class Server {
public:
	using Handler = std::function<Future<Response>(const Request &)>;
	struct state; // internal

	// Bind, listen and start accepting on p's reactor. An error names the address.
	static Try<Server> listen(pool &p, server_options options = {});

	Server(Server &&) noexcept = default;
	Server &operator=(Server &&) noexcept;
	~Server();

	void route(std::string path, Handler handler) const;
	void fallback(Handler handler) const;

	std::uint16_t port() const;
	const std::string &ip() const;
	server_stats stats() const;
	std::size_t connections() const;
	void stop();

private:
	explicit Server(std::shared_ptr<state> s) : state_(std::move(s)) {}
	std::shared_ptr<state> state_;
};

} // namespace turquoise::http

#endif
