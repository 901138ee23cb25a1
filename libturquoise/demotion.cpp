// demotion.cpp — the pool's preempted tasks: demoting them, and idle workers taking them.
//
// A task that overruns its quantum is preempted with its runner (pool_run.cpp) and queued on its
// worker's demoted queue. A preemptible function belongs to the thread that launched it, so
// the demoting worker hands the runner over at once (linger_migrate_out, inger/detail/
// migrate.h): then whichever worker resumes it adopts it first, and a worker with nothing
// else to do takes demoted tasks from a busy one instead of idling while they wait. Without
// that, four long tasks that happened to start on one of two workers would time-slice there
// while the other idled: twice the makespan of a pool that never preempts.
//
// The cost is a lock, a hash-table insertion and a removal per expired quantum (against the
// quantum's 1 ms and a timer signal); tasks move only when a worker is idle, so a request
// and its response still stay on one core.
#include "worker.hpp"

#include <inger/detail/migrate.h>

#include <mutex>

namespace turquoise {

// The worker's oldest demoted task (there must be one: demoted_depth > 0).
detail::task *pool::impl::take_demoted(detail::worker &w) {
	std::lock_guard lock(w.demoted_mutex);
	if (w.demoted.empty())
		return nullptr; // a thief took it since the caller looked
	detail::task *t = w.demoted.front();
	w.demoted.pop_front();
	w.demoted_depth.fetch_sub(1, std::memory_order_relaxed);
	return t;
}

// The oldest movable demoted task of a worker that is busy (an idle one resumes its own
// tasks itself: taking them would only move them between cores).
detail::task *pool::impl::steal_demoted(detail::worker &thief) {
	std::size_t n = workers.size();
	for (std::size_t k = 1; k < n; ++k) {
		detail::worker &victim = *workers[(thief.index + k) % n];
		if (victim.demoted_depth.load(std::memory_order_relaxed) == 0 ||
		    !victim.in_task.load(std::memory_order_relaxed))
			continue;
		std::unique_lock lock(victim.demoted_mutex, std::try_to_lock);
		if (!lock.owns_lock())
			continue;
		for (auto it = victim.demoted.begin(); it != victim.demoted.end(); ++it) {
			detail::task *t = *it;
			if (!t->movable)
				continue;
			victim.demoted.erase(it);
			victim.demoted_depth.fetch_sub(1, std::memory_order_relaxed);
			thief.steals.fetch_add(1, std::memory_order_relaxed);
			return t;
		}
	}
	return nullptr;
}

// t overran its quantum inside `runner`, which is paused on this worker's thread.
void pool::impl::demote(detail::worker &w, detail::task *t, const linger_t &runner) {
	t->demoted = true;
	t->handle = runner;
	// Movable unless libinger refuses (the task keeps a paused preemptible function of its
	// own on this thread, say): then it stays here, as every demoted task once did.
	t->movable = (t->may_migrate || options.migrate_preempted) && workers.size() > 1 &&
	             linger_migrate_out(&t->handle) == 0;
	std::size_t depth;
	{
		std::lock_guard lock(w.demoted_mutex);
		w.demoted.push_back(t);
		depth = w.demoted_depth.fetch_add(1, std::memory_order_relaxed) + 1;
	}
	// This worker will be busy with other work (more demoted tasks, or fresh ones) before it
	// comes back to t: let an idle worker know that t can be taken.
	if (t->movable && (depth > 1 || w.fresh_depth.load(std::memory_order_relaxed) > 0))
		wake_one();
}

} // namespace turquoise
