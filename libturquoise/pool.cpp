// pool.cpp — workers, work stealing, and preemptive scheduling with demotion.
//
// A worker does not launch a preemptible function per task: it launches a "runner", which
// runs fresh tasks inline, one after another, each with its own quantum (linger_set_timeout),
// until there is no fresh work or a demoted task is due. A task that overruns its quantum is
// preempted with its runner; the runner is demoted with it (demotion.cpp), and when resumed,
// by this worker or an idle one, it returns as soon as that task is done. The worker then
// starts a new runner for fresh work.
#include "worker.hpp"

#include "event_loop.hpp"

#include <turquoise/guarded_lock.hpp>

#include <inger/detail/migrate.h>

#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <chrono>
#include <cstdio>
#include <exception>
#include <stdexcept>
#include <utility>

namespace turquoise {
namespace {

thread_local pool *current_pool = nullptr;
thread_local detail::worker *current_worker_ptr = nullptr;

// Not noexcept, and the catch lets one thing through: the forced unwind of a cancel with
// unwinding (shutdown(cancel), linger_cancel_unwind), which carries no C++ exception object
// (std::current_exception() is empty) and must reach the runner's stack end, running the
// destructors of the task's objects on its way.
void run_body(detail::task *t) {
	try {
		t->body();
	} catch (...) {
		if (!std::current_exception())
			throw;
		// As with std::thread: an exception nobody can receive is a bug in the task.
		std::fputs("turquoise: exception escaped a posted task\n", stderr);
		std::terminate();
	}
}

// The body of every runner: the preemptible function in which a worker runs fresh tasks one
// after another, so that a launch and a return are paid per run of tasks, not per task (most
// actor tasks take a few hundred nanoseconds, about what a launch costs).
void runner_entry(void *arg) {
	auto *w = static_cast<detail::worker *>(arg);
	w->owner->run_inline(*w);
}

// How long a worker that ran out of work watches `queued` before it parks. Messages between
// processes typically come microseconds apart: catching them without a futex wait and
// wake-up pays for the spin. Only one worker spins at a time, so idle workers never take
// more than one core, and only for this long after the last task.
constexpr std::chrono::microseconds spin_time{15};

// Slot tasks a worker runs in a row before the slot's task goes behind its queue (so a
// request/response chain between two tasks cannot keep a worker's queue waiting).
constexpr unsigned max_next_streak = 32;

// A slot task that has waited this long while its worker stayed in the task that posted it
// is taken by an idle worker (the poster runs on, or blocks: its own worker cannot serve the
// slot). A spinning worker looks every ~1 us; a parked one when its 10 ms wait times out.
constexpr std::chrono::microseconds slot_grace{4};

} // namespace

pool::pool(pool_options options) : impl_(std::make_unique<impl>()) {
	impl &p = *impl_;
	p.owner = this;
	if (options.workers == 0)
		options.workers = std::max(1u, std::thread::hardware_concurrency());
	if (options.fairness == 0)
		options.fairness = 1;
	p.options = options;
	p.quantum_us = options.quantum == no_preemption
	                   ? LINGER_UNLIMITED
	                   : static_cast<std::uint64_t>(std::max<std::int64_t>(1, options.quantum.count()));
	p.events = std::make_unique<event_loop>(*this);
	for (unsigned i = 0; i < options.workers; ++i) {
		auto w = std::make_unique<detail::worker>();
		w->owner = &p;
		w->index = i;
		p.workers.push_back(std::move(w));
	}
	for (auto &w : p.workers)
		w->thread = std::thread([this, raw = w.get()] { impl_->work(*raw); });
}

pool::~pool() { shutdown(shutdown_mode::drain); }

void pool::post(unique_function<void()> fn) {
	auto t = std::make_unique<detail::task>(detail::task{std::move(fn)});
	if (!impl_->enqueue(t.get()))
		throw std::logic_error("turquoise: post() on a pool that is shut down");
	t.release();
}

void pool::post_next(unique_function<void()> fn) {
	if (current_pool != this || !current_worker_ptr)
		return post(std::move(fn));
	impl_->enqueue_next(*current_worker_ptr, new detail::task{std::move(fn)});
}

void pool::impl::push_fresh(detail::worker &w, detail::task *t) {
	{
		guarded_lock lock(w.fresh_mutex);
		w.fresh.push_back(t);
		w.fresh_depth.fetch_add(1, std::memory_order_relaxed);
	}
	wake_one();
}

// Only this worker's own tasks fill its slot, so the worker is running (and will pick the
// slot next): nobody is woken. A task the slot held already joins the queue, where others
// may steal it.
void pool::impl::enqueue_next(detail::worker &w, detail::task *t) {
	outstanding.fetch_add(1);
	w.next_stamp.store(w.tasks_started.load(std::memory_order_relaxed), std::memory_order_relaxed);
	if (detail::task *old = w.next.exchange(t, std::memory_order_acq_rel))
		push_fresh(w, old);
}

// Called from tasks too: every lock here is a guarded_lock (see guarded_lock.hpp). Tasks may
// post while the pool drains; other threads may not once it is closed. The check and the push
// happen under one lock, which shutdown() takes to close the pool: no task slips in after
// the workers have seen the last one.
bool pool::impl::enqueue(detail::task *t) {
	if (current_pool == owner && current_worker_ptr) {
		detail::worker &w = *current_worker_ptr;
		outstanding.fetch_add(1);
		guarded_lock lock(w.fresh_mutex);
		w.fresh.push_back(t);
		w.fresh_depth.fetch_add(1, std::memory_order_relaxed);
	} else {
		guarded_lock lock(injector_mutex);
		if (closed.load())
			return false;
		outstanding.fetch_add(1);
		injector.push_back(t);
	}
	wake_one();
	return true;
}

// Pairs with the check in work(): the enqueuer bumps `queued` before it reads `spinning` and
// `parked`; a worker that stops spinning, or parks, changes those before it re-reads `queued`
// (all sequentially consistent), so one of them sees the other and no wake-up is lost.
void pool::impl::wake_one() {
	queued.fetch_add(1);
	if (spinning.load() > 0)
		return; // a worker is watching `queued`: waking another would only cost a futex call
	if (parked.load() > 0 && !waking.exchange(true))
		wake_parked(1);
}

// A worker took a queued task and left more behind: wake a parked worker for them. A burst
// of posts wakes one worker (see `waking`); without this, it would take the burst's tasks
// one after another while the others slept on (seen as the actors' fan-in running its four
// senders in turn on one worker, and the receiver behind them, in about half of the runs).
void pool::impl::wake_helper() {
	if (parked.load(std::memory_order_relaxed) > 0 && spinning.load(std::memory_order_relaxed) == 0)
		wake_one();
}

void pool::impl::wake_parked(int how_many) {
	park_seq.fetch_add(1); // a worker about to sleep on the old value returns at once
	syscall(SYS_futex, reinterpret_cast<std::uint32_t *>(&park_seq), FUTEX_WAKE_PRIVATE, how_many,
	        nullptr, nullptr, 0);
}

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

void pool::impl::finished(detail::task *t) {
	delete t; // destroys the body: a submit()ted task's promise is fulfilled or broken by now
	outstanding.fetch_sub(1);
	if (stopping.load())
		wake_parked(INT_MAX); // drain may be complete: let the workers see it
}

// Give the worker to t. A fresh task starts a runner, which goes on with more fresh tasks
// (run_inline()); a demoted task's runner is resumed, and returns as soon as t is done.
// w.running tells which task is inside the runner when it comes back preempted. Returns
// whether the runner stopped for want of any work (see work()).
bool pool::impl::run(detail::worker &w, detail::task *t) {
	if (t->demoted && t->movable && linger_migrate_in(&t->handle) != 0) {
		// (Only out of memory: nothing else adopts it.)
		std::perror("turquoise: preempted task dropped: linger_migrate_in");
		finished(t);
		return false;
	}
	w.in_task.store(true, std::memory_order_relaxed);
	w.running = t;
	linger_t handle;
	if (t->demoted) {
		handle = t->handle;
		resume(&handle, quantum_us);
	} else {
		w.tasks_started.fetch_add(1, std::memory_order_relaxed);
		handle = launch(runner_entry, quantum_us, &w);
	}
	detail::task *inside = std::exchange(w.running, nullptr);
	while (!handle.is_complete && handle.error == LINGER_OK && !inside) {
		// Preempted between two tasks, at the end of next_inline()'s critical section (the
		// last task overran there): there is no task to demote it with, so it goes on.
		resume(&handle, quantum_us);
		inside = std::exchange(w.running, nullptr);
	}
	w.in_task.store(false, std::memory_order_relaxed);
	if (handle.is_complete) {
		if (inside) { // a demoted runner's task, which it left to us (see next_inline())
			w.tasks_completed.fetch_add(1, std::memory_order_relaxed);
			finished(inside);
		}
	} else if (handle.error != LINGER_OK) {
		std::fprintf(stderr, "turquoise: task dropped: %s\n", linger_strerror(handle.error));
		if (inside)
			finished(inside); // its future, if any, is abandoned
	} else {
		// The task inside overran its quantum: the runner is demoted with it.
		w.preemptions.fetch_add(1, std::memory_order_relaxed);
		demote(w, inside, handle);
	}
	return std::exchange(w.ran_dry, false);
}

// The runner: run fresh tasks until there are none, a demoted task is due, the pool is
// cancelled, or (a demoted runner) its task is done. Tasks that run in one runner share its
// libinger stack and libgotcha libset, as tasks that each got a recycled function would.
void pool::impl::run_inline(detail::worker &w) {
	for (detail::task *t = w.running; t; t = next_inline(w, t))
		run_body(t);
}

// In the runner, between two tasks: retire `done`, pick the next task (as the worker would)
// and give it a fresh quantum; nullptr: the runner returns to the worker. One critical
// section: a runner preempted while it holds one of the pool's locks would deadlock the next
// runner on this worker (a preemption that falls due meanwhile is taken at the end, with
// w.running telling the worker which task, if any, the runner holds).
detail::task *pool::impl::next_inline(detail::worker &w, detail::task *done) {
	inger::critical_section no_preemption;
	if (done->demoted)
		return nullptr; // its worker resumed it for this task only, and retires it (run())
	w.running = nullptr;
	w.tasks_completed.fetch_add(1, std::memory_order_relaxed);
	finished(done);
	if (cancelling.load())
		return nullptr;
	std::uint64_t seen = queued.load(); // before the pick, as in work()
	detail::task *t = pick(w);
	if (!t) {
		w.ran_dry = true;
		w.dry_seen = seen;
		return nullptr;
	}
	if (t->demoted) {
		w.handoff = t; // its turn (fairness), or no fresh work: only the worker can resume it
		return nullptr;
	}
	// A whole quantum for t, as a launch would give it. It cannot fail: the runner's launch
	// set up the timer (or there is no quantum, and no timer is needed).
	linger_set_timeout(quantum_us);
	w.tasks_started.fetch_add(1, std::memory_order_relaxed);
	w.running = t;
	return t;
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

// Spin until a task is queued (queued_meanwhile: true, nullptr returned), a slot task or a
// lone queued task of another worker has waited too long or a busy worker has a demoted task
// (returned), or spin_time has passed.
detail::task *pool::impl::spin_for_work(detail::worker &w, std::uint64_t seen, bool &queued_meanwhile) {
	queued_meanwhile = false;
	unsigned expected = 0;
	if (!spinning.compare_exchange_strong(expected, 1))
		return nullptr;
	detail::task *stolen = nullptr;
	auto until = std::chrono::steady_clock::now() + spin_time;
	for (unsigned i = 1; !stopping.load(std::memory_order_relaxed); ++i) {
		if (queued.load(std::memory_order_relaxed) != seen)
			break;
		// (a clock read costs ~20 pauses: not every round)
		if (i % 32 == 0) {
			auto now = std::chrono::steady_clock::now();
			if ((stolen = steal_stale(w, now)) || (stolen = steal(w)) || (stolen = steal_demoted(w)) ||
			    now >= until)
				break;
			// Let a thread waiting for this CPU run (the program's own thread that will
			// post the next task, or another worker): with more runnable threads than
			// cores, a spinner that never yields delays exactly the work it waits for.
			// With nothing else runnable this returns at once.
			sched_yield();
		}
		__builtin_ia32_pause();
	}
	spinning.fetch_sub(1);
	queued_meanwhile = queued.load() != seen;
	return stolen;
}

void pool::impl::work(detail::worker &w) {
	current_pool = owner;
	current_worker_ptr = &w;
	for (;;) {
		if (cancelling.load())
			break;
		std::uint64_t seen = queued.load();
		if (detail::task *t = w.handoff ? std::exchange(w.handoff, nullptr) : pick(w)) {
			if (!run(w, t))
				continue;
			// The runner's last pick found nothing: it stands for ours (it read `queued`
			// first too), and we go on to spin.
			seen = w.dry_seen;
		}
		bool queued_meanwhile;
		if (detail::task *t = spin_for_work(w, seen, queued_meanwhile)) {
			run(w, t);
			continue;
		}
		if (queued_meanwhile)
			continue;
		if (stopping.load() && outstanding.load() == 0)
			break;
		std::uint32_t seq = park_seq.load();
		parked.fetch_add(1);
		if (queued.load() == seen && !stopping.load()) { // nothing queued since our empty pick (see wake_one)
			// (10 ms at most: a next-task slot of a busy worker, see steal_stale().)
			timespec limit{0, 10 * 1000 * 1000};
			syscall(SYS_futex, reinterpret_cast<std::uint32_t *>(&park_seq), FUTEX_WAIT_PRIVATE, seq,
			        &limit, nullptr, 0);
		}
		parked.fetch_sub(1);
		waking.store(false);
	}
	// Cancel: discard what this worker holds (only it can cancel its preempted tasks). No lock
	// is held and this is no longer a worker while they are destroyed: breaking their promises
	// runs callbacks, which may post (and are refused, the pool being closed).
	current_pool = nullptr;
	current_worker_ptr = nullptr;
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
	if (current_pool == this)
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

std::vector<worker_stats> pool::stats() const {
	std::vector<worker_stats> out;
	for (auto &w : impl_->workers) {
		worker_stats s;
		s.tasks_started = w->tasks_started.load(std::memory_order_relaxed);
		s.tasks_completed = w->tasks_completed.load(std::memory_order_relaxed);
		s.preemptions = w->preemptions.load(std::memory_order_relaxed);
		s.steals = w->steals.load(std::memory_order_relaxed);
		s.fresh_depth = w->fresh_depth.load(std::memory_order_relaxed);
		s.demoted_depth = w->demoted_depth.load(std::memory_order_relaxed);
		out.push_back(s);
	}
	return out;
}

unsigned pool::size() const { return static_cast<unsigned>(impl_->workers.size()); }
std::chrono::microseconds pool::quantum() const { return impl_->options.quantum; }
pool *pool::current() { return current_pool; }
int pool::current_worker() {
	return current_worker_ptr ? static_cast<int>(current_worker_ptr->index) : -1;
}

pool::timer_id pool::after(std::chrono::nanoseconds delay, unique_function<void()> fn) {
	if (impl_->closed.load())
		throw std::logic_error("turquoise: after() on a pool that is shut down");
	return impl_->events->add_timer(delay, std::move(fn));
}
bool pool::cancel_timer(timer_id id) { return impl_->events->cancel_timer(id); }

void pool::when_readable(int fd, unique_function<void()> fn) {
	if (impl_->closed.load())
		throw std::logic_error("turquoise: when_readable() on a pool that is shut down");
	impl_->events->watch(fd, event_loop::readable, std::move(fn));
}
void pool::when_writable(int fd, unique_function<void()> fn) {
	if (impl_->closed.load())
		throw std::logic_error("turquoise: when_writable() on a pool that is shut down");
	impl_->events->watch(fd, event_loop::writable, std::move(fn));
}
void pool::forget(int fd) { impl_->events->forget(fd); }

} // namespace turquoise
