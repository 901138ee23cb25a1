// turquoise/pool.hpp — a preemptive work-stealing thread pool with timers and an epoll reactor.
//
// Every task runs inside a libinger preemptible function, with a time quantum of its own (a
// worker runs consecutive fresh tasks in one function, so that short tasks do not each pay for
// a launch: they share its stack and libgotcha libset). A task that uses up its quantum is
// preempted and demoted: fresh tasks run before demoted ones, so a burst of short requests is
// not stuck behind a long one. Demoted tasks still progress: every `fairness`-th pick of a
// worker serves its oldest demoted task first, so a demoted task with d demoted tasks ahead of
// it runs again within fairness × (d + 1) picks, i.e. within fairness × (d + 1) × quantum of
// CPU time of other tasks.
//
// Fresh tasks are stolen between workers; a task alone in a busy worker's queue (typically
// posted by that worker's running task, which it picks next) is taken by an idle worker only
// once it has waited a few microseconds, so a task re-posting itself (an actor between two
// batches of messages) keeps its core and its cache. A preempted task stays on the worker
// that started it, unless it opted in to migration (task_options::migrate_preempted, or
// pool_options::migrate_preempted for every task of the pool): then a worker with nothing
// else to do takes the oldest such demoted task of a busy worker and continues it (its
// preemptible function moves with it, inger/detail/migrate.h), so long tasks keep every
// worker busy as in a pool that never preempts. The bound above holds on whichever worker's
// queue the task waits.
//
// Migration is off by default because a task preempted at an arbitrary instruction may hold
// the address of a thread-local variable in a register: compilers keep such addresses across
// calls (glibc's __errno_location() is declared const, so `errno = 0; strtol(...); if (errno)`
// computes errno's address once). Moved to another thread, that code would read and write
// the first thread's variable. What a task promises when it opts in: see task_options.
//
// Tasks that call into non-reentrant libraries (malloc, stdio) can be preempted inside them;
// until libgotcha makes such calls safe, wrap them in an inger::critical_section.
//
// Errors: submit/post/after/when_* after shutdown throw std::logic_error; an fd that epoll
// rejects throws std::system_error; an exception escaping a post()ed task terminates, as it
// would escaping a std::thread (submit() carries it to the future instead). The forced unwind
// of shutdown(cancel) is no exception in this sense: it passes both boundaries.
#ifndef TURQUOISE_POOL_HPP
#define TURQUOISE_POOL_HPP

#include <turquoise/function.hpp>
#include <turquoise/async/future.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <vector>

namespace turquoise {

// The default quantum, chosen by measurement (bench/sla, see README): the short-request p99
// stays within 2x of the no-long-requests p99 while preemption costs stay below 1%.
inline constexpr std::chrono::microseconds default_quantum{1000};
// Quantum value that turns preemption off: tasks run to completion, as in a plain pool.
inline constexpr std::chrono::microseconds no_preemption = std::chrono::microseconds::max();

struct pool_options {
	unsigned workers = 0;                            // 0: one per hardware thread
	std::chrono::microseconds quantum = default_quantum;
	unsigned fairness = 8;                           // see the header comment
	bool migrate_preempted = false;                  // idle workers take preempted tasks (see above)
};

// Per-task options (post(fn, options), submit(f, options)).
struct task_options {
	// Opt in to migration: once preempted, this task may be continued on another worker's
	// thread (an idle one takes it from its busy worker). The task promises that at every point
	// where it may be preempted (anywhere outside an inger::critical_section and outside calls
	// into shared libraries, which defer preemption), neither its code nor any code it has
	// called and not yet returned from (for submit(), the callbacks that completing its
	// future runs are such code)
	//   - holds the address of a thread-local variable (errno's included: code that touches
	//     errno before and after a call may keep __errno_location()'s result) or of anything
	//     else belonging to the worker thread (its stack, its pthread record);
	//   - relies afterwards on the thread's identity (pthread_self(), gettid(),
	//     std::this_thread::get_id(), pool::current_worker() read before that point);
	//   - holds a lock that belongs to a thread (std::mutex, pthread mutexes, flockfile...:
	//     unlocking it on another thread is undefined);
	//   - relies on a per-thread setting it changed (uselocale(), scheduling priority or
	//     affinity, sigaltstack()).
	// What moves with the task, and so needs no promise: its stack, registers, signal mask,
	// errno's value, its C++ exception state (a preemption inside a catch block is fine), and
	// its libgotcha libset. The pool checks what it can and then keeps the task on its worker:
	// a task preempted inside a critical section or a restartable call, or holding a paused
	// preemptible function of its own, does not move. The rest cannot be checked; a task that
	// breaks the promise reads and writes another thread's state.
	// A simple way to keep it: make the preemptible part pure computation, and put everything
	// else (I/O, allocation, locks, logging, errno) inside inger::critical_section, as
	// inger-sla-server's /spin handler does.
	bool migrate_preempted = false;
};

struct worker_stats {
	std::uint64_t tasks_started = 0;  // tasks started on this worker
	std::uint64_t tasks_completed = 0;
	std::uint64_t preemptions = 0;    // quanta that expired (each demotes or re-demotes a task)
	std::uint64_t steals = 0;         // tasks taken from another worker: fresh ones, waiting
	                                  // next-task slots, and demoted ones (migrate_preempted)
	std::uint64_t fresh_depth = 0;    // fresh tasks queued on this worker now
	std::uint64_t demoted_depth = 0;  // preempted tasks waiting on this worker now
};

enum class shutdown_mode {
	drain,  // run every queued task (and what they submit) to completion, then stop
	cancel, // discard queued and preempted (or paused) tasks; their futures are abandoned.
	        // A preempted task's stack is unwound (linger_cancel_unwind in <libinger.h>): the
	        // destructors of the objects on it run and its locks are released, on the worker
	        // that held it, before shutdown() returns. libinger's rules for exactness apply:
	        // frames it cannot unwind exactly (a call-free loop with destructible locals, a
	        // noexcept function) are discarded without their destructors. A task's
	        // catch (...) sees the unwind; one that does not rethrow gets it raised again at
	        // its end, and the code after it does not run. The pool is closed by then: a
	        // destructor that posts to it gets std::logic_error, as after any shutdown.
};

class pool {
public:
	explicit pool(pool_options options = {});
	~pool(); // shutdown(drain) unless already shut down
	pool(const pool &) = delete;
	pool &operator=(const pool &) = delete;

	// Run f() as a task. Its future gets f's value (void: Nothing; a Future<U> returned by f
	// is followed), or fails with the what() of the exception f threw (see
	// detail::complete_from); it is abandoned if the task is discarded by shutdown(cancel).
	template <class F>
	auto submit(F &&f, task_options options = {})
	    -> Future<detail::future_value_t<std::invoke_result_t<std::decay_t<F> &>>>;

	// Run fn() as a task, no result.
	void post(unique_function<void()> fn, task_options options = {});
	// Like post(), but from a task of this pool fn() runs next on the caller's worker, after
	// the calling task, ahead of the worker's queue, and no idle worker is woken for it: a
	// request/response exchange between tasks then stays on one worker instead of crossing
	// cores. Another worker takes it if it waits (the caller runs on for a few microseconds,
	// or is preempted); a second post_next() from the same task moves the first one to the
	// queue. From outside the pool: post().
	void post_next(unique_function<void()> fn);

	// Timers: fn is posted as a task once `delay` has passed. Timers due at the same instant
	// run in the order they were set.
	using timer_id = std::uint64_t;
	timer_id after(std::chrono::nanoseconds delay, unique_function<void()> fn);
	bool cancel_timer(timer_id id); // false if it already fired or was cancelled

	// Reactor: fn is posted as a task once fd is readable (or writable), once. Level-triggered
	// readiness, re-register to wait again. Call forget() before closing a registered fd.
	void when_readable(int fd, unique_function<void()> fn);
	void when_writable(int fd, unique_function<void()> fn);
	void forget(int fd);

	void shutdown(shutdown_mode mode = shutdown_mode::drain);

	std::vector<worker_stats> stats() const;
	unsigned size() const;
	std::chrono::microseconds quantum() const;

	// The pool and worker index running the caller (nullptr / -1 outside any worker).
	static pool *current();
	static int current_worker();

	struct impl;

private:
	std::unique_ptr<impl> impl_;
};

} // namespace turquoise

#include <turquoise/detail/submit.hpp>

#endif
