// serving.cpp — runtime_core's values across peers: serving subscriptions and requests for the
// values this peer hosts, and following the values it uses on other peers.
#include "state.hpp"

namespace turquoise::placement::detail {

void runtime_core::subscribe(std::size_t index, std::shared_ptr<subscriber> s) {
	std::string peer;
	std::vector<std::string> now;
	{
		std::lock_guard<std::mutex> g(state_->mutex);
		state_->uses.push_back({index, s});
		peer = state_->values.at(index).peer;
	}
	for (const auto &address : connected(peer))
		connection_up(address, peer); // (only this use is new: the others ignore a known address)
}

void runtime_core::connection_up(const std::string &address, const std::string &peer) {
	std::vector<std::pair<std::uint64_t, wire::subscribe_body>> out;
	{
		std::lock_guard<std::mutex> g(state_->mutex);
		for (auto u = state_->uses.begin(); u != state_->uses.end();) {
			const value_slot &v = state_->values.at(u->index);
			bool known = false;
			for (const auto &[id, s] : state_->subscriptions)
				known |= s.sink == u->sink && s.address == address;
			if (v.peer != peer || known) {
				++u;
				continue;
			}
			if (!u->sink->connected(address)) {
				u = state_->uses.erase(u);
				continue;
			}
			std::uint64_t id = state_->next_id++;
			state_->subscriptions[id] = {address, u->sink};
			out.push_back({id, {u->index, id, v.type}});
			++u;
		}
	}
	for (auto &[id, body] : out)
		send(address, wire::subscribe, encode(body));
}

void runtime_core::connection_down(const std::string &address, const std::string &reason) {
	std::vector<std::shared_ptr<subscriber>> sinks;
	std::vector<std::shared_ptr<Promise<std::string>>> requests;
	std::vector<std::function<void()>> stops;
	{
		std::lock_guard<std::mutex> g(state_->mutex);
		for (auto s = state_->subscriptions.begin(); s != state_->subscriptions.end();)
			if (s->second.address == address) {
				sinks.push_back(s->second.sink);
				s = state_->subscriptions.erase(s);
			} else {
				++s;
			}
		for (auto r = state_->requests.begin(); r != state_->requests.end();)
			if (r->second.address == address) {
				requests.push_back(r->second.promise);
				r = state_->requests.erase(r);
			} else {
				++r;
			}
		for (auto s = state_->served.begin(); s != state_->served.end();)
			if (s->first.first == address) {
				stops.push_back(std::move(s->second));
				s = state_->served.erase(s);
			} else {
				++s;
			}
	}
	for (auto &stop : stops)
		stop();
	for (auto &sink : sinks)
		sink->disconnected(address, reason);
	for (auto &p : requests)
		p->fail("placement: " + reason);
}

Future<std::string> runtime_core::request(const std::string &address, std::size_t index, bool call, std::string args) {
	auto promise = std::make_shared<Promise<std::string>>();
	Future<std::string> f = promise->future();
	std::uint64_t id;
	std::string type;
	{
		std::lock_guard<std::mutex> g(state_->mutex);
		auto c = state_->connections.find(address);
		if (c == state_->connections.end() || !c->second.up)
			return Failure("placement: not connected to " + address);
		id = state_->next_id++;
		type = state_->values.at(index).type;
		state_->requests[id] = {address, promise};
	}
	send(address, wire::request, encode(wire::request_body{index, id, type, call, std::move(args)}));
	return f;
}

bool runtime_core::serving_message(const std::string &from, const std::string &name, const std::string &body) {
	// Everything but the handshake needs an established connection.
	bool up;
	{
		std::lock_guard<std::mutex> g(state_->mutex);
		auto c = state_->connections.find(from);
		up = c != state_->connections.end() && c->second.up;
	}
	auto not_hosted = [&](std::uint64_t index, const std::string &type) -> std::string {
		std::lock_guard<std::mutex> g(state_->mutex);
		if (index >= state_->values.size())
			return "no value #" + std::to_string(index) + " in this program";
		const value_slot &v = state_->values[index];
		if (!v.local)
			return "value #" + std::to_string(index) + " (" + v.name + ") is placed on " + v.peer +
			       ", not hosted on " + peer_;
		if (v.type != type)
			return "value #" + std::to_string(index) + " (" + v.name + ") is a " + v.type + ", not a " + type;
		return "";
	};

	if (name == wire::subscribe) {
		auto [index, id, type] = decode<wire::subscribe_body>(body);
		std::string error = up ? not_hosted(index, type) : "subscribe from " + from + ", which is not connected";
		std::function<void()> stop;
		if (error.empty()) {
			hosted *h;
			{
				std::lock_guard<std::mutex> g(state_->mutex);
				h = state_->values[index].local.get();
			}
			std::string to = from;
			std::uint64_t sub = id;
			stop = h->subscribe(
			    [this, to, sub](std::string payload) { send(to, wire::occurrence, encode(wire::occurrence_body{sub, std::move(payload)})); },
			    [this, to, sub](bool failed, std::string message) { send(to, wire::end, encode(wire::end_body{sub, failed, message})); });
			if (!stop)
				error = "value #" + std::to_string(index) + " is not an event or a signal";
		}
		if (!error.empty()) {
			report("refused a subscription from " + from + ": " + error);
			send(from, wire::end, encode(wire::end_body{id, true, "placement: " + error}));
			return true;
		}
		std::lock_guard<std::mutex> g(state_->mutex);
		state_->served[{from, id}] = std::move(stop);
		return true;
	}
	if (name == wire::unsubscribe) {
		auto [id] = decode<wire::unsubscribe_body>(body);
		std::function<void()> stop;
		{
			std::lock_guard<std::mutex> g(state_->mutex);
			auto s = state_->served.find({from, id});
			if (s != state_->served.end()) {
				stop = std::move(s->second);
				state_->served.erase(s);
			}
		}
		if (stop)
			stop();
		return true;
	}
	if (name == wire::occurrence || name == wire::end) {
		std::uint64_t id;
		std::string payload, message;
		bool failed = false;
		if (name == wire::occurrence)
			std::tie(id, payload) = decode<wire::occurrence_body>(body);
		else
			std::tie(id, failed, message) = decode<wire::end_body>(body);
		std::shared_ptr<subscriber> sink;
		{
			std::lock_guard<std::mutex> g(state_->mutex);
			auto s = state_->subscriptions.find(id);
			if (s != state_->subscriptions.end() && s->second.address == from) {
				sink = s->second.sink;
				if (name == wire::end)
					state_->subscriptions.erase(s);
			}
		}
		if (!sink) {
			report(name + " for subscription " + std::to_string(id) + ", which " + from + " does not serve us (dropped)");
			return true;
		}
		if (name == wire::occurrence)
			sink->occurrence(from, payload);
		else
			sink->ended(from, failed, message);
		return true;
	}
	if (name == wire::request) {
		auto [index, id, type, call, args] = decode<wire::request_body>(body);
		std::string error = up ? not_hosted(index, type) : "request from " + from + ", which is not connected";
		if (!error.empty()) {
			report("refused a request from " + from + ": " + error);
			send(from, wire::reply, encode(wire::reply_body{id, false, "placement: " + error}));
			return true;
		}
		hosted *h;
		{
			std::lock_guard<std::mutex> g(state_->mutex);
			h = state_->values[index].local.get();
		}
		Future<std::string> result = call ? h->call(args) : h->get();
		std::string to = from;
		std::uint64_t rid = id;
		result.onAny([this, to, rid](const Future<std::string> &r) {
			if (r.isReady())
				send(to, wire::reply, encode(wire::reply_body{rid, true, r.get()}));
			else
				send(to, wire::reply, encode(wire::reply_body{rid, false, r.isFailed() ? r.failure() : "discarded"}));
		});
		return true;
	}
	if (name == wire::reply) {
		auto [id, ok, payload] = decode<wire::reply_body>(body);
		std::shared_ptr<Promise<std::string>> promise;
		{
			std::lock_guard<std::mutex> g(state_->mutex);
			auto r = state_->requests.find(id);
			if (r != state_->requests.end() && r->second.address == from) {
				promise = r->second.promise;
				state_->requests.erase(r);
			}
		}
		if (!promise) {
			report("a reply to request " + std::to_string(id) + ", which we did not send to " + from + " (dropped)");
			return true;
		}
		if (ok)
			promise->set(std::move(payload));
		else
			promise->fail(payload);
		return true;
	}
	return false;
}

} // namespace turquoise::placement::detail
