// inger-sla-load: an open-loop HTTP/1.1 load generator for the latency-SLA experiment.
//
// Requests arrive as a Poisson process (exponential inter-arrival times from a seeded RNG) at
// --rate requests/s, whatever the server does: a request is due at its scheduled time and is
// sent then on an idle keep-alive connection, or on a new one while fewer than --connections
// are open; otherwise it waits in a client-side queue. Its latency is always measured from its
// SCHEDULED send time to the last byte of its response, so client-side queueing (coordinated
// omission) is counted honestly.
//
// Each request is `GET /spin?us=N`, N = --long-us for a share of --long-percent of them and
// --short-us otherwise. Requests scheduled during the first --warmup seconds are sent but not
// recorded; then --duration seconds are measured. After the last send the generator waits at
// most --drain seconds for outstanding responses; what is still outstanding then counts as a
// timeout. The results (per class: count, errors, p50/p90/p99/p99.9/max, mean, in µs) go to
// --out as JSON (stdout without --out), and a short summary goes to stderr.
//
// Exit status: 0 on a completed run, 1 if no request succeeded, 2 on bad arguments.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace {

using ns_t = std::int64_t;
constexpr ns_t ns_per_s = 1'000'000'000;

ns_t now_ns() {
	timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ns_t(ts.tv_sec) * ns_per_s + ts.tv_nsec;
}

// ---------------------------------------------------------------------------------------------
// Options

struct options {
	std::string host = "127.0.0.1";
	int port = 0;
	double rate = 0;            // requests/s
	double duration = 10;       // seconds measured
	double warmup = 0;          // seconds sent before the measurement
	double drain = 10;          // seconds to wait for outstanding responses after the last send
	double long_percent = 0;    // share of long requests, in percent
	long short_us = 500;
	long long_us = 50000;
	int connections = 256;
	std::uint64_t seed = 1;
	std::string path = "/spin"; // request path; ?us=N is appended
	std::string out;            // JSON file; stdout if empty
	bool quiet = false;
};

void usage(std::FILE *to) {
	std::fputs(
	    "usage: inger-sla-load --port P --rate R [options]\n"
	    "  --host ADDR          server IPv4 address (default 127.0.0.1)\n"
	    "  --port P             server port (required)\n"
	    "  --rate R             offered load, requests/s, Poisson arrivals (required)\n"
	    "  --duration S         seconds measured (default 10)\n"
	    "  --warmup S           seconds sent before the measurement, not recorded (default 0)\n"
	    "  --drain S            seconds to wait for outstanding responses after the last send\n"
	    "                       (default 10); what is still outstanding then is a timeout\n"
	    "  --long-percent X     share of long requests in percent (default 0)\n"
	    "  --short-us N         us= value of short requests (default 500)\n"
	    "  --long-us N          us= value of long requests (default 50000)\n"
	    "  --connections C      max concurrent keep-alive connections (default 256)\n"
	    "  --seed N             RNG seed (default 1)\n"
	    "  --path PATH          request path, ?us=N is appended (default /spin)\n"
	    "  --out FILE           write the JSON results there (default: stdout)\n"
	    "  --quiet              no summary on stderr\n",
	    to);
}

[[noreturn]] void bad_args(const std::string &msg) {
	std::fprintf(stderr, "inger-sla-load: %s (try --help)\n", msg.c_str());
	std::exit(2);
}

double parse_double(const std::string &name, const std::string &v, double lo, double hi) {
	char *end = nullptr;
	errno = 0;
	double d = std::strtod(v.c_str(), &end);
	if (v.empty() || errno || *end || !std::isfinite(d) || d < lo || d > hi)
		bad_args("bad value for " + name + ": '" + v + "'");
	return d;
}

long long parse_int(const std::string &name, const std::string &v, long long lo, long long hi) {
	long long x = 0;
	auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
	if (v.empty() || ec != std::errc() || p != v.data() + v.size() || x < lo || x > hi)
		bad_args("bad value for " + name + ": '" + v + "'");
	return x;
}

options parse_options(int argc, char **argv) {
	options o;
	bool have_port = false, have_rate = false;
	for (int i = 1; i < argc; ++i) {
		std::string arg = argv[i], val;
		if (arg == "-h" || arg == "--help") {
			usage(stdout);
			std::exit(0);
		}
		if (arg == "--quiet") {
			o.quiet = true;
			continue;
		}
		if (arg.rfind("--", 0) != 0)
			bad_args("unexpected argument '" + arg + "'");
		if (auto eq = arg.find('='); eq != std::string::npos) {
			val = arg.substr(eq + 1);
			arg.resize(eq);
		} else {
			if (i + 1 >= argc)
				bad_args("missing value for " + arg);
			val = argv[++i];
		}
		if (arg == "--host") {
			in_addr a;
			if (inet_pton(AF_INET, val.c_str(), &a) != 1)
				bad_args("--host wants an IPv4 address, got '" + val + "'");
			o.host = val;
		} else if (arg == "--port") {
			o.port = int(parse_int(arg, val, 1, 65535));
			have_port = true;
		} else if (arg == "--rate") {
			o.rate = parse_double(arg, val, 1e-3, 1e7);
			have_rate = true;
		} else if (arg == "--duration") {
			o.duration = parse_double(arg, val, 1e-3, 1e6);
		} else if (arg == "--warmup") {
			o.warmup = parse_double(arg, val, 0, 1e6);
		} else if (arg == "--drain") {
			o.drain = parse_double(arg, val, 0, 1e6);
		} else if (arg == "--long-percent") {
			o.long_percent = parse_double(arg, val, 0, 100);
		} else if (arg == "--short-us") {
			o.short_us = long(parse_int(arg, val, 0, 1'000'000'000));
		} else if (arg == "--long-us") {
			o.long_us = long(parse_int(arg, val, 0, 1'000'000'000));
		} else if (arg == "--connections") {
			o.connections = int(parse_int(arg, val, 1, 60000));
		} else if (arg == "--seed") {
			o.seed = std::uint64_t(parse_int(arg, val, 0, INT64_MAX));
		} else if (arg == "--path") {
			if (val.empty() || val[0] != '/' || val.find_first_of(" \r\n?") != std::string::npos)
				bad_args("--path wants an absolute path without query, got '" + val + "'");
			o.path = val;
		} else if (arg == "--out") {
			if (val.empty())
				bad_args("--out wants a file name");
			o.out = val;
		} else {
			bad_args("unknown option '" + arg + "'");
		}
	}
	if (!have_port)
		bad_args("--port is required");
	if (!have_rate)
		bad_args("--rate is required");
	return o;
}

// ---------------------------------------------------------------------------------------------
// Requests, connections, results

enum cls { SHORT = 0, LONG = 1 };
constexpr const char *cls_name[2] = {"short", "long"};

struct request {
	ns_t scheduled;   // when it was due: latency is measured from here
	cls kind;
	bool measured;    // scheduled inside the measurement window
	bool retried = false;
};

struct class_stats {
	std::vector<ns_t> lat;      // latencies of the measured 200 responses
	std::uint64_t sent = 0;     // measured requests written to a connection
	std::uint64_t non200 = 0;   // measured requests answered with another status
	std::uint64_t conn_errors = 0; // measured requests lost to a connection error
	std::uint64_t timeouts = 0; // measured requests still outstanding at the drain deadline
	std::uint64_t scheduled = 0;
};

enum class cstate { connecting, idle, busy, dead };

struct conn {
	int fd = -1;
	cstate state = cstate::dead;
	request req{};
	std::string wbuf;
	std::size_t woff = 0;
	std::string rbuf;
	std::uint64_t served = 0;   // responses completed on this connection
	bool got_bytes = false;     // bytes of the current response received
	bool want_out = false;      // EPOLLOUT in the interest set
};

// Incremental HTTP/1.1 response parser over conn::rbuf.
struct parsed {
	enum { incomplete, done, bad } status = incomplete;
	int code = 0;
	std::size_t consumed = 0;
	bool close = false;
};

bool iequals(std::string_view a, std::string_view b) {
	if (a.size() != b.size())
		return false;
	for (std::size_t i = 0; i < a.size(); ++i)
		if (std::tolower(static_cast<unsigned char>(a[i])) !=
		    std::tolower(static_cast<unsigned char>(b[i])))
			return false;
	return true;
}

std::string_view trim(std::string_view s) {
	while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
		s.remove_prefix(1);
	while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
		s.remove_suffix(1);
	return s;
}

// Parses one response at the start of buf. eof: the peer has closed (a body without a length
// ends there).
parsed parse_response(std::string_view buf, bool eof) {
	parsed r;
	auto hend = buf.find("\r\n\r\n");
	if (hend == std::string_view::npos) {
		if (buf.size() > 64 * 1024)
			r.status = parsed::bad;
		return r;
	}
	std::string_view head = buf.substr(0, hend);
	auto eol = head.find("\r\n");
	std::string_view line = head.substr(0, eol);
	// "HTTP/1.x NNN reason"
	if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." || line[8] != ' ') {
		r.status = parsed::bad;
		return r;
	}
	auto [p, ec] = std::from_chars(line.data() + 9, line.data() + 12, r.code);
	if (ec != std::errc() || p != line.data() + 12) {
		r.status = parsed::bad;
		return r;
	}
	bool http10 = line[7] == '0';
	r.close = http10;
	long long content_length = -1;
	bool chunked = false;
	std::size_t pos = eol == std::string_view::npos ? head.size() : eol + 2;
	while (pos < head.size()) {
		auto e = head.find("\r\n", pos);
		std::string_view h = head.substr(pos, e == std::string_view::npos ? head.npos : e - pos);
		pos = e == std::string_view::npos ? head.size() : e + 2;
		auto colon = h.find(':');
		if (colon == std::string_view::npos)
			continue;
		std::string_view name = trim(h.substr(0, colon)), value = trim(h.substr(colon + 1));
		if (iequals(name, "content-length")) {
			long long n = 0;
			auto [q, ec2] = std::from_chars(value.data(), value.data() + value.size(), n);
			if (ec2 != std::errc() || q != value.data() + value.size() || n < 0) {
				r.status = parsed::bad;
				return r;
			}
			content_length = n;
		} else if (iequals(name, "transfer-encoding")) {
			chunked = value.find("chunked") != std::string_view::npos;
		} else if (iequals(name, "connection")) {
			if (iequals(value, "close"))
				r.close = true;
			else if (iequals(value, "keep-alive"))
				r.close = false;
		}
	}
	std::size_t body = hend + 4;
	bool no_body = r.code == 204 || r.code == 304 || (r.code >= 100 && r.code < 200);
	if (no_body) {
		r.status = parsed::done;
		r.consumed = body;
	} else if (chunked) {
		std::size_t q = body;
		for (;;) {
			auto e = buf.find("\r\n", q);
			if (e == std::string_view::npos)
				return r;
			std::size_t n = 0;
			std::string_view sz = buf.substr(q, e - q);
			if (auto semi = sz.find(';'); semi != sz.npos)
				sz = sz.substr(0, semi);
			sz = trim(sz);
			auto [z, ec3] = std::from_chars(sz.data(), sz.data() + sz.size(), n, 16);
			if (ec3 != std::errc() || z != sz.data() + sz.size()) {
				r.status = parsed::bad;
				return r;
			}
			q = e + 2;
			if (n == 0) { // trailers up to an empty line
				for (;;) {
					auto t = buf.find("\r\n", q);
					if (t == std::string_view::npos)
						return r;
					bool empty = t == q;
					q = t + 2;
					if (empty)
						break;
				}
				r.status = parsed::done;
				r.consumed = q;
				return r;
			}
			if (buf.size() < q + n + 2)
				return r;
			q += n + 2;
		}
	} else if (content_length >= 0) {
		if (buf.size() >= body + std::size_t(content_length)) {
			r.status = parsed::done;
			r.consumed = body + std::size_t(content_length);
		}
	} else if (eof) { // body delimited by the end of the connection
		r.status = parsed::done;
		r.consumed = buf.size();
		r.close = true;
	}
	return r;
}

struct summary {
	std::uint64_t count = 0;
	double mean = 0, p50 = 0, p90 = 0, p99 = 0, p999 = 0, max = 0, min = 0;
};

// Nearest-rank percentiles, in µs.
summary summarize(std::vector<ns_t> &v) {
	summary s;
	s.count = v.size();
	if (v.empty())
		return s;
	std::sort(v.begin(), v.end());
	auto pct = [&](double p) {
		std::size_t rank = std::size_t(std::ceil(p / 100.0 * double(v.size())));
		rank = std::clamp<std::size_t>(rank, 1, v.size());
		return double(v[rank - 1]) / 1e3;
	};
	long double sum = 0;
	for (ns_t x : v)
		sum += x;
	s.mean = double(sum / v.size()) / 1e3;
	s.p50 = pct(50);
	s.p90 = pct(90);
	s.p99 = pct(99);
	s.p999 = pct(99.9);
	s.max = double(v.back()) / 1e3;
	s.min = double(v.front()) / 1e3;
	return s;
}

std::string json_escape(const std::string &s) {
	std::string o;
	for (char c : s) {
		if (c == '"' || c == '\\') {
			o += '\\';
			o += c;
		} else if (static_cast<unsigned char>(c) < 0x20) {
			char b[8];
			std::snprintf(b, sizeof b, "\\u%04x", c);
			o += b;
		} else {
			o += c;
		}
	}
	return o;
}

std::string fmt(double x) {
	char b[64];
	std::snprintf(b, sizeof b, "%.3f", x);
	return b;
}

// ---------------------------------------------------------------------------------------------
// The generator

class generator {
public:
	explicit generator(const options &o) : o_(o), arrivals_(o.seed), classes_(o.seed ^ 0x9e3779b97f4a7c15ULL) {
		addr_.sin_family = AF_INET;
		addr_.sin_port = htons(std::uint16_t(o.port));
		inet_pton(AF_INET, o.host.c_str(), &addr_.sin_addr);
		for (int k = 0; k < 2; ++k) {
			long us = k == SHORT ? o.short_us : o.long_us;
			reqtext_[k] = "GET " + o.path + "?us=" + std::to_string(us) + " HTTP/1.1\r\nHost: " +
			              o.host + ":" + std::to_string(o.port) + "\r\n\r\n";
		}
		std::size_t expect = std::size_t(std::min(1e7, o.rate * o.duration * 1.1 + 16));
	send_lag_.reserve(expect);
		stats_[SHORT].lat.reserve(expect);
		stats_[LONG].lat.reserve(std::size_t(expect * std::min(1.0, o.long_percent / 100 * 1.5 + 0.01)));
	}

	~generator() {
		for (auto &c : conns_)
			if (c->fd >= 0)
				close(c->fd);
		if (tfd_ >= 0)
			close(tfd_);
		if (ep_ >= 0)
			close(ep_);
	}

	int run();
	void report();

private:
	void schedule_next() {
		std::exponential_distribution<double> exp(o_.rate);
		next_ += ns_t(exp(arrivals_) * 1e9);
	}
	void arm_timer(ns_t at);
	void arrivals(ns_t now);
	void dispatch(ns_t now);
	bool open_conn(const request &r);
	void start_send(conn &c, const request &r);
	void on_event(conn &c, std::uint32_t ev);
	void on_writable(conn &c);
	void on_readable(conn &c);
	void fail(conn &c, const char *why, int err);
	void close_conn(conn &c);
	void want_out(conn &c, bool on);
	void completed(conn &c, int code, ns_t at);

	const options &o_;
	sockaddr_in addr_{};
	std::string reqtext_[2];
	std::mt19937_64 arrivals_, classes_;
	int ep_ = -1, tfd_ = -1;
	ns_t start_ = 0, measure_from_ = 0, send_until_ = 0, deadline_ = 0, next_ = 0;
	ns_t first_measured_send_ = -1, last_measured_done_ = 0;
	std::vector<std::unique_ptr<conn>> conns_;
	std::vector<conn *> idle_;
	std::deque<request> pending_;
	int open_ = 0, connecting_ = 0, inflight_ = 0;
	std::uint64_t opened_total_ = 0, conn_errors_total_ = 0, retries_ = 0, bad_responses_ = 0;
	std::size_t max_pending_ = 0;
	int peak_open_ = 0;
	std::string first_error_;
	class_stats stats_[2];
	ns_t end_ = 0;
	std::uint64_t late_sends_ = 0; // measured requests sent > 1 ms after their scheduled time
	std::vector<ns_t> send_lag_;   // measured requests: first byte written - scheduled time
};

void generator::arm_timer(ns_t at) {
	itimerspec its{};
	if (at > 0) {
		its.it_value.tv_sec = at / ns_per_s;
		its.it_value.tv_nsec = at % ns_per_s;
	}
	timerfd_settime(tfd_, TFD_TIMER_ABSTIME, &its, nullptr);
}

void generator::arrivals(ns_t now) {
	while (next_ <= now && next_ < send_until_) {
		std::bernoulli_distribution is_long(o_.long_percent / 100.0);
		request r{next_, is_long(classes_) ? LONG : SHORT, next_ >= measure_from_};
		if (r.measured)
			++stats_[r.kind].scheduled;
		pending_.push_back(r);
		schedule_next();
	}
}

// Sends the due requests, oldest first, on idle connections or new ones.
void generator::dispatch(ns_t) {
	while (!pending_.empty()) {
		if (!idle_.empty()) {
			conn *c = idle_.back();
			idle_.pop_back();
			request r = pending_.front();
			pending_.pop_front();
			start_send(*c, r);
		} else if (open_ < o_.connections) {
			request r = pending_.front();
			pending_.pop_front();
			if (!open_conn(r))
				continue; // counted as an error; try the next
		} else {
			break;
		}
	}
	max_pending_ = std::max(max_pending_, pending_.size()); // waiting for a connection
}

bool generator::open_conn(const request &r) {
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	conn *c = nullptr;
	for (auto &p : conns_)
		if (p->state == cstate::dead) {
			c = p.get();
			break;
		}
	if (!c) {
		conns_.push_back(std::make_unique<conn>());
		c = conns_.back().get();
	}
	*c = conn{};
	c->req = r;
	++inflight_;
	if (fd < 0) {
		c->state = cstate::busy;
		fail(*c, "socket", errno);
		return false;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	c->fd = fd;
	++open_;
	++opened_total_;
	peak_open_ = std::max(peak_open_, open_);
	epoll_event ev{};
	ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
	ev.data.ptr = c;
	c->want_out = true;
	if (epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev) < 0) {
		c->state = cstate::busy;
		fail(*c, "epoll_ctl", errno);
		return false;
	}
	int rc = connect(fd, reinterpret_cast<sockaddr *>(&addr_), sizeof addr_);
	if (rc < 0 && errno != EINPROGRESS) {
		c->state = cstate::busy;
		fail(*c, "connect", errno);
		return false;
	}
	c->state = cstate::connecting;
	++connecting_;
	c->wbuf = reqtext_[r.kind];
	if (rc == 0) {
		--connecting_;
		c->state = cstate::busy;
		on_writable(*c);
	}
	return true;
}

void generator::start_send(conn &c, const request &r) {
	c.req = r;
	c.state = cstate::busy;
	c.wbuf = reqtext_[r.kind];
	c.woff = 0;
	c.got_bytes = false;
	++inflight_;
	on_writable(c);
}

void generator::on_writable(conn &c) {
	if (c.state == cstate::connecting) {
		int err = 0;
		socklen_t len = sizeof err;
		getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
		--connecting_;
		c.state = cstate::busy;
		if (err) {
			fail(c, "connect", err);
			return;
		}
	}
	if (c.state != cstate::busy || c.woff >= c.wbuf.size()) {
		want_out(c, false);
		return;
	}
	bool first = c.woff == 0;
	while (c.woff < c.wbuf.size()) {
		ssize_t n = send(c.fd, c.wbuf.data() + c.woff, c.wbuf.size() - c.woff, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			fail(c, "send", errno);
			return;
		}
		if (first && c.req.measured) {
			first = false;
			ns_t t = now_ns();
			if (first_measured_send_ < 0)
				first_measured_send_ = t;
			if (t - c.req.scheduled > 1'000'000)
				++late_sends_;
			send_lag_.push_back(t - c.req.scheduled);
			++stats_[c.req.kind].sent;
		}
		first = false;
		c.woff += std::size_t(n);
	}
	// EPOLLOUT only while there is something left to write (level-triggered: it would spin).
	want_out(c, c.woff < c.wbuf.size());
}

void generator::want_out(conn &c, bool on) {
	if (c.want_out == on || c.fd < 0)
		return;
	epoll_event ev{};
	ev.events = EPOLLIN | EPOLLRDHUP | (on ? EPOLLOUT : 0u);
	ev.data.ptr = &c;
	if (epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev) == 0)
		c.want_out = on;
}

void generator::on_readable(conn &c) {
	bool eof = false;
	for (;;) {
		char buf[4096];
		ssize_t n = recv(c.fd, buf, sizeof buf, 0);
		if (n > 0) {
			c.rbuf.append(buf, std::size_t(n));
			if (c.state == cstate::busy)
				c.got_bytes = true;
			if (std::size_t(n) < sizeof buf)
				break;
			continue;
		}
		if (n == 0) {
			eof = true;
			break;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			break;
		fail(c, "recv", errno);
		return;
	}
	ns_t t = now_ns();
	if (c.state == cstate::busy && !c.rbuf.empty()) {
		parsed p = parse_response(c.rbuf, eof);
		if (p.status == parsed::bad) {
			++bad_responses_;
			fail(c, "malformed response", 0);
			return;
		}
		if (p.status == parsed::done) {
			c.rbuf.erase(0, p.consumed);
			completed(c, p.code, t);
			if (p.close || eof || !c.rbuf.empty()) { // the server wants out, or sent junk
				close_conn(c);
			} else {
				c.state = cstate::idle;
				idle_.push_back(&c);
			}
			return;
		}
	}
	if (eof) {
		if (c.state == cstate::busy)
			fail(c, "connection closed by the server", 0);
		else
			close_conn(c); // an idle connection closed by the server
	} else if (c.state == cstate::idle && !c.rbuf.empty()) {
		close_conn(c); // bytes nobody asked for
	}
}

void generator::completed(conn &c, int code, ns_t at) {
	--inflight_;
	++c.served;
	const request &r = c.req;
	if (!r.measured)
		return;
	auto &s = stats_[r.kind];
	if (code == 200) {
		s.lat.push_back(at - r.scheduled);
		last_measured_done_ = std::max(last_measured_done_, at);
	} else {
		++s.non200;
		if (first_error_.empty())
			first_error_ = "HTTP status " + std::to_string(code);
	}
}

// The connection broke while it carried a request: retry once if it was a reused keep-alive
// connection that the server may have closed before seeing the request, otherwise count it.
void generator::fail(conn &c, const char *why, int err) {
	if (c.state == cstate::connecting)
		--connecting_;
	bool carrying = c.state == cstate::busy || c.state == cstate::connecting;
	if (carrying) {
		--inflight_;
		if (c.served > 0 && !c.got_bytes && !c.req.retried) {
			request r = c.req;
			r.retried = true;
			++retries_;
			pending_.push_front(r);
		} else {
			++conn_errors_total_;
			if (c.req.measured)
				++stats_[c.req.kind].conn_errors;
			if (first_error_.empty())
				first_error_ = std::string(why) + (err ? std::string(": ") + std::strerror(err) : "");
		}
	}
	close_conn(c);
}

void generator::close_conn(conn &c) {
	if (c.state == cstate::dead)
		return;
	if (c.state == cstate::idle)
		idle_.erase(std::remove(idle_.begin(), idle_.end(), &c), idle_.end());
	if (c.fd >= 0) {
		epoll_ctl(ep_, EPOLL_CTL_DEL, c.fd, nullptr);
		close(c.fd);
		--open_;
	}
	c.fd = -1;
	c.state = cstate::dead;
	c.rbuf.clear();
	c.wbuf.clear();
}

void generator::on_event(conn &c, std::uint32_t ev) {
	if (c.state == cstate::dead)
		return;
	if (c.state == cstate::connecting) {
		if (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP))
			on_writable(c);
		if (c.state == cstate::dead)
			return;
	} else if (ev & EPOLLOUT) {
		on_writable(c);
		if (c.state == cstate::dead)
			return;
	}
	if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		on_readable(c);
}

int generator::run() {
	ep_ = epoll_create1(EPOLL_CLOEXEC);
	tfd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (ep_ < 0 || tfd_ < 0) {
		std::perror("inger-sla-load: epoll/timerfd");
		return 1;
	}
	epoll_event tev{};
	tev.events = EPOLLIN;
	tev.data.ptr = nullptr;
	epoll_ctl(ep_, EPOLL_CTL_ADD, tfd_, &tev);

	prctl(PR_SET_TIMERSLACK, 1UL); // wake at the scheduled send times, not up to 50 µs later
	start_ = now_ns() + 1'000'000; // first arrival 1 ms from now
	measure_from_ = start_ + ns_t(o_.warmup * 1e9);
	send_until_ = measure_from_ + ns_t(o_.duration * 1e9);
	deadline_ = send_until_ + ns_t(o_.drain * 1e9);
	next_ = start_;
	schedule_next(); // the first arrival is itself exponentially distributed
	arm_timer(next_);

	std::vector<epoll_event> evs(256);
	for (;;) {
		ns_t t = now_ns();
		arrivals(t);
		dispatch(t);
		bool sending = next_ < send_until_;
		if (!sending && pending_.empty() && inflight_ == 0)
			break;
		if (t >= deadline_)
			break;
		arm_timer(sending ? next_ : deadline_);
		int n = epoll_wait(ep_, evs.data(), int(evs.size()), -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			std::perror("inger-sla-load: epoll_wait");
			return 1;
		}
		for (int i = 0; i < n; ++i) {
			if (!evs[i].data.ptr) {
				std::uint64_t x;
				while (read(tfd_, &x, sizeof x) > 0) {
				}
				continue;
			}
			on_event(*static_cast<conn *>(evs[i].data.ptr), evs[i].events);
		}
	}
	end_ = now_ns();
	// What is left is a timeout.
	for (const auto &r : pending_)
		if (r.measured)
			++stats_[r.kind].timeouts;
	for (auto &c : conns_)
		if ((c->state == cstate::busy || c->state == cstate::connecting) && c->req.measured)
			++stats_[c->req.kind].timeouts;
	std::uint64_t ok = stats_[SHORT].lat.size() + stats_[LONG].lat.size();
	return ok > 0 ? 0 : 1;
}

void generator::report() {
	double dur = o_.duration;
	std::uint64_t ok = 0, non200 = 0, timeouts = 0, cerr = 0, sent = 0, scheduled = 0;
	summary sm[2];
	for (int k = 0; k < 2; ++k) {
		auto &s = stats_[k];
		ok += s.lat.size();
		non200 += s.non200;
		timeouts += s.timeouts;
		cerr += s.conn_errors;
		sent += s.sent;
		scheduled += s.scheduled;
		sm[k] = summarize(s.lat);
	}
	// Achieved: measured 200 responses per second, from the start of the window to the last one
	// (at least the window itself, so an early finish does not inflate it).
	double span = dur;
	if (last_measured_done_ > measure_from_)
		span = std::max(dur, double(last_measured_done_ - measure_from_) / 1e9);
	double achieved = double(ok) / span;

	// Latencies of an empty class are null, not 0.
	auto num = [](const summary &x, double v) { return x.count ? fmt(v) : std::string("null"); };
	std::string j = "{\n";
	j += "  \"config\": {\"host\": \"" + json_escape(o_.host) + "\", \"port\": " + std::to_string(o_.port) +
	     ", \"rate\": " + fmt(o_.rate) + ", \"duration_s\": " + fmt(o_.duration) +
	     ", \"warmup_s\": " + fmt(o_.warmup) + ", \"drain_s\": " + fmt(o_.drain) +
	     ", \"long_percent\": " + fmt(o_.long_percent) + ", \"short_us\": " + std::to_string(o_.short_us) +
	     ", \"long_us\": " + std::to_string(o_.long_us) + ", \"connections\": " + std::to_string(o_.connections) +
	     ", \"seed\": " + std::to_string(o_.seed) + ", \"path\": \"" + json_escape(o_.path) + "\"},\n";
	j += "  \"offered_rate\": " + fmt(o_.rate) + ",\n";
	j += "  \"scheduled_rate\": " + fmt(double(scheduled) / dur) + ",\n";
	j += "  \"achieved_rate\": " + fmt(achieved) + ",\n";
	j += "  \"scheduled\": " + std::to_string(scheduled) + ",\n";
	j += "  \"sent\": " + std::to_string(sent) + ",\n";
	j += "  \"ok\": " + std::to_string(ok) + ",\n";
	j += "  \"non200\": " + std::to_string(non200) + ",\n";
	j += "  \"timeouts\": " + std::to_string(timeouts) + ",\n";
	j += "  \"connection_errors\": " + std::to_string(cerr) + ",\n";
	j += "  \"connection_errors_total\": " + std::to_string(conn_errors_total_) + ",\n";
	j += "  \"retries\": " + std::to_string(retries_) + ",\n";
	j += "  \"malformed_responses\": " + std::to_string(bad_responses_) + ",\n";
	j += "  \"connections_opened\": " + std::to_string(opened_total_) + ",\n";
	j += "  \"peak_connections\": " + std::to_string(peak_open_) + ",\n";
	j += "  \"max_client_queue\": " + std::to_string(max_pending_) + ",\n";
	j += "  \"late_sends\": " + std::to_string(late_sends_) + ",\n";
	{ // how late the generator itself sent (client-side queueing, or its CPU being busy)
		summary lag = summarize(send_lag_);
		j += "  \"send_lag\": {\"p50_us\": " + num(lag, lag.p50) + ", \"p99_us\": " + num(lag, lag.p99) +
		     ", \"p999_us\": " + num(lag, lag.p999) + ", \"max_us\": " + num(lag, lag.max) + "},\n";
	}
	j += "  \"run_s\": " + fmt(double(end_ - start_) / 1e9) + ",\n";
	j += "  \"first_error\": \"" + json_escape(first_error_) + "\",\n";
	for (int k = 0; k < 2; ++k) {
		auto &s = stats_[k];
		j += std::string("  \"") + cls_name[k] + "\": {\"us\": " +
		     std::to_string(k == SHORT ? o_.short_us : o_.long_us) + ", \"scheduled\": " +
		     std::to_string(s.scheduled) + ", \"count\": " + std::to_string(sm[k].count) +
		     ", \"errors\": " + std::to_string(s.conn_errors + s.non200) +
		     ", \"non200\": " + std::to_string(s.non200) +
		     ", \"connection_errors\": " + std::to_string(s.conn_errors) +
		     ", \"timeouts\": " + std::to_string(s.timeouts) + ", \"mean_us\": " + num(sm[k], sm[k].mean) +
		     ", \"min_us\": " + num(sm[k], sm[k].min) + ", \"p50_us\": " + num(sm[k], sm[k].p50) +
		     ", \"p90_us\": " + num(sm[k], sm[k].p90) + ", \"p99_us\": " + num(sm[k], sm[k].p99) +
		     ", \"p999_us\": " + num(sm[k], sm[k].p999) + ", \"max_us\": " + num(sm[k], sm[k].max) + "}" +
		     (k == SHORT ? ",\n" : "\n");
	}
	j += "}\n";

	if (o_.out.empty()) {
		std::fputs(j.c_str(), stdout);
	} else {
		std::FILE *f = std::fopen(o_.out.c_str(), "w");
		if (!f || std::fputs(j.c_str(), f) < 0 || std::fclose(f) != 0) {
			std::fprintf(stderr, "inger-sla-load: cannot write %s: %s\n", o_.out.c_str(), std::strerror(errno));
			std::exit(1);
		}
	}
	if (!o_.quiet) {
		std::fprintf(stderr,
		             "inger-sla-load: offered %.1f/s, achieved %.1f/s; %" PRIu64 " ok, %" PRIu64
		             " non-200, %" PRIu64 " connection errors, %" PRIu64 " timeouts; %" PRIu64
		             " connections opened, client queue max %zu\n",
		             o_.rate, achieved, ok, non200, cerr, timeouts, opened_total_, max_pending_);
		for (int k = 0; k < 2; ++k)
			if (sm[k].count || stats_[k].scheduled)
				std::fprintf(stderr,
				             "  %-5s (%6ld us) n=%-7" PRIu64 " p50 %9.0f  p90 %9.0f  p99 %9.0f  p99.9 %9.0f"
				             "  max %9.0f  mean %9.0f us\n",
				             cls_name[k], k == SHORT ? o_.short_us : o_.long_us, sm[k].count, sm[k].p50,
				             sm[k].p90, sm[k].p99, sm[k].p999, sm[k].max, sm[k].mean);
		summary lag = summarize(send_lag_);
		std::fprintf(stderr, "  send lag (sent - scheduled): p50 %.0f  p99 %.0f  max %.0f us; %" PRIu64
		             " sent > 1 ms late\n", lag.p50, lag.p99, lag.max, late_sends_);
		if (!first_error_.empty())
			std::fprintf(stderr, "  first error: %s\n", first_error_.c_str());
	}
}

} // namespace

int main(int argc, char **argv) {
	options o = parse_options(argc, argv);
	generator g(o);
	int rc = g.run();
	g.report();
	if (rc != 0 && !o.quiet)
		std::fprintf(stderr, "inger-sla-load: no request succeeded\n");
	return rc;
}
