// links.cpp — links between our processes and remote ones (see turquoise/process/network.hpp):
// our links (a persistent connection to the target's address and a turquoise.link message),
// the remote linkers of our processes (answered with turquoise.exited, forgotten when their
// host is lost), and the exited notifications when a connection ends.
#include "events.hpp"
#include "network.hpp"
#include "outbound.hpp"

#include <turquoise/guarded_lock.hpp>

namespace turquoise::detail {

void network::link(const UPID &linker_pid, const UPID &target_pid) {
	UPID linker = linker_pid, target = target_pid;
	linker.reference.reset();
	target.reference.reset();
	name_sender(linker);
	std::shared_ptr<outbound> c = connection_to(target.address);
	bool ended = !c;
	bool added = c && c->add_link(target, linker.id, ended);
	if (ended && c) { // closed idle (or failed) meanwhile: a new one tells
		c = connection_to(target.address, c);
		ended = !c;
		added = c && c->add_link(target, linker.id, ended);
	}
	if (added) {
		Message m;
		m.name = link_message;
		m.from = linker;
		m.to = target;
		c->enqueue(std::move(m));
	}
	if (ended) {
		count.exited.fetch_add(1, std::memory_order_relaxed);
		deliver_exited(linker_pid, target);
	}
}

void network::remote_exited(const UPID &target, const std::string &linker) {
	std::shared_ptr<outbound> c;
	{
		guarded_lock lock(mutex);
		if (auto it = connections.find(target.address); it != connections.end())
			c = it->second;
	}
	if (c && c->remove_link(target, linker)) {
		count.exited.fetch_add(1, std::memory_order_relaxed);
		deliver_exited(find_local(linker), target);
	}
}

void network::remote_linked(const UPID &linker, const std::string &target) {
	{
		guarded_lock lock(mutex);
		if (stopped || remote_linkers.count({target, linker}))
			return;
	}
	// Watch the linker's host through our connection to it: held open while the record
	// lives, its end (the host lost) drops the record instead of keeping it until ours ends.
	std::shared_ptr<outbound> c = connection_to(linker.address);
	if (c && !c->hold()) {
		c = connection_to(linker.address, c);
		if (c && !c->hold())
			c = nullptr;
	}
	if (!c)
		return; // stopping, or the linker's host is unreachable: nobody to tell
	{
		guarded_lock lock(mutex);
		if (stopped || !remote_linkers.emplace(std::make_pair(target, linker), c).second) {
			lock.get().unlock();
			c->release();
			return;
		}
	}
	UPID pid = find_local(target);
	Address ours = address().getOrElse(Address{});
	std::weak_ptr<network> weak = weak_from_this();
	auto report = [weak, target, linker, ours] {
		auto n = weak.lock();
		if (!n)
			return;
		std::shared_ptr<outbound> held;
		{
			guarded_lock lock(n->mutex);
			auto it = n->remote_linkers.find({target, linker});
			if (it == n->remote_linkers.end())
				return; // dropped: the linker's host was lost
			held = std::move(it->second);
			n->remote_linkers.erase(it);
		}
		held->release();
		Message m;
		m.name = exited_message;
		m.from = UPID(target, ours);
		m.to = linker;
		n->send(std::move(m));
	};
	if (!pid)
		report();
	else
		when_terminated(pid).onAny([report](const Future<Nothing> &) { report(); });
}

void network::connection_ended(const std::shared_ptr<outbound> &c, std::map<UPID, std::set<std::string>> links) {
	{
		guarded_lock lock(mutex);
		if (auto it = connections.find(c->to); it != connections.end() && it->second == c)
			connections.erase(it);
		for (auto it = remote_linkers.begin(); it != remote_linkers.end();)
			it = it->second == c ? remote_linkers.erase(it) : std::next(it);
	}
	for (auto &[target, linkers] : links)
		for (const std::string &linker : linkers) {
			count.exited.fetch_add(1, std::memory_order_relaxed);
			deliver_exited(find_local(linker), target);
		}
}

} // namespace turquoise::detail
