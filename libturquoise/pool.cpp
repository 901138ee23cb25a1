// pool.cpp — the pool object: construction, submitting tasks, and the public accessors.
//
// The mechanisms live beside it: pool_run.cpp (runners: how a worker runs tasks, one quantum
// each), pool_steal.cpp (which task a worker picks next, and stealing), pool_park.cpp (the
// worker loop: spinning, parking and waking), demotion.cpp (preempted tasks), and
// pool_shutdown.cpp (drain and cancel).
#include "worker.hpp"

#include "event_loop.hpp"

#include <turquoise/guarded_lock.hpp>

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace turquoise {
namespace detail {
__thread pool *current_pool = nullptr;
__thread worker *current_worker = nullptr;
} // namespace detail

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

void pool::post(unique_function<void()> fn, task_options options) {
	auto t = std::make_unique<detail::task>(detail::task{std::move(fn)});
	t->may_migrate = options.migrate_preempted;
	if (!impl_->enqueue(t.get()))
		throw std::logic_error("turquoise: post() on a pool that is shut down");
	t.release();
}

void pool::post_next(unique_function<void()> fn) {
	if (detail::current_pool != this || !detail::current_worker)
		return post(std::move(fn));
	impl_->enqueue_next(*detail::current_worker, new detail::task{std::move(fn)});
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
	if (detail::current_pool == owner && detail::current_worker) {
		detail::worker &w = *detail::current_worker;
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
pool *pool::current() { return detail::current_pool; }
int pool::current_worker() {
	return detail::current_worker ? static_cast<int>(detail::current_worker->index) : -1;
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
