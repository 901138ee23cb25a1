// turquoise/async/detail/testing.hpp — internal: the wait-and-report machinery behind the
// AWAIT_* assertions (async/testing.hpp).
#ifndef TURQUOISE_ASYNC_DETAIL_TESTING_HPP
#define TURQUOISE_ASYNC_DETAIL_TESTING_HPP

#include <turquoise/async/future.hpp>

#include <string>

namespace turquoise::testing {

// A future's state in words, for failure messages.
template <class T>
std::string describe(const Future<T> &f) {
	if (f.isReady())
		return "ready";
	if (f.isFailed())
		return "failed: " + f.failure();
	if (f.isDiscarded())
		return "discarded";
	if (f.isAbandoned())
		return "abandoned";
	return "pending";
}

} // namespace turquoise::testing

#define TURQUOISE_AWAIT_STATE_(REPORT, future, duration, pred, want)                          \
	do {                                                                                     \
		const auto &tq_await_f_ = (future);                                                  \
		if (!tq_await_f_.await(duration) && !tq_await_f_.isAbandoned())                      \
			REPORT("timed out waiting for " #future " to be " want);                         \
		else if (!(tq_await_f_.pred()))                                                      \
			REPORT(#future " is " << ::turquoise::testing::describe(tq_await_f_)              \
			                      << ", expected " want);                                    \
	} while (false)

#define TURQUOISE_AWAIT_EQ_(CHECKER, REPORT, expected, future, duration)                      \
	do {                                                                                     \
		const auto &tq_await_eq_f_ = (future);                                               \
		TURQUOISE_AWAIT_STATE_(REPORT, tq_await_eq_f_, duration, isReady, "ready");          \
		if (tq_await_eq_f_.isReady())                                                        \
			CHECKER((expected) == tq_await_eq_f_.get());                                     \
	} while (false)

#endif
