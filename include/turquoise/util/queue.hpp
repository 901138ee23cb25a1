// turquoise/util/queue.hpp — Queue<T>: an unbounded, thread-safe asynchronous queue
// (libprocess's process::Queue).
//
//   Queue<int> q;
//   Future<int> f = q.get();   // pending: nothing queued yet
//   q.put(1);                  // f becomes ready with 1 (its callbacks run here, in put())
//
// put() hands the item to the oldest waiting get() (FIFO), or stores it; get() takes the
// oldest stored item, or waits. Discarding a pending get() future withdraws it: the waiter
// is removed and its future becomes discarded, so no item is ever lost to it. A get() that
// was already served is ready and unaffected by a later discard request.
//
// Copies of a Queue share the same queue. All members may be called from any thread or pool
// task; locks are guarded_locks and futures are completed outside them (callbacks may call
// back into the queue). Destroying the last copy abandons the futures of pending get()s.
#ifndef TURQUOISE_UTIL_QUEUE_HPP
#define TURQUOISE_UTIL_QUEUE_HPP

#include <turquoise/async/future.hpp>
#include <turquoise/guarded_lock.hpp>
#include <turquoise/util/detail/waiters.hpp>

#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace turquoise {

template <class T>
class Queue {
public:
	Queue() : data_(make_data()) {}

	void put(T item) {
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

	Future<T> get() {
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

	// Items stored (not waiters).
	std::size_t size() const {
		guarded_lock lock(data_->mutex);
		return data_->items.size();
	}

private:
	struct data {
		std::mutex mutex;
		std::deque<T> items;
		detail::waiters<T> waiters;
	};

	static std::shared_ptr<data> make_data() {
		detail::critical c;
		return std::make_shared<data>();
	}

	std::shared_ptr<data> data_;
};

} // namespace turquoise

#endif
