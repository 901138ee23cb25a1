// turquoise/async/detail/collect.hpp — internal: the shared state behind collect(), await()
// and select() (collect.hpp).
#ifndef TURQUOISE_ASYNC_DETAIL_COLLECT_HPP
#define TURQUOISE_ASYNC_DETAIL_COLLECT_HPP

#include <turquoise/async/future.hpp>

#include <atomic>
#include <cstddef>
#include <memory>
#include <optional>
#include <vector>

namespace turquoise::detail {

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

// collect(vector): see collect.hpp.
template <class T>
Future<std::vector<T>> collect_all(const std::vector<Future<T>> &futures) {
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
		critical cs;
		c = std::make_shared<collector>(futures.size());
	}
	Future<std::vector<T>> out = c->promise->future();
	discard_inputs_on_discard(out, futures, c->promise);
	for (std::size_t i = 0; i < futures.size(); ++i) {
		futures[i].onAny([c, i](const Future<T> &f) {
			if (f.isReady()) {
				c->values[i].emplace(f.get());
				if (c->remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) {
					std::vector<T> result;
					{
						critical cs;
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

// await(vector): see collect.hpp.
template <class T>
Future<std::vector<Future<T>>> await_all(const std::vector<Future<T>> &futures) {
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
		critical cs;
		a = std::make_shared<awaiter>(futures);
	}
	Future<std::vector<Future<T>>> out = a->promise->future();
	discard_inputs_on_discard(out, futures, a->promise);
	for (const auto &f : futures)
		f.onAny([a] {
			if (a->remaining.fetch_sub(1, std::memory_order_acq_rel) == 1)
				a->promise->set(a->futures);
		});
	return out;
}

// select(vector): see collect.hpp.
template <class T>
Future<Future<T>> select_first(const std::vector<Future<T>> &futures) {
	if (futures.empty())
		return Failure("select: no futures");
	struct selector {
		explicit selector(std::size_t n) : remaining(n) {}
		std::atomic<std::size_t> remaining;
		std::shared_ptr<Promise<Future<T>>> promise = std::make_shared<Promise<Future<T>>>();
	};
	std::shared_ptr<selector> s;
	{
		critical cs;
		s = std::make_shared<selector>(futures.size());
	}
	Future<Future<T>> out = s->promise->future();
	discard_inputs_on_discard(out, futures, s->promise);
	for (const auto &f : futures)
		f.onAny([s](const Future<T> &f) {
			if (f.isReady())
				s->promise->set(f);
			if (s->remaining.fetch_sub(1, std::memory_order_acq_rel) == 1)
				s->promise->fail("select: no future became ready");
		});
	return out;
}

} // namespace turquoise::detail

#endif
