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

#include <cstddef>
#include <memory>

namespace turquoise {

template <class T>
class Queue {
public:
	Queue() : data_(make_data()) {}

	void put(T item);

	Future<T> get();

	// Items stored (not waiters).
	std::size_t size() const;

private:
	struct data;

	static std::shared_ptr<data> make_data();

	std::shared_ptr<data> data_;
};

} // namespace turquoise

#include <turquoise/util/detail/queue.hpp>

#endif
