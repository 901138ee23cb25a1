// turquoise/async/detail/future.hpp — internal: the member functions of Future and Promise
// (declared in future.hpp, which includes this file at its end): waiting on the state word,
// registering and running callbacks, composition, following another future.
//
// A future's shared state is one atomic word (phase and flags, with a spin-lock bit over the
// callback list, only ever held in a libinger critical section); blocked get()/await() calls
// sleep on the word (futex), and only they pay for the wake-up.
#ifndef TURQUOISE_ASYNC_DETAIL_FUTURE_HPP
#define TURQUOISE_ASYNC_DETAIL_FUTURE_HPP

#include <turquoise/async/future.hpp>
#include <turquoise/detail/small_alloc.hpp>
#include <turquoise/guarded_lock.hpp>

#include <inger/inger.hpp>
#include <libinger.h>

#include <sched.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <exception>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <vector>

namespace turquoise {

template <class T>
inline Future<T>::Future() : state_(make_state()) {
	state_->word.store(detail::bits::abandoned, std::memory_order_relaxed);
}

template <class T>
template <class U, class>
inline Future<T>::Future(U &&u) : state_(make_state()) {
	{
		detail::critical c;
		detail::emplace_value(*state_, std::forward<U>(u));
	}
	state_->word.store(static_cast<std::uint32_t>(detail::phase::ready), std::memory_order_release);
}

template <class T>
inline Future<T>::Future(const Failure &f) : state_(make_state()) {
	{
		detail::critical c;
		state_->message = new std::string(f.message);
	}
	state_->word.store(static_cast<std::uint32_t>(detail::phase::failed), std::memory_order_release);
}

template <class T>
inline Future<T> Future<T>::discarded() {
	Future f(make_state());
	f.state_->word.store(static_cast<std::uint32_t>(detail::phase::discarded),
	                     std::memory_order_release);
	return f;
}

template <class T>
inline const std::string &Future<T>::failure() const {
	if (!isFailed())
		throw std::logic_error("Future::failure() on a future that has not failed");
	return *state_->message;
}

template <class T>
inline bool Future<T>::await() const {
	detail::wait(*state_, nullptr);
	return !isPending();
}

template <class T>
template <class F>
struct Future<T>::call_result {
	using type = typename std::conditional_t<std::is_invocable_v<F &, const T &>,
	                                         std::invoke_result<F &, const T &>,
	                                         std::invoke_result<F &>>::type;
};

template <class T>
inline Promise<T> &Promise<T>::operator=(Promise &&o) noexcept {
	if (this != &o) {
		release();
		state_ = std::move(o.state_);
	}
	return *this;
}

template <class T>
inline bool Promise<T>::discard() {
	return detail::complete(
	    state_, detail::phase::discarded, [](detail::state<T> &) noexcept {}, false);
}

template <class T>
inline std::shared_ptr<detail::state<T>> Future<T>::make_state() {
	detail::critical c;
	// Often freed on another thread than the one that made it (see small_alloc.hpp).
	return std::allocate_shared<state_t>(detail::small_allocator<state_t>());
}

template <class T>
template <class F>
inline decltype(auto) Future<T>::call_with_value(F &f, const T &v) {
	if constexpr (std::is_invocable_v<F &, const T &>)
		return f(v);
	else
		return f();
}

template <class T>
template <class F>
inline auto Future<T>::call_future(F &f, const T &v) {
	return Future<detail::future_value_t<typename call_result<F>::type>>::from_call(
	    [&]() -> decltype(auto) { return call_with_value(f, v); });
}

template <class T>
template <class F>
inline Future<T> Future<T>::to_future(F &f, const Future &in) {
	return from_call([&]() -> decltype(auto) { return f(in); });
}

template <class T>
inline const T &Future<T>::get() const {
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

template <class T>
template <class Rep, class Period>
inline bool Future<T>::await(std::chrono::duration<Rep, Period> d) const {
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

template <class T>
inline bool Future<T>::discard() const {
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

template <class T>
template <class F>
inline const Future<T> &Future<T>::onReady(F &&f) const {
	return onAny([f = std::forward<F>(f)](const Future &fut) mutable {
		if (fut.isReady())
			call_with_value(f, fut.state_->value);
	});
}

template <class T>
template <class F>
inline const Future<T> &Future<T>::onFailed(F &&f) const {
	return onAny([f = std::forward<F>(f)](const Future &fut) mutable {
		if (fut.isFailed()) {
			if constexpr (std::is_invocable_v<F &, const std::string &>)
				f(*fut.state_->message);
			else
				f();
		}
	});
}

template <class T>
template <class F>
inline const Future<T> &Future<T>::onDiscarded(F &&f) const {
	return onAny([f = std::forward<F>(f)](const Future &fut) mutable {
		if (fut.isDiscarded())
			f();
	});
}

template <class T>
template <class F>
inline const Future<T> &Future<T>::onAny(F &&f) const {
	return register_<detail::kind::any>(std::forward<F>(f), [](std::uint32_t w) {
		if (detail::phase_of(w) != detail::phase::pending)
			return run_now;
		return (w & detail::bits::abandoned) ? drop : keep;
	});
}

template <class T>
template <class F>
inline const Future<T> &Future<T>::onDiscard(F &&f) const {
	return register_<detail::kind::discard>(std::forward<F>(f), [](std::uint32_t w) {
		if (detail::phase_of(w) != detail::phase::pending)
			return drop;
		return (w & detail::bits::discard_requested) ? run_now : keep;
	});
}

template <class T>
template <class F>
inline const Future<T> &Future<T>::onAbandoned(F &&f) const {
	return register_<detail::kind::abandoned>(std::forward<F>(f), [](std::uint32_t w) {
		if (detail::phase_of(w) != detail::phase::pending)
			return drop;
		return (w & detail::bits::abandoned) ? run_now : keep;
	});
}

template <class T>
template <class F>
inline auto Future<T>::then(F &&f) const {
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

template <class T>
template <class F>
inline Future<T> Future<T>::repair(F &&f) const {
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

template <class T>
template <class F>
inline Future<T> Future<T>::recover(F &&f) const {
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

template <class T>
template <class U, class F>
inline void Future<T>::settle(Promise<U> &p, F &f, const T &v) noexcept {
	detail::complete_from(p, [&]() -> decltype(auto) { return call_with_value(f, v); });
}

namespace detail {
// from_call()'s sink for complete_from(): a completed Future, without a promise.
template <class T>
struct future_outcome {
	std::optional<Future<T>> result;
	template <class U>
	void set(U &&u) {
		result.emplace(std::forward<U>(u));
	}
	void associate(Future<T> f) { result.emplace(std::move(f)); }
	void fail(const std::string &message) { result.emplace(Failure(message)); }
	void discard() { result.emplace(Future<T>::discarded()); }
};
} // namespace detail

// The usual case, no exception, builds the result in place; an exception is turned into the
// outcome by detail::complete_from, rethrown there.
template <class T>
template <class Thunk>
inline Future<T> Future<T>::from_call(Thunk &&thunk) noexcept {
	using R = std::invoke_result_t<Thunk &>;
	try {
		if constexpr (std::is_void_v<R>) {
			thunk();
			return Future(Nothing());
		} else {
			return Future(thunk());
		}
	} catch (...) {
		detail::future_outcome<T> out;
		detail::complete_from(out, []() -> Future { throw; });
		return std::move(*out.result);
	}
}

template <class T>
inline unique_function<void()> Future<T>::discard_upstream() const {
	detail::critical c;
	return [w = WeakFuture<T>(*this)] {
		auto up = w.get();
		if (up.isSome())
			up.get().discard();
	};
}

template <class T>
template <detail::kind K, class F, class Decide>
inline const Future<T> &Future<T>::register_(F &&f, Decide decide) const {
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

template <class T>
template <class G>
inline void Future<T>::run_now_(G &g) const {
	if constexpr (std::is_invocable_v<G &, const Future &>)
		detail::run_callback(g, *this);
	else
		detail::run_callback(g);
}

template <class T>
inline bool Promise<T>::associate(const Future<T> &f) {
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

template <class T>
inline void Promise<T>::follow(const std::shared_ptr<detail::state<T>> &s, const Future<T> &in) {
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

template <class T>
inline void Promise<T>::release() {
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

} // namespace turquoise

#endif
