// turquoise/detail/submit.hpp — internal: pool::submit() (pool.hpp, which includes this file
// at its end): the task completes a promise with the callable's outcome.
#ifndef TURQUOISE_DETAIL_SUBMIT_HPP
#define TURQUOISE_DETAIL_SUBMIT_HPP

#include <turquoise/async/future.hpp>
#include <turquoise/pool.hpp>

#include <exception>
#include <functional>
#include <type_traits>
#include <utility>

namespace turquoise {

template <class F>
auto pool::submit(F &&f, task_options options) -> Future<detail::future_value_t<std::invoke_result_t<std::decay_t<F> &>>> {
	using U = detail::future_value_t<std::invoke_result_t<std::decay_t<F> &>>;
	detail::critical c;
	Promise<U> promise;
	Future<U> future = promise.future();
	post([fn = std::forward<F>(f), promise = std::move(promise)]() mutable {
		detail::complete_from(promise, fn);
	}, options);
	return future;
}

} // namespace turquoise

#endif
