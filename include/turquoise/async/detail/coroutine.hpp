// turquoise/async/detail/coroutine.hpp — internal (included by coroutine.hpp): the promise
// type of a coroutine returning Future<T>, its awaiter, and where its discard requests go.
#ifndef TURQUOISE_ASYNC_DETAIL_COROUTINE_HPP
#define TURQUOISE_ASYNC_DETAIL_COROUTINE_HPP

#include <turquoise/async/future.hpp>
#include <atomic>
#include <coroutine>
#include <exception>
#include <memory>
#include <mutex>
#include <utility>

namespace turquoise {
namespace detail {

// Where a coroutine's discard request goes: the future it is awaiting, if any.
struct await_slot {
	std::mutex mutex;
	bool requested = false;
	unique_function<void()> discarder;

	void request() {
		unique_function<void()> d;
		{
			guarded_lock lock(mutex);
			requested = true;
			d = std::move(discarder);
		}
		if (d)
			d();
		critical c;
		d = {};
	}
	void set(unique_function<void()> d) {
		{
			guarded_lock lock(mutex);
			if (!requested) {
				discarder = std::move(d);
				return;
			}
		}
		d();
		critical c;
		d = {};
	}
	void clear() {
		unique_function<void()> d;
		{
			guarded_lock lock(mutex);
			d = std::move(discarder);
		}
		critical c;
		d = {};
	}
};

template <class U>
struct future_awaiter {
	Future<U> future;
	std::shared_ptr<await_slot> slot;

	bool await_ready() const { return !future.isPending() || future.isAbandoned(); }

	bool await_suspend(std::coroutine_handle<> h) {
		std::shared_ptr<std::atomic<bool>> token;
		{
			critical c;
			token = std::make_shared<std::atomic<bool>>(false);
		}
		slot->set([w = WeakFuture<U>(future)] {
			auto f = w.get();
			if (f.isSome())
				f.get().discard();
		});
		// Whichever of this function and the callback comes second continues the coroutine:
		// the callback if it runs later, this function (by not suspending) if the callback ran
		// synchronously during registration.
		future.onAny([h, token] {
			if (token->exchange(true))
				h.resume();
		});
		future.onAbandoned([h, token] {
			if (token->exchange(true))
				h.resume();
		});
		return !token->exchange(true);
	}

	U await_resume() {
		slot->clear();
		if (future.isReady())
			return future.get();
		if (future.isFailed())
			throw FutureFailed(future.failure());
		if (future.isDiscarded())
			throw FutureDiscarded();
		throw FutureAbandoned();
	}
};

template <class T>
struct coroutine_promise_base {
	Promise<T> promise;
	std::shared_ptr<await_slot> slot;

	coroutine_promise_base() {
		critical c;
		slot = std::make_shared<await_slot>();
	}

	Future<T> get_return_object() {
		Future<T> f = promise.future();
		f.onDiscard([s = slot] { s->request(); });
		return f;
	}
	std::suspend_never initial_suspend() noexcept { return {}; }
	std::suspend_never final_suspend() noexcept { return {}; }
	void unhandled_exception() {
		complete_from(promise, []() -> T { throw; }); // rethrown inside: becomes the outcome
	}

	template <class U>
	future_awaiter<U> await_transform(Future<U> f) {
		return future_awaiter<U>{std::move(f), slot};
	}
	// Other awaitables pass through unchanged.
	template <class A, class = std::enable_if_t<!is_future_v<A>>>
	A &&await_transform(A &&a) {
		return std::forward<A>(a);
	}
};

template <class T>
struct coroutine_promise : coroutine_promise_base<T> {
	template <class U = T>
	void return_value(U &&u) {
		this->promise.set(std::forward<U>(u));
	}
};

template <>
struct coroutine_promise<Nothing> : coroutine_promise_base<Nothing> {
	void return_void() { this->promise.set(Nothing()); }
};

} // namespace detail
} // namespace turquoise

#endif
