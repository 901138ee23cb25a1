// turquoise/placement/detail/event.hpp — Event<T>'s state: an occurrence queue drained by one
// deliverer at a time (event.hpp has the semantics), and the derived-event combinators.
#ifndef TURQUOISE_PLACEMENT_DETAIL_EVENT_HPP
#define TURQUOISE_PLACEMENT_DETAIL_EVENT_HPP

#include <turquoise/function.hpp>

#include <atomic>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <utility>

namespace turquoise::placement {

namespace detail {

// The message of the exception being handled (for failing a derived event).
inline std::string current_message() {
	try {
		throw;
	} catch (const std::exception &e) {
		return e.what();
	} catch (...) {
		return "unknown exception";
	}
}

template <class T>
struct event_state {
	struct observer {
		explicit observer(unique_function<void(const T &)> f_) : f(std::move(f_)) {}
		unique_function<void(const T &)> f;
		std::atomic<bool> active{true};
	};
	// An occurrence, or the end (value empty; failed with a message, or not).
	struct item {
		std::optional<T> value;
		bool failed = false;
		std::string failure;
	};

	std::mutex mutex;
	std::deque<observer> observers; // appended only: references stay valid while delivering
	std::deque<item> queue;
	bool delivering = false;
	bool closed = false; // end/fail queued: fire() refused
	Promise<Nothing> end;
	Future<Nothing> ended = end.future();

	enum class pushed { refused, queued, deliver };
	// Queue an item; `deliver` if the caller must deliver() (no one else is delivering).
	pushed push(item it) {
		std::lock_guard<std::mutex> g(mutex);
		if (closed)
			return pushed::refused;
		if (!it.value)
			closed = true;
		queue.push_back(std::move(it));
		if (delivering)
			return pushed::queued;
		delivering = true;
		return pushed::deliver;
	}
	bool push_and_deliver(item it) {
		pushed p = push(std::move(it));
		if (p == pushed::deliver)
			deliver();
		return p != pushed::refused;
	}

	void deliver() {
		for (;;) {
			item it;
			{
				std::lock_guard<std::mutex> g(mutex);
				if (queue.empty()) {
					delivering = false;
					return;
				}
				it = std::move(queue.front());
				queue.pop_front();
			}
			if (!it.value) {
				std::deque<observer> gone;
				{
					std::lock_guard<std::mutex> g(mutex);
					gone.swap(observers);
					delivering = false;
				}
				if (it.failed)
					end.fail(it.failure);
				else
					end.set(Nothing());
				return;
			}
			for (std::size_t i = 0;; ++i) {
				observer *o;
				{
					std::lock_guard<std::mutex> g(mutex);
					if (i >= observers.size())
						break;
					o = &observers[i];
				}
				if (o->active.load(std::memory_order_acquire))
					o->f(*it.value);
			}
		}
	}

};

} // namespace detail

template <class T>
Event<T>::Event() : state_(std::make_shared<detail::event_state<T>>()) {}

template <class T>
bool Event<T>::fire(T v) const {
	typename detail::event_state<T>::item it;
	it.value.emplace(std::move(v));
	return state_->push_and_deliver(std::move(it));
}

template <class T>
bool Event<T>::end() const {
	return state_->push_and_deliver({});
}

template <class T>
bool Event<T>::fail(const std::string &message) const {
	typename detail::event_state<T>::item it;
	it.failed = true;
	it.failure = message;
	return state_->push_and_deliver(std::move(it));
}

template <class T>
bool Event<T>::isEnded() const {
	return !state_->ended.isPending();
}

template <class T>
Future<Nothing> Event<T>::ended() const {
	return state_->ended;
}

template <class T>
template <class F>
std::uint64_t Event<T>::observe(F &&f) const {
	std::lock_guard<std::mutex> g(state_->mutex);
	state_->observers.emplace_back(unique_function<void(const T &)>(std::forward<F>(f)));
	return state_->observers.size() - 1;
}

template <class T>
void Event<T>::unobserve(std::uint64_t id) const {
	std::lock_guard<std::mutex> g(state_->mutex);
	if (id < state_->observers.size())
		state_->observers[id].active.store(false, std::memory_order_release);
}

namespace detail {
// out ends as in does.
template <class T, class U>
void end_with(const Event<T> &in, const Event<U> &out) {
	in.ended().onAny([out](const Future<Nothing> &f) {
		if (f.isFailed())
			out.fail(f.failure());
		else
			out.end();
	});
}
} // namespace detail

template <class T>
template <class F>
auto Event<T>::map(F f) const -> Event<std::decay_t<std::invoke_result_t<F &, const T &>>> {
	using U = std::decay_t<std::invoke_result_t<F &, const T &>>;
	Event<U> out;
	observe([out, f = std::move(f)](const T &v) mutable {
		try {
			out.fire(f(v));
		} catch (...) {
			out.fail(detail::current_message());
		}
	});
	detail::end_with(*this, out);
	return out;
}

template <class T>
template <class F>
Event<T> Event<T>::filter(F pred) const {
	Event out;
	observe([out, pred = std::move(pred)](const T &v) mutable {
		try {
			if (pred(v))
				out.fire(v);
		} catch (...) {
			out.fail(detail::current_message());
		}
	});
	detail::end_with(*this, out);
	return out;
}

template <class T>
Event<T> Event<T>::merge(const Event &other) const {
	Event out;
	auto forward = [out](const T &v) { out.fire(v); };
	observe(forward);
	other.observe(forward);
	// Ends when both have ended; failed if either failed (the first failure's message).
	auto ends = std::make_shared<std::atomic<int>>(2);
	auto on_end = [out, ends](const Future<Nothing> &f) {
		if (f.isFailed())
			out.fail(f.failure());
		else if (ends->fetch_sub(1) == 1)
			out.end();
	};
	ended().onAny(on_end);
	other.ended().onAny(on_end);
	return out;
}

} // namespace turquoise::placement

#endif
