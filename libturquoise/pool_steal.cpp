// pool_steal.cpp — which task a worker runs next: its own work first, then stealing.
#include "worker.hpp"

#include <turquoise/guarded_lock.hpp>

#include <chrono>
#include <mutex>

namespace turquoise {
namespace {

// Slot tasks a worker runs in a row before the slot's task goes behind its queue (so a
// request/response chain between two tasks cannot keep a worker's queue waiting).
constexpr unsigned max_next_streak = 32;

// A slot task that has waited this long while its worker stayed in the task that posted it
// is taken by an idle worker (the poster runs on, or blocks: its own worker cannot serve the
// slot). A spinning worker looks every ~1 us; a parked one when its 10 ms wait times out.
constexpr std::chrono::microseconds slot_grace{4};

} // namespace

// A task alone in a worker's queue was usually posted by that worker's running task just now
// (an actor's run task re-posting itself after a batch, a loop of steps), and that worker
// picks it within a microsecond: taken by an idle thief in that moment, it would only move
// its data to another core (seen as the actors' fan-in receiver changing cores every few
// dozen messages, each move costing it its cache). So a thief takes such a task only once it
// has seen it wait for slot_grace while its worker started no other task, as for a slot
// (steal_stale()); the thief's spin (spin_for_work()) comes back for it. Two or more queued
// tasks are stolen at once: there is work for two.
bool pool::impl::lone_waited(detail::worker &thief, detail::worker &victim, detail::task *t) {
	std::uint64_t stamp = victim.tasks_started.load(std::memory_order_relaxed);
	auto now = std::chrono::steady_clock::now();
	detail::slot_watch &watch = thief.lone_watch;
	if (watch.victim != &victim || watch.waiting != t || watch.stamp != stamp) {
		watch = detail::slot_watch{&victim, t, stamp, now};
		return false;
	}
	return now - watch.since >= slot_grace;
}

detail::task *pool::impl::steal(detail::worker &thief) {
	std::size_t n = workers.size();
	for (std::size_t k = 1; k < n; ++k) {
		detail::worker &victim = *workers[(thief.index + k) % n];
		std::unique_lock lock(victim.fresh_mutex, std::try_to_lock);
		if (!lock.owns_lock() || victim.fresh.empty())
			continue;
		detail::task *t = victim.fresh.front();
		if (victim.fresh.size() == 1 && !lone_waited(thief, victim, t))
			continue;
		thief.lone_watch = detail::slot_watch{};
		victim.fresh.pop_front();
		victim.fresh_depth.fetch_sub(1, std::memory_order_relaxed);
		bool more = !victim.fresh.empty();
		lock.unlock();
		thief.steals.fetch_add(1, std::memory_order_relaxed);
		if (more)
			wake_helper();
		return t;
	}
	return nullptr;
}

// Fresh tasks wait on this worker's queue or the injector.
bool pool::impl::others_waiting(detail::worker &w) {
	if (w.fresh_depth.load(std::memory_order_relaxed) > 0)
		return true;
	std::lock_guard lock(injector_mutex);
	return !injector.empty();
}

// Fresh work first (own next-task slot, own queue, other workers' stale slots, then the
// injector, then other workers' queues), demoted work when there is no fresh work (own, then
// a busy worker's) — except every fairness-th pick, which serves an own demoted task first.
//
// Stale slots come before the injector and other queues: a slot task whose poster runs on
// (an actor woken by a sender that goes on sending, say) would otherwise wait until every
// task queued after it had run, and the fan-in it receives would not overlap its sending.

detail::task *pool::impl::pick(detail::worker &w) {
	++w.picks;
	if (w.demoted_depth.load(std::memory_order_relaxed) > 0 && w.picks % options.fairness == 0)
		if (detail::task *t = take_demoted(w))
			return t;
	if (w.next.load(std::memory_order_relaxed)) {
		detail::task *t = w.next.exchange(nullptr, std::memory_order_acq_rel);
		if (t && w.next_streak >= max_next_streak && others_waiting(w)) {
			// A chain of slot tasks has had its turn: behind the queue. (No wake-up: the
			// work it now waits behind was announced when it was queued.)
			std::lock_guard lock(w.fresh_mutex);
			w.fresh.push_back(t);
			w.fresh_depth.fetch_add(1, std::memory_order_relaxed);
		} else if (t) {
			++w.next_streak;
			return t;
		}
	}
	w.next_streak = 0;
	{
		std::lock_guard lock(w.fresh_mutex);
		if (!w.fresh.empty()) {
			detail::task *t = w.fresh.front();
			w.fresh.pop_front();
			w.fresh_depth.fetch_sub(1, std::memory_order_relaxed);
			return t;
		}
	}
	if (others_slot_filled(w))
		if (detail::task *t = steal_stale(w, std::chrono::steady_clock::now()))
			return t;
	{
		std::unique_lock lock(injector_mutex);
		if (!injector.empty()) {
			detail::task *t = injector.front();
			injector.pop_front();
			bool more = !injector.empty();
			lock.unlock();
			if (more)
				wake_helper();
			return t;
		}
	}
	if (detail::task *t = steal(w))
		return t;
	if (others_slot_filled(w))
		if (detail::task *t = steal_stale(w, std::chrono::steady_clock::now()))
			return t;
	if (w.demoted_depth.load(std::memory_order_relaxed) > 0)
		if (detail::task *t = take_demoted(w))
			return t;
	return steal_demoted(w);
}

// Whether another worker's next-task slot holds a task (one load per worker: the clock read
// steal_stale() needs is paid only then).
bool pool::impl::others_slot_filled(detail::worker &w) {
	for (auto &v : workers)
		if (v.get() != &w && v->next.load(std::memory_order_relaxed))
			return true;
	return false;
}

// The slot task of another worker that has been seen waiting (by this thief, in an earlier
// call) for slot_grace while that worker did not start another task.
detail::task *pool::impl::steal_stale(detail::worker &thief, std::chrono::steady_clock::time_point now) {
	detail::slot_watch &watch = thief.watch;
	for (auto &v : workers) {
		if (v.get() == &thief)
			continue;
		detail::task *t = v->next.load(std::memory_order_acquire);
		if (!t)
			continue;
		std::uint64_t stamp = v->next_stamp.load(std::memory_order_relaxed);
		if (v->tasks_started.load(std::memory_order_relaxed) != stamp)
			continue; // its worker has moved on: it will pick the slot shortly
		if (watch.victim != v.get() || watch.waiting != t || watch.stamp != stamp) {
			watch = detail::slot_watch{v.get(), t, stamp, now};
			continue;
		}
		if (now - watch.since < slot_grace)
			continue;
		if (v->next.compare_exchange_strong(t, nullptr, std::memory_order_acq_rel)) {
			thief.steals.fetch_add(1, std::memory_order_relaxed);
			watch = detail::slot_watch{};
			return t;
		}
	}
	return nullptr;
}

} // namespace turquoise
