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
// Thread safety: all members may be called concurrently from any thread. A future's shared
// state is one atomic word (phase and flags, with a spin-lock bit over the callback list, only
// ever held in a libinger critical section), and the layer's own bookkeeping runs in libinger
// critical sections; user callbacks run outside them, so they can be preempted. Blocked
// get()/await() calls sleep on the word (futex), and only they pay for the wake-up.
#ifndef TURQUOISE_ASYNC_FUTURE_HPP
#define TURQUOISE_ASYNC_FUTURE_HPP

#include <turquoise/async/detail/state.hpp>
#include <turquoise/async/failure.hpp>
#include <turquoise/async/nothing.hpp>
#include <turquoise/async/option.hpp>
#include <turquoise/function.hpp>
#include <turquoise/guarded_lock.hpp>
#include <turquoise/small_alloc.hpp>

#include <inger/inger.hpp>
#include <libinger.h>

#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <ctime>
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


template <class T>
class Future {
	static_assert(!std::is_void_v<T>, "use Future<Nothing> instead of Future<void>");
	static_assert(!std::is_reference_v<T>, "Future<T&> is not supported");

public:
	using value_type = T;

	// An abandoned future: nothing will ever complete it.
	Future() : state_(make_state()) {
		state_->word.store(detail::bits::abandoned, std::memory_order_relaxed);
	}

	// A ready future.
	template <class U = T,
	          class = std::enable_if_t<std::is_convertible_v<U &&, T> &&
	                                   !std::is_same_v<std::decay_t<U>, Future> &&
	                                   !std::is_same_v<std::decay_t<U>, Failure>>>
	Future(U &&u) : state_(make_state()) {
		{
			detail::critical c;
			detail::emplace_value(*state_, std::forward<U>(u));
		}
		state_->word.store(static_cast<std::uint32_t>(detail::phase::ready), std::memory_order_release);
	}
	// A failed future.
	Future(const Failure &f) : state_(make_state()) {
		{
			detail::critical c;
			state_->message = new std::string(f.message);
		}
		state_->word.store(static_cast<std::uint32_t>(detail::phase::failed), std::memory_order_release);
	}

	// A discarded future.
	static Future discarded() {
		Future f(make_state());
		f.state_->word.store(static_cast<std::uint32_t>(detail::phase::discarded),
		                     std::memory_order_release);
		return f;
	}

	bool isPending() const { return phase_() == detail::phase::pending; }
	bool isReady() const { return phase_() == detail::phase::ready; }
	bool isFailed() const { return phase_() == detail::phase::failed; }
	bool isDiscarded() const { return phase_() == detail::phase::discarded; }
	bool isAbandoned() const { return (word_() & detail::bits::abandoned) != 0; }
	bool hasDiscard() const { return (word_() & detail::bits::discard_requested) != 0; }

	// Blocks until the future is no longer pending (or is abandoned). For threads outside the
	// pool and tests: in a task, chain with then()/onAny() or co_await instead.
	// Returns the value; throws FutureFailed / FutureDiscarded / FutureAbandoned.
	const T &get() const {
		std::uint32_t w = word_();
		if (!detail::settled(w))
			w = detail::wait(*state_, nullptr);
		switch (detail::phase_of(w)) {
		case detail::phase::ready:
			return state_->value;
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
		if (!detail::settled(word_()) && d > d.zero()) {
			// Beyond about 95 years the wait is unlimited in practice (and the nanosecond count
			// below could overflow).
			if (std::chrono::duration<double>(d).count() > 3e9) {
				detail::wait(*state_, nullptr);
			} else {
				timespec deadline = detail::monotonic_deadline(
				    std::chrono::ceil<std::chrono::nanoseconds>(d).count());
				detail::wait(*state_, &deadline);
			}
		}
		return !isPending();
	}
	// Wait without limit until no longer pending (false if abandoned).
	bool await() const {
		detail::wait(*state_, nullptr);
		return !isPending();
	}

	// Request a discard (once): runs the onDiscard callbacks. False if the future is no longer
	// pending or a discard was already requested.
	bool discard() const {
		detail::callback<T> *run = nullptr;
		{
			detail::word_lock<T> lock(*state_);
			std::uint32_t w = lock.word();
			if (detail::phase_of(w) != detail::phase::pending || (w & detail::bits::discard_requested))
				return false;
			// Unlink the onDiscard callbacks; the list is newest first, so pushing them onto
			// `run` restores registration order.
			for (detail::callback<T> **link = &state_->callbacks; *link;) {
				detail::callback<T> *n = *link;
				if (n->which == detail::kind::discard) {
					*link = n->next;
					n->next = run;
					run = n;
				} else {
					link = &n->next;
				}
			}
			lock.unlock(w | detail::bits::discard_requested);
		}
		for (detail::callback<T> *n = run; n; n = n->next)
			n->run(this);
		detail::destroy_all(run);
		return true;
	}

	// Callbacks. Each takes the argument shown or none.
	template <class F> // f(const T&)
	const Future &onReady(F &&f) const {
		return onAny([f = std::forward<F>(f)](const Future &fut) mutable {
			if (fut.isReady())
				call_with_value(f, fut.state_->value);
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
	template <class F> // f(const Future<T>&) or f()
	const Future &onAny(F &&f) const {
		return register_<detail::kind::any>(std::forward<F>(f), [](std::uint32_t w) {
			if (detail::phase_of(w) != detail::phase::pending)
				return run_now;
			return (w & detail::bits::abandoned) ? drop : keep;
		});
	}
	// f(): a discard was requested (runs now if it already was; never once completed).
	template <class F>
	const Future &onDiscard(F &&f) const {
		return register_<detail::kind::discard>(std::forward<F>(f), [](std::uint32_t w) {
			if (detail::phase_of(w) != detail::phase::pending)
				return drop;
			return (w & detail::bits::discard_requested) ? run_now : keep;
		});
	}
	// f(): the future was abandoned (runs now if it already was; never once completed).
	template <class F>
	const Future &onAbandoned(F &&f) const {
		return register_<detail::kind::abandoned>(std::forward<F>(f), [](std::uint32_t w) {
			if (detail::phase_of(w) != detail::phase::pending)
				return drop;
			return (w & detail::bits::abandoned) ? run_now : keep;
		});
	}

	// Composition. f takes const T& (or nothing) and returns U, Future<U> or void (Nothing).
	// Failure and discard pass through; a discard requested on the result is requested on
	// this future (and on the future f returned, once it did).
	template <class F>
	auto then(F &&f) const {
		using R = typename call_result<std::decay_t<F>>::type;
		using U = detail::future_value_t<R>;
		std::uint32_t w = word_();
		if (detail::phase_of(w) != detail::phase::pending) {
			// Completed: a plain call, no promise or callback (the result's discard requests
			// need not reach this future, which can no longer honour them).
			if (detail::phase_of(w) == detail::phase::failed)
				return Future<U>(Failure(*state_->message));
			if (detail::phase_of(w) == detail::phase::discarded || (w & detail::bits::discard_requested))
				return Future<U>::discarded();
			if constexpr (std::is_lvalue_reference_v<F>) { // call a copy, as a chained f would be
				std::decay_t<F> g(f);
				return call_future(g, state_->value);
			} else {
				return call_future(f, state_->value);
			}
		}
		Promise<U> promise;
		Future<U> out = promise.future();
		out.onDiscard(discard_upstream());
		onAny([f = std::forward<F>(f), promise = std::move(promise)](const Future &in) mutable {
			std::uint32_t w = in.word_();
			if (detail::phase_of(w) == detail::phase::ready) {
				if (w & detail::bits::discard_requested)
					promise.discard();
				else
					settle(promise, f, in.state_->value);
			} else if (detail::phase_of(w) == detail::phase::failed) {
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

	static std::shared_ptr<state_t> make_state() {
		detail::critical c;
		// Often freed on another thread than the one that made it (see small_alloc.hpp).
		return std::allocate_shared<state_t>(detail::small_allocator<state_t>());
	}

	std::uint32_t word_() const { return state_->word.load(std::memory_order_acquire); }
	detail::phase phase_() const { return detail::phase_of(word_()); }

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
	// Complete p with f(v) (or f()): its value, or the future it returned; an exception fails
	// p (FutureDiscarded discards it). The value goes straight into p's state, with no
	// intermediate future.
	template <class U, class F>
	static void settle(Promise<U> &p, F &f, const T &v) noexcept {
		detail::complete_from(p, [&]() -> decltype(auto) { return call_with_value(f, v); });
	}
	// from_call()'s sink for detail::complete_from(): a completed Future, without a promise.
	struct outcome {
		std::optional<Future> result;
		template <class U>
		void set(U &&u) {
			result.emplace(std::forward<U>(u));
		}
		void associate(Future f) { result.emplace(std::move(f)); }
		void fail(const std::string &message) { result.emplace(Failure(message)); }
		void discard() { result.emplace(discarded()); }
	};
	// f(future) for repair/recover/after: its result as a Future<T>.
	template <class F>
	static Future to_future(F &f, const Future &in) {
		return from_call([&]() -> decltype(auto) { return f(in); });
	}

public:
	// Internal: the result of thunk() as a Future<T>; an exception becomes a failure.
	// (The usual case, no exception, builds the result in place; an exception is turned
	// into the outcome by detail::complete_from, rethrown there.)
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
		} catch (...) {
			outcome out;
			detail::complete_from(out, []() -> Future { throw; });
			return std::move(*out.result);
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
	// Register f as a callback of kind K; decide(word) says whether it waits (keep), runs now
	// or never runs.
	template <detail::kind K, class F, class Decide>
	const Future &register_(F &&f, Decide decide) const {
		using D = std::decay_t<F>;
		verdict v = decide(word_());
		if (v == keep) {
			detail::callback<T> *n;
			{
				detail::critical c;
				n = new detail::callback_of<T, K, D>(std::forward<F>(f));
			}
			{
				detail::word_lock<T> lock(*state_);
				v = decide(lock.word());
				if (v == keep) {
					n->next = state_->callbacks;
					state_->callbacks = n;
					return *this;
				}
			}
			// Settled meanwhile.
			if (v == run_now)
				n->run(this);
			detail::destroy_all(n);
		} else if (v == run_now) {
			// Already settled: call it here, without a node.
			if constexpr (std::is_lvalue_reference_v<F>) { // call a copy, as a node would
				D g(f);
				run_now_(g);
			} else {
				run_now_(f);
			}
		} else {
			detail::critical c; // f's captures are freed here, as a node's would be
			D dead(std::forward<F>(f));
		}
		return *this;
	}
	template <class G>
	void run_now_(G &g) const {
		if constexpr (std::is_invocable_v<G &, const Future &>)
			detail::run_callback(g, *this);
		else
			detail::run_callback(g);
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
	bool discard() {
		return detail::complete(
		    state_, detail::phase::discarded, [](detail::state<T> &) noexcept {}, false);
	}

	// From now on this promise's future completes as f does (value, failure, discard,
	// abandonment); a discard requested on it is requested on f. The promise's own
	// set/fail/discard are ignored afterwards. False if already completed or associated.
	bool associate(const Future<T> &f) {
		{
			detail::word_lock<T> lock(*state_);
			std::uint32_t w = lock.word();
			if (detail::phase_of(w) != detail::phase::pending ||
			    (w & (detail::bits::abandoned | detail::bits::associated)))
				return false;
			lock.unlock(w | detail::bits::associated);
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
		switch (in.phase_()) {
		case detail::phase::ready:
			detail::complete_value(s, true, in.state_->value);
			break;
		case detail::phase::failed:
			detail::complete_failure(s, *in.state_->message, true);
			break;
		case detail::phase::discarded:
			detail::complete(
			    s, detail::phase::discarded, [](detail::state<T> &) noexcept {}, true);
			break;
		default:
			detail::abandon(s, true);
		}
	}
	void release() {
		// Only a pending future that is not associated can be abandoned here: otherwise skip
		// abandon()'s lock (the common case: a dispatch's promise destroyed after its handler
		// set it).
		if (state_) {
			std::uint32_t w = state_->word.load(std::memory_order_acquire);
			if (detail::phase_of(w) == detail::phase::pending &&
			    !(w & (detail::bits::abandoned | detail::bits::associated)))
				detail::abandon(state_, false);
		}
		state_.reset();
	}
	std::shared_ptr<detail::state<T>> state_;
};

} // namespace turquoise

template <class T>
struct std::hash<turquoise::Future<T>> {
	std::size_t operator()(const turquoise::Future<T> &f) const noexcept { return f.hash(); }
};

#include <turquoise/async/after.hpp>
#include <turquoise/async/coroutine.hpp>

#endif
