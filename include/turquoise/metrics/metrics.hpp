// turquoise/metrics/metrics.hpp — counters, gauges and timers, a process-wide registry, and
// their JSON (libprocess /metrics/snapshot style) and Prometheus text renderings.
//
//   metrics::Counter requests("http/requests");
//   metrics::Gauge depth("queue/depth", [&] { return double(q.size()); });
//   metrics::Timer latency("http/latency_ms");
//   metrics::add(requests); metrics::add(depth); metrics::add(latency);
//   ++requests;  latency.record(std::chrono::microseconds(1500));
//   metrics::snapshot()   -> {"http/latency_ms/count":1,...,"http/requests":1,"queue/depth":0}
//   metrics::prometheus() -> "# TYPE http_requests counter\nhttp_requests 1\n..."
//
// Metrics are copyable handles: copies share one value, so the registry keeps the metric
// alive after the owner's copy is gone (remove() it). Every member is thread-safe and usable
// from pool tasks.
//
// Counter: a monotonically growing double (increment(n), ++, +=); reset() to zero.
// Gauge: either set(v) (push) or a pull function called at each snapshot (an exception or a
//   non-finite value omits the gauge from that snapshot). Snapshots are taken inside a libinger
//   critical section (they allocate throughout), so a pull function is not preempted: keep it
//   short and non-blocking.
// Timer: records durations, reported in milliseconds: "<name>/count" and "<name>/sum" over the
//   timer's lifetime, and over the samples of the last `window` (default 60 s, on Clock, so a
//   paused Clock controls it; at most `max_samples` kept, oldest dropped first):
//   "<name>/min", "/max", "/p50", "/p90", "/p99" (omitted while the window is empty).
//   Percentiles are nearest-rank. time(future) records the time until the future completes.
//
// JSON: one flat object, keys sorted, numbers in shortest round-trip form (integers without a
// fraction). Prometheus (text format 0.0.4): names sanitized to [a-zA-Z0-9_:] (others become
// '_', a leading digit gets a '_' prefix; a name that collides with an earlier one after
// sanitizing is skipped); a counter is "counter", a gauge "gauge", a timer a "summary" with
// quantile 0.5/0.9/0.99 lines, _sum and _count, plus a "<name>_max" gauge.
#ifndef TURQUOISE_METRICS_METRICS_HPP
#define TURQUOISE_METRICS_METRICS_HPP

#include <turquoise/async/clock.hpp>
#include <turquoise/async/future.hpp>
#include <turquoise/async/nothing.hpp>
#include <turquoise/async/option.hpp>
#include <turquoise/async/try.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace turquoise::metrics {

enum class kind { counter, gauge, timer };

// One rendered value: JSON key suffix ("" or "/p99"), and the value.
struct sample {
	std::string suffix;
	double value;
};

class Metric {
public:
	virtual ~Metric() = default;
	const std::string &name() const;
	kind type() const;

	struct state; // internal: shared by every copy (metrics/detail/state.hpp)
	const std::shared_ptr<state> &shared() const { return base_; }

protected:
	explicit Metric(std::shared_ptr<state> s) : base_(std::move(s)) {}
	std::shared_ptr<state> base_;
};

} // namespace turquoise::metrics

#include <turquoise/metrics/detail/state.hpp>

namespace turquoise::metrics {

class Counter : public Metric {
public:
	explicit Counter(std::string name);
	void increment(double n = 1.0);
	Counter &operator++() {
		increment();
		return *this;
	}
	Counter &operator+=(double n) {
		increment(n);
		return *this;
	}
	void reset();
	double value() const;

private:
	struct impl;
	impl &self() const;
};

class Gauge : public Metric {
public:
	explicit Gauge(std::string name, double initial = 0.0);
	Gauge(std::string name, std::function<double()> pull);
	void set(double v); // ignored for a pull gauge
	double value() const; // pulls (NaN if the pull function throws)

private:
	struct impl;
	impl &self() const;
};

class Timer : public Metric {
public:
	struct stats {
		std::size_t count = 0;    // lifetime
		double sum_ms = 0;        // lifetime
		std::size_t window_count = 0;
		double min_ms = 0, max_ms = 0, p50_ms = 0, p90_ms = 0, p99_ms = 0; // window (0 if empty)
	};

	explicit Timer(std::string name, Clock::Duration window = std::chrono::seconds(60),
	               std::size_t max_samples = 10000);
	void record(Clock::Duration d);
	stats statistics() const;

	// Record Clock::now() - start when `future` completes (any outcome); returns the future.
	template <class T>
	const Future<T> &time(const Future<T> &future) {
		future.onAny([t = *this, start = Clock::now()]() mutable { t.record(Clock::now() - start); });
		return future;
	}

private:
	struct impl;
	impl &self() const;
};

// Registry. add(): a ready future, or a failed one if a metric with that name is registered
// already (libprocess's signature; registration itself is immediate). remove(): by name;
// false if absent.
Future<Nothing> add(const Metric &m);
bool remove(const Metric &m);
bool remove(const std::string &name);
std::vector<std::string> names();

// Flat key -> value pairs of every registered metric, sorted by key.
std::map<std::string, double> values();
std::string snapshot();   // JSON
// libprocess's snapshot(timeout): the values, taken by a task of the current runtime's pool;
// with a timeout, a snapshot not taken within it fails ("metrics snapshot timed out").
Future<std::map<std::string, double>> snapshot(const Option<Clock::Duration> &timeout);
std::string prometheus(); // text exposition format 0.0.4

// Helpers (exposed for tests).
std::string sanitize(const std::string &name);
std::string format_number(double v); // JSON / Prometheus number

} // namespace turquoise::metrics

#endif
