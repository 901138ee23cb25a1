// outbound.hpp — one outbound connection to a destination address (internal): the encoded
// messages queued in send order, written without blocking, the answers read and ignored,
// and the links whose exited it reports when the connection ends.
#pragma once

#include "network.hpp"

#include <turquoise/process/message.hpp>

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

namespace turquoise::detail {

struct outbound : std::enable_shared_from_this<outbound> {
	outbound(std::weak_ptr<network> net, pool &reactor, Address to, std::size_t max_queued)
	    : net(std::move(net)), reactor(reactor), to(std::move(to)), max_queued(max_queued) {}
	~outbound();

	// Start the non-blocking connect (call once, after construction).
	void start();
	// Queue m (encoded); false if it was dropped (queue over its limit, or connection ended).
	bool enqueue(const Message &m);
	// Record a link: when the connection ends, linker gets exited(target). False if it
	// existed already (or the connection has ended: the caller reports it).
	bool add_link(const UPID &target, const std::string &linker, bool &ended);
	bool remove_link(const UPID &target, const std::string &linker);
	// Connect and write timeouts (the network's sweeper).
	void check_timeouts(std::uint64_t connect_ns, std::uint64_t write_ns);
	// End the connection now (a fault, or the network stopping: report=false).
	void end(const char *why, bool failure, bool report = true);

	const std::weak_ptr<network> net;
	pool &reactor;
	const Address to;
	const std::size_t max_queued;

private:
	enum class phase { connecting, open, ended };
	void flush_locked();
	void arm_locked(bool write);
	void on_writable();
	void on_readable();

	std::mutex mutex; // guards what follows
	phase state = phase::connecting;
	int fd = -1;
	std::string out;             // encoded messages not yet written, from out_off
	std::size_t out_off = 0;
	std::uint64_t written = 0;   // bytes written since the start
	std::uint64_t queued = 0;    // bytes queued since the start
	std::deque<std::uint64_t> ends; // `queued` at the end of each message not fully written
	bool read_armed = false, write_armed = false;
	std::uint64_t started_ns = 0;
	std::uint64_t blocked_since_ns = 0; // output waits for the peer since; 0: it does not
	std::map<UPID, std::set<std::string>> links; // remote target -> ids of local linkers
};

} // namespace turquoise::detail
