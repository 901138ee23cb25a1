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

#include <memory>

namespace turquoise {

class Mutex {
public:
	Mutex() : data_(make_data()) {}

	Future<Nothing> lock();

	void unlock();

	// Diagnostics: is the lock held (by someone)?
	bool locked() const;

private:
	struct data;

	static std::shared_ptr<data> make_data();

	std::shared_ptr<data> data_;
};

} // namespace turquoise

#include <turquoise/util/detail/mutex.hpp>

#endif
