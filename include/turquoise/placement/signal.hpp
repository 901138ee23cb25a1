// turquoise/placement/signal.hpp — Signal<T>: a value that changes over time (after REScala/ScalaLoci).
//
//   Signal<int> width(3), height(4);                               // sources (vars)
//   Signal<int> area = lift([](int w, int h) { return w * h; }, width, height);
//   width.set(5);                                                  // area.now() == 20
//   area.changed().observe([](int a) { ... });
//
// Semantics
// - A Signal is a shared handle. now() is its current value. A source signal changes by
//   set(v); a derived signal (map, lift, Event::fold/latest) changes when its inputs do and
//   refuses set() (std::logic_error).
// - A change to a value equal to the current one (when T has ==) is no change: nothing fires.
// - changed() fires each new value, in the order the changes were made (Event's order).
// - Derived signals are recomputed in their inputs' change order; a signal derived twice from
//   one input (a diamond) may show an intermediate combination between the two updates (no
//   glitch freedom across inputs). A derived signal lives as long as its inputs.
// - An exception from a map/lift function leaves the derived signal at its last value and
//   fails its changed() event with the message.
#ifndef TURQUOISE_PLACEMENT_SIGNAL_HPP
#define TURQUOISE_PLACEMENT_SIGNAL_HPP

#include <turquoise/placement/event.hpp>

#include <cstdint>
#include <memory>
#include <mutex>
#include <type_traits>
#include <utility>

namespace turquoise::placement {

namespace detail {
template <class T>
struct signal_state {
	std::mutex mutex;
	T value;
	std::uint64_t version = 0;
	bool derived = false;
	Event<std::pair<std::uint64_t, T>> versioned; // each change with its version
	Event<T> changed;
	explicit signal_state(T v) : value(std::move(v)) {}
	T value_now() {
		std::lock_guard<std::mutex> g(mutex);
		return value;
	}
};
} // namespace detail

template <class T>
class Signal {
	static_assert(!std::is_reference_v<T> && !std::is_void_v<T>, "Signal<T>: T is a value type");

public:
	using value_type = T;

	// A source signal holding init.
	explicit Signal(T init = T());

	T now() const;
	// Change a source signal; std::logic_error on a derived one.
	void set(T v) const;
	Event<T> changed() const { return state_->changed; }

	template <class F> // U f(const T&)
	auto map(F f) const -> Signal<std::decay_t<std::invoke_result_t<F &, const T &>>>;

	// Internal: the value with its version, and every change with its version (a remote copy
	// ignores changes older than the value it holds).
	std::pair<std::uint64_t, T> versioned_now() const;
	Event<std::pair<std::uint64_t, T>> versioned_changes() const { return state_->versioned; }
	// Internal: change a derived signal (its inputs changed); false if the value is unchanged.
	bool update(T v) const;
	static Signal derived(T init);
	// Internal: a handle that does not keep the signal alive (a derived signal's observer on
	// its input must not, or the input would own itself through its own change event).
	std::weak_ptr<detail::signal_state<T>> weak() const { return state_; }
	explicit Signal(std::shared_ptr<detail::signal_state<T>> s) : state_(std::move(s)) {}

	friend bool operator==(const Signal &a, const Signal &b) { return a.state_ == b.state_; }

private:
	std::shared_ptr<detail::signal_state<T>> state_;
};

// A derived signal: f(inputs.now()...), recomputed whenever an input changes.
template <class F, class... S>
auto lift(F f, const Signal<S> &...inputs)
    -> Signal<std::decay_t<std::invoke_result_t<F &, const S &...>>>;

} // namespace turquoise::placement

#include <turquoise/placement/detail/signal.hpp>

#endif
