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

#include <atomic>
#include <cstddef>
#include <memory>
#include <optional>
#include <set>
#include <tuple>
#include <vector>

namespace turquoise {
namespace detail {

// Discard request on `out` -> discard requests on the inputs (held weakly) and discard `out`.
template <class R, class T>
void discard_inputs_on_discard(const Future<R> &out, const std::vector<Future<T>> &inputs,
                               const std::shared_ptr<Promise<R>> &promise) {
	std::vector<WeakFuture<T>> weak;
	{
		critical c;
		weak.reserve(inputs.size());
		for (const auto &f : inputs)
			weak.emplace_back(f);
	}
	out.onDiscard([weak = std::move(weak), p = std::weak_ptr<Promise<R>>(promise)] {
		for (const auto &w : weak) {
			auto f = w.get();
			if (f.isSome())
				f.get().discard();
		}
		if (auto promise = p.lock())
			promise->discard();
	});
}

} // namespace detail

template <class T>
Future<std::vector<T>> collect(const std::vector<Future<T>> &futures) {
	if (futures.empty())
		return std::vector<T>();
	struct collector {
		explicit collector(std::size_t n) : values(n), remaining(n) {}
		std::vector<std::optional<T>> values; // slot i written only by input i's callback
		std::atomic<std::size_t> remaining;
		std::shared_ptr<Promise<std::vector<T>>> promise = std::make_shared<Promise<std::vector<T>>>();
	};
	std::shared_ptr<collector> c;
	{
		detail::critical cs;
		c = std::make_shared<collector>(futures.size());
	}
	Future<std::vector<T>> out = c->promise->future();
	detail::discard_inputs_on_discard(out, futures, c->promise);
	for (std::size_t i = 0; i < futures.size(); ++i) {
		futures[i].onAny([c, i](const Future<T> &f) {
			if (f.isReady()) {
				c->values[i].emplace(f.get());
				if (c->remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) {
					std::vector<T> result;
					{
						detail::critical cs;
						result.reserve(c->values.size());
						for (auto &v : c->values)
							result.push_back(std::move(*v));
					}
					c->promise->set(std::move(result));
				}
			} else if (f.isFailed()) {
				c->promise->fail("Collect failed: " + f.failure());
			} else {
				c->promise->fail("Collect failed: future discarded");
			}
		});
	}
	return out;
}

template <class... Ts>
Future<std::tuple<Ts...>> collect(const Future<Ts> &...futures) {
	std::vector<Future<Nothing>> done{futures.then([] { return Nothing(); })...};
	return collect(done).then([futures...] { return std::make_tuple(futures.get()...); });
}

template <class T>
Future<std::vector<Future<T>>> await(const std::vector<Future<T>> &futures) {
	if (futures.empty())
		return std::vector<Future<T>>();
	struct awaiter {
		explicit awaiter(const std::vector<Future<T>> &f) : futures(f), remaining(f.size()) {}
		std::vector<Future<T>> futures;
		std::atomic<std::size_t> remaining;
		std::shared_ptr<Promise<std::vector<Future<T>>>> promise =
		    std::make_shared<Promise<std::vector<Future<T>>>>();
	};
	std::shared_ptr<awaiter> a;
	{
		detail::critical cs;
		a = std::make_shared<awaiter>(futures);
	}
	Future<std::vector<Future<T>>> out = a->promise->future();
	detail::discard_inputs_on_discard(out, futures, a->promise);
	for (const auto &f : futures)
		f.onAny([a] {
			if (a->remaining.fetch_sub(1, std::memory_order_acq_rel) == 1)
				a->promise->set(a->futures);
		});
	return out;
}

template <class... Ts>
Future<std::tuple<Future<Ts>...>> await(const Future<Ts> &...futures) {
	// Each input as a Future<Nothing> that completes (somehow) when it does.
	std::vector<Future<Nothing>> done{futures.then([] { return Nothing(); })...};
	return await(done).then([futures...] { return std::make_tuple(futures...); });
}

template <class T>
Future<Future<T>> select(const std::vector<Future<T>> &futures) {
	if (futures.empty())
		return Failure("select: no futures");
	struct selector {
		explicit selector(std::size_t n) : remaining(n) {}
		std::atomic<std::size_t> remaining;
		std::shared_ptr<Promise<Future<T>>> promise = std::make_shared<Promise<Future<T>>>();
	};
	std::shared_ptr<selector> s;
	{
		detail::critical cs;
		s = std::make_shared<selector>(futures.size());
	}
	Future<Future<T>> out = s->promise->future();
	detail::discard_inputs_on_discard(out, futures, s->promise);
	for (const auto &f : futures)
		f.onAny([s](const Future<T> &f) {
			if (f.isReady())
				s->promise->set(f);
			if (s->remaining.fetch_sub(1, std::memory_order_acq_rel) == 1)
				s->promise->fail("select: no future became ready");
		});
	return out;
}

template <class T>
Future<Future<T>> select(const std::set<Future<T>> &futures) {
	return select(std::vector<Future<T>>(futures.begin(), futures.end()));
}

} // namespace turquoise

#endif
