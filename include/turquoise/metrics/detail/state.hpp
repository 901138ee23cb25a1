// turquoise/metrics/detail/state.hpp — internal: Metric::state, the shared state behind every
// copy of a metric (metrics/metrics.hpp).

// metrics.hpp includes this file after class Metric: included first, this file lets it.
#include <turquoise/metrics/metrics.hpp>

#ifndef TURQUOISE_METRICS_DETAIL_STATE_HPP
#define TURQUOISE_METRICS_DETAIL_STATE_HPP

#include <string>
#include <utility>
#include <vector>

namespace turquoise::metrics {

struct Metric::state {
	state(std::string n, kind t) : name(std::move(n)), type(t) {}
	virtual ~state() = default;
	virtual void collect(std::vector<sample> &out) const = 0;
	const std::string name;
	const kind type;
};

inline const std::string &Metric::name() const { return base_->name; }
inline kind Metric::type() const { return base_->type; }

} // namespace turquoise::metrics

#endif
