// state.hpp — runtime_core: a peer instance's runtime behind abi::placement_runtime (handshake.cpp:
// connections; serving.cpp: values across peers; runtime.cpp: the entry points), its private
// state, and the wire message names and bodies.
#ifndef LIBTURQUOISE_PLACEMENT_STATE_HPP
#define LIBTURQUOISE_PLACEMENT_STATE_HPP

#include <turquoise/placement/codec.hpp>
#include <turquoise/placement/detail/peer_runtime.hpp>

#include <map>
#include <mutex>
#include <tuple>
#include <typeindex>
#include <vector>

namespace turquoise::placement::detail {

// Message names (the remote layer's message names; each body is a codec-encoded tuple).
namespace wire {
constexpr const char *hello = "placement.hello";       // (peer, module, expected peer, values)
constexpr const char *welcome = "placement.welcome";   // (peer)
constexpr const char *refuse = "placement.refuse";     // (reason)
// (empty) after a side's initial subscriptions: the connector's connect() completes on the
// acceptor's, so that the acceptor's subscriptions are in place before the connector's code runs.
constexpr const char *ready = "placement.ready";
constexpr const char *subscribe = "placement.subscribe"; // (index, subscription, type)
constexpr const char *unsubscribe = "placement.unsubscribe"; // (subscription)
constexpr const char *occurrence = "placement.occurrence"; // (subscription, payload)
constexpr const char *end = "placement.end";           // (subscription, failed, message)
constexpr const char *request = "placement.request";   // (index, request, type, call, args)
constexpr const char *reply = "placement.reply";       // (request, ok, payload or error)

// values: each placed value as "<peer>, <type>", in declaration order (the program's identity
// beside the module's name).
using hello_body = std::tuple<std::string, std::string, std::string, std::vector<std::string>>;
using welcome_body = std::tuple<std::string>;
using refuse_body = std::tuple<std::string>;
using subscribe_body = std::tuple<std::uint64_t, std::uint64_t, std::string>;
using unsubscribe_body = std::tuple<std::uint64_t>;
using occurrence_body = std::tuple<std::uint64_t, std::string>;
using end_body = std::tuple<std::uint64_t, bool, std::string>;
using request_body = std::tuple<std::uint64_t, std::uint64_t, std::string, bool, std::string>;
using reply_body = std::tuple<std::uint64_t, bool, std::string>;
} // namespace wire

class runtime_core {
public:
	runtime_core(std::string peer, std::vector<tie_info> ties, std::type_index peer_type, std::string module,
	             std::unique_ptr<endpoint> ep);
	~runtime_core();

	const std::string &peer() const { return peer_; }
	std::string address() const { return endpoint_->address(); }
	multiplicity tie_to(const std::string &peer) const;

	std::size_t add_value(value_slot slot);
	void host(std::size_t index, std::unique_ptr<hosted> h);
	void start();
	Future<Nothing> connect(const std::string &peer, const std::string &address);
	std::vector<std::string> connected(const std::string &peer) const;
	void subscribe(std::size_t index, std::shared_ptr<subscriber> s);
	Future<std::string> request(const std::string &address, std::size_t index, bool call, std::string args);
	void stop();
	runtime_stats stats() const;
	void report(const std::string &error);

	struct state;

private:
	void on_message(const std::string &from, const std::string &name, std::string &&body);
	void on_exited(const std::string &address);
	// handshake.cpp: hello/welcome/refuse; serving.cpp: the rest. False: not theirs.
	bool handshake_message(const std::string &from, const std::string &name, const std::string &body);
	bool serving_message(const std::string &from, const std::string &name, const std::string &body);
	// The refusal of a hello from another program (empty: the same program).
	std::string other_program(const std::string &module, const std::vector<std::string> &values) const;
	// serving.cpp: a connection came up / went down.
	void connection_up(const std::string &address, const std::string &peer);
	void connection_down(const std::string &address, const std::string &reason);
	void send(const std::string &to, const char *name, std::string body);

	std::string peer_;
	std::vector<tie_info> ties_;
	std::type_index peer_type_;
	std::string module_;
	std::vector<std::string> values_; // the program's placed values, as in the hello (after start)
	std::unique_ptr<endpoint> endpoint_;
	std::unique_ptr<state> state_;
};

struct runtime_core::state {
	mutable std::mutex mutex;
	bool started = false, stopped = false;
	std::vector<value_slot> values;

	struct connection {
		std::string peer;
		bool up = false;            // handshake done
		bool outgoing = false;      // we connected (a promise waits for the welcome)
		std::shared_ptr<Promise<Nothing>> connecting; // completed by the acceptor's ready
	};
	std::map<std::string, connection> connections; // by address

	// Our subscriptions to others' values.
	struct use {
		std::size_t index;
		std::shared_ptr<subscriber> sink;
	};
	std::vector<use> uses;
	struct subscription {
		std::string address;
		std::shared_ptr<subscriber> sink;
	};
	std::map<std::uint64_t, subscription> subscriptions; // by id
	std::uint64_t next_id = 1;

	// Others' subscriptions to our values: (address, their id) -> stop.
	std::map<std::pair<std::string, std::uint64_t>, std::function<void()>> served;

	// Our requests waiting for a reply.
	struct pending {
		std::string address;
		std::shared_ptr<Promise<std::string>> promise;
	};
	std::map<std::uint64_t, pending> requests;

	runtime_stats stats;
};

} // namespace turquoise::placement::detail

#endif
