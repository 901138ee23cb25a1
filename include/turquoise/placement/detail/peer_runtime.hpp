// turquoise/placement/detail/peer_runtime.hpp — one peer instance's bookkeeping: its connections
// (handshake, multiplicities), the values it hosts for others, and its uses of remote values
// (subscriptions, requests). Implemented in libturquoise/placement/peer_runtime.cpp.
#ifndef TURQUOISE_PLACEMENT_DETAIL_PEER_RUNTIME_HPP
#define TURQUOISE_PLACEMENT_DETAIL_PEER_RUNTIME_HPP

#include <turquoise/async/future.hpp>
#include <turquoise/placement/peer.hpp>
#include <turquoise/placement/transport.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <typeindex>
#include <vector>

namespace turquoise::placement::detail {

// A value this peer hosts, as other peers reach it. Each kind overrides what it supports.
class hosted {
public:
	virtual ~hosted() = default;
	// Start sending occurrences (encoded) to `occurrence`, then the end to `end` (failure
	// message, or empty). Returns what stops it. Empty function: not subscribable.
	virtual std::function<void()> subscribe(std::function<void(std::string)> occurrence,
	                                        std::function<void(bool failed, std::string)> end);
	// A value (encoded), or the result of a call with encoded arguments.
	virtual Future<std::string> get();
	virtual Future<std::string> call(std::string_view args);
};

// A use of a value placed on other peers that follows every connection to them (a
// subscription): told of each connection, occurrence, end and disconnection.
class subscriber {
public:
	virtual ~subscriber() = default;
	// false: stop subscribing at later connections (the use is over).
	virtual bool connected(const std::string &address) = 0;
	virtual void occurrence(const std::string &address, std::string_view payload) = 0;
	virtual void ended(const std::string &address, bool failed, const std::string &message) = 0;
	virtual void disconnected(const std::string &address, const std::string &reason) = 0;
};

struct value_slot {
	std::string name;  // for errors ("value #3 (message)")
	std::string type;  // the placed type's name, checked on every remote access
	std::string peer;  // where it is placed
	std::unique_ptr<hosted> local; // set on that peer only
};

struct runtime_stats {
	std::uint64_t errors = 0;       // bad input refused (each also in last_error)
	std::string last_error;
	std::uint64_t connections = 0;  // established now
};

class peer_runtime {
public:
	peer_runtime(std::string peer, std::vector<tie_info> ties, std::type_index peer_type, std::string module,
	             std::unique_ptr<endpoint> ep);
	~peer_runtime();

	const std::string &peer() const { return peer_; }
	std::type_index peer_type() const { return peer_type_; }
	std::string address() const { return endpoint_->address(); }
	multiplicity tie_to(const std::string &peer) const;

	// Values, in declaration order (the same in every peer of the program).
	std::size_t add_value(value_slot slot);
	void host(std::size_t index, std::unique_ptr<hosted> h);
	void start(); // after the module is built: deliver messages

	// Connect to a peer of type `peer` at `address` (the handshake checks both sides' ties).
	Future<Nothing> connect(const std::string &peer, const std::string &address);
	// Addresses of the established connections to peers of type `peer`.
	std::vector<std::string> connected(const std::string &peer) const;

	// Subscribe to value `index` at every connection to its peer, now and later.
	void subscribe(std::size_t index, std::shared_ptr<subscriber> s);
	// Request value `index` (call it with `args`) from the peer at `address`.
	Future<std::string> request(const std::string &address, std::size_t index, bool call, std::string args);

	void stop(); // leave every peer (they see this one exit)
	runtime_stats stats() const;
	void report(const std::string &error); // count a refused input

	// The runtime building a module now (on this thread), for placed<>'s constructors.
	static peer_runtime *&building();

	struct state;

private:
	void on_message(const std::string &from, const std::string &name, std::string &&body);
	void on_exited(const std::string &address);
	// handshake.cpp: hello/welcome/refuse; serving.cpp: the rest. False: not theirs.
	bool handshake_message(const std::string &from, const std::string &name, const std::string &body);
	bool serving_message(const std::string &from, const std::string &name, const std::string &body);
	// serving.cpp: a connection came up / went down.
	void connection_up(const std::string &address, const std::string &peer);
	void connection_down(const std::string &address, const std::string &reason);
	void send(const std::string &to, const char *name, std::string body);

	std::string peer_;
	std::vector<tie_info> ties_;
	std::type_index peer_type_;
	std::string module_;
	std::unique_ptr<endpoint> endpoint_;
	std::unique_ptr<state> state_;
};

} // namespace turquoise::placement::detail

#endif
