// turquoise/async/collect.hpp — combinators over several futures.
//
//   collect(vector<Future<T>>)  -> Future<vector<T>>: ready when all are ready (values in
//                                  input order); fails as soon as one fails ("Collect failed:
//                                  <message>") or is discarded ("Collect failed: future
//                                  discarded").
//   collect(f1, f2, ...)        -> Future<tuple<T1, T2, ...>>, same rules.
//   await(vector<Future<T>>)    -> Future<vector<Future<T>>>: ready once every input has left
//                                  pending, whatever its outcome.
//   await(f1, f2, ...)          -> Future<tuple<Future<T1>, ...>>, same.
//   select(set/vector)          -> Future<Future<T>>: the first input to become ready. Fails
//                                  if every input completes without becoming ready (and for
//                                  an empty input).
//
// A discard requested on the result is requested on every input still pending, and the result
// is discarded at once.
#ifndef TURQUOISE_ASYNC_COLLECT_HPP
#define TURQUOISE_ASYNC_COLLECT_HPP

#include <turquoise/async/future.hpp>
#include <turquoise/async/detail/collect.hpp>

#include <set>
#include <tuple>
#include <vector>

namespace turquoise {

template <class T>
Future<std::vector<T>> collect(const std::vector<Future<T>> &futures) {
	return detail::collect_all(futures);
}

template <class... Ts>
Future<std::tuple<Ts...>> collect(const Future<Ts> &...futures) {
	std::vector<Future<Nothing>> done{futures.then([] { return Nothing(); })...};
	return collect(done).then([futures...] { return std::make_tuple(futures.get()...); });
}

template <class T>
Future<std::vector<Future<T>>> await(const std::vector<Future<T>> &futures) {
	return detail::await_all(futures);
}

template <class... Ts>
Future<std::tuple<Future<Ts>...>> await(const Future<Ts> &...futures) {
	// Each input as a Future<Nothing> that completes (somehow) when it does.
	std::vector<Future<Nothing>> done{futures.then([] { return Nothing(); })...};
	return await(done).then([futures...] { return std::make_tuple(futures...); });
}

template <class T>
Future<Future<T>> select(const std::vector<Future<T>> &futures) {
	return detail::select_first(futures);
}

template <class T>
Future<Future<T>> select(const std::set<Future<T>> &futures) {
	return select(std::vector<Future<T>>(futures.begin(), futures.end()));
}

} // namespace turquoise

#endif
