// server.cpp — the HTTP server: listening, accepting, routes, the timeout sweeper, stop()
// (see turquoise/http/server.hpp; connections are in server_connection.cpp).
#include "server_state.hpp"
#include "socket.hpp"

#include <turquoise/guarded_lock.hpp>
#include <turquoise/metrics/metrics.hpp>

#include <algorithm>
#include <cerrno>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

namespace turquoise::http {
namespace {

using critical = turquoise::detail::critical;
using detail::server_connection;

constexpr int max_accepts = 64; // per task: a burst of connections does not hog a worker

constexpr std::string_view too_many =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 21\r\n"
    "Connection: close\r\n\r\ntoo many connections\n";

} // namespace

std::shared_ptr<const Server::Handler> Server::state::find_handler(std::string_view path) {
	guarded_lock lock(mutex);
	if (auto it = routes.find(path); it != routes.end())
		return it->second;
	// The longest route P with path = P + "/...".
	for (std::size_t slash = path.rfind('/'); slash != std::string_view::npos && slash > 0;
	     slash = path.rfind('/', slash - 1)) {
		if (auto it = routes.find(path.substr(0, slash)); it != routes.end())
			return it->second;
	}
	return fallback;
}

void Server::state::arm_accept() {
	auto self = shared_from_this();
	reactor.when_readable(listen_fd, [self] { self->on_acceptable(); });
}

void Server::state::on_acceptable() {
	std::vector<std::shared_ptr<server_connection>> fresh;
	{
		critical cs;
		guarded_lock lock(mutex);
		if (stopped)
			return;
		for (int k = 0; k < max_accepts; ++k) {
			int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
			if (fd < 0) {
				if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
					continue;
				if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
					// Out of descriptors: look again a little later instead of spinning on the
					// (still readable) listening socket.
					try {
						auto self = shared_from_this();
						reactor.after(std::chrono::milliseconds(10), [self] {
							critical cs;
							guarded_lock lock(self->mutex);
							if (!self->stopped)
								self->arm_accept();
						});
					} catch (const std::exception &) {
					}
					goto hand_over;
				}
				break; // EAGAIN
			}
			count.accepted.fetch_add(1, std::memory_order_relaxed);
			if (conns.size() >= options.max_connections) {
				count.rejected.fetch_add(1, std::memory_order_relaxed);
				[[maybe_unused]] ssize_t n = ::send(fd, too_many.data(), too_many.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
				::shutdown(fd, SHUT_WR);
				::close(fd);
				continue;
			}
			int one = 1;
			::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
			auto c = std::make_shared<server_connection>(shared_from_this(), fd);
			conns.emplace(c.get(), c);
			fresh.push_back(std::move(c));
		}
		try {
			arm_accept();
		} catch (const std::exception &) {
			// the pool is shutting down: no more connections
		}
	}
hand_over:
	// The first request usually comes with the connection: read it right away.
	for (auto &c : fresh) {
		try {
			reactor.post([c] { server_connection::run(c); });
		} catch (const std::exception &) {
			c->close_now();
		}
	}
	critical cs;
	fresh.clear();
}

void Server::state::arm_sweeper() {
	using std::chrono::milliseconds;
	milliseconds shortest = std::min({options.idle_timeout, options.request_timeout, options.write_timeout});
	milliseconds tick = std::clamp(shortest / 4, milliseconds(5), milliseconds(1000));
	auto weak = weak_from_this();
	sweeper = reactor.after(tick, [weak] {
		if (auto self = weak.lock())
			self->sweep();
	});
}

void Server::state::sweep() {
	std::vector<std::shared_ptr<server_connection>> all;
	{
		critical cs;
		guarded_lock lock(mutex);
		if (stopped)
			return;
		all.reserve(conns.size());
		for (auto &[p, c] : conns)
			all.push_back(c);
	}
	std::uint64_t now = detail::now_ns();
	for (auto &c : all)
		c->check_timeouts(now);
	critical cs;
	all.clear();
	guarded_lock lock(mutex);
	if (!stopped) {
		try {
			arm_sweeper();
		} catch (const std::exception &) {
		}
	}
}

void Server::state::forget_connection(server_connection *c) {
	std::shared_ptr<server_connection> last; // released after unlocking
	guarded_lock lock(mutex);
	auto it = conns.find(c);
	if (it != conns.end()) {
		last = std::move(it->second);
		conns.erase(it);
	}
}

Try<Nothing> Server::state::add_metrics() {
	const std::string &prefix = options.metrics_prefix;
	if (prefix.empty())
		return Nothing();
	std::weak_ptr<state> weak = weak_from_this();
	auto gauge = [&](const char *name, auto read) -> Try<Nothing> {
		metrics::Gauge g(prefix + "/" + name, [weak, read]() -> double {
			auto self = weak.lock();
			if (!self)
				throw std::runtime_error("stopped"); // omitted from the snapshot
			return static_cast<double>(read(*self));
		});
		// metrics::add completes at once (a duplicate name fails it).
		Future<Nothing> adding = metrics::add(g);
		Try<Nothing> added = adding.isReady() ? Try<Nothing>(Nothing())
		                                      : Try<Nothing>(Error(adding.failure()));
		if (added.isSome())
			metric_names.push_back(prefix + "/" + name);
		return added;
	};
	std::vector<Try<Nothing>> results;
	results.push_back(gauge("accepted", [](state &s) { return s.count.accepted.load(); }));
	results.push_back(gauge("requests", [](state &s) { return s.count.requests.load(); }));
	results.push_back(gauge("bad_requests", [](state &s) { return s.count.bad_requests.load(); }));
	results.push_back(gauge("rejected_connections", [](state &s) { return s.count.rejected.load(); }));
	results.push_back(gauge("timeouts", [](state &s) { return s.count.timeouts.load(); }));
	results.push_back(gauge("dropped", [](state &s) { return s.count.dropped.load(); }));
	results.push_back(gauge("open", [](state &s) {
		guarded_lock lock(s.mutex);
		return s.conns.size();
	}));
	for (auto &r : results)
		if (r.isError())
			return Error("metric " + r.error());
	return Nothing();
}

void Server::state::stop() {
	critical cs;
	std::unordered_map<server_connection *, std::shared_ptr<server_connection>> all;
	std::vector<std::string> names;
	{
		guarded_lock lock(mutex);
		if (stopped)
			return;
		stopped = true;
		reactor.forget(listen_fd);
		::close(listen_fd);
		reactor.cancel_timer(sweeper);
		all.swap(conns);
		names.swap(metric_names);
	}
	for (const std::string &name : names)
		metrics::remove(name);
	for (auto &[p, c] : all)
		c->close_now();
}

Try<Server> Server::listen(pool &p, server_options options) {
	critical cs;
	std::uint16_t bound = 0;
	std::string error;
	int fd = detail::listen_tcp(options.ip, options.port, options.backlog, bound, error);
	if (fd < 0)
		return Error("http::Server::listen: " + error);
	auto s = std::make_shared<state>(p, std::move(options), fd, bound);
	if (Try<Nothing> m = s->add_metrics(); m.isError()) {
		s->stop();
		return Error("http::Server::listen: " + m.error());
	}
	try {
		guarded_lock lock(s->mutex);
		s->arm_accept();
		s->arm_sweeper();
	} catch (const std::exception &e) {
		s->stop();
		return Error(std::string("http::Server::listen: ") + e.what());
	}
	return Server(std::move(s));
}

Server &Server::operator=(Server &&o) noexcept {
	if (this != &o) {
		stop();
		state_ = std::move(o.state_);
	}
	return *this;
}

Server::~Server() { stop(); }

void Server::route(std::string path, Handler handler) const {
	critical cs;
	auto h = std::make_shared<const Handler>(std::move(handler));
	guarded_lock lock(state_->mutex);
	state_->routes[std::move(path)] = std::move(h);
}

void Server::fallback(Handler handler) const {
	critical cs;
	auto h = std::make_shared<const Handler>(std::move(handler));
	guarded_lock lock(state_->mutex);
	state_->fallback = std::move(h);
}

std::uint16_t Server::port() const { return state_ ? state_->port : 0; }

const std::string &Server::ip() const { return state_->options.ip; }

void Server::stop() {
	if (state_)
		state_->stop();
}

std::size_t Server::connections() const {
	if (!state_)
		return 0;
	guarded_lock lock(state_->mutex);
	return state_->conns.size();
}

server_stats Server::stats() const {
	server_stats s;
	if (!state_)
		return s;
	const auto &c = state_->count;
	s.accepted = c.accepted.load();
	s.requests = c.requests.load();
	s.bad_requests = c.bad_requests.load();
	s.rejected_connections = c.rejected.load();
	s.timeouts = c.timeouts.load();
	s.dropped = c.dropped.load();
	s.open = connections();
	return s;
}

} // namespace turquoise::http
