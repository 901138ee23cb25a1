// turquoise/process/network.hpp — remote processes: the runtime's TCP port, the libprocess
// wire, and its options and counters.
//
//   runtime_options o = runtime_options::from_environment();   // LIBPROCESS_IP/PORT/...
//   o.network.port = 5050;
//   runtime rt(o);
//   runtime_scope scope(rt);
//   Try<Address> a = rt.listen();     // bind now ("port 0": a free port); a.get() advertised
//   spawn(pong);                      // pong.self() == "pong@<advertised ip>:<port>"
//
// Listening: a runtime listens on one TCP port (one http::Server, server.hpp) when created
// with network.listen set (the constructor throws std::runtime_error if it cannot bind), when
// runtime::listen() is called, or lazily on its first remote send or link (so that a peer
// can answer). turquoise::initialize() does not listen. Processes spawned while it listens carry its
// advertised address in their UPIDs; processes spawned earlier keep the placeholder
// 127.0.0.1:0, which remote sends replace by the advertised address in Libprocess-From. The
// port serves messages and the processes' routes (ProcessBase::route) and nothing else.
//
// The wire (libprocess's, as its sources write and read it):
//   a message is `POST /<receiver-id>/<name>` with the payload as body. We send HTTP/1.1 with
//   `User-Agent: libprocess/<from>`, `Libprocess-From: <from>`, `Connection: Keep-Alive`,
//   `Host: <ip:port>`, and a non-empty body as one chunk (`Transfer-Encoding: chunked`), like
//   libprocess, on one keep-alive connection per destination address, in send order, and read
//   (and ignore) the answers. We accept HTTP/1.1 (chunked or Content-Length) and HTTP/1.0
//   with Content-Length and no Host. A POST with `Libprocess-From` (or, without it, a
//   `User-Agent: libprocess/<upid>`) is a message: answered `202 Accepted` when the receiver
//   exists, `404` when it does not, `400` and close for an invalid sender UPID, an empty name,
//   a name with '/' or a NUL (%00), or an id that is not a valid one. Anything else is an
//   HTTP request for `/<id>/<route>` (ProcessBase::route). Replies go to the sender's UPID on
//   our own outbound connection, never on the inbound one.
//
// Our own messages (ignored by libprocess peers, which drop names they do not handle):
//   `turquoise.link`   (empty body) from a process that linked to the receiver: the receiving
//                      runtime remembers it, and when the receiver terminates (or at once if
//                      it does not exist) answers with
//   `turquoise.exited` (empty body) from the terminated process to the linker: the linker
//                      gets exited(pid). So a remote process that terminates while its host
//                      lives is reported, beyond libprocess (which reports only lost hosts).
//
// Faults: a connection refused, reset, closed by the peer or silent with output pending
// for write_timeout ends the connection: the messages queued on it are dropped (counted in
// network_stats::dropped), every local process linked to a process at that address gets
// exited(pid) once, and the next send opens a new connection. A connection to a host whose
// processes linked to ours is kept open: when it ends, their records are dropped (nobody is
// left to tell). An unlinked idle connection may close (unlinked_linger). Output queued for one
// address is bounded by max_queued_bytes: beyond it new messages are dropped (counted). The
// inbound side is the http::Server's (limits, timeouts, 4xx and close; see server.hpp) with
// max_message_bytes as its body limit.
#ifndef TURQUOISE_PROCESS_NETWORK_HPP
#define TURQUOISE_PROCESS_NETWORK_HPP

#include <turquoise/process/pid.hpp>

#include <chrono>
#include <optional>
#include <cstddef>
#include <cstdint>
#include <string>

namespace turquoise {

struct network_options {
	std::string ip = "127.0.0.1";     // LIBPROCESS_IP: the IPv4 address to listen on
	std::uint16_t port = 0;           // LIBPROCESS_PORT: 0 picks a free port
	std::string advertise_ip;         // LIBPROCESS_ADVERTISE_IP: empty: `ip` (127.0.0.1 for 0.0.0.0)
	std::uint16_t advertise_port = 0; // LIBPROCESS_ADVERTISE_PORT: 0: the port bound
	bool listen = false;              // listen when the runtime is created (else: see above)

	std::size_t max_queued_bytes = 64u << 20;  // per destination address, beyond: dropped
	std::size_t max_message_bytes = 64u << 20; // inbound body limit (413 and close beyond)
	std::size_t max_connections = 10000;       // inbound connections open at once
	std::chrono::milliseconds connect_timeout{5'000};
	// Outbound output pending and not taken by the peer for this long: the connection ends.
	std::chrono::milliseconds write_timeout{10'000};
	// Inbound connection with nothing in progress for this long: closed. Long by default:
	// libprocess peers keep linked connections idle for ever and take a close as our death.
	std::chrono::milliseconds idle_timeout{std::chrono::hours(24 * 365)};
	std::chrono::milliseconds request_timeout{10'000}; // a request started and not finished
	// If set, an outbound connection that no link holds closes once the peer has answered
	// every message queued on it and nothing more was queued for this long (checked every
	// 200 ms). 0: as soon as the peer has answered, as libprocess closes its temporary sockets
	// once their queue drains (each burst of messages then opens a connection). Not set (the
	// default): connections stay open. Known fault: a message sent while its connection
	// closes can be lost (seen with 0 in 1 run of 2; README limits), hence off by default.
	std::optional<std::chrono::milliseconds> unlinked_linger;
};

// Counters of one runtime's network side.
struct network_stats {
	std::uint64_t sent = 0;            // messages written to a socket
	std::uint64_t received = 0;        // inbound messages delivered to a local process (202)
	std::uint64_t not_found = 0;       // inbound messages for no such process (404)
	std::uint64_t bad_messages = 0;    // inbound message requests refused with 400
	std::uint64_t dropped = 0;         // outbound messages dropped: peer down, queue over limit
	std::uint64_t connections_opened = 0;  // outbound
	std::uint64_t connection_failures = 0; // outbound connections refused, reset or timed out
	std::uint64_t exited = 0;          // exited notifications delivered to local processes
	std::uint64_t route_requests = 0;  // inbound HTTP requests for routes
	std::uint64_t bad_requests = 0;    // inbound requests the HTTP decoder refused (4xx, close)
	std::uint64_t timeouts = 0;        // inbound connections closed by a timeout
	std::uint64_t inbound_open = 0;    // inbound connections open now
	std::uint64_t outbound_open = 0;   // outbound connections open now
	std::uint64_t remote_linkers = 0;  // remote processes linked to ours, remembered now (their
	                                   // records go when ours terminates or their host is lost)
};

} // namespace turquoise

#endif
