// network.hpp — a runtime's network side (internal; see turquoise/process/network.hpp): the
// listening http::Server, the outbound connections by destination address, the link tables.
#pragma once

#include <turquoise/async/option.hpp>
#include <turquoise/async/try.hpp>
#include <turquoise/http/server.hpp>
#include <turquoise/pool.hpp>
#include <turquoise/process/message.hpp>
#include <turquoise/process/network.hpp>
#include <turquoise/process/pid.hpp>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

namespace turquoise::detail {

struct outbound; // outbound.hpp

// Message names of our own (network.hpp).
inline constexpr const char *link_message = "turquoise.link";
inline constexpr const char *exited_message = "turquoise.exited";

struct network_counters {
	std::atomic<std::uint64_t> sent{0}, received{0}, not_found{0}, bad_messages{0}, dropped{0},
	    connections_opened{0}, connection_failures{0}, exited{0}, route_requests{0}, outbound_open{0};
};

struct network : std::enable_shared_from_this<network> {
	network(pool &workers, network_options options) : workers(workers), options(std::move(options)) {}
	~network();

	Try<Address> listen();
	Option<Address> address() const;
	Option<Address> bound() const;
	network_stats stats() const;

	// A message to a remote address: queued on the connection to m.to.address (opened if
	// needed); m.from's placeholder address is replaced by ours (listening first if needed).
	void send(Message &&m);
	// linker (local) watches target (remote): a persistent connection to its address and a
	// turquoise.link message.
	void link(const UPID &linker, const UPID &target);
	// A turquoise.exited message from `target` to our process `linker` arrived.
	void remote_exited(const UPID &target, const std::string &linker);
	// A turquoise.link message from `linker` (remote) to our process `target` arrived.
	void remote_linked(const UPID &linker, const std::string &target);
	// The connection c ended (outbound.cpp): forget it, report its links.
	void connection_ended(const std::shared_ptr<outbound> &c, std::map<UPID, std::set<std::string>> links);
	// A request that reached the port (inbound.cpp): a message, a route request, or neither.
	Future<http::Response> inbound(const http::Request &r);

	void stop();

	pool &workers;
	const network_options options;
	network_counters count;

	mutable std::mutex mutex; // guards what follows
	bool stopped = false;
	std::optional<http::Server> server;
	Address advertised, bound_to;
	std::map<Address, std::shared_ptr<outbound>> connections;
	// (our process id, remote linker) -> the connection to the linker's address, which stays
	// open while it holds records (turquoise.link messages received; answered with
	// turquoise.exited when ours terminates, dropped when that connection ends).
	std::map<std::pair<std::string, UPID>, std::shared_ptr<outbound>> remote_linkers;
	pool::timer_id sweeper = 0;

private:
	std::shared_ptr<outbound> connection_locked(const Address &to, bool &fresh);
	// The connection to `to`, opened if needed; `stale`, if given, is one found ended: it is
	// forgotten first. Null once stopped.
	std::shared_ptr<outbound> connection_to(const Address &to, const std::shared_ptr<outbound> &stale = nullptr);
	void name_sender(UPID &from);
	void sweep();
};

// Is this an address of this program: the placeholder, or one a runtime listens on?
bool is_local(const Address &a);
void add_local(const Address &a);
void remove_local(const Address &a);

} // namespace turquoise::detail
