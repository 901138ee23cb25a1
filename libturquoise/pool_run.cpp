// pool_run.cpp — runners: how a worker runs tasks, each with a quantum of its own.
//
// A worker does not launch a preemptible function per task: it launches a "runner", which
// runs fresh tasks inline, one after another, each with its own quantum (linger_set_timeout),
// until there is no fresh work or a demoted task is due. A task that overruns its quantum is
// preempted with its runner; the runner is demoted with it (demotion.cpp), and when resumed,
// by this worker or an idle one, it returns as soon as that task is done. The worker then
// starts a new runner for fresh work.
#include "worker.hpp"

#include <inger/detail/migrate.h>

#include <climits>
#include <cstdio>
#include <exception>
#include <utility>

namespace turquoise {
namespace {

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

} // namespace

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

} // namespace turquoise
