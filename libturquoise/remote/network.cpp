// network.cpp — a runtime's network side: listening, the outbound connections by address,
// timeouts, and the addresses that are this program's (see turquoise/process/network.hpp;
// inbound.cpp serves what arrives, links.cpp keeps the links).
#include "network.hpp"

#include "events.hpp"
#include "outbound.hpp"

#include <turquoise/guarded_lock.hpp>

#include <algorithm>
#include <vector>

namespace turquoise::detail {
namespace {

constexpr auto sweep_every = std::chrono::milliseconds(200);
// No unlinked_linger: an idle connection never closes on its own.
constexpr std::uint64_t never_idle_ns = ~std::uint64_t{0};

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
		                               options.unlinked_linger && options.unlinked_linger->count() <= 0);
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
		c->check_timeouts(ns(options.connect_timeout), ns(options.write_timeout),
		                  options.unlinked_linger ? ns(*options.unlinked_linger) : never_idle_ns);
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
