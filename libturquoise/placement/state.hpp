// state.hpp — peer_runtime's private state (shared by handshake.cpp and serving.cpp) and the wire
// message names and bodies.
#ifndef LIBTURQUOISE_PLACEMENT_STATE_HPP
#define LIBTURQUOISE_PLACEMENT_STATE_HPP

#include <turquoise/placement/codec.hpp>
#include <turquoise/placement/detail/peer_runtime.hpp>

#include <map>
#include <mutex>
#include <tuple>

namespace turquoise::placement::detail {

// Message names (the remote layer's message names; each body is a codec-encoded tuple).
namespace wire {
constexpr const char *hello = "placement.hello";       // (peer, module, expected peer)
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

using hello_body = std::tuple<std::string, std::string, std::string>;
using welcome_body = std::tuple<std::string>;
using refuse_body = std::tuple<std::string>;
using subscribe_body = std::tuple<std::uint64_t, std::uint64_t, std::string>;
using unsubscribe_body = std::tuple<std::uint64_t>;
using occurrence_body = std::tuple<std::uint64_t, std::string>;
using end_body = std::tuple<std::uint64_t, bool, std::string>;
using request_body = std::tuple<std::uint64_t, std::uint64_t, std::string, bool, std::string>;
using reply_body = std::tuple<std::uint64_t, bool, std::string>;
} // namespace wire

struct peer_runtime::state {
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
