// connection_pool.cpp — the client's idle keep-alive connections, per host:port
// (see client_state.hpp).
#include "client_state.hpp"
#include "socket.hpp"

#include <turquoise/guarded_lock.hpp>

namespace turquoise::http {

using critical = turquoise::detail::critical;

// The most recently used connection first (its peer is the least likely to have timed it
// out); stale and broken ones are closed on the way.
std::shared_ptr<detail::client_connection> Client::state::take(const std::string &key) {
	critical cs;
	std::vector<std::shared_ptr<detail::client_connection>> dead;
	std::shared_ptr<detail::client_connection> found;
	{
		guarded_lock lock(mutex_);
		auto it = idle_.find(key);
		if (it == idle_.end())
			return nullptr;
		std::uint64_t now = detail::now_ns();
		std::uint64_t max_age = static_cast<std::uint64_t>(options.idle_timeout.count()) * 1'000'000u;
		auto &list = it->second;
		while (!list.empty() && !found) {
			idle_entry e = std::move(list.back());
			list.pop_back();
			if (now - e.since_ns <= max_age && e.conn->reusable())
				found = std::move(e.conn);
			else
				dead.push_back(std::move(e.conn));
		}
		if (list.empty())
			idle_.erase(it);
	}
	for (auto &c : dead)
		c->close_now();
	return found;
}

void Client::state::give(const std::string &key, std::shared_ptr<detail::client_connection> c) {
	critical cs;
	std::shared_ptr<detail::client_connection> evicted;
	{
		guarded_lock lock(mutex_);
		if (!closed_) {
			auto &list = idle_[key];
			if (list.size() >= options.max_idle_per_host) {
				evicted = std::move(list.front().conn); // the oldest
				list.pop_front();
			}
			list.push_back(idle_entry{std::move(c), detail::now_ns()});
		} else {
			evicted = std::move(c);
		}
	}
	if (evicted)
		evicted->close_now();
}

std::size_t Client::state::idle_count() {
	guarded_lock lock(mutex_);
	std::size_t n = 0;
	for (auto &[k, list] : idle_)
		n += list.size();
	return n;
}

void Client::state::close_idle() {
	critical cs;
	std::unordered_map<std::string, std::deque<idle_entry>> all;
	{
		guarded_lock lock(mutex_);
		closed_ = true;
		all.swap(idle_);
	}
	for (auto &[k, list] : all)
		for (auto &e : list)
			e.conn->close_now();
}

} // namespace turquoise::http
