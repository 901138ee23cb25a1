// outbound_lifetime.cpp — when an outbound connection ends (see outbound.hpp): timeouts,
// the close of an idle unlinked connection (once the peer has answered every message), the
// links and remote-linker records that keep it open, and the end itself.
#include "outbound.hpp"

#include "../http/socket.hpp"

#include <turquoise/guarded_lock.hpp>

#include <unistd.h>

namespace turquoise::detail {

using http::detail::now_ns;

// Nothing to write, every answer read, no link and no remote linker's record depends on it:
// an unlinked connection may close, as libprocess closes its temporary sockets once their
// queue drains.
bool outbound::idle_locked() const {
	return state == phase::open && ends.empty() && out.empty() && answers_due == 0 &&
	       !answers_unreadable && links.empty() && holders == 0;
}

bool outbound::hold() {
	critical cs;
	guarded_lock lock(mutex);
	if (state == phase::ended)
		return false;
	++holders;
	idle_since_ns = 0;
	return true;
}

void outbound::release() {
	critical cs;
	guarded_lock lock(mutex);
	if (holders)
		--holders;
}
void outbound::count_answers_locked(std::string_view bytes) {
	while (!bytes.empty() && !answers_unreadable) {
		bytes.remove_prefix(answers.feed(bytes));
		answers.take_body(); // discarded as it comes: a peer's long answer costs no memory
		if (answers.ready()) {
			answers.take();
			if (answers_due)
				--answers_due;
		} else if (answers.failed()) {
			answers_unreadable = true; // not HTTP: such a peer's connection is never idle
		}
	}
}

void outbound::check_timeouts(std::uint64_t connect_ns, std::uint64_t write_ns, std::uint64_t linger_ns) {
	const char *why = nullptr;
	bool failure = true;
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
		else if (!idle_locked())
			idle_since_ns = 0;
		else if (!idle_since_ns)
			idle_since_ns = now;
		if (!why && idle_since_ns && (close_when_idle || now - idle_since_ns >= linger_ns)) {
			why = "idle";
			failure = false;
		}
	}
	if (why)
		end(why, failure);
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
		std::deque<std::string>().swap(out);
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
