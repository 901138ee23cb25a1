// turquoise/metrics/endpoint.hpp — an HTTP endpoint serving the metrics registry: two routes
// on turquoise::http::Server (http/server.hpp: its limits, timeouts and keep-alive apply).
//
//   auto ep = metrics::serve(pool, 0);       // 127.0.0.1, port 0: any free port
//   ep.get().port();                           // the port bound
//   GET /metrics/snapshot  -> 200 application/json   (metrics::snapshot())
//   GET /metrics           -> 200 text/plain; version=0.0.4  (metrics::prometheus())
//   HEAD of either          -> the same headers, no body
//   other path             -> 404; other method on those paths -> 405 (Allow: GET, HEAD)
//   malformed request      -> the parser's status (400, 413, ...), then the connection closes
// Keep-alive and pipelining are supported (answers in order); "Connection: close" or HTTP/1.0
// without keep-alive closes after the answer. A query string is ignored.
//
// The Endpoint handle stops serving when stop() is called or it is destroyed (listening socket
// and every connection closed); it must be stopped before the pool is destroyed.
#ifndef TURQUOISE_METRICS_ENDPOINT_HPP
#define TURQUOISE_METRICS_ENDPOINT_HPP

#include <turquoise/async/try.hpp>
#include <turquoise/pool.hpp>
#include <turquoise/process/pid.hpp>

#include <cstdint>
#include <memory>
#include <string>

namespace turquoise::metrics {

class Endpoint {
public:
	struct state;
	explicit Endpoint(std::shared_ptr<state> s) : state_(std::move(s)) {}
	Endpoint(Endpoint &&) noexcept = default;
	Endpoint &operator=(Endpoint &&) noexcept = default;
	~Endpoint();

	std::uint16_t port() const;
	void stop();
	// Connections open now (tests).
	std::size_t connections() const;

private:
	std::shared_ptr<state> state_;
};

Try<Endpoint> serve(pool &p, std::uint16_t port);

// The libprocess way: a process (id "metrics" unless given) whose routes serve the same pages
// on the runtime's port (process/network.hpp): GET /metrics/snapshot (JSON) and GET
// /metrics/prometheus, as libprocess's /metrics/snapshot. It also registers gauges for the
// current runtime's remote-message counters ("remote/sent", "remote/received",
// "remote/dropped", "remote/not_found", "remote/bad_messages", "remote/connection_failures",
// "remote/exited") and "processes/unhandled_messages", removed when it terminates. The
// runtime deletes it once terminated (managed); empty UPID if the id is taken.
UPID spawn_process(const std::string &id = "metrics");

} // namespace turquoise::metrics

#endif
