// turquoise/guarded_lock.hpp — a mutex lock that is never held across a preemption.
//
// Tasks are preemptible functions that share their worker thread with other tasks. A task
// preempted while holding a std::mutex would make the next task on that worker that takes
// the same mutex wait forever (the holder can only continue on this very thread). Every
// lock the pool and its futures take from inside tasks is therefore held in a libinger
// critical section; a preemption that falls due meanwhile is taken right after unlocking.
#ifndef TURQUOISE_GUARDED_LOCK_HPP
#define TURQUOISE_GUARDED_LOCK_HPP

#include <inger/inger.hpp>

#include <mutex>

namespace turquoise {

template <class Mutex>
class guarded_lock {
public:
	explicit guarded_lock(Mutex &m) : lock_(m) {}
	guarded_lock(const guarded_lock &) = delete;
	guarded_lock &operator=(const guarded_lock &) = delete;
	std::unique_lock<Mutex> &get() { return lock_; }

private:
	// Members are destroyed in reverse order: the mutex is unlocked before the critical
	// section ends (and if locking throws, the section still ends).
	inger::critical_section no_preemption_;
	std::unique_lock<Mutex> lock_;
};

} // namespace turquoise

#endif
