// mesos_facade_helpers.hpp — what the scheduler and executor facade tests share: the fake
// endpoint (mesos_fake_endpoint.hpp) on a pool of its own, and a log of the facade's
// callbacks as lines ("subscribed F0", "update t1 TASK_RUNNING"), waited for loosely.
#pragma once

#include "mesos_fake_endpoint.hpp"

#include <turquoise/guarded_lock.hpp>
#include <turquoise/pool.hpp>

#include <catch2/catch.hpp>

#include <mutex>
#include <string>
#include <vector>

namespace mesos_test {

// The callbacks a facade made, one line each.
class callback_log {
public:
	void add(std::string line) {
		turquoise::guarded_lock<std::mutex> l(mutex_);
		lines_.push_back(std::move(line));
	}
	std::vector<std::string> lines() const {
		turquoise::guarded_lock<std::mutex> l(mutex_);
		return lines_;
	}
	// Whether `times` lines starting with `prefix` arrive within 10 s.
	bool saw(const std::string &prefix, std::size_t times = 1) const {
		return http_test::eventually([&] {
			std::size_t n = 0;
			for (auto &s : lines())
				n += s.rfind(prefix, 0) == 0;
			return n >= times;
		});
	}

private:
	mutable std::mutex mutex_;
	std::vector<std::string> lines_;
};

// A pool and a fake master or agent serving `path` on it, greeted by `greeting` (the events
// every new stream starts with).
template <class Call>
struct fake_endpoint_fixture {
	fake_endpoint_fixture(std::string path, bool check_stream_id,
	                      std::function<std::vector<std::string>(mesos::ContentType)> greeting)
	    : endpoint(p, std::move(path), check_stream_id) {
		endpoint.greeting = std::move(greeting);
	}
	turquoise::pool p{turquoise::pool_options{.workers = 2}};
	fake_endpoint<Call> endpoint;
};

} // namespace mesos_test
