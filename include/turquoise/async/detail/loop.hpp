// turquoise/async/detail/loop.hpp — internal: the state machine behind loop() (loop.hpp).
#ifndef TURQUOISE_ASYNC_DETAIL_LOOP_HPP
#define TURQUOISE_ASYNC_DETAIL_LOOP_HPP

#include <turquoise/async/future.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <type_traits>
#include <utility>

namespace turquoise {

template <class T>
class ControlFlow;

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

// loop(): see loop.hpp.
template <class Iterate, class Body>
auto start_loop(Iterate &&iterate, Body &&body) {
	using IR = std::invoke_result_t<std::decay_t<Iterate> &>;
	using T = future_value_t<IR>;
	using BR = std::invoke_result_t<std::decay_t<Body> &, const T &>;
	using Flow = std::decay_t<typename unwrap_future<std::decay_t<BR>>::type>;
	using R = typename control_flow_value<Flow>::type;
	using L = loop_state<std::decay_t<Iterate>, std::decay_t<Body>, T, R>;
	std::shared_ptr<L> l;
	{
		critical c;
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

} // namespace detail

} // namespace turquoise

#endif
