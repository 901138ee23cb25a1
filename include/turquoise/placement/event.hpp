// turquoise/placement/event.hpp — Event<T>: a stream of discrete occurrences (after REScala/ScalaLoci).
//
//   Event<std::string> message;                      // a source
//   message.observe([](const std::string &s) { ... });
//   Event<size_t> lengths = message.map([](const std::string &s) { return s.size(); });
//   Signal<size_t> total = lengths.fold(size_t(0), [](size_t a, size_t n) { return a + n; });
//   message.fire("hello");
//
// Semantics
// - An Event is a shared handle (copies name the same stream). fire(v) delivers v to every
//   observer registered before the occurrence is delivered, in registration order.
// - Order: occurrences are delivered one at a time, in the order their fire() calls were
//   serialised (so the occurrences of one thread, or of one remote source, keep their order).
//   fire() never blocks on observers: if another thread (or an observer up the stack) is
//   delivering, the occurrence is queued and that deliverer delivers it, so an observer may
//   fire events, including its own, without deadlock.
// - End: end() or fail(message) is delivered after the occurrences fired before it; then
//   ended() is ready (or failed with the message), observers are released and later fire()s
//   return false. A remote event whose peer disconnects fails (runtime.hpp).
// - Derived events (map, filter, merge) end as their sources do (merge: when both have ended;
//   failed if either failed). An exception thrown by a map/filter/fold function fails the
//   derived event with its message; an observer given to observe() must not throw (as Future
//   callbacks: an escaping exception terminates). A derived event lives as long as its source.
#ifndef TURQUOISE_PLACEMENT_EVENT_HPP
#define TURQUOISE_PLACEMENT_EVENT_HPP

#include <turquoise/async/future.hpp>
#include <turquoise/async/nothing.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>

namespace turquoise::placement {

template <class T>
class Signal;

namespace detail {
template <class T>
struct event_state;
}

template <class T>
class Event {
	static_assert(!std::is_reference_v<T> && !std::is_void_v<T>, "Event<T>: T is a value type");

public:
	using value_type = T;

	// A new source event.
	Event();

	// Deliver an occurrence (see above). False once the event has ended.
	bool fire(T v) const;
	// No more occurrences; ended() becomes ready / failed.
	bool end() const;
	bool fail(const std::string &message) const;
	bool isEnded() const;
	Future<Nothing> ended() const;

	// f(const T&) for each occurrence delivered from now on. Returns an id for unobserve().
	template <class F>
	std::uint64_t observe(F &&f) const;
	// Stop calling the observer (an occurrence being delivered to it may still complete).
	void unobserve(std::uint64_t id) const;

	// Derived events.
	template <class F> // U f(const T&)
	auto map(F f) const -> Event<std::decay_t<std::invoke_result_t<F &, const T &>>>;
	template <class F> // bool pred(const T&)
	Event filter(F pred) const;
	Event merge(const Event &other) const;
	// A signal: init, then f(acc, v) for each occurrence.
	template <class A, class F> // A f(const A&, const T&)
	Signal<A> fold(A init, F f) const;
	// A signal holding the latest occurrence (init before the first).
	Signal<T> latest(T init) const;

	friend bool operator==(const Event &a, const Event &b) { return a.state_ == b.state_; }

private:
	template <class>
	friend class Event;
	template <class>
	friend class Signal;
	std::shared_ptr<detail::event_state<T>> state_;
};

} // namespace turquoise::placement

#include <turquoise/placement/detail/event.hpp>

#endif
