// pool_shutdown.cpp — shutdown: drain (the workers stop once nothing is outstanding) and
// cancel (each worker discards what it holds, unwinding its preempted tasks).
#include "worker.hpp"

#include "event_loop.hpp"

#include <turquoise/guarded_lock.hpp>

#include <inger/detail/migrate.h>

#include <climits>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <utility>

namespace turquoise {

// The end of work(), once the loop is left (cancel, or drain complete): discard what this
// worker holds (only it can cancel its preempted tasks). No lock is held and this is no longer
// a worker while they are destroyed: breaking their promises runs callbacks, which may post
// (and are refused, the pool being closed).
void pool::impl::discard_held(detail::worker &w) {
	detail::current_pool = nullptr;
	detail::current_worker = nullptr;
	std::deque<detail::task *> fresh;
	{
		std::lock_guard lock(w.fresh_mutex);
		fresh.swap(w.fresh);
		w.fresh_depth.store(0);
	}
	if (detail::task *t = w.next.exchange(nullptr))
		fresh.push_back(t);
	std::deque<detail::task *> demoted;
	{
		std::lock_guard lock(w.demoted_mutex);
		demoted.swap(w.demoted);
		w.demoted_depth.store(0);
	}
	if (w.handoff) // a demoted task a runner picked just before the cancel
		demoted.push_front(std::exchange(w.handoff, nullptr));
	for (detail::task *t : demoted) {
		// A movable one is adopted first (if that fails, its stack is lost: out of memory).
		// The unwinding cancel runs the destructors of the objects on the task's stack
		// (see run_body() for how its forced unwind gets through).
		if (!t->movable || linger_migrate_in(&t->handle) == 0)
			linger_cancel_unwind(&t->handle);
		finished(t);
	}
	for (detail::task *t : fresh)
		finished(t);
}

void pool::shutdown(shutdown_mode mode) {
	impl &p = *impl_;
	if (detail::current_pool == this)
		throw std::logic_error("turquoise: shutdown() from inside one of the pool's tasks");
	if (p.shutting_down.exchange(true))
		return;
	{
		guarded_lock lock(p.injector_mutex); // see enqueue()
		p.closed.store(true);
	}
	p.events->stop(); // pending timers and fd waits are dropped (their posts are refused)
	if (mode == shutdown_mode::cancel)
		p.cancelling.store(true);
	p.stopping.store(true);
	p.wake_parked(INT_MAX);
	for (auto &w : p.workers)
		if (w->thread.joinable())
			w->thread.join();
	std::deque<detail::task *> left; // destroyed outside the lock (see the end of work())
	{
		std::lock_guard lock(p.injector_mutex);
		left.swap(p.injector);
	}
	for (detail::task *t : left)
		p.finished(t);
}

} // namespace turquoise
