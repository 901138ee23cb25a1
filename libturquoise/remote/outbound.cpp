// outbound.cpp — one outbound connection to a destination address (see outbound.hpp):
// messages are written in the order queued, by the sending task itself while the socket
// takes them, else by a reactor task once it is writable; nothing here blocks.
#include "outbound.hpp"

#include "../http/socket.hpp"

#include <turquoise/guarded_lock.hpp>
#include <turquoise/process/wire.hpp>

#include <cerrno>
#include <exception>
#include <sys/socket.h>
#include <unistd.h>

namespace turquoise::detail {
namespace {
using http::detail::now_ns;
constexpr std::size_t compact_at = 256 * 1024; // drop written bytes from `out` beyond this
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

bool outbound::enqueue(const Message &m) {
	critical cs;
	guarded_lock lock(mutex);
	if (state == phase::ended || out.size() - out_off > max_queued)
		return false;
	std::size_t before = out.size();
	wire::append_message(out, m);
	queued += out.size() - before;
	ends.push_back(queued);
	if (state == phase::open && !write_armed)
		flush_locked();
	return true;
}

// Write what the socket takes now; arm for the rest. (Under the lock; may end the connection
// through a posted task: a fault found here is reported by the reactor callbacks.)
void outbound::flush_locked() {
	while (out_off < out.size()) {
		ssize_t n = ::send(fd, out.data() + out_off, out.size() - out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			out_off += static_cast<std::size_t>(n);
			written += static_cast<std::uint64_t>(n);
			blocked_since_ns = 0;
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
	if (done)
		if (auto n = net.lock())
			n->count.sent.fetch_add(done, std::memory_order_relaxed);
	if (out_off == out.size()) {
		out.clear();
		out_off = 0;
		blocked_since_ns = 0;
	} else if (out_off >= compact_at) {
		out.erase(0, out_off);
		out_off = 0;
	}
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
	// The peer's answers (202/404) are read and ignored, as libprocess does.
	for (;;) {
		ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
		if (n > 0)
			continue;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		lock.get().unlock();
		end(n == 0 ? "closed by the peer" : "reset", n != 0);
		return;
	}
	arm_locked(false);
}

void outbound::check_timeouts(std::uint64_t connect_ns, std::uint64_t write_ns) {
	const char *why = nullptr;
	{
		critical cs;
		guarded_lock lock(mutex);
		// Read under the lock: a sender may have just set blocked_since_ns (a clock read
		// before it would make now - blocked_since_ns wrap around).
		std::uint64_t now = now_ns();
		if (state == phase::connecting && now - started_ns > connect_ns)
			why = "connect timeout";
		else if (state == phase::open && blocked_since_ns && now - blocked_since_ns > write_ns)
			why = "write timeout";
	}
	if (why)
		end(why, true);
}

bool outbound::add_link(const UPID &target, const std::string &linker, bool &ended) {
	critical cs;
	guarded_lock lock(mutex);
	ended = state == phase::ended;
	if (ended)
		return false;
	return links[target].insert(linker).second;
}

bool outbound::remove_link(const UPID &target, const std::string &linker) {
	critical cs;
	guarded_lock lock(mutex);
	auto it = links.find(target);
	if (it == links.end() || it->second.erase(linker) == 0)
		return false;
	if (it->second.empty())
		links.erase(it);
	return true;
}

void outbound::end(const char *, bool failure, bool report) {
	std::map<UPID, std::set<std::string>> gone;
	std::uint64_t dropped;
	bool was_open;
	{
		critical cs;
		guarded_lock lock(mutex);
		if (state == phase::ended)
			return;
		was_open = state == phase::open;
		state = phase::ended;
		if (fd >= 0) {
			reactor.forget(fd);
			::close(fd);
			fd = -1;
		}
		dropped = ends.size();
		ends.clear();
		std::string().swap(out);
		out_off = 0;
		gone.swap(links);
	}
	auto n = net.lock();
	if (!n)
		return;
	if (dropped)
		n->count.dropped.fetch_add(dropped, std::memory_order_relaxed);
	if (failure)
		n->count.connection_failures.fetch_add(1, std::memory_order_relaxed);
	if (was_open)
		n->count.outbound_open.fetch_sub(1, std::memory_order_relaxed);
	if (report)
		n->connection_ended(shared_from_this(), std::move(gone));
}

} // namespace turquoise::detail
