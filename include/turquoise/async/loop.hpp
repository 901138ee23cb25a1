// turquoise/async/loop.hpp — asynchronous loops without recursion.
//
//   Future<R> loop(iterate, body)
//
// Repeats: v = iterate() (returns T or Future<T>), then body(v) (returns ControlFlow<R> or
// Future<ControlFlow<R>>): Continue() goes round again, Break(r) completes the loop's future
// with r (Break() for R = Nothing). A failed or discarded future from iterate or body, or an
// exception thrown by them, ends the loop the same way. Iterations whose futures are already
// ready run in a plain while loop: the stack does not grow with the number of iterations.
// Iterations continue on whichever thread completes the future they waited on.
//
// A discard requested on the loop's future is requested on the future the loop is waiting
// for, and the loop stops (its future discarded) at the next iteration boundary.
#ifndef TURQUOISE_ASYNC_LOOP_HPP
#define TURQUOISE_ASYNC_LOOP_HPP

#include <turquoise/async/future.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <type_traits>
#include <utility>

namespace turquoise {

template <class T>
class ControlFlow {
public:
	using value_type = T;
	enum class Statement { CONTINUE, BREAK };

	static ControlFlow continue_() { return ControlFlow(Statement::CONTINUE, std::nullopt); }
	static ControlFlow break_(T t) { return ControlFlow(Statement::BREAK, std::move(t)); }

	Statement statement() const { return statement_; }
	bool isBreak() const { return statement_ == Statement::BREAK; }
	const T &value() const & { return *value_; }
	T &&value() && { return std::move(*value_); }

private:
	ControlFlow(Statement s, std::optional<T> t) : statement_(s), value_(std::move(t)) {}
	Statement statement_;
	std::optional<T> value_;
};

struct Continue {
	template <class T>
	operator ControlFlow<T>() const {
		return ControlFlow<T>::continue_();
	}
};

template <class T>
struct BreakWith {
	T value;
	template <class U>
	operator ControlFlow<U>() const & {
		return ControlFlow<U>::break_(U(value));
	}
	template <class U>
	operator ControlFlow<U>() && {
		return ControlFlow<U>::break_(U(std::move(value)));
	}
};

inline BreakWith<Nothing> Break() { return {Nothing()}; }
template <class T>
BreakWith<std::decay_t<T>> Break(T &&t) {
	return {std::forward<T>(t)};
}

namespace detail {

template <class X>
struct control_flow_value;
template <class R>
struct control_flow_value<ControlFlow<R>> {
	using type = R;
};

template <class Iterate, class Body, class T, class R>
class loop_state : public std::enable_shared_from_this<loop_state<Iterate, Body, T, R>> {
public:
	template <class I, class B>
	loop_state(I &&i, B &&b) : iterate_(std::forward<I>(i)), body_(std::forward<B>(b)) {}

	Future<R> future() const { return promise_.future(); }

	void start() { run(next()); }

	void discard() {
		unique_function<void()> d;
		{
			guarded_lock lock(mutex_);
			d = std::move(discarder_);
		}
		if (d)
			d();
		critical c;
		d = {};
	}

private:
	using Flow = ControlFlow<R>;

	Future<T> next() {
		return Future<T>::from_call([&]() -> decltype(auto) { return iterate_(); });
	}

	// false: f is complete, carry on here. true: f is pending; k(f) runs when it completes
	// (on the completing thread), and the caller must return.
	template <class X, class K>
	bool suspend(const Future<X> &f, K k) {
		if (!f.isPending())
			return false;
		std::shared_ptr<std::atomic<bool>> token;
		{
			critical c;
			token = std::make_shared<std::atomic<bool>>(false);
			guarded_lock lock(mutex_);
			discarder_ = [w = WeakFuture<X>(f)] {
				auto g = w.get();
				if (g.isSome())
					g.get().discard();
			};
		}
		if (promise_.future().hasDiscard())
			f.discard();
		f.onAny([token, k = std::move(k)](const Future<X> &g) mutable {
			if (token->exchange(true))
				k(g);
		});
		return !token->exchange(true);
	}

	void run(Future<T> value) {
		auto self = this->shared_from_this();
		for (;;) {
			if (promise_.future().hasDiscard()) {
				promise_.discard();
				return;
			}
			if (suspend(value, [self](const Future<T> &v) { self->run(v); }))
				return;
			if (!value.isReady()) {
				finish_unready(value);
				return;
			}
			Future<Flow> flow = Future<Flow>::from_call([&]() -> decltype(auto) { return body_(value.get()); });
			if (suspend(flow, [self](const Future<Flow> &f) {
				    if (self->flowed(f))
					    self->run(self->next());
			    }))
				return;
			if (!flowed(flow))
				return;
			value = next();
		}
	}

	// true: continue looping.
	bool flowed(const Future<Flow> &f) {
		if (!f.isReady()) {
			finish_unready(f);
			return false;
		}
		const Flow &flow = f.get();
		if (!flow.isBreak())
			return true;
		promise_.set(flow.value());
		return false;
	}

	template <class X>
	void finish_unready(const Future<X> &f) {
		if (f.isFailed())
			promise_.fail(f.failure());
		else
			promise_.discard(); // discarded (an abandoned future drops our callback instead)
	}

	Iterate iterate_;
	Body body_;
	Promise<R> promise_;
	std::mutex mutex_;
	unique_function<void()> discarder_;
};

} // namespace detail

template <class Iterate, class Body>
auto loop(Iterate &&iterate, Body &&body) {
	using IR = std::invoke_result_t<std::decay_t<Iterate> &>;
	using T = detail::future_value_t<IR>;
	using BR = std::invoke_result_t<std::decay_t<Body> &, const T &>;
	using Flow = std::decay_t<typename detail::unwrap_future<std::decay_t<BR>>::type>;
	using R = typename detail::control_flow_value<Flow>::type;
	using L = detail::loop_state<std::decay_t<Iterate>, std::decay_t<Body>, T, R>;
	std::shared_ptr<L> l;
	{
		detail::critical c;
		l = std::make_shared<L>(std::forward<Iterate>(iterate), std::forward<Body>(body));
	}
	Future<R> out = l->future();
	out.onDiscard([w = std::weak_ptr<L>(l)] {
		if (auto l = w.lock())
			l->discard();
	});
	l->start();
	return out;
}

} // namespace turquoise

#endif
