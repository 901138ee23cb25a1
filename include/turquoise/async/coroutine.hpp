// turquoise/async/coroutine.hpp — C++20 coroutines over Future (included by future.hpp).
//
//   Future<int> f() { int x = co_await g(); co_return x + 1; }
//
// A function returning Future<T> (T != Nothing: co_return value; Future<Nothing>: co_return;)
// may be a coroutine. It starts eagerly on the calling thread, runs until its first co_await
// of a pending future, and continues on the thread that completes that future. `co_await f`
// yields f's value, or throws FutureFailed (message = the failure) / FutureDiscarded /
// FutureAbandoned. An exception escaping the coroutine fails its future with what(), except
// FutureDiscarded, which discards it. A discard requested on the coroutine's future is
// requested on the future it is awaiting (now or at its next co_await).
//
// The coroutine frame owns itself: dropping the returned Future does not stop it. A
// coroutine awaiting a future that never completes (and is never abandoned) never finishes.
#ifndef TURQUOISE_ASYNC_COROUTINE_HPP
#define TURQUOISE_ASYNC_COROUTINE_HPP

#include <turquoise/async/detail/coroutine.hpp>
#include <turquoise/async/future.hpp>

#include <coroutine>

template <class T, class... Args>
struct std::coroutine_traits<turquoise::Future<T>, Args...> {
	using promise_type = turquoise::detail::coroutine_promise<T>;
};

#endif
