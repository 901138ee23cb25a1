// outbound.cpp — one outbound connection to a destination address (see outbound.hpp):
// messages are written in the order queued, by the sending task itself after a quiet spell,
// by a flush posted behind it during a burst, else by a reactor task once the socket is
// writable; nothing here blocks. (outbound_lifetime.cpp: when the connection ends.)
#include "outbound.hpp"

#include "../http/socket.hpp"

#include <turquoise/guarded_lock.hpp>
#include <turquoise/process/wire.hpp>

#include <cerrno>
#include <exception>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

namespace turquoise::detail {
namespace {
using http::detail::now_ns;
constexpr std::size_t segment_cap = 64 * 1024;    // small messages share segments up to this
constexpr std::size_t own_segment_at = 16 * 1024; // a body this large is a segment of its own
constexpr std::size_t max_iov = 64;               // segments per sendmsg
// A message queued this soon after the last write waits for the posted flush (a burst).
constexpr std::uint64_t burst_gap_ns = 50'000;
// Unwritten bytes beyond which a sender writes at once instead of leaving it to the posted
// flush: bounds the memory and the delay of one handler's long burst.
constexpr std::size_t flush_inline_at = 256 * 1024;
} // namespace

outbound::~outbound() {
	if (fd >= 0)
		::close(fd);
}

void outbound::start() {
	std::string error;
	int err = 0;
	critical cs;
	guarded_lock lock(mutex);
	started_ns = now_ns();
	fd = http::detail::connect_tcp(to.host, to.port, error, err);
	if (fd < 0) {
		lock.get().unlock();
		end("connect failed", true);
		return;
	}
	arm_locked(true); // connected (or refused) once writable
}

// Wait for the socket to be readable (write = false) or writable, once.
void outbound::arm_locked(bool write) {
	bool &armed = write ? write_armed : read_armed;
	if (armed || state == phase::ended || (!write && state != phase::open))
		return;
	armed = true;
	std::weak_ptr<outbound> weak = weak_from_this();
	auto wake = [weak, write] {
		if (auto c = weak.lock())
			write ? c->on_writable() : c->on_readable();
	};
	try {
		if (write)
			reactor.when_writable(fd, wake);
		else
			reactor.when_readable(fd, wake);
	} catch (const std::exception &) {
		armed = false; // the pool is shutting down: the network ends us
	}
}

outbound::queued_as outbound::enqueue(Message &&m) {
	critical cs;
	guarded_lock lock(mutex);
	if (state == phase::ended)
		return queued_as::ended;
	if (queued - written > max_queued)
		return queued_as::full;
	// Small messages are encoded one after the other into a shared segment; a large body
	// becomes a segment of its own, moved, not copied (flush_locked writes them with one
	// sendmsg).
	if (out.empty() || out.back().size() >= segment_cap)
		out.emplace_back();
	std::string_view tail = wire::message_tail(m);
	std::size_t size = out.back().size();
	wire::append_message_head(out.back(), m);
	queued += out.back().size() - size + m.body.size() + tail.size();
	if (m.body.size() >= own_segment_at) {
		out.push_back(std::move(m.body));
		out.emplace_back(tail);
	} else {
		out.back() += m.body;
		out.back() += tail;
	}
	ends.push_back(queued);
	idle_since_ns = 0;
	if (state != phase::open || write_armed)
		return queued_as::queued; // the writable callback writes it
	// A message after a quiet spell (a request, a reply) goes out at once; one that follows
	// a write closely is likely part of a burst: it waits for the posted flush, with what
	// else the sending task queues. A long burst still writes every flush_inline_at bytes.
	std::uint64_t now = 0;
	if (queued - written < flush_inline_at) {
		if (flush_posted)
			return queued_as::queued;
		now = now_ns();
		if (now - last_flush_ns <= burst_gap_ns) {
			post_flush_locked();
			return queued_as::queued;
		}
	}
	last_flush_ns = now ? now : now_ns();
	flush_locked();
	return queued_as::queued;
}

// Coalescing: a message of a burst posts one flush, which runs on this worker right after
// the sending task (post_next); messages the task queues meanwhile go out with it in one
// send instead of one send each.
void outbound::post_flush_locked() {
	flush_posted = true;
	std::weak_ptr<outbound> weak = weak_from_this();
	try {
		reactor.post_next([weak] {
			if (auto c = weak.lock()) {
				critical cs;
				guarded_lock lock(c->mutex);
				c->flush_posted = false;
				if (c->state == phase::open && !c->write_armed) {
					c->last_flush_ns = now_ns();
					c->flush_locked();
				}
			}
		});
	} catch (const std::exception &) {
		flush_posted = false; // the pool is shutting down: the network ends us
	}
}

// Write what the socket takes now; arm for the rest. (Under the lock; may end the connection
// through a posted task: a fault found here is reported by the reactor callbacks.)
void outbound::flush_locked() {
	while (!out.empty()) {
		iovec iov[max_iov];
		msghdr msg{};
		std::size_t skip = out_off;
		for (auto it = out.begin(); it != out.end() && msg.msg_iovlen < max_iov; ++it, skip = 0)
			iov[msg.msg_iovlen++] = iovec{it->data() + skip, it->size() - skip};
		msg.msg_iov = iov;
		ssize_t n = ::sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			written += static_cast<std::uint64_t>(n);
			blocked_since_ns = 0;
			for (std::size_t left = static_cast<std::size_t>(n); left;) {
				std::size_t rest = out.front().size() - out_off;
				if (left < rest) {
					out_off += left;
					break;
				}
				left -= rest;
				out.pop_front();
				out_off = 0;
			}
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (!blocked_since_ns)
				blocked_since_ns = now_ns();
			arm_locked(true);
		}
		// Another error: the read side sees the reset or close and ends the connection.
		break;
	}
	std::uint64_t done = 0;
	while (!ends.empty() && ends.front() <= written) {
		ends.pop_front();
		++done;
	}
	answers_due += done;
	if (done)
		if (auto n = net.lock())
			n->count.sent.fetch_add(done, std::memory_order_relaxed);
	if (out.empty())
		blocked_since_ns = 0;
}

void outbound::on_writable() {
	critical cs;
	guarded_lock lock(mutex);
	write_armed = false;
	if (state == phase::ended)
		return;
	if (state == phase::connecting) {
		if (http::detail::socket_error(fd) != 0) {
			lock.get().unlock();
			end("connect failed", true);
			return;
		}
		state = phase::open;
		if (auto n = net.lock()) {
			n->count.connections_opened.fetch_add(1, std::memory_order_relaxed);
			n->count.outbound_open.fetch_add(1, std::memory_order_relaxed);
		}
		arm_locked(false);
	}
	flush_locked();
}

void outbound::on_readable() {
	char buf[16 * 1024];
	critical cs;
	guarded_lock lock(mutex);
	read_armed = false;
	if (state != phase::open)
		return;
	// The peer's answers (202/404) are read and ignored, as libprocess does; counted, to know
	// when the peer has taken every message.
	for (;;) {
		ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
		if (n > 0) {
			count_answers_locked(std::string_view(buf, static_cast<std::size_t>(n)));
			if (static_cast<std::size_t>(n) < sizeof buf)
				break; // most likely all there is (readiness is level-triggered: no loss)
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		lock.get().unlock();
		end(n == 0 ? "closed by the peer" : "reset", n != 0);
		return;
	}
	if (idle_locked()) {
		if (close_when_idle) {
			lock.get().unlock();
			end("idle", false);
			return;
		}
		if (!idle_since_ns)
			idle_since_ns = now_ns();
	}
	arm_locked(false);
}

} // namespace turquoise::detail
