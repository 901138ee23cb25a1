// server_closing.cpp — how a server connection ends: the timeout checks, the lingering close
// after the last answer, and the close itself (see server_state.hpp and http/server.hpp).
#include "server_state.hpp"
#include "socket.hpp"

#include <turquoise/guarded_lock.hpp>

#include <cerrno>
#include <sys/socket.h>
#include <unistd.h>

namespace turquoise::http::detail {
namespace {

using critical = turquoise::detail::critical;

constexpr std::size_t linger_cap = 1024 * 1024; // bytes drained after our last answer
constexpr std::uint64_t linger_ns = 2'000'000'000;

std::uint64_t ns(std::chrono::milliseconds d) { return static_cast<std::uint64_t>(d.count()) * 1'000'000u; }

} // namespace

// After our last answer: half-close, then read and discard until the peer's FIN (bounded), so
// that input still arriving does not make our kernel reset the connection before the peer has
// read the answer.
void server_connection::linger_locked() {
	if (!lingering) {
		lingering = true;
		last_activity_ns = now_ns();
		::shutdown(fd, SHUT_WR);
	}
	char buf[4096];
	for (;;) {
		ssize_t n = ::recv(fd, buf, sizeof buf, 0);
		if (n > 0) {
			drained += static_cast<std::size_t>(n);
			if (drained > linger_cap)
				return close_locked(false);
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			return;
		} else {
			return close_locked(false);
		}
	}
}

void server_connection::check_timeouts(std::uint64_t now) {
	critical cs;
	guarded_lock lock(mutex);
	if (closed)
		return;
	const server_options &o = server->options;
	auto over = [now](std::uint64_t since, std::uint64_t limit) { return since && now > since && now - since > limit; };
	if (lingering) {
		if (over(last_activity_ns, linger_ns))
			close_locked(false);
		return;
	}
	if (over(write_blocked_ns, ns(o.write_timeout))) {
		server->count.timeouts.fetch_add(1, std::memory_order_relaxed);
		return close_locked(false);
	}
	if (busy || !pending.empty() || out_off < out.size())
		return; // we owe answers: the handlers' time, not the peer's
	if (over(request_started_ns, ns(o.request_timeout))) {
		server->count.timeouts.fetch_add(1, std::memory_order_relaxed);
		append_error(out, 408, "request timeout");
		close_after_flush = true;
		in.clear();
		in_off = 0;
		schedule();
	} else if (!request_started_ns && over(last_activity_ns, ns(o.idle_timeout))) {
		server->count.timeouts.fetch_add(1, std::memory_order_relaxed);
		close_locked(false);
	}
}

void server_connection::close_now() {
	critical cs;
	guarded_lock lock(mutex);
	close_locked(false);
}

void server_connection::close_locked(bool count_drop) {
	if (closed)
		return;
	closed = true;
	server->reactor.forget(fd);
	::close(fd);
	if (count_drop)
		server->count.dropped.fetch_add(1, std::memory_order_relaxed);
	// A streamed answer's producer learns that nobody reads any more (readerClosed()); closed
	// from a task of its own, since its callbacks must not run under our lock.
	for (slot &s : pending)
		if (s.stream)
			close_stream_later(std::move(*s.stream));
	pending.clear();
	std::string().swap(in);
	std::string().swap(out);
	server->forget_connection(this);
}

} // namespace turquoise::http::detail
