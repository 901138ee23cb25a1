// turquoise/process/detail/dispatch.hpp — internal (included by dispatch.hpp): a dispatch's
// message (the call and its promise, in one block with the future's state) and how it is
// built and queued.
#ifndef TURQUOISE_PROCESS_DETAIL_DISPATCH_HPP
#define TURQUOISE_PROCESS_DETAIL_DISPATCH_HPP

#include <turquoise/async/clock.hpp>
#include <turquoise/async/failure.hpp>
#include <turquoise/async/future.hpp>
#include <turquoise/detail/small_alloc.hpp>
#include <turquoise/process/event.hpp>
#include <turquoise/process/process.hpp>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <tuple>
#include <type_traits>
#include <utility>

namespace turquoise {
namespace detail {

template <class M>
struct method_traits;
#define TURQUOISE_METHOD_TRAITS_(QUALIFIERS)                                                  \
	template <class C, class R, class... P>                                                  \
	struct method_traits<R (C::*)(P...) QUALIFIERS> {                                        \
		using cls = C;                                                                       \
		using ret = R;                                                                       \
		using params = std::tuple<P...>;                                                     \
		static constexpr std::size_t arity = sizeof...(P);                                   \
	};
TURQUOISE_METHOD_TRAITS_()
TURQUOISE_METHOD_TRAITS_(const)
TURQUOISE_METHOD_TRAITS_(noexcept)
TURQUOISE_METHOD_TRAITS_(const noexcept)
#undef TURQUOISE_METHOD_TRAITS_

// A stored argument as the parameter P wants it: an lvalue for P = X&, else moved.
template <class P, class X>
decltype(auto) pass(X &x) {
	if constexpr (std::is_lvalue_reference_v<P> && !std::is_const_v<std::remove_reference_t<P>>)
		return (x);
	else
		return std::move(x);
}

// base as a T, or nullptr. The process's class is usually T itself: then the most derived
// object is the T, found without dynamic_cast's search of the class hierarchy.
template <class T>
T *cast(ProcessBase *base) {
	if constexpr (std::is_polymorphic_v<T> && !std::is_abstract_v<T>) {
		if (typeid(*base) == typeid(T))
			return static_cast<T *>(dynamic_cast<void *>(base));
	}
	return dynamic_cast<T *>(base);
}

template <class Params, class M, class T, class Tuple, std::size_t... I>
decltype(auto) invoke_method(M method, T *t, Tuple &args, std::index_sequence<I...>) {
	return std::invoke(method, t, pass<std::tuple_element_t<I, Params>>(std::get<I>(args))...);
}

// A dispatch's message: the call and the promise of its outcome. It is allocated in one
// block with the state of the future it completes (one allocation per dispatch instead of
// two; allocations are much of a message's cost, and the block is typically freed on another
// thread). The block lives while the promise or any future of it does.
template <class U, class Call>
struct dispatch_event final : event {
	template <class C>
	explicit dispatch_event(C &&c) : call(std::in_place, std::forward<C>(c)) {}
	void run(ProcessBase *p) override {
		turquoise::detail::complete_from(promise, [&]() -> decltype(auto) { return (*call)(p); });
	}
	void dispose() noexcept override {
		call.reset(); // the block is still held by `promise`
		Promise<U> last = std::move(promise);
	} // `last` goes here: it abandons the future if it is pending, and may free *this

	Promise<U> promise{detail::adopt_state, nullptr}; // set by dispatch_call()
	std::optional<Call> call;
};

// The event first: it is what the receiver reads first, and event::prefetch() counts from it.
template <class U, class Call>
struct dispatch_block {
	template <class C>
	explicit dispatch_block(C &&c) : e(std::forward<C>(c)) {}
	dispatch_event<U, Call> e;
	detail::state<U> state;
};

// Queue call(ProcessBase*) in pid's mailbox; its outcome completes the returned future.
// The caller holds a critical section (the allocation, and the promise and future
// bookkeeping, must not be preempted half-way).
template <class R, class Call>
auto dispatch_call(const UPID &pid, MethodId method, bool spoofed, Call &&call) {
	using U = detail::future_value_t<R>;
	using block = dispatch_block<U, std::decay_t<Call>>;
	auto b = std::allocate_shared<block>(turquoise::detail::small_allocator<block>(), std::forward<Call>(call));
	event *e = &b->e;
	b->e.method = method;
	b->e.spoofed = spoofed;
	b->e.footprint = sizeof(block);
	detail::state<U> *s = &b->state;
	// From now on the promise (and the future) own the block.
	auto &promise = b->e.promise;
	promise = Promise<U>(detail::adopt_state, std::shared_ptr<detail::state<U>>(std::move(b), s));
	Future<U> future = promise.future();
	deliver(pid, e);
	return future;
}

template <class T, class M, class... A>
auto dispatch_method(const UPID &pid, M method, bool spoofed, A &&...a) {
	using traits = method_traits<M>;
	static_assert(std::is_base_of_v<typename traits::cls, T>,
	              "dispatch: the method is not a member of the process's class");
	static_assert(traits::arity == sizeof...(A), "dispatch: wrong number of arguments");
	using R = typename traits::ret;
	critical c;
	std::tuple<std::decay_t<A>...> args(std::forward<A>(a)...);
	return dispatch_call<R>(
	    pid, MethodId::of(method), spoofed,
	    [method, args = std::move(args)](ProcessBase *base) mutable -> R {
		    T *t = cast<T>(base);
		    if (t == nullptr)
			    throw std::logic_error("dispatch: process " + base->self().id +
			                           " is not of the PID's type");
		    return invoke_method<typename traits::params>(method, t, args,
		                                                  std::index_sequence_for<A...>());
	    });
}

template <class F, class... A>
auto dispatch_function(const UPID &pid, bool spoofed, F &&f, A &&...a) {
	using R = std::invoke_result_t<std::decay_t<F> &, std::decay_t<A> &...>;
	critical c;
	std::tuple<std::decay_t<A>...> args(std::forward<A>(a)...);
	return dispatch_call<R>(pid, MethodId{}, spoofed,
	                        [f = std::decay_t<F>(std::forward<F>(f)),
	                         args = std::move(args)](ProcessBase *) mutable -> R {
		                        return std::apply(f, args);
	                        });
}

template <class M>
inline constexpr bool is_method_v = std::is_member_function_pointer_v<std::decay_t<M>>;

} // namespace detail
} // namespace turquoise

#endif
