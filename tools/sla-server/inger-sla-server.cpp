// inger-sla-server — the latency-SLA experiment's HTTP/1.1 server on the preemptive pool.
//
//   inger-sla-server --port PORT --workers N (--quantum US | --no-preempt)
//                    [--migrate | --no-migrate] [--bind ADDR]
//
// Routes:
//   GET /spin?us=N  burn N µs of CPU (a calibrated arithmetic loop, so the same amount of work
//                   whether or not the task is preempted meanwhile), answer 200 "ok". The
//                   burn is a task of its own that opts in to migration
//                   (task_options::migrate_preempted): preempted, an idle worker may continue
//                   it (--no-migrate: it stays on the worker that started it);
//                   N missing, not a decimal number, or > 10,000,000: 400
//   GET /stats      200, the pool's per-worker statistics as JSON
//   other paths 404; other methods on /spin and /stats 405; malformed requests 400 (or the
//   status the decoder names: 408, 413, 414, 431, 501, 505), then the connection is closed.
//
// The routes are handlers on turquoise::http::Server (keep-alive, pipelining, limits and
// timeouts as documented in turquoise/http/server.hpp), whose connections are driven by tasks
// of the same preemptive pool. SIGINT/SIGTERM: stop the server (closing every connection),
// shutdown(cancel).
#include <turquoise/http.hpp>
#include <turquoise/pool.hpp>

#include <inger/inger.hpp>

#include <algorithm>
#include <arpa/inet.h>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <pthread.h>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace {

namespace http = turquoise::http;

// ---------------------------------------------------------------------------------------------
// Options

struct options {
	std::string bind = "127.0.0.1";
	int port = 8080;
	unsigned workers = 0; // 0: one per hardware thread
	long quantum_us = turquoise::default_quantum.count();
	bool no_preempt = false;
	bool quantum_given = false;
	bool migrate = false;         // every task of the pool may migrate
	bool migrate_spin = true;     // /spin's burn opts in
};

void usage(std::FILE *to) {
	std::fputs("usage: inger-sla-server [--port PORT] [--workers N] [--quantum US | --no-preempt]\n"
	           "                        [--migrate | --no-migrate] [--bind ADDR]\n"
	           "  --port PORT    TCP port to listen on (default 8080; 0: any free port)\n"
	           "  --workers N    pool workers (default: one per hardware thread)\n"
	           "  --quantum US   preemption quantum in microseconds (default 1000)\n"
	           "  --no-preempt   run every task to completion (a plain thread pool)\n"
	           "  --migrate      idle workers take any preempted task (pool_options::migrate_preempted),\n"
	           "                 not only /spin's burn, which opts in by default\n"
	           "  --no-migrate   no task migrates, /spin's burn included\n"
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
		} else if (arg == "--migrate") {
			if (has_value)
				return bad("unexpected value");
			o.migrate = true;
		} else if (arg == "--no-migrate") {
			if (has_value)
				return bad("unexpected value");
			o.migrate_spin = false;
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
	if (o.migrate && !o.migrate_spin) {
		std::fputs("inger-sla-server: --migrate and --no-migrate exclude each other\n", stderr);
		usage(stderr);
		return 2;
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

// Preemption. The handlers run their bookkeeping (query parsing, building the answer) with
// preemption deferred, and allow it only while burning CPU for /spin: that part is what the
// experiment is about, and the bookkeeping is short. It also means that a task cancelled by
// pool.shutdown(cancel) is always cancelled inside burn(), never halfway through a malloc or
// a container update.
using no_preemption_scope = inger::critical_section;

void spin_us(std::uint64_t us) {
	auto iterations = static_cast<std::uint64_t>(double(us) * iterations_per_us);
	burn(iterations, us); // preemptible: the server calls handlers outside critical sections
}

// ---------------------------------------------------------------------------------------------
// The routes, on turquoise::http::Server (tasks on the pool; see turquoise/http/server.hpp)

turquoise::pool *g_pool = nullptr;
bool g_migrate_spin = true;
constexpr std::uint64_t max_spin_us = 10'000'000;

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

turquoise::Future<http::Response> spin(const http::Request &r) {
	std::uint64_t us = 0;
	{
		no_preemption_scope bookkeeping;
		if (r.method != "GET")
			return http::MethodNotAllowed("GET");
		auto v = r.find_query("us");
		if (!v || !parse_number(*v, us) || us > max_spin_us)
			return http::BadRequest("bad request: us must be an integer 0..10000000\n");
	}
	// The burn runs as a task of its own that opts in to migration. Its promise
	// (task_options): between preemption points it keeps no thread-local address, lock or
	// thread identity. burn() is pure arithmetic, and everything else here runs in critical
	// sections, completing the promise (and the server's callbacks it runs) included.
	no_preemption_scope bookkeeping;
	turquoise::Promise<http::Response> answer;
	turquoise::Future<http::Response> future = answer.future();
	g_pool->post(
	    [us, answer = std::move(answer)]() mutable {
		    spin_us(us);
		    no_preemption_scope bookkeeping;
		    answer.set(http::OK("ok"));
	    },
	    turquoise::task_options{.migrate_preempted = g_migrate_spin});
	return future;
}

turquoise::Future<http::Response> stats(const http::Request &r) {
	no_preemption_scope bookkeeping;
	if (r.method != "GET")
		return http::MethodNotAllowed("GET");
	return http::OK(stats_json(), "application/json");
}

turquoise::Future<http::Response> not_found(const http::Request &) {
	no_preemption_scope bookkeeping;
	return http::NotFound("not found\n");
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

	turquoise::pool_options po;
	po.workers = o.workers;
	po.quantum = o.no_preempt ? turquoise::no_preemption : std::chrono::microseconds(o.quantum_us);
	po.migrate_preempted = o.migrate;
	g_migrate_spin = o.migrate_spin;
	{
		turquoise::pool pool(po);
		g_pool = &pool;
		http::server_options so;
		so.ip = o.bind;
		so.port = static_cast<std::uint16_t>(o.port);
		so.backlog = SOMAXCONN;
		turquoise::Try<http::Server> server = http::Server::listen(pool, so);
		if (server.isError()) {
			std::fprintf(stderr, "inger-sla-server: cannot listen on %s:%d: %s\n", o.bind.c_str(), o.port,
			             server.error().c_str());
			return 1;
		}
		server.get().route("/spin", spin);
		server.get().route("/stats", stats);
		server.get().fallback(not_found);

		std::string quantum = o.no_preempt ? std::string("none") : std::to_string(o.quantum_us) + "us";
		std::fprintf(stderr,
		             "inger-sla-server: listening on %s port=%d workers=%u quantum=%s "
		             "calibration=%.1f iterations/us\n",
		             o.bind.c_str(), server.get().port(), pool.size(), quantum.c_str(), iterations_per_us);
		std::fflush(stderr);

		int sig = 0;
		while (sigwait(&stop_signals, &sig) != 0) {
		}
		// Stop accepting and close every connection, give a task the event thread may be
		// handing over right now a moment to land, then cancel the rest.
		server.get().stop();
		std::this_thread::sleep_for(std::chrono::milliseconds(20));
		pool.shutdown(turquoise::shutdown_mode::cancel);
		g_pool = nullptr;
		std::fprintf(stderr, "inger-sla-server: %s, shut down\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
	}
	return 0;
}
