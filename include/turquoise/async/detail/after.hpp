// turquoise/async/detail/after.hpp — internal: Future::after() and after(d) (async/after.hpp,
// which includes this file at its end): a timer on the Clock raced against the future.
#ifndef TURQUOISE_ASYNC_DETAIL_AFTER_HPP
#define TURQUOISE_ASYNC_DETAIL_AFTER_HPP

#include <turquoise/async/after.hpp>
#include <turquoise/async/clock.hpp>
#include <turquoise/async/future.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <type_traits>
#include <utility>

namespace turquoise {

template <class T>
template <class F>
Future<T> Future<T>::after(std::chrono::nanoseconds d, F &&f) const {
	struct shared {
		explicit shared(std::decay_t<F> g) : fn(std::move(g)) {}
		Promise<T> promise;
		std::decay_t<F> fn;
		std::atomic<bool> latch{false};
		Timer timer;
	};
	detail::critical c;
	auto sh = std::make_shared<shared>(std::decay_t<F>(std::forward<F>(f)));
	Future out = sh->promise.future();
	out.onDiscard(discard_upstream());
	sh->timer = Clock::timer(d, [sh, self = *this] {
		if (!sh->latch.exchange(true))
			sh->promise.associate(to_future(sh->fn, self));
	});
	onAny([sh](const Future &in) {
		if (!sh->latch.exchange(true)) {
			Clock::cancel(sh->timer);
			sh->promise.associate(in);
		}
	});
	return out;
}

// The promise is shared by the timer's callback and the discard callback; both references
// go once the future completes (the timer fired, or the discard cancelled it).
inline Future<Nothing> after(Clock::Duration d) {
	detail::critical c;
	auto promise = std::make_shared<Promise<Nothing>>();
	Future<Nothing> future = promise->future();
	Timer timer = Clock::timer(d, [promise] { promise->set(Nothing()); });
	future.onDiscard([promise, timer] {
		if (Clock::cancel(timer))
			promise->discard();
	});
	return future;
}

} // namespace turquoise

#endif
