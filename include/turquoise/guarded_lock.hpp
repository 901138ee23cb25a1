// turquoise/guarded_lock.hpp — a mutex lock that is never held across a preemption.
//
// Tasks are preemptible functions that share their worker thread with other tasks. A task
// preempted while holding a std::mutex would make the next task on that worker that takes
// the same mutex wait forever (the holder can only continue on this very thread). Every
// lock the pool and its futures take from inside tasks is therefore held in a libinger
// critical section; a preemption that falls due meanwhile is taken right after unlocking.
#ifndef TURQUOISE_GUARDED_LOCK_HPP
#define TURQUOISE_GUARDED_LOCK_HPP

#include <libinger.h>

#include <mutex>

namespace turquoise {

template <class Mutex>
class guarded_lock {
public:
	explicit guarded_lock(Mutex &m) : lock_((linger_critical_begin(), m)) {}
	~guarded_lock() {
		if (lock_.owns_lock())
			lock_.unlock();
		linger_critical_end();
	}
	guarded_lock(const guarded_lock &) = delete;
	guarded_lock &operator=(const guarded_lock &) = delete;
	std::unique_lock<Mutex> &get() { return lock_; }

private:
	std::unique_lock<Mutex> lock_;
};

} // namespace turquoise

#endif
