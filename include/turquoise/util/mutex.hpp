// turquoise/util/mutex.hpp — Mutex: an asynchronous mutual-exclusion lock (libprocess's
// process::Mutex). Nothing ever blocks: lock() returns a future that becomes ready once the
// caller holds the lock.
//
//   mutex.lock().then([=] { ...critical work...; mutex.unlock(); });
//
// FIFO hand-off: unlock() passes ownership directly to the oldest waiting lock() (its future
// becomes ready inside unlock(), running its callbacks there), or frees the lock if nobody
// waits. A waiting lock() whose future gets a discard request is withdrawn (its future
// becomes discarded, it never gets the lock). Whoever sees a lock() future *ready* owns the
// lock and must unlock() it exactly once; unlock() of a free mutex does nothing.
//
// Copies share one lock. Thread-safe; usable from pool tasks (guarded_locks, futures
// completed outside them). Destroying the last copy abandons the futures of waiters.
#ifndef TURQUOISE_UTIL_MUTEX_HPP
#define TURQUOISE_UTIL_MUTEX_HPP

#include <turquoise/async/future.hpp>
#include <turquoise/async/nothing.hpp>
#include <turquoise/guarded_lock.hpp>
#include <turquoise/util/detail/waiters.hpp>

#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace turquoise {

class Mutex {
public:
	Mutex() : data_(make_data()) {}

	Future<Nothing> lock() {
		detail::critical c;
		Promise<Nothing> promise;
		Future<Nothing> future = promise.future();
		std::uint64_t id;
		{
			guarded_lock lock(data_->mutex);
			if (!data_->locked) {
				data_->locked = true;
				return Future<Nothing>(Nothing());
			}
			id = data_->waiters.push(std::move(promise));
		}
		detail::withdraw_on_discard(future, data_, id);
		return future;
	}

	void unlock() {
		for (;;) {
			std::vector<Promise<Nothing>> next, withdrawn;
			{
				guarded_lock lock(data_->mutex);
				if (!data_->locked)
					return;
				if (!data_->waiters.pop(next, withdrawn))
					data_->locked = false; // nobody waits
				// else: stays locked, ownership passes to `next`
			}
			for (auto &p : withdrawn)
				p.discard();
			bool handed = next.empty() || next.front().set();
			detail::release(next);
			detail::release(withdrawn);
			if (handed)
				return;
		}
	}

	// Diagnostics: is the lock held (by someone)?
	bool locked() const {
		guarded_lock lock(data_->mutex);
		return data_->locked;
	}

private:
	struct data {
		std::mutex mutex;
		bool locked = false;
		detail::waiters<Nothing> waiters;
	};

	static std::shared_ptr<data> make_data() {
		detail::critical c;
		return std::make_shared<data>();
	}

	std::shared_ptr<data> data_;
};

} // namespace turquoise

#endif
