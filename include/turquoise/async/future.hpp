// turquoise/async/future.hpp — libprocess-style Future<T> and Promise<T>.
//
// A Future is a shared handle on a result that is pending, then exactly one of ready (a
// value), failed (a message) or discarded. A Promise completes it. Separately from its state
// a future can carry a discard *request* (Future::discard(), hasDiscard()): the producer sees
// it through onDiscard() and may honour it by Promise::discard(), or ignore it.
//
// Callbacks (onReady/onFailed/onDiscarded/onAny) run exactly once: immediately on the
// registering thread if the future is already in that state, otherwise on the thread that
// completes it, in registration order, after the state is published. onDiscard callbacks run
// on the thread that first requests the discard (immediately if it was already requested).
// Callbacks must not throw (an escaping exception terminates); callables given to then/
// repair/recover/after may throw: the exception becomes a failure (FutureDiscarded thrown
// from them becomes a discard).
//
// Abandonment: when the last Promise of a pending future is destroyed (and the promise was
// not associated with another future), the future is abandoned: it stays pending for ever,
// isAbandoned() is true, onAny-style callbacks are dropped (this abandons the futures of
// then() chains hanging off it), onAbandoned callbacks and recover() run, get() throws
// FutureAbandoned. A default-constructed Future is abandoned.
//
// Thread safety: all members may be called concurrently from any thread. The layer's own
// bookkeeping runs in libinger critical sections; user callbacks run outside them, so they can
// be preempted. Only blocked get()/await() calls pay for a wake-up (detail/future.hpp).
#ifndef TURQUOISE_ASYNC_FUTURE_HPP
#define TURQUOISE_ASYNC_FUTURE_HPP

#include <turquoise/async/detail/state.hpp>
#include <turquoise/async/failure.hpp>
#include <turquoise/async/nothing.hpp>
#include <turquoise/async/option.hpp>
#include <turquoise/function.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

namespace turquoise {

template <class T>
class Future {
	static_assert(!std::is_void_v<T>, "use Future<Nothing> instead of Future<void>");
	static_assert(!std::is_reference_v<T>, "Future<T&> is not supported");

public:
	using value_type = T;

	// An abandoned future: nothing will ever complete it.
	Future();

	// A ready future.
	template <class U = T,
	          class = std::enable_if_t<std::is_convertible_v<U &&, T> &&
	                                   !std::is_same_v<std::decay_t<U>, Future> &&
	                                   !std::is_same_v<std::decay_t<U>, Failure>>>
	Future(U &&u);
	// A failed future.
	Future(const Failure &f);

	// A discarded future.
	static Future discarded();

	bool isPending() const { return phase_() == detail::phase::pending; }
	bool isReady() const { return phase_() == detail::phase::ready; }
	bool isFailed() const { return phase_() == detail::phase::failed; }
	bool isDiscarded() const { return phase_() == detail::phase::discarded; }
	bool isAbandoned() const { return (word_() & detail::bits::abandoned) != 0; }
	bool hasDiscard() const { return (word_() & detail::bits::discard_requested) != 0; }

	// Blocks until the future is no longer pending (or is abandoned). For threads outside the
	// pool and tests: in a task, chain with then()/onAny() or co_await instead.
	// Returns the value; throws FutureFailed / FutureDiscarded / FutureAbandoned.
	const T &get() const;
	const T *operator->() const { return &get(); }

	// The failure message; std::logic_error unless failed.
	const std::string &failure() const;

	// Wait (real time) up to d for the future to leave pending; true if it did.
	template <class Rep, class Period>
	bool await(std::chrono::duration<Rep, Period> d) const;
	// Wait without limit until no longer pending (false if abandoned).
	bool await() const;

	// Request a discard (once): runs the onDiscard callbacks. False if the future is no longer
	// pending or a discard was already requested.
	bool discard() const;

	// Callbacks. Each takes the argument shown or none.
	template <class F> // f(const T&)
	const Future &onReady(F &&f) const;
	template <class F> // f(const std::string& message)
	const Future &onFailed(F &&f) const;
	template <class F> // f()
	const Future &onDiscarded(F &&f) const;
	template <class F> // f(const Future<T>&) or f()
	const Future &onAny(F &&f) const;
	// f(): a discard was requested (runs now if it already was; never once completed).
	template <class F>
	const Future &onDiscard(F &&f) const;
	// f(): the future was abandoned (runs now if it already was; never once completed).
	template <class F>
	const Future &onAbandoned(F &&f) const;

	// Composition. f takes const T& (or nothing) and returns U, Future<U> or void (Nothing).
	// Failure and discard pass through; a discard requested on the result is requested on
	// this future (and on the future f returned, once it did).
	template <class F>
	auto then(F &&f) const;

	// If this future fails, f(future) (returning T or Future<T>) supplies the result.
	template <class F>
	Future repair(F &&f) const;

	// If this future fails, is discarded or is abandoned, f(future) (returning T or
	// Future<T>) supplies the result.
	template <class F>
	Future recover(F &&f) const;

	// If this future is still pending after d (on Clock), f(future) (returning T or
	// Future<T>; typically it discards the future and returns a Failure) supplies the result;
	// otherwise the result follows this future and the timer is cancelled. (Defined in
	// after.hpp, the one part of Future that needs the Clock.)
	template <class F>
	Future after(std::chrono::nanoseconds d, F &&f) const;

	friend bool operator==(const Future &a, const Future &b) { return a.state_ == b.state_; }
	friend bool operator<(const Future &a, const Future &b) { return a.state_ < b.state_; }
	std::size_t hash() const { return std::hash<const void *>()(state_.get()); }

private:
	template <class>
	friend class Future;
	template <class>
	friend class Promise;
	template <class>
	friend class WeakFuture;
	template <class U, class Store>
	friend bool detail::complete(const std::shared_ptr<detail::state<U>> &, detail::phase, Store &&,
	                             bool);

	using state_t = detail::state<T>;
	explicit Future(std::shared_ptr<state_t> s) : state_(std::move(s)) {}

	static std::shared_ptr<state_t> make_state();

	std::uint32_t word_() const { return state_->word.load(std::memory_order_acquire); }
	detail::phase phase_() const { return detail::phase_of(word_()); }

	// f(const T&) or f().
	template <class F>
	struct call_result;
	template <class F>
	static decltype(auto) call_with_value(F &f, const T &v);
	template <class F>
	static auto call_future(F &f, const T &v);
	// Complete p with f(v) (or f()): its value, or the future it returned; an exception fails
	// p (FutureDiscarded discards it). The value goes straight into p's state, with no
	// intermediate future.
	template <class U, class F>
	static void settle(Promise<U> &p, F &f, const T &v) noexcept;
	// f(future) for repair/recover/after: its result as a Future<T>.
	template <class F>
	static Future to_future(F &f, const Future &in);

public:
	// Internal: the result of thunk() as a Future<T>; an exception becomes a failure.
	template <class Thunk>
	static Future from_call(Thunk &&thunk) noexcept;

private:
	// onDiscard callback for a derived future: request the discard here too.
	unique_function<void()> discard_upstream() const;

	enum verdict { keep, run_now, drop };
	// Register f as a callback of kind K; decide(word) says whether it waits (keep), runs now
	// or never runs.
	template <detail::kind K, class F, class Decide>
	const Future &register_(F &&f, Decide decide) const;
	template <class G>
	void run_now_(G &g) const;
	std::shared_ptr<state_t> state_;
};

// A non-owning handle: does not keep the state alive (breaks reference cycles).
template <class T>
class WeakFuture {
public:
	WeakFuture() = default;
	explicit WeakFuture(const Future<T> &f) : state_(f.state_) {}
	Option<Future<T>> get() const {
		if (auto s = state_.lock())
			return Future<T>(std::move(s));
		return None();
	}

private:
	std::weak_ptr<detail::state<T>> state_;
};

// Completes its future. Move-only; destroying the last Promise of a pending, non-associated
// future abandons it. set/fail/discard return false (and do nothing) if the future is no
// longer pending or the promise was associated.
template <class T>
class Promise {
public:
	Promise() : state_(Future<T>::make_state()) {}
	// Internal: complete the fresh state s (see detail::adopt_state_t).
	Promise(detail::adopt_state_t, std::shared_ptr<detail::state<T>> s) : state_(std::move(s)) {}
	Promise(Promise &&o) noexcept = default;
	Promise &operator=(Promise &&o) noexcept;
	Promise(const Promise &) = delete;
	Promise &operator=(const Promise &) = delete;
	~Promise() { release(); }

	Future<T> future() const { return Future<T>(state_); }

	template <class U = T, class = std::enable_if_t<std::is_convertible_v<U &&, T> &&
	                                                !std::is_same_v<std::decay_t<U>, Future<T>>>>
	bool set(U &&u) {
		return detail::complete_value(state_, false, std::forward<U>(u));
	}
	// Promise<Nothing>::set().
	template <class U = T, class = std::enable_if_t<std::is_same_v<U, Nothing>>>
	bool set() {
		return set(Nothing());
	}
	// Follow f (see associate()).
	bool set(const Future<T> &f) { return associate(f); }

	bool fail(const std::string &message) { return detail::complete_failure(state_, message, false); }
	bool discard();

	// From now on this promise's future completes as f does (value, failure, discard,
	// abandonment); a discard requested on it is requested on f. The promise's own
	// set/fail/discard are ignored afterwards. False if already completed or associated.
	bool associate(const Future<T> &f);

private:
	static void follow(const std::shared_ptr<detail::state<T>> &s, const Future<T> &in);
	void release();
	std::shared_ptr<detail::state<T>> state_;
};

} // namespace turquoise

template <class T>
struct std::hash<turquoise::Future<T>> {
	std::size_t operator()(const turquoise::Future<T> &f) const noexcept { return f.hash(); }
};

#include <turquoise/async/detail/future.hpp>
#include <turquoise/async/after.hpp>
#include <turquoise/async/coroutine.hpp>

#endif
