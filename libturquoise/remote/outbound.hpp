// outbound.hpp — one outbound connection to a destination address (internal): the encoded
// messages queued in send order, written without blocking, the answers read and ignored,
// and the links whose exited it reports when the connection ends.
#pragma once

#include "network.hpp"

#include <turquoise/http/parser.hpp>
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
	outbound(std::weak_ptr<network> net, pool &reactor, Address to, std::size_t max_queued, bool close_when_idle)
	    : net(std::move(net)), reactor(reactor), to(std::move(to)), max_queued(max_queued),
	      close_when_idle(close_when_idle) {
		answers.set_streaming(true); // bodies are not kept (count_answers_locked)
	}
	~outbound();

	// Start the non-blocking connect (call once, after construction).
	void start();
	// Queue m (encoded): queued, or dropped because the queue is over its limit, or not taken
	// because the connection has ended (the caller may open a new one).
	enum class queued_as { queued, full, ended };
	queued_as enqueue(Message &&m); // m is left as it was unless queued
	// Record a link: when the connection ends, linker gets exited(target). False if it
	// existed already (or the connection has ended: the caller reports it).
	bool add_link(const UPID &target, const std::string &linker, bool &ended);
	bool remove_link(const UPID &target, const std::string &linker);
	// Connect and write timeouts, and the close of an idle unlinked connection (the
	// network's sweeper).
	void check_timeouts(std::uint64_t connect_ns, std::uint64_t write_ns, std::uint64_t linger_ns);
	// A remote process at `to` linked to one of ours (network::remote_linked): the connection
	// stays open while such records exist (its end tells that their host is gone).
	// False if the connection has ended (the caller opens a new one).
	bool hold();
	void release();
	// End the connection now (a fault, or the network stopping: report=false).
	void end(const char *why, bool failure, bool report = true);

	const std::weak_ptr<network> net;
	pool &reactor;
	const Address to;
	const std::size_t max_queued;
	const bool close_when_idle; // an unlinked connection closes at once when idle (linger 0)

private:
	enum class phase { connecting, open, ended };
	void flush_locked();
	void post_flush_locked();
	void arm_locked(bool write);
	void on_writable();
	void on_readable();
	bool idle_locked() const;
	void count_answers_locked(std::string_view bytes);

	std::mutex mutex; // guards what follows
	phase state = phase::connecting;
	int fd = -1;
	std::deque<std::string> out; // encoded messages not yet written (segments), from out_off
	std::size_t out_off = 0;     // bytes of out.front() written
	std::uint64_t written = 0;   // bytes written since the start
	std::uint64_t queued = 0;    // bytes queued since the start
	std::deque<std::uint64_t> ends; // `queued` at the end of each message not fully written
	bool read_armed = false, write_armed = false;
	bool flush_posted = false;   // a flush task is on its way (post_flush_locked)
	std::uint64_t last_flush_ns = 0; // when a flush last ran (burst detection, enqueue)
	std::uint64_t started_ns = 0;
	std::uint64_t blocked_since_ns = 0; // output waits for the peer since; 0: it does not
	std::map<UPID, std::set<std::string>> links; // remote target -> ids of local linkers
	// Answers: one per message written; the connection is idle (may close) only once every
	// one has been read, i.e. the peer has taken every message (no reordering with a next
	// connection, no unread bytes to make our close a reset).
	http::response_parser answers;
	std::uint64_t answers_due = 0;
	bool answers_unreadable = false; // the peer's answers did not parse: stop counting
	std::uint64_t idle_since_ns = 0; // the connection became idle at; 0: it is not idle
	std::size_t holders = 0;
};

} // namespace turquoise::detail
