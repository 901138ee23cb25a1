// client_state.hpp — the client's shared state, its connection pool, and one client
// connection's driver (internal; see turquoise/http/client.hpp).
#pragma once

#include <turquoise/http/client.hpp>

#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace turquoise::http {

namespace detail {
struct client_connection;
}

struct Client::state : std::enable_shared_from_this<Client::state> {
	state(pool &p, client_options o) : reactor(p), options(std::move(o)) {}
	pool &reactor;
	const client_options options;

	struct counters {
		std::atomic<std::uint64_t> opened{0}, reused{0}, requests{0}, failures{0};
	} count;

	// The connection pool (connection_pool.cpp): idle keep-alive connections per host:port.
	std::shared_ptr<detail::client_connection> take(const std::string &key);
	void give(const std::string &key, std::shared_ptr<detail::client_connection> c);
	std::size_t idle_count();
	void close_idle();

private:
	struct idle_entry {
		std::shared_ptr<detail::client_connection> conn;
		std::uint64_t since_ns;
	};
	std::mutex mutex_;
	std::unordered_map<std::string, std::deque<idle_entry>> idle_;
	bool closed_ = false;
};

namespace detail {

// One request and its response on a connection.
struct exchange {
	std::string bytes; // the serialized request
	bool head = false;
	bool stream = false;
	bool keep_alive = true;
	std::chrono::milliseconds timeout{};
};

// A failure message's first words for an errno ("connection refused", "connection reset").
std::string reason(int err);

// One connection of the client. One exchange at a time; at most one thread drives it
// (`driving`; others set `again`, and the driver steps once more). Promises and the stream's
// pipe are completed outside the lock, by the driver, in order.
struct client_connection : std::enable_shared_from_this<client_connection> {
	client_connection(std::shared_ptr<Client::state> owner, std::string key, int fd);
	~client_connection();

	Future<Response> start(exchange ex);
	// For the pool: still open, nothing unexpected received (a close by the server, say).
	bool reusable();
	void close_now();
	bool closed();

private:
	// What a step decided, done by the driver outside the lock, in this order.
	struct outcome {
		std::optional<Promise<Response>> promise; // completed with `value`, `failure` or discard
		std::optional<Response> value;
		std::string failure;
		bool discard = false;
		std::optional<Pipe::Writer> writer; // the stream: `chunks`, then close or fail
		std::vector<std::string> chunks;
		bool end_stream = false;
		std::optional<std::string> fail_stream;
		bool reuse = false; // back to the pool
	};

	static void drive(const std::shared_ptr<client_connection> &c);
	void step_locked(outcome &o);
	void read_locked(outcome &o);
	void fail_locked(outcome &o, std::string message, bool discard = false);
	void complete_locked(outcome &o, bool reusable);
	void arm_locked();
	void close_locked();
	bool reusable_locked();
	void on_fault(std::uint64_t id, std::string message, bool discard);

	const std::weak_ptr<Client::state> owner_;
	pool &reactor_;
	const std::string key_;
	const int fd_;

	std::mutex mutex_; // guards what follows
	enum class phase { idle, busy, closed } phase_ = phase::idle;
	bool connecting_ = true;       // connect() under way
	bool connect_signalled_ = false; // writable since: SO_ERROR tells the outcome
	bool driving_ = false, again_ = false;
	bool read_armed_ = false, write_armed_ = false;
	std::uint64_t exchange_id_ = 0;
	std::optional<std::string> fault_; // a timeout or a discard, for the driver to act on
	bool fault_discard_ = false;
	std::string out_;
	std::size_t out_off_ = 0;
	response_parser parser_;
	bool keep_alive_ = true;
	bool stream_ = false;
	bool head_delivered_ = false;
	std::optional<Promise<Response>> promise_;
	std::optional<Pipe::Writer> writer_;
	pool::timer_id connect_timer_ = 0, total_timer_ = 0;
};

} // namespace detail
} // namespace turquoise::http
