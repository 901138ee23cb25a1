// endpoint.cpp — the metrics HTTP endpoint: two routes on the HTTP server
// (see turquoise/metrics/endpoint.hpp).
#include <turquoise/metrics/endpoint.hpp>

#include <turquoise/http/server.hpp>
#include <turquoise/metrics/metrics.hpp>

namespace turquoise::metrics {

struct Endpoint::state {
	explicit state(http::Server s) : server(std::move(s)) {}
	http::Server server;
};

namespace {

// Exactly `path` (the server also routes "/metrics/x" to "/metrics"), GET or HEAD.
http::Server::Handler page(std::string path, bool json) {
	return [path = std::move(path), json](const http::Request &req) -> Future<http::Response> {
		if (req.path != path)
			return http::NotFound("not found\n");
		if (req.method != "GET" && req.method != "HEAD")
			return http::MethodNotAllowed("GET, HEAD");
		detail::critical c; // rendering allocates throughout
		if (json)
			return http::OK(snapshot(), "application/json");
		return http::OK(prometheus(), "text/plain; version=0.0.4");
	};
}

} // namespace

Endpoint::~Endpoint() { stop(); }

void Endpoint::stop() {
	if (state_)
		state_->server.stop();
}

std::uint16_t Endpoint::port() const { return state_ ? state_->server.port() : 0; }

std::size_t Endpoint::connections() const { return state_ ? state_->server.connections() : 0; }

Try<Endpoint> serve(pool &p, std::uint16_t port) {
	http::server_options options;
	options.port = port;
	Try<http::Server> server = http::Server::listen(p, options);
	if (server.isError())
		return Error("metrics::serve: " + server.error());
	server.get().route("/metrics/snapshot", page("/metrics/snapshot", true));
	server.get().route("/metrics", page("/metrics", false));
	return Endpoint(std::make_shared<Endpoint::state>(std::move(server).get()));
}

} // namespace turquoise::metrics
