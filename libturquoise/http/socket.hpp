// socket.hpp — non-blocking TCP sockets for the HTTP server and client (internal).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace turquoise::http::detail {

// A listening socket (non-blocking, close-on-exec, SO_REUSEADDR) on ip:port; -1 and `error`
// set on failure. `bound` gets the port actually bound (for port 0).
int listen_tcp(const std::string &ip, std::uint16_t port, int backlog, std::uint16_t &bound, std::string &error);

// A non-blocking connect to host:port under way (or done); -1 and `error` (and `err`, the
// errno, 0 for a name that does not resolve) on failure. The host is an IPv4 literal or a name
// (resolved with getaddrinfo, which blocks: prefer literals on the pool).
int connect_tcp(const std::string &host, std::uint16_t port, std::string &error, int &err);

// The pending error of a connecting socket (SO_ERROR), 0 if connected.
int socket_error(int fd);

// A monotonic clock in nanoseconds, for timeouts.
std::uint64_t now_ns();

// A readable description of an errno value for failure messages ("connection refused").
std::string describe(int err);

} // namespace turquoise::http::detail
