// turquoise/placement/detail/signal.hpp — Signal<T>'s members, lift, and Event's fold/latest.
#ifndef TURQUOISE_PLACEMENT_DETAIL_SIGNAL_HPP
#define TURQUOISE_PLACEMENT_DETAIL_SIGNAL_HPP

#include <concepts>
#include <stdexcept>
#include <tuple>

namespace turquoise::placement {

template <class T>
Signal<T>::Signal(T init) : state_(std::make_shared<detail::signal_state<T>>(std::move(init))) {
	auto changed = state_->changed;
	state_->versioned.observe([changed](const std::pair<std::uint64_t, T> &c) { changed.fire(c.second); });
	detail::end_with(state_->versioned, changed);
}

template <class T>
Signal<T> Signal<T>::derived(T init) {
	Signal s(std::move(init));
	s.state_->derived = true;
	return s;
}

template <class T>
T Signal<T>::now() const {
	return state_->value_now();
}

template <class T>
std::pair<std::uint64_t, T> Signal<T>::versioned_now() const {
	std::lock_guard<std::mutex> g(state_->mutex);
	return {state_->version, state_->value};
}

template <class T>
bool Signal<T>::update(T v) const {
	typename detail::event_state<std::pair<std::uint64_t, T>>::pushed p;
	{
		// The change is queued under the lock, so that changes fire in the order they were
		// made; it is delivered after the lock is released (observers may call now()).
		std::lock_guard<std::mutex> g(state_->mutex);
		if constexpr (std::equality_comparable<T>) {
			if (state_->value == v)
				return false;
		}
		state_->value = v;
		++state_->version;
		typename detail::event_state<std::pair<std::uint64_t, T>>::item it;
		it.value.emplace(state_->version, std::move(v));
		p = state_->versioned.state_->push(std::move(it));
	}
	if (p == detail::event_state<std::pair<std::uint64_t, T>>::pushed::deliver)
		state_->versioned.state_->deliver();
	return true;
}

template <class T>
void Signal<T>::set(T v) const {
	if (state_->derived)
		throw std::logic_error("Signal::set on a derived signal (it follows its inputs)");
	update(std::move(v));
}

template <class T>
template <class F>
auto Signal<T>::map(F f) const -> Signal<std::decay_t<std::invoke_result_t<F &, const T &>>> {
	return lift(std::move(f), *this);
}

template <class F, class... S>
auto lift(F f, const Signal<S> &...inputs)
    -> Signal<std::decay_t<std::invoke_result_t<F &, const S &...>>> {
	using U = std::decay_t<std::invoke_result_t<F &, const S &...>>;
	auto out = Signal<U>::derived(f(inputs.now()...));
	auto shared_f = std::make_shared<F>(std::move(f));
	auto recompute = [out, shared_f, weak = std::make_tuple(inputs.weak()...)](const auto &) {
		try {
			auto states = std::apply([](const auto &...w) { return std::make_tuple(w.lock()...); }, weak);
			bool alive = std::apply([](const auto &...s) { return (static_cast<bool>(s) && ...); }, states);
			if (!alive)
				return;
			out.update(std::apply([&](const auto &...s) { return (*shared_f)(s->value_now()...); }, states));
		} catch (...) {
			out.versioned_changes().fail(detail::current_message());
		}
	};
	(inputs.changed().observe(recompute), ...);
	return out;
}

template <class T>
template <class A, class F>
Signal<A> Event<T>::fold(A init, F f) const {
	auto out = Signal<A>::derived(init);
	// The accumulator is the fold's own (occurrences are delivered one at a time).
	auto acc = std::make_shared<A>(std::move(init));
	observe([out, acc, f = std::move(f)](const T &v) mutable {
		try {
			*acc = f(static_cast<const A &>(*acc), v);
			out.update(*acc);
		} catch (...) {
			out.versioned_changes().fail(detail::current_message());
		}
	});
	return out;
}

template <class T>
Signal<T> Event<T>::latest(T init) const {
	return fold(std::move(init), [](const T &, const T &v) { return v; });
}

} // namespace turquoise::placement

#endif
