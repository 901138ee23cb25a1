// queue_process.cpp — a process behind an ordinary class, after libprocess's QueueProcess.
//
// QueueProcess<T> holds the state (items, and the promises of dequeue() calls waiting for an
// item). It needs no lock: a process runs its messages one at a time. Queue<T> is the public
// face: it spawns the process, forwards each call with dispatch(), and terminates and waits
// for the process in its destructor. (turquoise::ProcessWrapper<P> packages that pattern;
// it is spelled out here.)
//
// Exits 0 when every check passes, 1 otherwise.
#include <turquoise/async/async.hpp>
#include <turquoise/pool.hpp>
#include <turquoise/process/dispatch.hpp>
#include <turquoise/process/process.hpp>

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

using namespace turquoise;
using namespace std::chrono_literals;

namespace {

template <class T>
class QueueProcess : public Process<QueueProcess<T>> {
public:
	QueueProcess() : ProcessBase(ID::generate("queue")) {}

	void enqueue(T item) {
		if (waiters_.empty()) {
			items_.push_back(std::move(item));
			return;
		}
		// The oldest waiting dequeue() gets it.
		Promise<T> waiter = std::move(waiters_.front());
		waiters_.pop_front();
		waiter.set(std::move(item));
	}

	// Ready at once if an item is queued, else pending until enqueue() brings one.
	Future<T> dequeue() {
		if (!items_.empty()) {
			Future<T> f(std::move(items_.front()));
			items_.pop_front();
			return f;
		}
		waiters_.emplace_back();
		return waiters_.back().future();
	}

	std::size_t size() const { return items_.size(); }

protected:
	// Terminating: fail the dequeue() calls still waiting (otherwise their futures would be
	// abandoned when the promises are destroyed, which a caller can only see as "never").
	void finalize() override {
		for (auto &waiter : waiters_)
			waiter.fail("queue terminated");
		waiters_.clear();
	}

private:
	std::deque<T> items_;
	std::deque<Promise<T>> waiters_;
};

template <class T>
class Queue {
public:
	Queue() : process_(std::make_unique<QueueProcess<T>>()) { pid_ = spawn(process_.get()); }
	~Queue() {
		terminate(pid_);
		wait(pid_);
	}
	Queue(const Queue &) = delete;
	Queue &operator=(const Queue &) = delete;

	void enqueue(T item) { dispatch(pid_, &QueueProcess<T>::enqueue, std::move(item)); }
	Future<T> dequeue() { return dispatch(pid_, &QueueProcess<T>::dequeue); }
	Future<std::size_t> size() { return dispatch(pid_, &QueueProcess<T>::size); }

private:
	std::unique_ptr<QueueProcess<T>> process_;
	PID<QueueProcess<T>> pid_;
};

int failures = 0;

void check(bool ok, const char *what) {
	std::printf("  %s: %s\n", ok ? "ok  " : "FAIL", what);
	if (!ok)
		++failures;
}

template <class T>
bool ready_with(const Future<T> &f, const T &expected) {
	return f.await(5s) && f.isReady() && f.get() == expected;
}

void demo_basics() {
	std::puts("dequeue before enqueue, then enqueue before dequeue");
	Queue<int> queue;
	Future<int> first = queue.dequeue();
	Future<int> second = queue.dequeue();
	check(queue.size().get() == 0 && first.isPending() && second.isPending(),
	      "dequeue() on an empty queue stays pending");
	queue.enqueue(1);
	queue.enqueue(2);
	check(ready_with(first, 1) && ready_with(second, 2), "waiting dequeues get the items in order");
	for (int i = 3; i <= 5; ++i)
		queue.enqueue(i);
	check(queue.size().get() == 3, "queued items wait for a dequeue");
	Future<int> a = queue.dequeue(), b = queue.dequeue(), c = queue.dequeue();
	check(ready_with(a, 3) && ready_with(b, 4) && ready_with(c, 5), "dequeue returns them in FIFO order");
}

void demo_producers() {
	std::puts("4 producer threads, 4000 dequeues collected");
	constexpr int producers = 4, each = 1000;
	Queue<int> queue;
	std::vector<Future<int>> taken;
	for (int i = 0; i < producers * each; ++i)
		taken.push_back(queue.dequeue());
	std::vector<std::thread> threads;
	for (int p = 0; p < producers; ++p)
		threads.emplace_back([&queue, p] {
			for (int i = 0; i < each; ++i)
				queue.enqueue(p * each + i + 1);
		});
	for (auto &t : threads)
		t.join();
	Future<std::vector<int>> all = collect(taken);
	long long sum = 0;
	if (all.await(10s) && all.isReady())
		for (int v : all.get())
			sum += v;
	const long long n = producers * each;
	check(sum == n * (n + 1) / 2, "every item reached exactly one dequeue");
	std::printf("  %lld items, sum %lld\n", n, sum);
}

void demo_shutdown() {
	std::puts("destroying a Queue with a dequeue still waiting");
	Future<std::string> orphan;
	{
		Queue<std::string> queue;
		queue.enqueue("hello");
		check(ready_with(queue.dequeue(), std::string("hello")), "works with any copyable T");
		orphan = queue.dequeue();
		queue.size().get(); // the dequeue above has been served: its promise is waiting
	} // ~Queue: terminate + wait
	check(orphan.isFailed() && orphan.failure() == "queue terminated",
	      "the waiting dequeue fails with \"queue terminated\"");
}

} // namespace

int main() {
	pool workers(pool_options{.workers = 2});
	{
		runtime_scope scope(workers);
		demo_basics();
		demo_producers();
		demo_shutdown();
	}
	std::printf("queue_process: %s\n", failures == 0 ? "OK" : "FAILED");
	return failures == 0 ? 0 : 1;
}
