// turquoise/placement/transport.hpp — the seam between the placement runtime and a message
// layer: an endpoint sends named messages to addresses and reports peers that went away.
//
// The remote layer (remote processes: install/send/link/exited) provides one endpoint per
// peer instance (remote.hpp); loopback_network provides endpoints inside one OS process, for
// tests and for running several peers of one program together. What the runtime relies on:
// - messages from one endpoint to another arrive in the order they were sent, or not at all;
// - after link(to), exited(to) is reported once when `to` is gone (or could not be reached);
// - handlers are called one at a time per endpoint.
#ifndef TURQUOISE_PLACEMENT_TRANSPORT_HPP
#define TURQUOISE_PLACEMENT_TRANSPORT_HPP

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace turquoise::placement {

class endpoint {
public:
	struct handlers {
		std::vector<std::string> names; // the message names to deliver (others are not ours)
		std::function<void(const std::string &from, const std::string &name, std::string &&body)> message;
		std::function<void(const std::string &address)> exited;
	};

	virtual ~endpoint() = default;
	// This endpoint's address, as the others send to it.
	virtual std::string address() const = 0;
	// Start delivering to h (before any send).
	virtual void start(handlers h) = 0;
	virtual void send(const std::string &to, const std::string &name, std::string body) = 0;
	virtual void link(const std::string &to) = 0;
	// Stop delivering; the peers linked to this endpoint see it exit. Idempotent.
	virtual void stop() = 0;
};

// Endpoints in one OS process, delivered by one thread of the network's own.
class loopback_network {
public:
	loopback_network();
	~loopback_network();
	loopback_network(const loopback_network &) = delete;
	loopback_network &operator=(const loopback_network &) = delete;

	// A new endpoint at `address` (std::invalid_argument if that address is taken by a live one).
	std::unique_ptr<endpoint> open(const std::string &address);
	// Deliver a message as if `from` had sent it (for tests of hostile peers).
	void inject(const std::string &from, const std::string &to, const std::string &name, std::string body);
	// Wait until every message sent so far has been delivered (true if within the timeout).
	bool settle(int timeout_ms = 5000);

	struct impl;

private:
	std::shared_ptr<impl> impl_;
};

} // namespace turquoise::placement

#endif
