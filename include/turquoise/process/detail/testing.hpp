// turquoise/process/detail/testing.hpp — internal: spoof_dispatch() (process/testing.hpp, which
// includes this file): a dispatch marked to bypass the filter.
#ifndef TURQUOISE_PROCESS_DETAIL_TESTING_HPP
#define TURQUOISE_PROCESS_DETAIL_TESTING_HPP

#include <turquoise/process/detail/dispatch.hpp>
#include <turquoise/process/testing.hpp>

#include <atomic>
#include <cstddef>
#include <type_traits>
#include <utility>

namespace turquoise::testing {

template <class T, class M, class... A, class>
auto spoof_dispatch(const PID<T> &pid, M method, A &&...a) {
	return detail::dispatch_method<T>(pid, method, true, std::forward<A>(a)...);
}

template <class F, class... A, class>
auto spoof_dispatch(const UPID &pid, F &&f, A &&...a) {
	return detail::dispatch_function(pid, true, std::forward<F>(f), std::forward<A>(a)...);
}

} // namespace turquoise::testing

#endif
