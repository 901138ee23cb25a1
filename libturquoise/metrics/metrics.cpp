// metrics.cpp — Counter, Gauge, Timer, registry and renderings (see turquoise/metrics/metrics.hpp).
#include <turquoise/metrics/metrics.hpp>
#include <turquoise/runtime.hpp>

#include <turquoise/guarded_lock.hpp>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <deque>
#include <mutex>
#include <set>

namespace turquoise::metrics {
namespace {
template <class T, class... A>
std::shared_ptr<T> make(A &&...a) {
	detail::critical c;
	return std::make_shared<T>(std::forward<A>(a)...);
}
} // namespace

// ---- Counter ---------------------------------------------------------------------------

struct Counter::impl : Metric::state {
	explicit impl(std::string n) : state(std::move(n), kind::counter) {}
	std::atomic<double> value{0.0};
	void collect(std::vector<sample> &out) const override { out.push_back({"", value.load()}); }
};

Counter::Counter(std::string name) : Metric(make<impl>(std::move(name))) {}
Counter::impl &Counter::self() const { return static_cast<impl &>(*base_); }
void Counter::increment(double n) {
	auto &v = self().value;
	double old = v.load(std::memory_order_relaxed);
	while (!v.compare_exchange_weak(old, old + n, std::memory_order_relaxed)) {
	}
}
void Counter::reset() { self().value.store(0.0); }
double Counter::value() const { return self().value.load(); }

// ---- Gauge -----------------------------------------------------------------------------

struct Gauge::impl : Metric::state {
	impl(std::string n, double v) : state(std::move(n), kind::gauge), value(v) {}
	impl(std::string n, std::function<double()> f)
	    : state(std::move(n), kind::gauge), pull(std::move(f)) {}
	std::atomic<double> value{0.0};
	std::function<double()> pull;
	double read() const {
		if (!pull)
			return value.load();
		try {
			return pull();
		} catch (...) {
			return std::nan("");
		}
	}
	void collect(std::vector<sample> &out) const override {
		double v = read();
		if (std::isfinite(v))
			out.push_back({"", v});
	}
};

Gauge::Gauge(std::string name, double initial) : Metric(make<impl>(std::move(name), initial)) {}
Gauge::Gauge(std::string name, std::function<double()> pull)
    : Metric(make<impl>(std::move(name), std::move(pull))) {}
Gauge::impl &Gauge::self() const { return static_cast<impl &>(*base_); }
void Gauge::set(double v) { self().value.store(v); }
double Gauge::value() const { return self().read(); }

// ---- Timer -----------------------------------------------------------------------------

struct Timer::impl : Metric::state {
	impl(std::string n, Clock::Duration w, std::size_t m)
	    : state(std::move(n), kind::timer), window(w), max_samples(std::max<std::size_t>(m, 1)) {}
	const Clock::Duration window;
	const std::size_t max_samples;
	mutable std::mutex mutex;
	mutable std::deque<std::pair<Clock::Time, double>> samples; // (when, ms)
	std::size_t count = 0;
	double sum = 0;

	void prune_locked(Clock::Time now) const {
		while (!samples.empty() && samples.front().first + window < now)
			samples.pop_front();
	}

	Timer::stats statistics() const {
		Clock::Time now = Clock::now();
		Timer::stats s;
		std::vector<double> v;
		{
			guarded_lock lock(mutex);
			prune_locked(now);
			s.count = count;
			s.sum_ms = sum;
			v.reserve(samples.size());
			for (auto &x : samples)
				v.push_back(x.second);
		}
		detail::critical c;
		s.window_count = v.size();
		if (v.empty())
			return s;
		std::sort(v.begin(), v.end());
		auto rank = [&](double q) { // nearest rank: ceil(q * n), 1-based
			auto r = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size())));
			return v[std::clamp<std::size_t>(r, 1, v.size()) - 1];
		};
		s.min_ms = v.front();
		s.max_ms = v.back();
		s.p50_ms = rank(0.50);
		s.p90_ms = rank(0.90);
		s.p99_ms = rank(0.99);
		return s;
	}

	void collect(std::vector<sample> &out) const override {
		Timer::stats s = statistics();
		out.push_back({"/count", static_cast<double>(s.count)});
		out.push_back({"/sum", s.sum_ms});
		if (s.window_count == 0)
			return;
		out.push_back({"/min", s.min_ms});
		out.push_back({"/max", s.max_ms});
		out.push_back({"/p50", s.p50_ms});
		out.push_back({"/p90", s.p90_ms});
		out.push_back({"/p99", s.p99_ms});
	}
};

Timer::Timer(std::string name, Clock::Duration window, std::size_t max_samples)
    : Metric(make<impl>(std::move(name), window, max_samples)) {}
Timer::impl &Timer::self() const { return static_cast<impl &>(*base_); }

void Timer::record(Clock::Duration d) {
	double ms = std::chrono::duration<double, std::milli>(d).count();
	Clock::Time now = Clock::now();
	impl &s = self();
	guarded_lock lock(s.mutex);
	++s.count;
	s.sum += ms;
	s.samples.emplace_back(now, ms);
	while (s.samples.size() > s.max_samples)
		s.samples.pop_front();
	s.prune_locked(now);
}

Timer::stats Timer::statistics() const { return self().statistics(); }

// ---- Registry --------------------------------------------------------------------------

namespace {
struct registry {
	std::mutex mutex;
	std::map<std::string, std::shared_ptr<Metric::state>> metrics;
};
registry &reg() {
	static registry *r = new registry; // never destroyed: metrics may be used during exit
	return *r;
}

// Registered metrics, copied out so that collecting (pull gauges: user code) runs unlocked.
std::vector<std::shared_ptr<Metric::state>> registered() {
	registry &r = reg();
	guarded_lock lock(r.mutex);
	std::vector<std::shared_ptr<Metric::state>> all;
	all.reserve(r.metrics.size());
	for (auto &[name, m] : r.metrics)
		all.push_back(m);
	return all;
}

void append_json_string(std::string &out, const std::string &s) {
	out.push_back('"');
	for (unsigned char ch : s) {
		switch (ch) {
		case '"': out += "\\\""; break;
		case '\\': out += "\\\\"; break;
		case '\n': out += "\\n"; break;
		case '\r': out += "\\r"; break;
		case '\t': out += "\\t"; break;
		default:
			if (ch < 0x20) {
				char buf[8];
				std::snprintf(buf, sizeof buf, "\\u%04x", ch);
				out += buf;
			} else {
				out.push_back(static_cast<char>(ch));
			}
		}
	}
	out.push_back('"');
}
} // namespace

Future<Nothing> add(const Metric &m) {
	bool added;
	{
		registry &r = reg();
		guarded_lock lock(r.mutex);
		added = r.metrics.emplace(m.name(), m.shared()).second;
	}
	if (!added)
		return Failure("metric '" + m.name() + "' is already registered");
	return Nothing();
}

bool remove(const std::string &name) {
	std::shared_ptr<Metric::state> dropped; // released outside the lock
	registry &r = reg();
	guarded_lock lock(r.mutex);
	auto it = r.metrics.find(name);
	if (it == r.metrics.end())
		return false;
	dropped = std::move(it->second);
	r.metrics.erase(it);
	return true;
}

bool remove(const Metric &m) {
	std::shared_ptr<Metric::state> dropped;
	registry &r = reg();
	guarded_lock lock(r.mutex);
	auto it = r.metrics.find(m.name());
	if (it == r.metrics.end() || it->second != m.shared())
		return false; // absent, or another metric of that name
	dropped = std::move(it->second);
	r.metrics.erase(it);
	return true;
}

std::vector<std::string> names() {
	registry &r = reg();
	guarded_lock lock(r.mutex);
	std::vector<std::string> out;
	for (auto &[name, m] : r.metrics)
		out.push_back(name);
	return out;
}

std::map<std::string, double> values() {
	detail::critical c; // allocations throughout (pull gauges run in it too: keep them short)
	auto all = registered();
	std::map<std::string, double> out;
	std::vector<sample> samples;
	for (auto &m : all) {
		samples.clear();
		m->collect(samples);
		for (auto &s : samples)
			out[m->name + s.suffix] = s.value;
	}
	return out;
}

std::string format_number(double v) {
	if (std::isnan(v))
		return "NaN";
	if (std::isinf(v))
		return v > 0 ? "+Inf" : "-Inf";
	char buf[64];
	auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
	if (ec != std::errc())
		return "0";
	return std::string(buf, end);
}

Future<std::map<std::string, double>> snapshot(const Option<Clock::Duration> &timeout) {
	auto taken = runtime::current().workers().submit([] { return values(); });
	if (timeout.isNone())
		return taken;
	return taken.after(timeout.get(), [](const Future<std::map<std::string, double>> &late) {
		late.discard();
		return Future<std::map<std::string, double>>(Failure("metrics snapshot timed out"));
	});
}

std::string snapshot() {
	detail::critical c;
	auto vals = values();
	std::string out = "{";
	bool first = true;
	for (auto &[key, v] : vals) {
		if (!std::isfinite(v))
			continue; // not representable in JSON
		if (!first)
			out.push_back(',');
		first = false;
		append_json_string(out, key);
		out.push_back(':');
		out += format_number(v);
	}
	out.push_back('}');
	return out;
}

std::string sanitize(const std::string &name) {
	std::string out;
	out.reserve(name.size() + 1);
	for (char ch : name) {
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		          ch == '_' || ch == ':';
		out.push_back(ok ? ch : '_');
	}
	if (out.empty() || (out[0] >= '0' && out[0] <= '9'))
		out.insert(out.begin(), '_');
	return out;
}

std::string prometheus() {
	detail::critical c0; // see values()
	auto all = registered();
	std::string out;
	std::set<std::string> seen;
	std::vector<sample> samples;
	for (auto &m : all) {
		samples.clear();
		m->collect(samples);
		detail::critical c;
		std::string name = sanitize(m->name);
		auto get = [&](const char *suffix, double &v) {
			for (auto &s : samples)
				if (s.suffix == suffix) {
					v = s.value;
					return true;
				}
			return false;
		};
		switch (m->type) {
		case kind::counter:
		case kind::gauge: {
			double v;
			if (!get("", v) || !seen.insert(name).second)
				break;
			out += "# TYPE " + name + (m->type == kind::counter ? " counter\n" : " gauge\n");
			out += name + " " + format_number(v) + "\n";
			break;
		}
		case kind::timer: {
			if (seen.count(name) || seen.count(name + "_sum") || seen.count(name + "_count") ||
			    seen.count(name + "_max"))
				break;
			seen.insert(name);
			seen.insert(name + "_sum");
			seen.insert(name + "_count");
			seen.insert(name + "_max");
			double count = 0, sum = 0, v;
			get("/count", count);
			get("/sum", sum);
			out += "# TYPE " + name + " summary\n";
			const std::pair<const char *, const char *> quantiles[] = {
			    {"0.5", "/p50"}, {"0.9", "/p90"}, {"0.99", "/p99"}};
			for (auto [q, suffix] : quantiles)
				out += name + "{quantile=\"" + q + "\"} " +
				       (get(suffix, v) ? format_number(v) : std::string("NaN")) + "\n";
			out += name + "_sum " + format_number(sum) + "\n";
			out += name + "_count " + format_number(count) + "\n";
			out += "# TYPE " + name + "_max gauge\n";
			out += name + "_max " + (get("/max", v) ? format_number(v) : std::string("NaN")) + "\n";
			break;
		}
		}
	}
	return out;
}

} // namespace turquoise::metrics
