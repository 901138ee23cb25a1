// turquoise/util/detail/queue.hpp — internal: the member functions and shared data of Queue<T>
// (util/queue.hpp, which includes this file at its end).
#ifndef TURQUOISE_UTIL_DETAIL_QUEUE_HPP
#define TURQUOISE_UTIL_DETAIL_QUEUE_HPP

#include <turquoise/guarded_lock.hpp>
#include <turquoise/util/detail/waiters.hpp>
#include <turquoise/util/queue.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace turquoise {

template <class T>
struct Queue<T>::data {
	std::mutex mutex;
	std::deque<T> items;
	detail::waiters<T> waiters;
};

template <class T>
inline void Queue<T>::put(T item) {
	for (;;) {
		std::vector<Promise<T>> waiter, withdrawn;
		{
			guarded_lock lock(data_->mutex);
			if (!data_->waiters.pop(waiter, withdrawn))
				data_->items.push_back(std::move(item));
		}
		for (auto &p : withdrawn)
			p.discard();
		// Promise::set() moves from `item` only if it completes the future (always, as a
		// popped waiter is completed only here; the loop is a safety net).
		bool served = waiter.empty() || waiter.front().set(std::move(item));
		detail::release(waiter);
		detail::release(withdrawn);
		if (served)
			return;
	}
}

template <class T>
inline Future<T> Queue<T>::get() {
	detail::critical c;
	Promise<T> promise;
	Future<T> future = promise.future();
	std::uint64_t id;
	{
		guarded_lock lock(data_->mutex);
		if (!data_->items.empty()) {
			Future<T> ready(std::move(data_->items.front()));
			data_->items.pop_front();
			return ready;
		}
		id = data_->waiters.push(std::move(promise));
	}
	detail::withdraw_on_discard(future, data_, id);
	return future;
}

template <class T>
inline std::size_t Queue<T>::size() const {
	guarded_lock lock(data_->mutex);
	return data_->items.size();
}

template <class T>
inline std::shared_ptr<typename Queue<T>::data> Queue<T>::make_data() {
	detail::critical c;
	return std::make_shared<data>();
}

} // namespace turquoise

#endif
