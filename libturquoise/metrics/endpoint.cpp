// endpoint.cpp — the metrics HTTP endpoint (see turquoise/metrics/endpoint.hpp).
#include <turquoise/metrics/endpoint.hpp>

#include <turquoise/async/future.hpp>
#include <turquoise/guarded_lock.hpp>
#include <turquoise/http.hpp>
#include <turquoise/metrics/metrics.hpp>

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace turquoise::metrics {

namespace {
constexpr std::size_t read_chunk = 16 * 1024;
constexpr int max_accepts = 64; // per task
} // namespace

struct connection {
	connection(int fd) : fd(fd) {}
	std::mutex mutex;
	int fd;
	bool closed = false;
	bool close_after_flush = false;
	http::request_parser parser;
	std::string out; // answers not yet written
	std::size_t written = 0;
};

struct Endpoint::state : std::enable_shared_from_this<Endpoint::state> {
	state(pool &p, int fd, std::uint16_t port) : reactor(p), listen_fd(fd), port(port) {}
	pool &reactor;
	std::mutex mutex;
	int listen_fd;
	const std::uint16_t port;
	bool stopped = false;
	std::map<connection *, std::shared_ptr<connection>> conns;

	void on_acceptable();
	void arm_accept_locked();
	void on_io(const std::shared_ptr<connection> &c);
	void close_conn(const std::shared_ptr<connection> &c);
	void stop();
};

namespace {

void answer(connection &c, const http::request &req) {
	http::response r;
	std::string body;
	bool head = req.method == "HEAD";
	if (req.path == "/metrics/snapshot" || req.path == "/metrics") {
		if (req.method == "GET" || head) {
			bool json = req.path == "/metrics/snapshot";
			body = json ? snapshot() : prometheus();
			r.content_type = json ? "application/json" : "text/plain; version=0.0.4";
		} else {
			r.status = 405;
			r.extra_headers.push_back({"Allow", "GET, HEAD"});
			body = "method not allowed\n";
		}
	} else {
		r.status = 404;
		body = "not found\n";
	}
	r.keep_alive = req.keep_alive;
	r.body = body;
	std::string resp = http::make_response(r);
	if (head) {
		// The same headers (Content-Length of the body) without the body.
		resp.resize(resp.size() - body.size());
	}
	c.out += resp;
	if (!req.keep_alive)
		c.close_after_flush = true;
}

void answer_error(connection &c, http::parse_error e) {
	http::response r;
	r.status = http::status_for(e);
	std::string body = std::string(http::to_string(e)) + "\n";
	r.body = body;
	r.keep_alive = false;
	c.out += http::make_response(r);
	c.close_after_flush = true;
}

} // namespace

void Endpoint::state::arm_accept_locked() {
	auto self = shared_from_this();
	reactor.when_readable(listen_fd, [self] { self->on_acceptable(); });
}

void Endpoint::state::on_acceptable() {
	detail::critical cs;
	std::vector<std::shared_ptr<connection>> fresh;
	{
		guarded_lock lock(mutex);
		if (stopped)
			return;
		for (int i = 0; i < max_accepts; ++i) {
			int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
			if (fd < 0) {
				if (errno == EINTR || errno == ECONNABORTED)
					continue;
				break; // EAGAIN, or out of fds (EMFILE): try again on the next wake-up
			}
			auto c = std::make_shared<connection>(fd);
			conns.emplace(c.get(), c);
			fresh.push_back(std::move(c));
		}
		try {
			arm_accept_locked();
		} catch (const std::exception &) {
			// pool shut down: stop accepting
		}
	}
	auto self = shared_from_this();
	for (auto &c : fresh) {
		guarded_lock lock(c->mutex);
		if (c->closed)
			continue;
		try {
			reactor.when_readable(c->fd, [self, c] { self->on_io(c); });
		} catch (const std::exception &) {
			c->closed = true;
			::close(c->fd);
		}
	}
}

void Endpoint::state::on_io(const std::shared_ptr<connection> &c) {
	detail::critical cs; // parsing and rendering allocate throughout
	bool drop = false;
	{
		guarded_lock lock(c->mutex);
		if (c->closed)
			return;
		// Read what is there (unless an answer is still being written: back-pressure).
		if (c->out.size() == c->written && !c->close_after_flush) {
			char buf[read_chunk];
			ssize_t n;
			do
				n = ::read(c->fd, buf, sizeof buf);
			while (n < 0 && errno == EINTR);
			if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
				drop = true;
			} else if (n > 0) {
				std::string_view in(buf, static_cast<std::size_t>(n));
				for (;;) {
					in.remove_prefix(c->parser.feed(in));
					if (c->parser.ready()) {
						http::request req = c->parser.take();
						answer(*c, req);
						if (c->close_after_flush)
							break;
						continue;
					}
					if (c->parser.failed()) {
						answer_error(*c, c->parser.error());
						break;
					}
					if (in.empty())
						break;
				}
			}
		}
		// Write what is pending.
		while (!drop && c->written < c->out.size()) {
			ssize_t n = ::send(c->fd, c->out.data() + c->written, c->out.size() - c->written,
			                   MSG_NOSIGNAL);
			if (n > 0) {
				c->written += static_cast<std::size_t>(n);
				continue;
			}
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				break;
			drop = true;
		}
		if (!drop && c->written == c->out.size()) {
			c->out.clear();
			c->written = 0;
			if (c->close_after_flush)
				drop = true;
		}
		if (!drop) {
			auto self = shared_from_this();
			try {
				if (c->written < c->out.size())
					reactor.when_writable(c->fd, [self, c] { self->on_io(c); });
				else
					reactor.when_readable(c->fd, [self, c] { self->on_io(c); });
			} catch (const std::exception &) {
				drop = true;
			}
		}
		if (drop) {
			c->closed = true;
			reactor.forget(c->fd);
			::close(c->fd);
		}
	}
	if (drop) {
		guarded_lock lock(mutex);
		conns.erase(c.get());
	}
}

void Endpoint::state::stop() {
	detail::critical cs;
	std::map<connection *, std::shared_ptr<connection>> all;
	{
		guarded_lock lock(mutex);
		if (stopped)
			return;
		stopped = true;
		reactor.forget(listen_fd);
		::close(listen_fd);
		all.swap(conns);
	}
	for (auto &[p, c] : all) {
		guarded_lock lock(c->mutex);
		if (c->closed)
			continue;
		c->closed = true;
		reactor.forget(c->fd);
		::close(c->fd);
	}
}

Endpoint::~Endpoint() { stop(); }

void Endpoint::stop() {
	if (state_)
		state_->stop();
}

std::uint16_t Endpoint::port() const { return state_ ? state_->port : 0; }

std::size_t Endpoint::connections() const {
	if (!state_)
		return 0;
	guarded_lock lock(state_->mutex);
	return state_->conns.size();
}

Try<Endpoint> serve(pool &p, std::uint16_t port) {
	detail::critical cs;
	int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return Error(std::string("metrics::serve: socket: ") + std::strerror(errno));
	int one = 1;
	::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	sockaddr_in addr{};
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	addr.sin_port = htons(port);
	socklen_t len = sizeof addr;
	if (::bind(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0 || ::listen(fd, 128) != 0 ||
	    ::getsockname(fd, reinterpret_cast<sockaddr *>(&addr), &len) != 0) {
		int e = errno;
		::close(fd);
		return Error("metrics::serve: port " + std::to_string(port) + ": " + std::strerror(e));
	}
	auto s = std::make_shared<Endpoint::state>(p, fd, ntohs(addr.sin_port));
	try {
		guarded_lock lock(s->mutex);
		s->arm_accept_locked();
	} catch (const std::exception &e) {
		::close(fd);
		s->stopped = true;
		return Error(std::string("metrics::serve: ") + e.what());
	}
	return Endpoint(std::move(s));
}

} // namespace turquoise::metrics
