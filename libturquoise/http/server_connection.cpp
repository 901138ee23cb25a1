// server_connection.cpp — one server connection: read, decode, hand requests to handlers,
// write the answers in request order (see server_state.hpp and turquoise/http/server.hpp).
#include "server_state.hpp"
#include "socket.hpp"
#include "text.hpp"

#include <turquoise/guarded_lock.hpp>

#include <cerrno>
#include <sys/socket.h>
#include <unistd.h>

namespace turquoise::http::detail {
namespace {

using critical = turquoise::detail::critical;

constexpr std::size_t read_chunk = 16 * 1024;
constexpr std::size_t read_cap = 256 * 1024;    // unparsed input kept at most (plus one chunk)
constexpr std::size_t keep_capacity = 256 * 1024; // output buffer kept between answers

} // namespace

server_connection::server_connection(std::shared_ptr<Server::state> s, int f)
    : server(std::move(s)), fd(f), parser(server->options.limits), last_activity_ns(now_ns()) {}

server_connection::~server_connection() {
	if (!closed) // dropped by the reactor (pool shutdown) without a close
		::close(fd);
}

void server_connection::run(const std::shared_ptr<server_connection> &c) {
	std::vector<job> jobs;
	std::optional<Pipe::Reader> stream;
	{
		critical cs;
		guarded_lock lock(c->mutex);
		if (c->closed || c->busy)
			return; // the driver (if any) will see what changed when it steps again
		c->busy = true;
	}
	for (;;) {
		{
			critical cs;
			guarded_lock lock(c->mutex);
			if (!c->closed)
				c->step_locked(jobs, now_ns());
			if (!c->closed && c->stream_read_due_locked()) {
				c->stream_read_out = true;
				stream = c->pending.front().stream;
			}
			if (c->closed || (jobs.empty() && !stream)) {
				c->busy = false;
				jobs.clear();
				return;
			}
		}
		// Outside the lock and outside critical sections: a handler may spin and be preempted
		// without holding up the reactor or other connections.
		for (job &j : jobs) {
			std::shared_ptr<const Server::Handler> h = c->server->find_handler(j.req.path);
			c->server->count.requests.fetch_add(1, std::memory_order_relaxed);
			Future<Response> f;
			if (!h) {
				f = NotFound("not found\n");
			} else {
				try {
					f = (*h)(j.req);
				} catch (const std::exception &e) {
					f = Failure(e.what());
				} catch (...) {
					f = Failure("handler threw");
				}
			}
			c->complete(j.seq, f);
		}
		if (stream) {
			Future<std::string> chunk = stream->read();
			chunk.onAny([c](const Future<std::string> &r) { c->on_chunk(r); });
			stream.reset();
		}
		critical cs;
		jobs.clear();
	}
}

void server_connection::complete(std::uint64_t seq, const Future<Response> &f) {
	if (!f.isPending()) { // answered at once (a message's 202): no callbacks to allocate
		fill(seq, f);
		return;
	}
	auto self = shared_from_this();
	f.onAny([self, seq](const Future<Response> &r) { self->fill(seq, r); });
	f.onAbandoned([self, seq] { self->fill(seq, Future<Response>()); });
}

void server_connection::fill(std::uint64_t seq, const Future<Response> &f) {
	critical cs;
	guarded_lock lock(mutex);
	if (closed || seq < first_seq || seq - first_seq >= pending.size())
		return;
	slot &s = pending[seq - first_seq];
	if (s.ready)
		return;
	if (f.isReady()) {
		const Response &r = f.get();
		// A handler may end the connection after its answer (e.g. a refused message).
		if (auto connection = r.find_header("Connection"); connection && iequals(*connection, "close"))
			s.keep_alive = false;
		append_response(s.bytes, r, s.keep_alive, s.head);
		if (r.reader && !s.head)
			s.stream = r.reader;
		else if (r.reader)
			close_stream_later(*r.reader); // HEAD: the stream is not sent
	} else if (f.isFailed()) {
		append_error(s.bytes, 500, f.failure());
	} else {
		append_error(s.bytes, 503, f.isDiscarded() ? "discarded" : "abandoned");
		s.keep_alive = false; // the request's fate is unknown: do not read on past it
	}
	s.ready = true;
	if (!busy)
		schedule();
}

void server_connection::on_chunk(const Future<std::string> &f) {
	critical cs;
	guarded_lock lock(mutex);
	stream_read_out = false;
	if (closed || !streaming)
		return;
	if (!f.isReady()) {
		close_locked(true); // no way to say "failed" in HTTP/1.1 but to cut the body short
		return;
	}
	append_chunk(out, f.get()); // "" is the last chunk
	if (f.get().empty()) {
		streaming = false;
		if (!pending.front().keep_alive)
			close_after_flush = true;
		pending.pop_front();
		++first_seq;
	}
	if (!busy)
		schedule();
}

bool server_connection::stream_read_due_locked() const {
	return streaming && !stream_read_out && out.size() - out_off < server->options.max_output;
}

void server_connection::close_stream_later(Pipe::Reader reader) {
	try {
		server->reactor.post([reader]() mutable { reader.close(); });
	} catch (const std::exception &) {
		// the pool is shutting down: the reader goes with it
	}
}

void server_connection::schedule() {
	auto self = shared_from_this();
	try {
		server->reactor.post([self] { run(self); });
	} catch (const std::exception &) {
		close_locked(false); // the pool is shutting down
	}
}

void server_connection::step_locked(std::vector<job> &jobs, std::uint64_t now) {
	if (lingering) {
		linger_locked();
		arm_locked();
		return;
	}
	parse_locked(jobs, now); // what an earlier read left (pipelining limit)
	flush_locked(now);
	if (!closed)
		read_locked(jobs, now);
	if (!closed)
		flush_locked(now); // decoder errors are answered at once
	if (closed)
		return;
	bool flushed = pending.empty() && out_off == out.size();
	if (flushed && close_after_flush) {
		linger_locked();
	} else if (flushed && peer_eof && jobs.empty()) {
		close_locked(false); // a partial request, if any, is dropped
		return;
	}
	arm_locked();
}

void server_connection::flush_locked(std::uint64_t now) {
	while (!streaming && !pending.empty() && pending.front().ready) {
		slot &s = pending.front();
		if (out.empty())
			out.swap(s.bytes);
		else
			out += s.bytes;
		if (s.stream) {
			streaming = true; // the slot stays until its last chunk
			break;
		}
		if (!s.keep_alive)
			close_after_flush = true;
		pending.pop_front();
		++first_seq;
	}
	while (out_off < out.size()) {
		ssize_t n = ::send(fd, out.data() + out_off, out.size() - out_off, MSG_NOSIGNAL);
		if (n > 0) {
			out_off += static_cast<std::size_t>(n);
			last_activity_ns = now;
			write_blocked_ns = 0;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (!write_blocked_ns)
				write_blocked_ns = now;
			return;
		} else {
			close_locked(true); // EPIPE, ECONNRESET: the peer is gone
			return;
		}
	}
	out.clear();
	out_off = 0;
	write_blocked_ns = 0;
	if (out.capacity() > keep_capacity)
		out.shrink_to_fit();
}

void server_connection::read_locked(std::vector<job> &jobs, std::uint64_t now) {
	const server_options &o = server->options;
	if (close_after_flush || peer_eof || pending.size() >= o.max_pipelined || out.size() - out_off >= o.max_output)
		return;
	if (in_off == in.size()) {
		in.clear();
		in_off = 0;
		if (in.capacity() > 2 * (read_cap + read_chunk)) // kept: what a full read grew it to
			in.shrink_to_fit();
	} else if (in_off > 0 && in_off >= in.size() - in_off) {
		// Amortized: the unparsed rest moves only once the parsed part is at least as long
		// (a read buffer full of pipelined requests, parsed max_pipelined at a time, is not
		// moved after each batch).
		in.erase(0, in_off);
		in_off = 0;
	}
	char buf[read_chunk];
	while (in.size() - in_off < read_cap) {
		ssize_t n = ::recv(fd, buf, sizeof buf, 0);
		if (n > 0) {
			in.append(buf, static_cast<std::size_t>(n));
			last_activity_ns = now;
			if (static_cast<std::size_t>(n) < sizeof buf)
				break; // most likely all there is: the reactor tells us about more
		} else if (n == 0) {
			peer_eof = true;
			break;
		} else if (errno == EINTR) {
			continue;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			break;
		} else {
			close_locked(true);
			return;
		}
	}
	parse_locked(jobs, now);
}

void server_connection::parse_locked(std::vector<job> &jobs, std::uint64_t now) {
	while (!close_after_flush && pending.size() < server->options.max_pipelined && in_off < in.size()) {
		in_off += parser.feed(std::string_view(in).substr(in_off));
		if (parser.ready()) {
			Request r = parser.take();
			request_started_ns = 0;
			slot s;
			s.head = r.method == "HEAD";
			s.keep_alive = r.keep_alive;
			if (!r.keep_alive)
				close_after_flush = true; // nothing after it is read
			pending.push_back(std::move(s));
			jobs.push_back(job{first_seq + pending.size() - 1, std::move(r)});
		} else if (parser.failed()) {
			slot s;
			s.ready = true;
			s.keep_alive = false;
			append_error(s.bytes, status_for(parser.error()), to_string(parser.error()));
			pending.push_back(std::move(s));
			close_after_flush = true;
			server->count.bad_requests.fetch_add(1, std::memory_order_relaxed);
		} else {
			break; // the rest of the request is still to come
		}
	}
	if (close_after_flush) {
		in.clear();
		in_off = 0;
	}
	if ((!parser.idle() || in_off < in.size()) && !close_after_flush && request_started_ns == 0)
		request_started_ns = now;
}

void server_connection::arm_locked() {
	if (closed)
		return;
	const server_options &o = server->options;
	bool want_write = out_off < out.size();
	bool want_read = lingering || (!close_after_flush && !peer_eof && pending.size() < o.max_pipelined &&
	                               out.size() - out_off < o.max_output);
	auto self = shared_from_this();
	try {
		if (want_write && !write_armed) {
			server->reactor.when_writable(fd, [self] {
				{
					critical cs;
					guarded_lock lock(self->mutex);
					self->write_armed = false;
				}
				run(self);
			});
			write_armed = true;
		}
		if (want_read && !read_armed) {
			server->reactor.when_readable(fd, [self] {
				{
					critical cs;
					guarded_lock lock(self->mutex);
					self->read_armed = false;
				}
				run(self);
			});
			read_armed = true;
		}
	} catch (const std::exception &) {
		close_locked(false); // the pool is shutting down
	}
}

} // namespace turquoise::http::detail
