// turquoise/process/dispatch.hpp — running code in a process's context: dispatch, defer,
// delay; and async() (code on the runtime's pool, outside any process).
//
//   Future<R> dispatch(pid, &T::method, args...)   pid: PID<T>, or a Process<T> (& or *)
//   Future<R> dispatch(pid, f, args...)            f: any callable, pid: any UPID
//
// The arguments are copied (decayed) when dispatching and handed to the method once, in the
// process's context: by move, except to non-const lvalue-reference parameters. R is the
// method's result type: void gives Future<Nothing>, Future<U> gives Future<U> (the result
// follows the returned future). An exception escaping the handler fails the future with its
// what() (FutureDiscarded discards it). A dispatch to an unknown or terminated process, or
// still queued when its process terminates, or dropped by a filter, is never run: its future
// is abandoned (isAbandoned(); recover() sees it).
//
//   defer(pid, f)                   a callable: defer(pid, f)(x...) == dispatch(pid, f, x...)
//   defer(pid, &T::method, b...)    a callable: (x...) -> dispatch(pid, &T::method, b..., x...)
//   e.g. future.then(defer(self(), [this](const int &v) { ... }));
// Placeholders are not supported: arguments given at call time are appended to the bound ones.
//
//   Timer delay(d, pid, &T::method, args...)  / delay(d, pid, f)
// dispatches once `d` has passed on the Clock (a paused Clock: when advance() passes it; see
// ProcessManager::settle()). Clock::cancel(timer) cancels it.
//
//   Future<R> async(f, args...)
// runs f(args...) as a task of the runtime's pool (no thread per call). Call it qualified
// (turquoise::async) when arguments come from namespace std: ADL would also find std::async.
#ifndef TURQUOISE_PROCESS_DISPATCH_HPP
#define TURQUOISE_PROCESS_DISPATCH_HPP

#include <turquoise/async/clock.hpp>
#include <turquoise/async/failure.hpp>
#include <turquoise/async/future.hpp>
#include <turquoise/async/loop.hpp>
#include <turquoise/process/detail/dispatch.hpp>
#include <turquoise/process/event.hpp>
#include <turquoise/process/process.hpp>

#include <tuple>
#include <type_traits>
#include <utility>

namespace turquoise {

// dispatch(pid, &T::method, args...)
template <class T, class M, class... A, class = std::enable_if_t<detail::is_method_v<M>>>
auto dispatch(const PID<T> &pid, M method, A &&...a) {
	return detail::dispatch_method<T>(pid, method, false, std::forward<A>(a)...);
}
template <class T, class M, class... A, class = std::enable_if_t<detail::is_method_v<M>>>
auto dispatch(const Process<T> &process, M method, A &&...a) {
	return dispatch(process.self(), method, std::forward<A>(a)...);
}
template <class T, class M, class... A, class = std::enable_if_t<detail::is_method_v<M>>>
auto dispatch(const Process<T> *process, M method, A &&...a) {
	return dispatch(process->self(), method, std::forward<A>(a)...);
}

// dispatch(pid, f, args...)
template <class F, class... A,
          class = std::enable_if_t<!detail::is_method_v<F> &&
                                   std::is_invocable_v<std::decay_t<F> &, std::decay_t<A> &...>>>
auto dispatch(const UPID &pid, F &&f, A &&...a) {
	return detail::dispatch_function(pid, false, std::forward<F>(f), std::forward<A>(a)...);
}

// defer(pid, f)
template <class F>
class Deferred {
public:
	Deferred(UPID pid, F f) : pid_(std::move(pid)), f_(std::move(f)) {}

	template <class... X, class = std::enable_if_t<std::is_invocable_v<F &, std::decay_t<X> &...>>>
	auto operator()(X &&...x) {
		if constexpr (std::is_copy_constructible_v<F>)
			return dispatch(pid_, F(f_), std::forward<X>(x)...);
		else
			return dispatch(pid_, std::move(f_), std::forward<X>(x)...); // move-only: once
	}

	const UPID &pid() const { return pid_; }

private:
	UPID pid_;
	F f_;
};

template <class T, class M, class... B>
class DeferredMethod {
public:
	DeferredMethod(PID<T> pid, M method, std::tuple<B...> bound)
	    : pid_(std::move(pid)), method_(method), bound_(std::move(bound)) {}

	template <class... X, class = std::enable_if_t<sizeof...(B) + sizeof...(X) ==
	                                               detail::method_traits<M>::arity>>
	auto operator()(X &&...x) const {
		return std::apply(
		    [&](const B &...b) { return dispatch(pid_, method_, b..., std::forward<X>(x)...); },
		    bound_);
	}

	const PID<T> &pid() const { return pid_; }

private:
	PID<T> pid_;
	M method_;
	std::tuple<B...> bound_;
};

template <class F, class = std::enable_if_t<!detail::is_method_v<F>>>
Deferred<std::decay_t<F>> defer(const UPID &pid, F &&f) {
	return Deferred<std::decay_t<F>>(pid, std::forward<F>(f));
}
template <class T, class M, class... B, class = std::enable_if_t<detail::is_method_v<M>>>
DeferredMethod<T, M, std::decay_t<B>...> defer(const PID<T> &pid, M method, B &&...bound) {
	return DeferredMethod<T, M, std::decay_t<B>...>(
	    pid, method, std::tuple<std::decay_t<B>...>(std::forward<B>(bound)...));
}
template <class T, class M, class... B, class = std::enable_if_t<detail::is_method_v<M>>>
auto defer(const Process<T> &process, M method, B &&...bound) {
	return defer(process.self(), method, std::forward<B>(bound)...);
}
template <class T, class M, class... B, class = std::enable_if_t<detail::is_method_v<M>>>
auto defer(const Process<T> *process, M method, B &&...bound) {
	return defer(process->self(), method, std::forward<B>(bound)...);
}

// delay(d, pid, &T::method, args...) / delay(d, pid, f)
template <class T, class M, class... A, class = std::enable_if_t<detail::is_method_v<M>>>
Timer delay(Clock::Duration d, const PID<T> &pid, M method, A &&...a);
template <class T, class M, class... A, class = std::enable_if_t<detail::is_method_v<M>>>
Timer delay(Clock::Duration d, const Process<T> &process, M method, A &&...a) {
	return delay(d, process.self(), method, std::forward<A>(a)...);
}
template <class F, class = std::enable_if_t<!detail::is_method_v<F> &&
                                            std::is_invocable_v<std::decay_t<F> &>>>
Timer delay(Clock::Duration d, const UPID &pid, F &&f);

// loop(pid, iterate, body): loop() (async/loop.hpp) with iterate and body run in pid's
// context, each call a dispatch (libprocess's loop(pid, ...)).
template <class Iterate, class Body>
auto loop(const UPID &pid, Iterate &&iterate, Body &&body) {
	return loop(defer(pid, std::forward<Iterate>(iterate)), defer(pid, std::forward<Body>(body)));
}

// async(f, args...): f(args...) as a task of the runtime's pool.
template <class F, class... A,
          class = std::enable_if_t<std::is_invocable_v<std::decay_t<F> &, std::decay_t<A> &...>>>
auto async(F &&f, A &&...a);

} // namespace turquoise

#include <turquoise/process/detail/delay.hpp>

#endif
