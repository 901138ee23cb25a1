// handshake.cpp — runtime_core's connections: the hello/welcome/refuse handshake that checks
// peer types, the program (its module and every placed value's peer and type), and tie
// multiplicities on both sides; exits; message dispatch.
#include "state.hpp"

#include <cstdlib>
#include <iostream>

namespace turquoise::placement {

const char *to_string(multiplicity m) {
	switch (m) {
	case multiplicity::single: return "single";
	case multiplicity::optional: return "optional";
	case multiplicity::multiple: return "multiple";
	default: return "none";
	}
}

namespace detail {

runtime_core::runtime_core(std::string peer, std::vector<tie_info> ties, std::type_index peer_type,
                           std::string module, std::unique_ptr<endpoint> ep)
    : peer_(std::move(peer)), ties_(std::move(ties)), peer_type_(peer_type), module_(std::move(module)),
      endpoint_(std::move(ep)), state_(std::make_unique<state>()) {}

runtime_core::~runtime_core() { stop(); }

multiplicity runtime_core::tie_to(const std::string &peer) const {
	for (const auto &t : ties_)
		if (t.peer == peer)
			return t.kind;
	return multiplicity::none;
}

std::size_t runtime_core::add_value(value_slot slot) {
	std::lock_guard<std::mutex> g(state_->mutex);
	state_->values.push_back(std::move(slot));
	return state_->values.size() - 1;
}

void runtime_core::host(std::size_t index, std::unique_ptr<hosted> h) {
	std::lock_guard<std::mutex> g(state_->mutex);
	state_->values.at(index).local = std::move(h);
}

void runtime_core::start() {
	{
		std::lock_guard<std::mutex> g(state_->mutex);
		if (state_->started)
			return;
		state_->started = true;
		// The program's identity in the handshake: the module, and each value's peer and type.
		for (const auto &v : state_->values)
			values_.push_back(v.peer + ", " + v.name);
	}
	endpoint_->start({{wire::hello, wire::welcome, wire::refuse, wire::ready, wire::subscribe, wire::unsubscribe,
	                   wire::occurrence, wire::end, wire::request, wire::reply},
	                  [this](const std::string &from, const std::string &name, std::string &&body) {
		                  on_message(from, name, std::move(body));
	                  },
	                  [this](const std::string &address) { on_exited(address); }});
}

void runtime_core::send(const std::string &to, const char *name, std::string body) {
	endpoint_->send(to, name, std::move(body));
}

void runtime_core::report(const std::string &error) {
	{
		std::lock_guard<std::mutex> g(state_->mutex);
		++state_->stats.errors;
		state_->stats.last_error = error;
	}
	if (std::getenv("INGER_PLACEMENT_QUIET") == nullptr)
		std::cerr << "placement (" << peer_ << " at " << address() << "): " << error << '\n';
}

runtime_stats runtime_core::stats() const {
	std::lock_guard<std::mutex> g(state_->mutex);
	runtime_stats s = state_->stats;
	s.connections = 0;
	for (const auto &[a, c] : state_->connections)
		s.connections += c.up;
	return s;
}

std::vector<std::string> runtime_core::connected(const std::string &peer) const {
	std::lock_guard<std::mutex> g(state_->mutex);
	std::vector<std::string> out;
	for (const auto &[a, c] : state_->connections)
		if (c.up && c.peer == peer)
			out.push_back(a);
	return out;
}

// How many connections (established or being made) to peers of type `peer`; the caller holds the lock.
static std::size_t count_peer(const runtime_core::state &s, const std::string &peer) {
	std::size_t n = 0;
	for (const auto &[a, c] : s.connections)
		n += c.peer == peer;
	return n;
}

Future<Nothing> runtime_core::connect(const std::string &peer, const std::string &address) {
	auto promise = std::make_shared<Promise<Nothing>>();
	Future<Nothing> f = promise->future();
	multiplicity m = tie_to(peer);
	{
		std::lock_guard<std::mutex> g(state_->mutex);
		if (state_->stopped)
			return Failure("placement: " + peer_ + " has stopped");
		if (state_->connections.count(address))
			return Failure("placement: " + peer_ + " is already connected to " + address);
		if ((m == multiplicity::single || m == multiplicity::optional) && count_peer(*state_, peer) > 0)
			return Failure("placement: " + peer_ + "'s tie to " + peer + " is " + to_string(m) +
			               " and a " + peer + " is already connected: " + address + " refused");
		state_->connections[address] = state::connection{peer, false, true, promise};
	}
	endpoint_->link(address);
	send(address, wire::hello, encode(wire::hello_body{peer_, module_, peer, values_}));
	return f;
}

bool runtime_core::handshake_message(const std::string &from, const std::string &name, const std::string &body) {
	if (name == wire::hello) {
		auto [their_peer, module, values, expected] = [&] {
			auto [p, m, e, v] = decode<wire::hello_body>(body);
			return std::tuple(std::move(p), std::move(m), std::move(v), std::move(e));
		}();
		std::string refusal;
		{
			std::lock_guard<std::mutex> g(state_->mutex);
			multiplicity m = tie_to(their_peer);
			if (expected != peer_)
				refusal = "expected a " + expected + " at " + address() + ", this is a " + peer_;
			else if (std::string other = other_program(module, values); !other.empty())
				refusal = "a different program: " + other;
			else if (m == multiplicity::none)
				refusal = peer_ + " has no tie to " + their_peer;
			else if (state_->connections.count(from))
				refusal = from + " is already connected";
			else if ((m == multiplicity::single || m == multiplicity::optional) && count_peer(*state_, their_peer) > 0)
				refusal = peer_ + "'s tie to " + their_peer + " is " + to_string(m) + " and a " + their_peer +
				          " is already connected: " + their_peer + " at " + from + " refused";
			else
				state_->connections[from] = state::connection{their_peer, true, false, nullptr};
		}
		if (!refusal.empty()) {
			report("refused " + their_peer + " at " + from + ": " + refusal);
			send(from, wire::refuse, encode(wire::refuse_body{refusal}));
			return true;
		}
		endpoint_->link(from);
		send(from, wire::welcome, encode(wire::welcome_body{peer_}));
		connection_up(from, their_peer);
		send(from, wire::ready, "");
		return true;
	}
	if (name == wire::welcome || name == wire::refuse) {
		std::string text = std::get<0>(decode<std::tuple<std::string>>(body));
		std::shared_ptr<Promise<Nothing>> promise;
		std::string peer, failure;
		{
			std::lock_guard<std::mutex> g(state_->mutex);
			auto c = state_->connections.find(from);
			if (c == state_->connections.end() || c->second.up || !c->second.outgoing) {
				failure = "an unexpected " + name + " from " + from;
			} else {
				promise = c->second.connecting; // (kept there for the ready)
				peer = c->second.peer;
				if (name == wire::refuse)
					failure = "placement: " + from + " refused " + peer_ + ": " + text;
				else if (text != peer)
					failure = "placement: expected a " + peer + " at " + from + ", it announced " + text;
				if (failure.empty())
					c->second.up = true;
				else
					state_->connections.erase(c);
			}
		}
		if (!promise) {
			report(failure);
			return true;
		}
		if (!failure.empty()) {
			report(failure);
			promise->fail(failure);
			return true;
		}
		connection_up(from, peer);
		send(from, wire::ready, "");
		return true;
	}
	if (name == wire::ready) {
		std::shared_ptr<Promise<Nothing>> promise;
		{
			std::lock_guard<std::mutex> g(state_->mutex);
			auto c = state_->connections.find(from);
			if (c != state_->connections.end() && c->second.up)
				promise = std::move(c->second.connecting);
		}
		if (promise)
			promise->set(Nothing());
		return true;
	}
	return false;
}

std::string runtime_core::other_program(const std::string &module, const std::vector<std::string> &values) const {
	auto count = [](std::size_t n) { return std::to_string(n) + (n == 1 ? " placed value" : " placed values"); };
	if (module != module_)
		return "module " + module + " (" + count(values.size()) + ") there, " + module_ + " (" +
		       count(values_.size()) + ") here";
	for (std::size_t i = 0; i < values.size() && i < values_.size(); ++i)
		if (values[i] != values_[i])
			return module_ + "'s value #" + std::to_string(i) + " is placed<" + values[i] + "> there, placed<" +
			       values_[i] + "> here";
	if (values.size() != values_.size())
		return module_ + " has " + count(values.size()) + " there, " + count(values_.size()) + " here";
	return "";
}

void runtime_core::on_message(const std::string &from, const std::string &name, std::string &&body) {
	try {
		if (!handshake_message(from, name, body) && !serving_message(from, name, body))
			report("an unknown message " + name + " from " + from + " (dropped)");
	} catch (const decode_error &e) {
		report(std::string(e.what()) + " in " + name + " from " + from + " (dropped)");
	} catch (const std::exception &e) {
		report(std::string("handling ") + name + " from " + from + ": " + e.what());
	}
}

void runtime_core::on_exited(const std::string &address) {
	std::shared_ptr<Promise<Nothing>> promise;
	bool was_up = false;
	std::string peer;
	{
		std::lock_guard<std::mutex> g(state_->mutex);
		auto c = state_->connections.find(address);
		if (c == state_->connections.end())
			return;
		was_up = c->second.up;
		peer = c->second.peer;
		promise = c->second.connecting;
		state_->connections.erase(c);
	}
	if (promise)
		promise->fail(was_up ? "placement: " + peer + " at " + address + " left during the handshake"
		                     : "placement: could not reach " + peer + " at " + address);
	if (was_up)
		connection_down(address, peer + " at " + address + " disconnected");
}

void runtime_core::stop() {
	{
		std::lock_guard<std::mutex> g(state_->mutex);
		if (state_->stopped)
			return;
		state_->stopped = true;
	}
	endpoint_->stop(); // waits for a delivery in progress: nothing arrives after this
	std::map<std::pair<std::string, std::uint64_t>, std::function<void()>> served;
	{
		std::lock_guard<std::mutex> g(state_->mutex);
		served.swap(state_->served);
	}
	for (auto &[key, stop] : served)
		stop();
}

} // namespace detail
} // namespace turquoise::placement
