// network.cpp — a runtime's network side: listening, the outbound connections by address,
// links to remote processes, timeouts, and the addresses that are this program's (see
// turquoise/process/network.hpp; inbound.cpp serves what arrives).
#include "network.hpp"

#include "events.hpp"
#include "outbound.hpp"

#include <turquoise/guarded_lock.hpp>

#include <algorithm>
#include <vector>

namespace turquoise::detail {
namespace {

constexpr auto sweep_every = std::chrono::milliseconds(200);

// The addresses runtimes of this program listen on (bound and advertised), with a count so
// that programs that never listen take no lock to find out.
std::mutex locals_mutex;
std::vector<Address> *locals = nullptr;
std::atomic<std::size_t> locals_count{0};

std::uint64_t ns(std::chrono::milliseconds ms) { return static_cast<std::uint64_t>(ms.count()) * 1'000'000u; }

} // namespace

bool is_local(const Address &a) {
	if (a.unspecified())
		return true;
	if (locals_count.load(std::memory_order_acquire) == 0)
		return false;
	guarded_lock lock(locals_mutex);
	return std::find(locals->begin(), locals->end(), a) != locals->end();
}

void add_local(const Address &a) {
	guarded_lock lock(locals_mutex);
	if (!locals)
		locals = new std::vector<Address>; // never freed: workers may look during exit
	locals->push_back(a);
	locals_count.store(locals->size(), std::memory_order_release);
}

void remove_local(const Address &a) {
	guarded_lock lock(locals_mutex);
	if (!locals)
		return;
	auto it = std::find(locals->begin(), locals->end(), a);
	if (it != locals->end())
		locals->erase(it);
	locals_count.store(locals->size(), std::memory_order_release);
}

network::~network() { stop(); }

Try<Address> network::listen() {
	guarded_lock lock(mutex);
	if (server)
		return advertised;
	if (stopped)
		return Error("the runtime's network side has stopped");
	http::server_options o;
	o.ip = options.ip;
	o.port = options.port;
	o.limits.max_body = options.max_message_bytes;
	o.max_connections = options.max_connections;
	o.idle_timeout = options.idle_timeout;
	o.request_timeout = options.request_timeout;
	o.write_timeout = options.write_timeout;
	Try<http::Server> s = http::Server::listen(workers, o);
	if (s.isError())
		return Error("cannot listen on " + options.ip + ":" + std::to_string(options.port) + ": " + s.error());
	server.emplace(std::move(s).get());
	bound_to = Address{options.ip, server->port()};
	advertised.host = !options.advertise_ip.empty() ? options.advertise_ip
	                  : options.ip == "0.0.0.0"     ? std::string("127.0.0.1")
	                                                : options.ip;
	advertised.port = options.advertise_port ? options.advertise_port : bound_to.port;
	std::weak_ptr<network> weak = weak_from_this();
	server->fallback([weak](const http::Request &r) -> Future<http::Response> {
		if (auto n = weak.lock())
			return n->inbound(r);
		return http::ServiceUnavailable("stopping\n");
	});
	add_local(bound_to);
	if (!(advertised == bound_to))
		add_local(advertised);
	sweeper = workers.after(sweep_every, [weak] {
		if (auto n = weak.lock())
			n->sweep();
	});
	return advertised;
}

Option<Address> network::address() const {
	guarded_lock lock(mutex);
	if (!server)
		return None();
	return advertised;
}

Option<Address> network::bound() const {
	guarded_lock lock(mutex);
	if (!server)
		return None();
	return bound_to;
}

network_stats network::stats() const {
	network_stats s;
	s.sent = count.sent.load();
	s.received = count.received.load();
	s.not_found = count.not_found.load();
	s.bad_messages = count.bad_messages.load();
	s.dropped = count.dropped.load();
	s.connections_opened = count.connections_opened.load();
	s.connection_failures = count.connection_failures.load();
	s.exited = count.exited.load();
	s.route_requests = count.route_requests.load();
	s.outbound_open = count.outbound_open.load();
	guarded_lock lock(mutex);
	s.remote_linkers = remote_linkers.size();
	if (server) {
		http::server_stats h = server->stats();
		s.bad_requests = h.bad_requests;
		s.timeouts = h.timeouts;
		s.inbound_open = h.open;
	}
	return s;
}

std::shared_ptr<outbound> network::connection_locked(const Address &to, bool &fresh) {
	fresh = false;
	auto &c = connections[to];
	if (!c) {
		c = std::make_shared<outbound>(weak_from_this(), workers, to, options.max_queued_bytes,
		                               options.unlinked_linger.count() <= 0);
		fresh = true;
	}
	return c;
}

std::shared_ptr<outbound> network::connection_to(const Address &to, const std::shared_ptr<outbound> &stale) {
	std::shared_ptr<outbound> c;
	bool fresh = false;
	{
		guarded_lock lock(mutex);
		if (stopped)
			return nullptr;
		if (stale)
			if (auto it = connections.find(to); it != connections.end() && it->second == stale)
				connections.erase(it);
		c = connection_locked(to, fresh);
	}
	if (fresh)
		c->start();
	return c;
}

// Our sender's address for a remote peer: the placeholder becomes the advertised address.
void network::name_sender(UPID &from) {
	if (from && from.address.unspecified())
		if (Try<Address> a = listen(); !a.isError())
			from.address = a.get();
}

void network::send(Message &&m) {
	if (!m.from) // a peer needs a sender to parse (post(to, ...)): an anonymous one of ours
		m.from = UPID("anonymous");
	name_sender(m.from);
	m.from.reference.reset();
	std::shared_ptr<outbound> c = connection_to(m.to.address);
	outbound::queued_as q = c ? c->enqueue(std::move(m)) : outbound::queued_as::full;
	if (q == outbound::queued_as::ended) { // closed idle (or failed) meanwhile: a new one
		c = connection_to(m.to.address, c);
		q = c ? c->enqueue(std::move(m)) : outbound::queued_as::full;
	}
	if (q != outbound::queued_as::queued)
		count.dropped.fetch_add(1, std::memory_order_relaxed);
}

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

void network::sweep() {
	std::vector<std::shared_ptr<outbound>> all;
	{
		guarded_lock lock(mutex);
		if (stopped)
			return;
		for (auto &[a, c] : connections)
			all.push_back(c);
	}
	for (auto &c : all)
		c->check_timeouts(ns(options.connect_timeout), ns(options.write_timeout), ns(options.unlinked_linger));
	std::weak_ptr<network> weak = weak_from_this();
	guarded_lock lock(mutex);
	if (!stopped)
		sweeper = workers.after(sweep_every, [weak] {
			if (auto n = weak.lock())
				n->sweep();
		});
}

void network::stop() {
	std::optional<http::Server> s;
	std::map<Address, std::shared_ptr<outbound>> all;
	{
		guarded_lock lock(mutex);
		if (stopped)
			return;
		stopped = true;
		s.swap(server);
		all.swap(connections);
		remote_linkers.clear();
		if (sweeper)
			workers.cancel_timer(sweeper);
		if (s) {
			remove_local(bound_to);
			if (!(advertised == bound_to))
				remove_local(advertised);
		}
	}
	if (s)
		s->stop();
	for (auto &[a, c] : all)
		c->end("stopping", false, false);
}

} // namespace turquoise::detail
