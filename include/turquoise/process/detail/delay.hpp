// turquoise/process/detail/delay.hpp — internal: delay() and async() (process/dispatch.hpp,
// which includes this file at its end): a Clock timer that dispatches, a pool task that
// completes a promise.
#ifndef TURQUOISE_PROCESS_DETAIL_DELAY_HPP
#define TURQUOISE_PROCESS_DETAIL_DELAY_HPP

#include <turquoise/async/clock.hpp>
#include <turquoise/detail/small_alloc.hpp>
#include <turquoise/process/dispatch.hpp>

#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <tuple>
#include <type_traits>
#include <utility>

namespace turquoise {

template <class T, class M, class... A, class>
Timer delay(Clock::Duration d, const PID<T> &pid, M method, A &&...a) {
	detail::critical c;
	std::tuple<std::decay_t<A>...> args(std::forward<A>(a)...);
	return Clock::timer(d, [pid, method, args = std::move(args)]() mutable {
		std::apply([&](auto &...xs) { dispatch(pid, method, std::move(xs)...); }, args);
	});
}

template <class F, class>
Timer delay(Clock::Duration d, const UPID &pid, F &&f) {
	detail::critical c;
	return Clock::timer(d, [pid, f = std::decay_t<F>(std::forward<F>(f))]() mutable {
		dispatch(pid, std::move(f));
	});
}

template <class F, class... A, class>
auto async(F &&f, A &&...a) {
	using R = std::invoke_result_t<std::decay_t<F> &, std::decay_t<A> &...>;
	using U = detail::future_value_t<R>;
	pool &workers = ProcessManager::workers();
	detail::critical c;
	Promise<U> promise;
	Future<U> future = promise.future();
	workers.post([promise = std::move(promise), f = std::decay_t<F>(std::forward<F>(f)),
	              args = std::tuple<std::decay_t<A>...>(std::forward<A>(a)...)]() mutable {
		detail::complete_from(promise, [&]() -> decltype(auto) { return std::apply(f, args); });
	});
	return future;
}

} // namespace turquoise

#endif
