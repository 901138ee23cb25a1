// endpoint.cpp — the metrics HTTP endpoint: two routes on an HTTP server of its own, or on a
// process's routes on the runtime's port (see turquoise/metrics/endpoint.hpp).
#include <turquoise/metrics/endpoint.hpp>

#include <turquoise/http/server.hpp>
#include <turquoise/metrics/metrics.hpp>
#include <turquoise/process/process.hpp>

#include <vector>

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

// The pages as process routes: /<id>/snapshot and /<id>/prometheus, plus the gauges of the
// runtime's remote-message counters.
class metrics_process final : public Process<metrics_process> {
public:
	explicit metrics_process(const std::string &id) : ProcessBase(id) {}

protected:
	void initialize() override {
		// (page() compares the whole path: /<id>/snapshot.)
		// The paths are built by appending: GCC 12 at -O3 warns falsely (-Wrestrict) on
		// "/" + std::string.
		std::string base = "/";
		base += self().id;
		route("/snapshot", None(), page(base + "/snapshot", true));
		route("/prometheus", None(), page(base + "/prometheus", false));
		runtime *rt = &runtime::current();
		auto remote = [this, rt](const char *name, std::uint64_t network_stats::*field) {
			gauges_.emplace_back(std::string("remote/") + name,
			                     [rt, field] { return static_cast<double>(rt->network().*field); });
		};
		remote("sent", &network_stats::sent);
		remote("received", &network_stats::received);
		remote("dropped", &network_stats::dropped);
		remote("not_found", &network_stats::not_found);
		remote("bad_messages", &network_stats::bad_messages);
		remote("connection_failures", &network_stats::connection_failures);
		remote("exited", &network_stats::exited);
		gauges_.emplace_back("processes/unhandled_messages",
		                     [] { return static_cast<double>(ProcessManager::stats().unhandled); });
		for (auto &g : gauges_)
			added_.push_back(add(g).isReady());
	}
	void finalize() override {
		for (std::size_t i = 0; i < gauges_.size(); ++i)
			if (added_[i])
				remove(gauges_[i]);
	}

private:
	std::vector<Gauge> gauges_;
	std::vector<bool> added_;
};

} // namespace

UPID spawn_process(const std::string &id) {
	metrics_process *p;
	{
		detail::critical c;
		p = new metrics_process(id);
	}
	return spawn(p, true);
}

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
