// turquoise/placement/detail/peer_runtime.hpp — what the headers' templates call in the library:
// one peer instance's runtime (its connections, the values it hosts for others, its uses of
// remote values), a hosted value's interface and a remote value's subscriber. They are
// out-of-line entry points, so they live in turquoise::abi (exported by libturquoise.so; the
// names under detail are not); placement::detail names them as the templates use them. The
// runtime's internals are in libturquoise/placement/ (state.hpp: runtime_core).
#ifndef TURQUOISE_PLACEMENT_DETAIL_PEER_RUNTIME_HPP
#define TURQUOISE_PLACEMENT_DETAIL_PEER_RUNTIME_HPP

#include <turquoise/async/future.hpp>
#include <turquoise/placement/peer.hpp>
#include <turquoise/placement/transport.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <typeindex>
#include <vector>

namespace turquoise::placement {

// What a peer instance counted (instance::stats()).
struct runtime_stats {
	std::uint64_t errors = 0;       // bad input refused (each also in last_error)
	std::string last_error;
	std::uint64_t connections = 0;  // established now
};

namespace detail {
class runtime_core; // libturquoise/placement/state.hpp
}

} // namespace turquoise::placement

namespace turquoise::abi {

// A value this peer hosts, as other peers reach it. Each kind overrides what it supports.
class placement_hosted {
public:
	virtual ~placement_hosted();
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
class placement_subscriber {
public:
	virtual ~placement_subscriber() = default;
	// false: stop subscribing at later connections (the use is over).
	virtual bool connected(const std::string &address) = 0;
	virtual void occurrence(const std::string &address, std::string_view payload) = 0;
	virtual void ended(const std::string &address, bool failed, const std::string &message) = 0;
	virtual void disconnected(const std::string &address, const std::string &reason) = 0;
};

struct placement_value_slot {
	std::string name;  // for errors ("value #3 (message)"): the placed type's readable name
	std::string type;  // the placed type's name, checked on every remote access
	std::string peer;  // where it is placed
	std::unique_ptr<placement_hosted> local; // set on that peer only
};

class placement_runtime {
public:
	placement_runtime(std::string peer, std::vector<placement::tie_info> ties, std::type_index peer_type,
	                  std::string module, std::unique_ptr<placement::endpoint> ep);
	~placement_runtime();
	placement_runtime(const placement_runtime &) = delete;
	placement_runtime &operator=(const placement_runtime &) = delete;

	const std::string &peer() const { return peer_; }
	std::type_index peer_type() const { return peer_type_; }
	std::string address() const;

	// Values, in declaration order (the same in every peer of the program).
	std::size_t add_value(placement_value_slot slot);
	void host(std::size_t index, std::unique_ptr<placement_hosted> h);
	void start(); // after the module is built: deliver messages

	// Connect to a peer of type `peer` at `address` (the handshake checks both sides' ties).
	Future<Nothing> connect(const std::string &peer, const std::string &address);
	// Addresses of the established connections to peers of type `peer`.
	std::vector<std::string> connected(const std::string &peer) const;

	// Subscribe to value `index` at every connection to its peer, now and later.
	void subscribe(std::size_t index, std::shared_ptr<placement_subscriber> s);
	// Request value `index` (call it with `args`) from the peer at `address`.
	Future<std::string> request(const std::string &address, std::size_t index, bool call, std::string args);

	void stop(); // leave every peer (they see this one exit)
	placement::runtime_stats stats() const;
	void report(const std::string &error); // count a refused input

	// The runtime building a module now (on this thread), for placed<>'s constructors.
	static placement_runtime *&building();

private:
	std::string peer_;
	std::type_index peer_type_;
	std::unique_ptr<placement::detail::runtime_core> core_;
};

} // namespace turquoise::abi

namespace turquoise::placement::detail {
using hosted = abi::placement_hosted;
using subscriber = abi::placement_subscriber;
using value_slot = abi::placement_value_slot;
using peer_runtime = abi::placement_runtime;
using placement::runtime_stats;
} // namespace turquoise::placement::detail

#endif
