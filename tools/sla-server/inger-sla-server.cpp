// inger-sla-server — the latency-SLA experiment's HTTP/1.1 server on the preemptive pool.
//
//   inger-sla-server --port PORT --workers N (--quantum US | --no-preempt) [--bind ADDR]
//
// Routes:
//   GET /spin?us=N  burn N µs of CPU (a calibrated arithmetic loop, so the same amount of work
//                   whether or not the task is preempted meanwhile), answer 200 "ok";
//                   N missing, not a decimal number, or > 10,000,000: 400
//   GET /stats      200, the pool's per-worker statistics as JSON
//   other paths 404; other methods on /spin and /stats 405; malformed requests 400 (or the
//   status the parser names: 413, 414, 431, 501, 505), then the connection is closed.
//
// Every connection is driven by pool tasks: a task runs when the socket is readable (or, with
// output pending, writable), reads what is there, answers the complete requests in order, and
// arms the next wait. SIGINT/SIGTERM: stop accepting, drop pending waits, shutdown(cancel).
#include <turquoise/guarded_lock.hpp>
#include <turquoise/http.hpp>
#include <turquoise/pool.hpp>

#include <inger/inger.hpp>
#include <libinger.h>

#include <algorithm>
#include <arpa/inet.h>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <mutex>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <string>
#include <string_view>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <system_error>
#include <thread>
#include <unistd.h>
#include <unordered_set>
#include <utility>
#include <vector>

namespace {

namespace http = turquoise::http;
using turquoise::guarded_lock;
using turquoise::unique_function;

// ---------------------------------------------------------------------------------------------
// Options

struct options {
	std::string bind = "127.0.0.1";
	int port = 8080;
	unsigned workers = 0; // 0: one per hardware thread
	long quantum_us = turquoise::default_quantum.count();
	bool no_preempt = false;
	bool quantum_given = false;
};

void usage(std::FILE *to) {
	std::fputs("usage: inger-sla-server [--port PORT] [--workers N] [--quantum US | --no-preempt]\n"
	           "                        [--bind ADDR]\n"
	           "  --port PORT    TCP port to listen on (default 8080; 0: any free port)\n"
	           "  --workers N    pool workers (default: one per hardware thread)\n"
	           "  --quantum US   preemption quantum in microseconds (default 1000)\n"
	           "  --no-preempt   run every task to completion (a plain thread pool)\n"
	           "  --bind ADDR    IPv4 address to listen on (default 127.0.0.1)\n"
	           "  --help         this text\n"
	           "routes: GET /spin?us=N (burn N us of CPU, N <= 10000000), GET /stats (pool JSON)\n",
	           to);
}

template <class T>
bool parse_number(std::string_view s, T &out) {
	if (s.empty() || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
		return false;
	auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
	return ec == std::errc() && end == s.data() + s.size();
}

// 0: run; 1: --help printed; 2: bad arguments (usage printed).
int parse_args(int argc, char **argv, options &o) {
	for (int i = 1; i < argc; ++i) {
		std::string_view arg = argv[i], value;
		bool has_value = false;
		if (auto eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
			value = arg.substr(eq + 1);
			arg = arg.substr(0, eq);
			has_value = true;
		}
		auto need_value = [&]() -> bool {
			if (has_value)
				return true;
			if (i + 1 >= argc)
				return false;
			value = argv[++i];
			return true;
		};
		auto bad = [&](const char *why) {
			std::fprintf(stderr, "inger-sla-server: %s: %.*s\n", why, static_cast<int>(arg.size()), arg.data());
			usage(stderr);
			return 2;
		};
		if (arg == "--help" || arg == "-h") {
			if (has_value)
				return bad("unexpected value");
			usage(stdout);
			return 1;
		} else if (arg == "--no-preempt") {
			if (has_value)
				return bad("unexpected value");
			o.no_preempt = true;
		} else if (arg == "--port") {
			unsigned port = 0;
			if (!need_value() || !parse_number(value, port) || port > 65535)
				return bad("expected a port number 0..65535");
			o.port = static_cast<int>(port);
		} else if (arg == "--workers") {
			unsigned n = 0;
			if (!need_value() || !parse_number(value, n) || n < 1 || n > 1024)
				return bad("expected a worker count 1..1024");
			o.workers = n;
		} else if (arg == "--quantum") {
			long q = 0;
			if (!need_value() || !parse_number(value, q) || q < 1 || q > 10'000'000)
				return bad("expected a quantum in microseconds 1..10000000");
			o.quantum_us = q;
			o.quantum_given = true;
		} else if (arg == "--bind") {
			in_addr a{};
			if (!need_value() || inet_pton(AF_INET, std::string(value).c_str(), &a) != 1)
				return bad("expected an IPv4 address");
			o.bind = std::string(value);
		} else {
			return bad("unknown argument");
		}
	}
	if (o.no_preempt && o.quantum_given) {
		std::fputs("inger-sla-server: --quantum and --no-preempt exclude each other\n", stderr);
		usage(stderr);
		return 2;
	}
	return 0;
}

// ---------------------------------------------------------------------------------------------
// CPU burning: a calibrated loop of pure arithmetic. Iterations, not clocks, so a request that
// gets preempted still does exactly N µs worth of work (a wall-clock spin would count the time
// other tasks ran; a thread CPU clock would count other tasks on the same worker thread).

double iterations_per_us = 0; // set once in main, before the pool starts

__attribute__((noinline)) std::uint64_t burn(std::uint64_t iterations, std::uint64_t x) {
	for (std::uint64_t i = 0; i < iterations; ++i) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		asm volatile("" : "+r"(x)); // keep every iteration
	}
	return x;
}

// CPU time of the calling thread: calibration runs on the main thread before the pool exists,
// so this is exactly the loop's own time, even when the machine is busy and deschedules us.
std::uint64_t thread_cpu_ns() {
	timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return std::uint64_t(ts.tv_sec) * 1000000000u + std::uint64_t(ts.tv_nsec);
}

// Median of several timed runs of about 10 ms each.
double calibrate() {
	std::uint64_t n = 1u << 16;
	for (;;) { // size a run to take >= 10 ms
		std::uint64_t t0 = thread_cpu_ns();
		burn(n, t0);
		if (thread_cpu_ns() - t0 >= 10'000'000 || n >= (1ull << 40))
			break;
		n *= 2;
	}
	std::vector<double> rates;
	for (int k = 0; k < 7; ++k) {
		std::uint64_t t0 = thread_cpu_ns();
		burn(n, t0);
		std::uint64_t dt = std::max<std::uint64_t>(1, thread_cpu_ns() - t0);
		rates.push_back(double(n) * 1000.0 / double(dt));
	}
	std::sort(rates.begin(), rates.end());
	return rates[rates.size() / 2];
}

// Preemption. The connection tasks run their bookkeeping (I/O, parsing, allocation, the reactor)
// with preemption deferred, and allow it only while burning CPU for /spin: that part is what the
// experiment is about, and the bookkeeping is short. It also means that a task cancelled by
// pool.shutdown(cancel) is always cancelled inside burn(), never halfway through a malloc,
// a container update or an fd hand-over, so shutdown leaves nothing half-done (main() frees the
// connections such tasks held).
using no_preemption_scope = inger::critical_section;

// Inside the (single) no_preemption_scope of a connection task: preemptible again meanwhile.
class preemption_window {
public:
	preemption_window() noexcept { linger_critical_end(); }
	~preemption_window() { linger_critical_begin(); }
	preemption_window(const preemption_window &) = delete;
	preemption_window &operator=(const preemption_window &) = delete;
};

void spin_us(std::uint64_t us) {
	auto iterations = static_cast<std::uint64_t>(double(us) * iterations_per_us);
	preemption_window preemptible;
	burn(iterations, us);
}

// ---------------------------------------------------------------------------------------------
// Waits on fds, through the pool's reactor.
//
// Every pending wait is recorded so that stop() can forget them all before pool.shutdown().

class reactor {
public:
	explicit reactor(turquoise::pool &p) : pool_(p) {}

	// Run fn as a task once fd is readable (or writable). False when stopping or on failure:
	// fn has then been destroyed without running.
	bool arm(int fd, bool writable, unique_function<void()> fn) noexcept {
		try {
			return arm_direct(fd, writable, std::move(fn));
		} catch (...) {
			return false;
		}
	}

	// No more waits; pending ones are dropped (their callbacks destroyed, which closes their
	// connections).
	void stop() {
		guarded_lock lock(mutex_);
		stopping_ = true;
		for (int fd : armed_)
			pool_.forget(fd);
		armed_.clear();
	}

	bool stopping() {
		guarded_lock lock(mutex_);
		return stopping_;
	}

private:
	bool arm_direct(int fd, bool writable, unique_function<void()> fn) {
		guarded_lock lock(mutex_);
		if (stopping_)
			return false;
		auto cb = [this, fd, fn = std::move(fn)]() mutable {
			{
				guarded_lock lock(mutex_);
				armed_.erase(fd);
			}
			fn(); // not inside a critical section: fn sets up its own
		};
		if (writable)
			pool_.when_writable(fd, std::move(cb));
		else
			pool_.when_readable(fd, std::move(cb));
		armed_.insert(fd);
		return true;
	}

	turquoise::pool &pool_;
	std::mutex mutex_;
	bool stopping_ = false;
	std::unordered_set<int> armed_;
};

// ---------------------------------------------------------------------------------------------
// The server

turquoise::pool *g_pool = nullptr;
reactor *g_reactor = nullptr;
int g_listen_fd = -1;

constexpr std::uint64_t max_spin_us = 10'000'000;
constexpr std::size_t out_high_water = 64 * 1024; // stop answering, flush first
constexpr std::size_t read_cap = 256 * 1024;      // read at most this much before parsing
constexpr std::size_t read_chunk = 16 * 1024;
constexpr std::size_t linger_drain_cap = 1024 * 1024;

// Every live connection, so that main() can free the ones whose task was cancelled by
// pool.shutdown(cancel) while preempted (objects on a cancelled task's stack are never
// destroyed; the connection, and the request it is answering, hang off this set instead).
std::mutex g_connections_mutex;
std::unordered_set<struct connection *> g_connections;

struct connection {
	int fd;
	http::request_parser parser;
	http::request current; // the request being answered
	std::string in;
	std::size_t in_off = 0;
	std::string out;
	std::size_t out_off = 0;
	bool close_after_flush = false; // Connection: close, HTTP/1.0, or a parse error
	bool peer_eof = false;
	std::size_t drained = 0; // lingering close: bytes discarded after our FIN

	explicit connection(int f) : fd(f) {
		guarded_lock lock(g_connections_mutex);
		g_connections.insert(this);
	}
	connection(const connection &) = delete;
	connection &operator=(const connection &) = delete;
	// Also reached when a pending wait is dropped (reactor::stop, pool shutdown): no pool
	// calls here, just the close.
	~connection() {
		{
			guarded_lock lock(g_connections_mutex);
			g_connections.erase(this);
		}
		if (fd >= 0)
			::close(fd);
	}
};
using conn_ptr = std::unique_ptr<connection>;

void serve(conn_ptr c) noexcept;
void linger(conn_ptr c) noexcept;

void close_conn(conn_ptr c) {
	g_pool->forget(c->fd); // nothing is registered while a task holds the connection
	::close(c->fd);
	c->fd = -1;
}

void append_u64(std::string &out, std::uint64_t v) {
	char buf[24];
	auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
	(void)ec;
	out.append(buf, end);
}

std::string stats_json() {
	std::vector<turquoise::worker_stats> stats = g_pool->stats();
	std::string j = "{\"workers\":";
	append_u64(j, g_pool->size());
	j += ",\"quantum_us\":";
	if (g_pool->quantum() == turquoise::no_preemption)
		j += "null";
	else
		append_u64(j, static_cast<std::uint64_t>(g_pool->quantum().count()));
	turquoise::worker_stats total;
	j += ",\"per_worker\":[";
	auto fields = [&](const turquoise::worker_stats &s) {
		j += "{\"tasks_started\":";
		append_u64(j, s.tasks_started);
		j += ",\"tasks_completed\":";
		append_u64(j, s.tasks_completed);
		j += ",\"preemptions\":";
		append_u64(j, s.preemptions);
		j += ",\"steals\":";
		append_u64(j, s.steals);
		j += ",\"fresh_depth\":";
		append_u64(j, s.fresh_depth);
		j += ",\"demoted_depth\":";
		append_u64(j, s.demoted_depth);
		j += "}";
	};
	for (std::size_t i = 0; i < stats.size(); ++i) {
		if (i)
			j += ',';
		fields(stats[i]);
		total.tasks_started += stats[i].tasks_started;
		total.tasks_completed += stats[i].tasks_completed;
		total.preemptions += stats[i].preemptions;
		total.steals += stats[i].steals;
		total.fresh_depth += stats[i].fresh_depth;
		total.demoted_depth += stats[i].demoted_depth;
	}
	j += "],\"total\":";
	fields(total);
	j += "}\n";
	return j;
}

// Answer one request (appended to out).
void handle(const http::request &r, std::string &out) {
	http::response resp;
	resp.keep_alive = r.keep_alive;
	std::string body;
	if (r.path == "/spin" || r.path == "/stats") {
		if (r.method != "GET") {
			resp.status = 405;
			resp.body = "method not allowed\n";
			resp.extra_headers.emplace_back("Allow", "GET");
		} else if (r.path == "/spin") {
			std::uint64_t us = 0;
			auto v = r.find_query("us");
			if (!v || !parse_number(*v, us) || us > max_spin_us) {
				resp.status = 400;
				resp.body = "bad request: us must be an integer 0..10000000\n";
			} else {
				spin_us(us);
				resp.body = "ok";
			}
		} else {
			body = stats_json();
			resp.content_type = "application/json";
			resp.body = body;
		}
	} else {
		resp.status = 404;
		resp.body = "not found\n";
	}
	http::append_response(out, resp);
}

void error_response(http::parse_error e, std::string &out) {
	std::string body = "bad request: ";
	body += http::to_string(e);
	body += '\n';
	http::response resp;
	resp.status = http::status_for(e);
	resp.body = body;
	resp.keep_alive = false;
	http::append_response(out, resp);
}

void wait_then(conn_ptr c, bool writable, void (*next)(conn_ptr) noexcept) {
	int fd = c->fd;
	g_reactor->arm(fd, writable, [c = std::move(c), next]() mutable { next(std::move(c)); });
	// On failure (stopping) the callback, and with it the connection, is already gone.
}

// The connection's task: flush, answer buffered requests, read; until a wait or the close.
void serve(conn_ptr c) noexcept {
	no_preemption_scope bookkeeping; // preemptible only inside spin_us()
	try {
		for (;;) {
			while (c->out_off < c->out.size()) {
				ssize_t n = ::send(c->fd, c->out.data() + c->out_off, c->out.size() - c->out_off, MSG_NOSIGNAL);
				if (n > 0) {
					c->out_off += static_cast<std::size_t>(n);
				} else if (n < 0 && errno == EINTR) {
					continue;
				} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
					return wait_then(std::move(c), true, serve);
				} else {
					return close_conn(std::move(c));
				}
			}
			c->out.clear();
			c->out_off = 0;
			if (c->close_after_flush)
				return linger(std::move(c));

			while (c->in_off < c->in.size() && !c->close_after_flush && c->out.size() < out_high_water) {
				std::string_view rest(c->in.data() + c->in_off, c->in.size() - c->in_off);
				c->in_off += c->parser.feed(rest);
				if (c->parser.ready()) {
					c->current = c->parser.take();
					handle(c->current, c->out);
					if (!c->current.keep_alive)
						c->close_after_flush = true;
					c->current = http::request{};
				} else if (c->parser.failed()) {
					error_response(c->parser.error(), c->out);
					c->close_after_flush = true;
				}
			}
			if (c->in_off >= c->in.size() || c->close_after_flush) {
				c->in.clear();
				c->in_off = 0;
			}
			if (!c->out.empty() || c->close_after_flush || c->in_off < c->in.size())
				continue;
			if (c->peer_eof)
				return close_conn(std::move(c)); // a partial request, if any, is dropped

			bool got = false;
			while (c->in.size() < read_cap) {
				std::size_t old = c->in.size();
				c->in.resize(old + read_chunk);
				ssize_t n = ::recv(c->fd, c->in.data() + old, read_chunk, 0);
				c->in.resize(old + static_cast<std::size_t>(std::max<ssize_t>(n, 0)));
				if (n > 0) {
					got = true;
				} else if (n == 0) {
					c->peer_eof = true;
					break;
				} else if (errno == EINTR) {
					continue;
				} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
					break;
				} else {
					return close_conn(std::move(c)); // ECONNRESET & co.
				}
			}
			if (!got && !c->peer_eof)
				return wait_then(std::move(c), false, serve);
		}
	} catch (...) {
		if (c && c->fd >= 0)
			close_conn(std::move(c));
	}
}

// Closing after our last answer: send FIN, then read and discard until the peer's FIN (bounded),
// so that input still arriving does not make our kernel reset the connection before the peer
// has read the answer.
void linger(conn_ptr c) noexcept {
	no_preemption_scope bookkeeping;
	try {
		if (c->drained == 0)
			::shutdown(c->fd, SHUT_WR);
		char buf[4096];
		for (;;) {
			ssize_t n = ::recv(c->fd, buf, sizeof buf, 0);
			if (n > 0) {
				c->drained += static_cast<std::size_t>(n);
				if (c->drained > linger_drain_cap)
					return close_conn(std::move(c));
			} else if (n < 0 && errno == EINTR) {
				continue;
			} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
				c->drained = std::max<std::size_t>(c->drained, 1);
				return wait_then(std::move(c), false, linger);
			} else {
				return close_conn(std::move(c));
			}
		}
	} catch (...) {
		if (c && c->fd >= 0)
			close_conn(std::move(c));
	}
}

void arm_listen();

void on_listen_ready() noexcept {
	no_preemption_scope bookkeeping;
	for (int k = 0; k < 256; ++k) {
		int fd = ::accept4(g_listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
				continue;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				// Out of descriptors: try again a little later instead of spinning on the
				// (still readable) listen socket.
				try {
					if (!g_reactor->stopping())
						g_pool->after(std::chrono::milliseconds(10), [] {
							no_preemption_scope bookkeeping;
							arm_listen();
						});
				} catch (...) {
				}
				return;
			}
			break; // EAGAIN, or something we cannot fix by retrying now
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		try {
			auto c = std::make_unique<connection>(fd);
			// The first request usually arrives with the connection: try reading right away.
			g_pool->post([c = std::move(c)]() mutable { serve(std::move(c)); });
		} catch (...) {
			// The task (and the connection with it) was destroyed.
		}
	}
	arm_listen();
}

void arm_listen() { g_reactor->arm(g_listen_fd, false, [] { on_listen_ready(); }); }

int open_listener(const options &o, int &port) {
	int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	sockaddr_in addr{};
	addr.sin_family = AF_INET;
	addr.sin_port = htons(static_cast<std::uint16_t>(o.port));
	inet_pton(AF_INET, o.bind.c_str(), &addr.sin_addr);
	if (::bind(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0 || ::listen(fd, SOMAXCONN) != 0) {
		int e = errno;
		::close(fd);
		errno = e;
		return -1;
	}
	socklen_t len = sizeof addr;
	getsockname(fd, reinterpret_cast<sockaddr *>(&addr), &len);
	port = ntohs(addr.sin_port);
	return fd;
}

} // namespace

int main(int argc, char **argv) {
	options o;
	if (int rc = parse_args(argc, argv, o))
		return rc == 1 ? 0 : rc;

	// SIGINT/SIGTERM are taken by sigwait() below: block them before any thread exists, so
	// every pool thread inherits the mask. Broken connections must not kill us (we also use
	// MSG_NOSIGNAL).
	sigset_t stop_signals;
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
	std::signal(SIGPIPE, SIG_IGN);

	iterations_per_us = calibrate();

	int port = 0;
	g_listen_fd = open_listener(o, port);
	if (g_listen_fd < 0) {
		std::fprintf(stderr, "inger-sla-server: cannot listen on %s:%d: %s\n", o.bind.c_str(), o.port,
		             std::strerror(errno));
		return 1;
	}

	turquoise::pool_options po;
	po.workers = o.workers;
	po.quantum = o.no_preempt ? turquoise::no_preemption : std::chrono::microseconds(o.quantum_us);
	{
		turquoise::pool pool(po);
		g_pool = &pool;
		reactor r(pool);
		g_reactor = &r;
		arm_listen();

		std::string quantum = o.no_preempt ? std::string("none") : std::to_string(o.quantum_us) + "us";
		std::fprintf(stderr,
		             "inger-sla-server: listening on %s port=%d workers=%u quantum=%s "
		             "calibration=%.1f iterations/us\n",
		             o.bind.c_str(), port, pool.size(), quantum.c_str(), iterations_per_us);
		std::fflush(stderr);

		int sig = 0;
		while (sigwait(&stop_signals, &sig) != 0) {
		}
		// Stop accepting and drop every pending wait (closing idle connections), give a task the
		// event thread may be handing over right now a moment to land, then cancel the rest.
		r.stop();
		std::this_thread::sleep_for(std::chrono::milliseconds(20));
		pool.shutdown(turquoise::shutdown_mode::cancel);
		// What is left belonged to tasks cancelled mid-run (no other owner remains: the workers
		// and the event thread are gone, dropped waits and queued tasks were destroyed).
		std::vector<connection *> orphans;
		{
			guarded_lock lock(g_connections_mutex);
			orphans.assign(g_connections.begin(), g_connections.end());
		}
		for (connection *c : orphans)
			delete c;
		g_reactor = nullptr;
		g_pool = nullptr;
		std::fprintf(stderr, "inger-sla-server: %s, shut down\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
	}
	::close(g_listen_fd);
	return 0;
}
