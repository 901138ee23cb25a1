// server_state.hpp — the server's shared state and its per-connection driver (internal).
#pragma once

#include <turquoise/http/server.hpp>

#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace turquoise::http {

namespace detail {
struct server_connection;
}

struct Server::state : std::enable_shared_from_this<Server::state> {
	state(pool &p, server_options o, int fd, std::uint16_t port)
	    : reactor(p), options(std::move(o)), listen_fd(fd), port(port) {}

	pool &reactor;
	const server_options options;
	const int listen_fd;
	const std::uint16_t port;

	std::mutex mutex; // guards the fields below
	bool stopped = false;
	std::map<std::string, std::shared_ptr<const Handler>, std::less<>> routes;
	std::shared_ptr<const Handler> fallback;
	std::unordered_map<detail::server_connection *, std::shared_ptr<detail::server_connection>> conns;
	pool::timer_id sweeper = 0;
	std::vector<std::string> metric_names; // registered (server_options::metrics_prefix)

	struct counters {
		std::atomic<std::uint64_t> accepted{0}, requests{0}, bad_requests{0}, rejected{0}, timeouts{0},
		    dropped{0};
	} count;

	// The handler for a path (shared, so it can run outside the lock); null: 404.
	std::shared_ptr<const Handler> find_handler(std::string_view path);

	void arm_accept();
	void on_acceptable();
	void arm_sweeper();
	void sweep();
	void forget_connection(detail::server_connection *c);
	Try<Nothing> add_metrics();
	void stop();
};

namespace detail {

// One connection. At most one thread drives it at a time (`busy`): the driver steps it under
// the lock, then calls the handlers of the requests it parsed outside the lock (preemptibly),
// and steps again until a step finds nothing to hand out. A completion that arrives while it
// is busy only records its answer (the driver's next step sends it); one that arrives while it
// is not posts a task that drives it.
struct server_connection : std::enable_shared_from_this<server_connection> {
	server_connection(std::shared_ptr<Server::state> s, int fd);
	~server_connection();

	// An answer in request order: filled when the handler's future completes.
	struct slot {
		bool ready = false;
		bool head = false;        // answer to HEAD: no body
		bool keep_alive = true;   // the request allows the connection to stay open
		std::string bytes;        // the serialized answer (or its head, when streaming)
		std::optional<Pipe::Reader> stream;
	};
	struct job {
		std::uint64_t seq;
		Request req;
	};

	const std::shared_ptr<Server::state> server;
	const int fd;
	std::mutex mutex; // guards what follows
	bool closed = false;
	bool busy = false; // a thread is driving it (see run())
	bool read_armed = false, write_armed = false;
	request_parser parser;
	std::string in;
	std::size_t in_off = 0;
	std::deque<slot> pending;
	std::uint64_t first_seq = 0; // sequence number of pending.front()
	std::string out;
	std::size_t out_off = 0;
	bool peer_eof = false;
	bool close_after_flush = false; // no reading or answering beyond what is pending
	bool streaming = false;         // pending.front() is being streamed
	bool stream_read_out = false;   // a read() on its reader is outstanding
	bool lingering = false;
	std::size_t drained = 0;
	std::uint64_t request_started_ns = 0; // first byte of the request in progress; 0: none
	std::uint64_t last_activity_ns = 0;
	std::uint64_t write_blocked_ns = 0;   // since when output waits for the peer; 0: it does not

	// Drive the connection (from a pool task: reactor wake-ups, posted completions).
	static void run(const std::shared_ptr<server_connection> &c);
	// Wait for a handler's answer to request number seq.
	void complete(std::uint64_t seq, const Future<Response> &f);
	void fill(std::uint64_t seq, const Future<Response> &f);
	void on_chunk(const Future<std::string> &f);
	// The sweeper's look: closes or answers 408 when a timeout has passed.
	void check_timeouts(std::uint64_t now);
	// Close now (stop(), faults); idempotent.
	void close_now();

private:
	void step_locked(std::vector<job> &jobs, std::uint64_t now);
	void flush_locked(std::uint64_t now);
	void read_locked(std::vector<job> &jobs, std::uint64_t now);
	void parse_locked(std::vector<job> &jobs, std::uint64_t now);
	void linger_locked();
	void arm_locked();
	bool stream_read_due_locked() const;
	void close_locked(bool count_drop);
	void schedule();
	void close_stream_later(Pipe::Reader reader);
};

// An answer of our own (decoder errors, 408, failed handlers): text/plain, then close.
inline void append_error(std::string &out, int status, std::string_view why) {
	Response r(status, std::string(why) + "\n");
	append_response(out, r, false);
}

} // namespace detail
} // namespace turquoise::http
