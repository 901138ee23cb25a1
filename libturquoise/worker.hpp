// worker.hpp — the pool's internals: tasks, workers and their queues.
#pragma once

#include <turquoise/detail/small_alloc.hpp>
#include <turquoise/pool.hpp>

#include <libinger.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

namespace turquoise {

class event_loop;

namespace detail {

struct task;
struct worker;

// What an idle worker saw in other workers' next-task slots (see pool::impl::steal_stale()), or
// alone in another worker's queue (pool::impl::steal()).
struct slot_watch {
	worker *victim = nullptr;
	task *waiting = nullptr;
	std::uint64_t stamp = 0;
	std::chrono::steady_clock::time_point since{};
};

struct task {
	// Posted on one thread and freed on the worker that ran it: see small_alloc.hpp.
	static void *operator new(std::size_t bytes) { return allocate_small(bytes); }
	static void operator delete(void *p, std::size_t bytes) noexcept { free_small(p, bytes); }

	unique_function<void()> body;
	// Set by the worker when the runner running this task is preempted (see pool_run.cpp): the
	// task now travels with that runner, whose handle this is, on the demoted queue.
	bool demoted = false;
	// Opted in to migration (task_options::migrate_preempted): once demoted, it may be moved.
	bool may_migrate = false;
	// The runner was taken off its thread (linger_migrate_out): whichever worker resumes it
	// adopts it first, so an idle worker may take it (see pool::impl::steal_demoted()).
	bool movable = false;
	linger_t handle{};
};

struct worker {
	pool::impl *owner = nullptr; // the pool it works for
	unsigned index = 0;
	std::thread thread;

	std::mutex fresh_mutex;   // guards fresh: other workers steal from it
	std::deque<task *> fresh; // never started; FIFO
	std::mutex demoted_mutex;    // guards demoted: idle workers steal movable ones from it
	std::deque<task *> demoted;  // preempted; oldest first
	unsigned picks = 0;
	// Inside run(): this worker cannot serve its demoted queue now (see steal_demoted()).
	std::atomic<bool> in_task{false};

	// Only this thread touches these, the worker and its runner taking turns (see pool_run.cpp).
	task *running = nullptr; // the task whose body runs (or is about to) in the current runner
	task *handoff = nullptr; // a demoted task the runner picked: the worker resumes it next
	bool ran_dry = false;    // the runner returned because its pick found no work at all...
	std::uint64_t dry_seen = 0; // ...after reading this from pool::impl::queued (see work())

	// The next-task slot (pool::post_next): a task posted by this worker's current task to
	// run right after it, on this worker. Other workers take it only once it has waited
	// (see steal_stale()). `next_stamp`: tasks_started when it was filled, so a thief can tell
	// that this worker is still in the task that filled it.
	std::atomic<task *> next{nullptr};
	std::atomic<std::uint64_t> next_stamp{0};
	unsigned next_streak = 0; // tasks in a row taken from the slot (see pick())
	slot_watch watch;         // this worker's view of the others' slots, when it is idle
	slot_watch lone_watch;    // ...and of a task alone in another's queue (see steal())

	std::atomic<std::uint64_t> tasks_started{0};
	std::atomic<std::uint64_t> tasks_completed{0};
	std::atomic<std::uint64_t> preemptions{0};
	std::atomic<std::uint64_t> steals{0};
	std::atomic<std::uint64_t> fresh_depth{0};
	std::atomic<std::uint64_t> demoted_depth{0};
};

// The pool and worker the calling thread works for (nullptr outside a worker): set by work().
extern __thread pool *current_pool __attribute__((visibility("hidden")));
extern __thread worker *current_worker __attribute__((visibility("hidden")));

} // namespace detail

struct pool::impl {
	pool *owner = nullptr;
	pool_options options;
	std::uint64_t quantum_us = 0; // LINGER_UNLIMITED when preemption is off
	std::vector<std::unique_ptr<detail::worker>> workers;

	std::mutex injector_mutex; // tasks submitted from outside the workers
	std::deque<detail::task *> injector;

	// Parking: idle workers sleep until a task is queued.
	// A parked worker sleeps on park_seq (a futex), which wakers bump. `waking`: a wake-up is
	// on its way and its worker has not yet run: further enqueuers need not make another
	// system call for it (the woken worker will find their tasks too).
	std::atomic<std::uint32_t> park_seq{0};
	std::atomic<bool> waking{false};
	std::atomic<unsigned> parked{0};
	void wake_parked(int how_many);
	// Workers looking for work before they park (at most one: see work()). While one is,
	// an enqueuer need not wake anybody: the spinner will find the task.
	std::atomic<unsigned> spinning{0};
	std::atomic<std::uint64_t> queued{0}; // tasks ever queued: lets a parking worker see a race

	// Tasks submitted and not yet finished or discarded: drain waits for zero.
	std::atomic<std::uint64_t> outstanding{0};
	std::atomic<bool> stopping{false};
	std::atomic<bool> cancelling{false};
	std::atomic<bool> shutting_down{false};
	std::atomic<bool> closed{false}; // no more submissions from outside the workers

	std::unique_ptr<event_loop> events;

	bool enqueue(detail::task *t); // false: the pool is closed to this thread
	detail::task *pick(detail::worker &w);
	detail::task *steal(detail::worker &thief);
	bool lone_waited(detail::worker &thief, detail::worker &victim, detail::task *t);
	bool run(detail::worker &w, detail::task *t);
	void run_inline(detail::worker &w);
	detail::task *next_inline(detail::worker &w, detail::task *done);
	void work(detail::worker &w);
	void discard_held(detail::worker &w); // the end of work(): see pool_shutdown.cpp
	detail::task *spin_for_work(detail::worker &w, std::uint64_t seen, bool &queued_meanwhile);
	void enqueue_next(detail::worker &w, detail::task *t);
	void push_fresh(detail::worker &w, detail::task *t);
	bool others_waiting(detail::worker &w);
	bool others_slot_filled(detail::worker &w);
	detail::task *steal_stale(detail::worker &thief, std::chrono::steady_clock::time_point now);
	detail::task *take_demoted(detail::worker &w);
	detail::task *steal_demoted(detail::worker &thief);
	void demote(detail::worker &w, detail::task *t, const linger_t &runner);
	void wake_one();
	void wake_helper();
	void finished(detail::task *t);
};

} // namespace turquoise
