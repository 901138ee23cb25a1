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
// Thread safety: all members may be called concurrently from any thread. Every lock is a
// guarded_lock (never held across a preemption), and the layer's own bookkeeping runs in
// libinger critical sections; user callbacks run outside them, so they can be preempted.
#ifndef TURQUOISE_ASYNC_FUTURE_HPP
#define TURQUOISE_ASYNC_FUTURE_HPP

#include <turquoise/async/clock.hpp>
#include <turquoise/async/failure.hpp>
#include <turquoise/async/nothing.hpp>
#include <turquoise/async/option.hpp>
#include <turquoise/function.hpp>
#include <turquoise/guarded_lock.hpp>

#include <libinger.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace turquoise {

template <class T>
class Future;
template <class T>
class Promise;
template <class T>
class WeakFuture;

namespace detail {

// Scoped libinger critical section for the layer's own bookkeeping (allocations included).
struct critical {
	critical() noexcept { linger_critical_begin(); }
	~critical() { linger_critical_end(); }
	critical(const critical &) = delete;
	critical &operator=(const critical &) = delete;
};

template <class T>
struct is_future : std::false_type {};
template <class T>
struct is_future<Future<T>> : std::true_type {};
template <class T>
inline constexpr bool is_future_v = is_future<std::decay_t<T>>::value;

template <class R>
struct unwrap_future {
	using type = R;
};
template <class T>
struct unwrap_future<Future<T>> {
	using type = T;
};
// The value type of the future made from a callback's result: void -> Nothing, Future<U> -> U.
template <class R>
using future_value_t =
    std::conditional_t<std::is_void_v<R>, Nothing, typename unwrap_future<std::decay_t<R>>::type>;

// Run a layer-internal callback; an exception escaping one is a bug, as in a posted task.
template <class F, class... A>
void run_callback(F &f, A &&...a) noexcept {
	try {
		f(std::forward<A>(a)...);
	} catch (const std::exception &e) {
		std::fprintf(stderr, "turquoise: exception escaped a Future callback: %s\n", e.what());
		std::terminate();
	} catch (...) {
		std::fputs("turquoise: exception escaped a Future callback\n", stderr);
		std::terminate();
	}
}

enum class phase : int { pending, ready, failed, discarded };

// Promise(adopt_state, s): a promise of a state the caller allocated (within a larger block,
// through the shared_ptr aliasing constructor); internal.
struct adopt_state_t {
	explicit adopt_state_t() = default;
};
inline constexpr adopt_state_t adopt_state{};

template <class T>
struct state {
	std::mutex mutex;
	std::condition_variable cv; // get()/await()
	std::atomic<phase> now{phase::pending};
	std::atomic<bool> discard{false};   // a discard was requested
	std::atomic<bool> abandoned{false}; // no promise can complete it any more
	bool associated = false;            // completed only through associate()
	std::optional<T> value;             // written before `now` leaves pending (release)
	std::optional<std::string> message;
	std::vector<unique_function<void(const Future<T> &)>> on_any;
	std::vector<unique_function<void()>> on_discard;
	std::vector<unique_function<void()>> on_abandoned;
};

// Publish the outcome (once) and run the completion callbacks. `via_association`: the call
// comes from the future this state was associated with.
// `s` by value: once the outcome is published, a waiter may destroy the Promise that owned
// the caller's pointer.
template <class T, class Set>
bool complete(std::shared_ptr<state<T>> s, phase to, Set &&set, bool via_association) {
	std::vector<unique_function<void(const Future<T> &)>> run;
	std::vector<unique_function<void()>> drop_discard, drop_abandoned;
	{
		guarded_lock lock(s->mutex);
		if (s->now.load(std::memory_order_relaxed) != phase::pending || s->abandoned.load() ||
		    (s->associated && !via_association))
			return false;
		set(*s);
		s->now.store(to, std::memory_order_release);
		run.swap(s->on_any);
		drop_discard.swap(s->on_discard);
		drop_abandoned.swap(s->on_abandoned);
	}
	s->cv.notify_all();
	if (drop_discard.empty() && drop_abandoned.empty() && run.empty())
		return true; // nobody chained on it (a dropped dispatch future, say)
	{
		critical c;
		drop_discard.clear();
		drop_abandoned.clear();
	}
	Future<T> self(s);
	for (auto &cb : run)
		run_callback(cb, self);
	critical c;
	run.clear();
	return true;
}

template <class T>
void abandon(std::shared_ptr<state<T>> s, bool via_association) {
	std::vector<unique_function<void(const Future<T> &)>> drop_any;
	std::vector<unique_function<void()>> drop_discard, run;
	{
		guarded_lock lock(s->mutex);
		if (s->now.load(std::memory_order_relaxed) != phase::pending || s->abandoned.load() ||
		    (s->associated && !via_association))
			return;
		s->abandoned.store(true);
		drop_any.swap(s->on_any);
		drop_discard.swap(s->on_discard);
		run.swap(s->on_abandoned);
	}
	s->cv.notify_all();
	for (auto &cb : run)
		run_callback(cb);
	critical c;
	run.clear();
	drop_discard.clear();
	drop_any.clear(); // may destroy promises of chained futures: abandons them in turn
}

} // namespace detail

template <class T>
class Future {
	static_assert(!std::is_void_v<T>, "use Future<Nothing> instead of Future<void>");
	static_assert(!std::is_reference_v<T>, "Future<T&> is not supported");

public:
	using value_type = T;

	// An abandoned future: nothing will ever complete it.
	Future() : state_(make_state()) { state_->abandoned.store(true); }

	// A ready future.
	template <class U = T,
	          class = std::enable_if_t<std::is_convertible_v<U &&, T> &&
	                                   !std::is_same_v<std::decay_t<U>, Future> &&
	                                   !std::is_same_v<std::decay_t<U>, Failure>>>
	Future(U &&u) : state_(make_state()) {
		state_->value.emplace(std::forward<U>(u));
		state_->now.store(detail::phase::ready, std::memory_order_release);
	}
	// A failed future.
	Future(const Failure &f) : state_(make_state()) {
		state_->message.emplace(f.message);
		state_->now.store(detail::phase::failed, std::memory_order_release);
	}

	// A discarded future.
	static Future discarded() {
		Future f(make_state());
		f.state_->now.store(detail::phase::discarded, std::memory_order_release);
		return f;
	}

	bool isPending() const { return phase_() == detail::phase::pending; }
	bool isReady() const { return phase_() == detail::phase::ready; }
	bool isFailed() const { return phase_() == detail::phase::failed; }
	bool isDiscarded() const { return phase_() == detail::phase::discarded; }
	bool isAbandoned() const { return state_->abandoned.load(); }
	bool hasDiscard() const { return state_->discard.load(); }

	// Blocks until the future is no longer pending (or is abandoned). For threads outside the
	// pool and tests: in a task, chain with then()/onAny() or co_await instead.
	// Returns the value; throws FutureFailed / FutureDiscarded / FutureAbandoned.
	const T &get() const {
		wait_();
		switch (phase_()) {
		case detail::phase::ready:
			return *state_->value;
		case detail::phase::failed:
			throw FutureFailed(*state_->message);
		case detail::phase::discarded:
			throw FutureDiscarded();
		default:
			throw FutureAbandoned();
		}
	}
	const T *operator->() const { return &get(); }

	// The failure message; std::logic_error unless failed.
	const std::string &failure() const {
		if (!isFailed())
			throw std::logic_error("Future::failure() on a future that has not failed");
		return *state_->message;
	}

	// Wait (real time) up to d for the future to leave pending; true if it did.
	template <class Rep, class Period>
	bool await(std::chrono::duration<Rep, Period> d) const {
		guarded_lock lock(state_->mutex);
		state_->cv.wait_for(lock.get(), d, [&] {
			return state_->now.load() != detail::phase::pending || state_->abandoned.load();
		});
		return !isPending();
	}
	// Wait without limit until no longer pending (false if abandoned).
	bool await() const {
		wait_();
		return !isPending();
	}

	// Request a discard (once): runs the onDiscard callbacks. False if the future is no longer
	// pending or a discard was already requested.
	bool discard() const {
		std::vector<unique_function<void()>> run;
		{
			guarded_lock lock(state_->mutex);
			if (state_->now.load() != detail::phase::pending || state_->discard.load())
				return false;
			state_->discard.store(true);
			run.swap(state_->on_discard);
		}
		for (auto &cb : run)
			detail::run_callback(cb);
		detail::critical c;
		run.clear();
		return true;
	}

	// Callbacks. Each takes the argument shown or none.
	template <class F> // f(const T&)
	const Future &onReady(F &&f) const {
		return onAny([f = std::forward<F>(f)](const Future &fut) mutable {
			if (fut.isReady())
				call_with_value(f, *fut.state_->value);
		});
	}
	template <class F> // f(const std::string& message)
	const Future &onFailed(F &&f) const {
		return onAny([f = std::forward<F>(f)](const Future &fut) mutable {
			if (fut.isFailed()) {
				if constexpr (std::is_invocable_v<F &, const std::string &>)
					f(*fut.state_->message);
				else
					f();
			}
		});
	}
	template <class F> // f()
	const Future &onDiscarded(F &&f) const {
		return onAny([f = std::forward<F>(f)](const Future &fut) mutable {
			if (fut.isDiscarded())
				f();
		});
	}
	template <class F> // f(const Future<T>&)
	const Future &onAny(F &&f) const {
		std::optional<unique_function<void(const Future &)>> cb;
		bool run = false;
		{
			detail::critical c;
			if constexpr (std::is_invocable_v<F &, const Future &>)
				cb.emplace(std::forward<F>(f));
			else
				cb.emplace([g = std::forward<F>(f)](const Future &) mutable { g(); });
			guarded_lock lock(state_->mutex);
			if (state_->now.load() != detail::phase::pending)
				run = true;
			else if (!state_->abandoned.load())
				state_->on_any.push_back(std::move(*cb));
			// abandoned: never runs; destroyed below, outside the lock
		}
		if (run)
			detail::run_callback(*cb, *this);
		detail::critical c;
		cb.reset();
		return *this;
	}
	// f(): a discard was requested (runs now if it already was; never once completed).
	template <class F>
	const Future &onDiscard(F &&f) const {
		return register_(state_->on_discard, std::forward<F>(f), [&] {
			if (state_->now.load() != detail::phase::pending)
				return drop;
			return state_->discard.load() ? run_now : keep;
		});
	}
	// f(): the future was abandoned (runs now if it already was; never once completed).
	template <class F>
	const Future &onAbandoned(F &&f) const {
		return register_(state_->on_abandoned, std::forward<F>(f), [&] {
			if (state_->now.load() != detail::phase::pending)
				return drop;
			return state_->abandoned.load() ? run_now : keep;
		});
	}

	// Composition. f takes const T& (or nothing) and returns U, Future<U> or void (Nothing).
	// Failure and discard pass through; a discard requested on the result is requested on
	// this future (and on the future f returned, once it did).
	template <class F>
	auto then(F &&f) const {
		using R = typename call_result<std::decay_t<F>>::type;
		using U = detail::future_value_t<R>;
		Promise<U> promise;
		Future<U> out = promise.future();
		out.onDiscard(discard_upstream());
		onAny([f = std::forward<F>(f), promise = std::move(promise)](const Future &in) mutable {
			if (in.isReady()) {
				if (in.hasDiscard())
					promise.discard();
				else
					promise.associate(call_future(f, *in.state_->value));
			} else if (in.isFailed()) {
				promise.fail(*in.state_->message);
			} else {
				promise.discard();
			}
		});
		return out;
	}

	// If this future fails, f(future) (returning T or Future<T>) supplies the result.
	template <class F>
	Future repair(F &&f) const {
		Promise<T> promise;
		Future out = promise.future();
		out.onDiscard(discard_upstream());
		onAny([f = std::forward<F>(f), promise = std::move(promise)](const Future &in) mutable {
			if (in.isFailed())
				promise.associate(to_future(f, in));
			else
				promise.associate(in);
		});
		return out;
	}

	// If this future fails, is discarded or is abandoned, f(future) (returning T or
	// Future<T>) supplies the result.
	template <class F>
	Future recover(F &&f) const {
		struct shared {
			explicit shared(std::decay_t<F> g) : fn(std::move(g)) {}
			Promise<T> promise;
			std::decay_t<F> fn;
		};
		detail::critical c;
		auto sh = std::make_shared<shared>(std::decay_t<F>(std::forward<F>(f)));
		Future out = sh->promise.future();
		out.onDiscard(discard_upstream());
		onAny([sh](const Future &in) {
			if (in.isReady())
				sh->promise.associate(in);
			else
				sh->promise.associate(to_future(sh->fn, in));
		});
		onAbandoned([sh, w = WeakFuture<T>(*this)] {
			auto self = w.get();
			sh->promise.associate(to_future(sh->fn, self.isSome() ? self.get() : Future()));
		});
		return out;
	}

	// If this future is still pending after d (on Clock), f(future) (returning T or
	// Future<T>; typically it discards the future and returns a Failure) supplies the result;
	// otherwise the result follows this future and the timer is cancelled.
	template <class F>
	Future after(Clock::Duration d, F &&f) const {
		struct shared {
			explicit shared(std::decay_t<F> g) : fn(std::move(g)) {}
			Promise<T> promise;
			std::decay_t<F> fn;
			std::atomic<bool> latch{false};
			Clock::Timer timer;
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
	template <class U, class Set>
	friend bool detail::complete(std::shared_ptr<detail::state<U>>, detail::phase, Set &&, bool);
	template <class U>
	friend void detail::abandon(std::shared_ptr<detail::state<U>>, bool);

	using state_t = detail::state<T>;
	explicit Future(std::shared_ptr<state_t> s) : state_(std::move(s)) {}

	static std::shared_ptr<state_t> make_state() {
		detail::critical c;
		return std::make_shared<state_t>();
	}

	detail::phase phase_() const { return state_->now.load(std::memory_order_acquire); }

	void wait_() const {
		guarded_lock lock(state_->mutex);
		state_->cv.wait(lock.get(), [&] {
			return state_->now.load() != detail::phase::pending || state_->abandoned.load();
		});
	}

	// f(const T&) or f().
	template <class F>
	struct call_result {
		using type = typename std::conditional_t<std::is_invocable_v<F &, const T &>,
		                                         std::invoke_result<F &, const T &>,
		                                         std::invoke_result<F &>>::type;
	};
	template <class F>
	static decltype(auto) call_with_value(F &f, const T &v) {
		if constexpr (std::is_invocable_v<F &, const T &>)
			return f(v);
		else
			return f();
	}
	template <class F>
	static auto call_future(F &f, const T &v) {
		return Future<detail::future_value_t<typename call_result<F>::type>>::from_call(
		    [&]() -> decltype(auto) { return call_with_value(f, v); });
	}
	// f(future) for repair/recover/after: its result as a Future<T>.
	template <class F>
	static Future to_future(F &f, const Future &in) {
		return from_call([&]() -> decltype(auto) { return f(in); });
	}

public:
	// Internal: the result of thunk() as a Future<T>; an exception becomes a failure.
	template <class Thunk>
	static Future from_call(Thunk &&thunk) noexcept {
		using R = std::invoke_result_t<Thunk &>;
		try {
			if constexpr (std::is_void_v<R>) {
				thunk();
				return Future(Nothing());
			} else {
				return Future(thunk());
			}
		} catch (const FutureDiscarded &) {
			return discarded();
		} catch (const std::exception &e) {
			return Future(Failure(e.what()));
		} catch (...) {
			return Future(Failure("unknown exception"));
		}
	}

private:
	// onDiscard callback for a derived future: request the discard here too.
	unique_function<void()> discard_upstream() const {
		detail::critical c;
		return [w = WeakFuture<T>(*this)] {
			auto up = w.get();
			if (up.isSome())
				up.get().discard();
		};
	}

	enum verdict { keep, run_now, drop };
	template <class F, class Decide>
	const Future &register_(std::vector<unique_function<void()>> &list, F &&f, Decide decide) const {
		std::optional<unique_function<void()>> cb;
		verdict v;
		{
			detail::critical c;
			cb.emplace(std::forward<F>(f));
			guarded_lock lock(state_->mutex);
			v = decide();
			if (v == keep) {
				list.push_back(std::move(*cb));
				cb.reset(); // (moved-from: destroying it allocates nothing)
				return *this;
			}
		}
		if (v == run_now)
			detail::run_callback(*cb);
		detail::critical c;
		cb.reset();
		return *this;
	}
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
	Promise &operator=(Promise &&o) noexcept {
		if (this != &o) {
			release();
			state_ = std::move(o.state_);
		}
		return *this;
	}
	Promise(const Promise &) = delete;
	Promise &operator=(const Promise &) = delete;
	~Promise() { release(); }

	Future<T> future() const { return Future<T>(state_); }

	template <class U = T, class = std::enable_if_t<std::is_convertible_v<U &&, T> &&
	                                                !std::is_same_v<std::decay_t<U>, Future<T>>>>
	bool set(U &&u) {
		return detail::complete(
		    state_, detail::phase::ready,
		    [&](detail::state<T> &s) { s.value.emplace(std::forward<U>(u)); }, false);
	}
	// Promise<Nothing>::set().
	template <class U = T, class = std::enable_if_t<std::is_same_v<U, Nothing>>>
	bool set() {
		return set(Nothing());
	}
	// Follow f (see associate()).
	bool set(const Future<T> &f) { return associate(f); }

	bool fail(const std::string &message) {
		return detail::complete(
		    state_, detail::phase::failed, [&](detail::state<T> &s) { s.message.emplace(message); },
		    false);
	}
	bool discard() {
		return detail::complete(state_, detail::phase::discarded, [](detail::state<T> &) {}, false);
	}

	// From now on this promise's future completes as f does (value, failure, discard,
	// abandonment); a discard requested on it is requested on f. The promise's own
	// set/fail/discard are ignored afterwards. False if already completed or associated.
	bool associate(const Future<T> &f) {
		{
			guarded_lock lock(state_->mutex);
			if (state_->now.load() != detail::phase::pending || state_->abandoned.load() ||
			    state_->associated)
				return false;
			state_->associated = true;
		}
		if (f.state_ == state_)
			return true; // following itself: it can only be abandoned now
		if (!f.isPending()) { // fast path: copy the outcome
			follow(state_, f);
			return true;
		}
		Future<T>(state_).onDiscard([w = WeakFuture<T>(f)] {
			auto up = w.get();
			if (up.isSome())
				up.get().discard();
		});
		f.onAny([s = state_](const Future<T> &in) { follow(s, in); });
		f.onAbandoned([s = state_] { detail::abandon(s, true); });
		return true;
	}

private:
	static void follow(const std::shared_ptr<detail::state<T>> &s, const Future<T> &in) {
		if (in.isReady())
			detail::complete(
			    s, detail::phase::ready, [&](detail::state<T> &d) { d.value.emplace(*in.state_->value); },
			    true);
		else if (in.isFailed())
			detail::complete(
			    s, detail::phase::failed,
			    [&](detail::state<T> &d) { d.message.emplace(*in.state_->message); }, true);
		else if (in.isDiscarded())
			detail::complete(s, detail::phase::discarded, [](detail::state<T> &) {}, true);
		else
			detail::abandon(s, true);
	}
	void release() {
		// A completed future cannot be abandoned: skip abandon()'s lock (the common case,
		// a dispatch's promise destroyed after its handler set it).
		if (state_ && state_->now.load(std::memory_order_acquire) == detail::phase::pending)
			detail::abandon(state_, false);
		state_.reset();
	}
	std::shared_ptr<detail::state<T>> state_;
};

} // namespace turquoise

template <class T>
struct std::hash<turquoise::Future<T>> {
	std::size_t operator()(const turquoise::Future<T> &f) const noexcept { return f.hash(); }
};

#include <turquoise/async/coroutine.hpp>

#endif
