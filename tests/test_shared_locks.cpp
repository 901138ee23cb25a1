// A pthread lock held by a preempted function on this thread: another function here that
// takes it waits by pausing (the holder runs on) instead of blocking the thread forever.
// Each scenario runs in a child process with an alarm, so the old deadlock fails the test
// instead of hanging it.
#include <catch2/catch.hpp>

#include "helpers.hpp"

#include <inger/inger.hpp>
#include <libinger.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <ctime>
#include <mutex>
#include <pthread.h>
#include <shared_mutex>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace std::chrono_literals;

namespace {

// Runs body() in a child; true if it exited 0 within `seconds` (SIGALRM kills a deadlock).
template <class Body>
bool in_child(Body body, unsigned seconds = 20) {
	pid_t pid = ::fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		::alarm(seconds);
		int rc = body() ? 0 : 1;
		std::_Exit(rc);
	}
	int status = 0;
	REQUIRE(::waitpid(pid, &status, 0) == pid);
	if (WIFSIGNALED(status))
		WARN("child killed by signal " << WTERMSIG(status) << " (SIGALRM: deadlocked)");
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// A holder preempted inside its critical region, then a taker launched on the same thread.
template <class Lock, class Unlock>
bool holder_and_taker(Lock lock, Unlock unlock) {
	std::atomic<bool> release{false};
	auto holder = inger::launch(
	    [&] {
		    lock();
		    while (!release.load())
			    ;
		    unlock();
	    },
	    1ms);
	if (holder.done())
		return false; // not preempted: the scenario did not happen
	bool taken = false;
	auto taker = inger::launch(
	    [&] {
		    lock();
		    taken = true;
		    unlock();
	    },
	    1ms);
	if (taker.done()) // it cannot have the lock: the holder still has it
		return false;
	release = true;
	for (int i = 0; i < 1000 && !holder.done(); ++i)
		holder.resume(1ms);
	for (int i = 0; i < 1000 && !taker.done(); ++i)
		taker.resume(1ms);
	return holder.done() && taker.done() && taken;
}

} // namespace

TEST_CASE("std::mutex held by a preempted function: a second function on the thread pauses, then takes it") {
	CHECK(in_child([] {
		std::mutex m;
		return holder_and_taker([&] { m.lock(); }, [&] { m.unlock(); });
	}));
}

TEST_CASE("std::timed_mutex::try_lock_for while a preempted function on the thread holds it") {
	CHECK(in_child([] {
		std::timed_mutex m;
		// Times out (the holder never runs while the taker waits here)...
		std::atomic<bool> release{false};
		auto holder = inger::launch(
		    [&] {
			    m.lock();
			    while (!release.load())
				    ;
			    m.unlock();
		    },
		    1ms);
		if (holder.done())
			return false;
		bool timed_out = false;
		auto taker = inger::launch([&] { timed_out = !m.try_lock_for(50ms); }, inger::unlimited);
		// It pauses (the holder is on this thread) until its 50 ms are up.
		auto give_up = std::chrono::steady_clock::now() + 5s;
		while (!taker.done() && std::chrono::steady_clock::now() < give_up)
			taker.resume(inger::unlimited);
		release = true;
		while (!holder.done())
			holder.resume(1ms);
		// ...and succeeds once the holder lets go.
		bool got = false;
		auto again = inger::launch(
		    [&] {
			    got = m.try_lock_for(50ms);
			    if (got)
				    m.unlock();
		    },
		    1ms);
		return taker.done() && timed_out && again.done() && got;
	}));
}

TEST_CASE("std::shared_mutex held for writing by a preempted function: readers and writers on the thread pause") {
	CHECK(in_child([] {
		std::shared_mutex m;
		return holder_and_taker([&] { m.lock(); }, [&] { m.unlock(); });
	}));
	CHECK(in_child([] {
		std::shared_mutex m;
		std::atomic<bool> release{false};
		auto writer = inger::launch(
		    [&] {
			    m.lock();
			    while (!release.load())
				    ;
			    m.unlock();
		    },
		    1ms);
		if (writer.done())
			return false;
		bool read = false;
		auto reader = inger::launch(
		    [&] {
			    std::shared_lock l(m);
			    read = true;
		    },
		    1ms);
		if (reader.done())
			return false;
		release = true;
		while (!writer.done())
			writer.resume(1ms);
		while (!reader.done())
			reader.resume(1ms);
		return read;
	}));
}

TEST_CASE("a lock held by another thread is waited for by blocking, as before") {
	std::mutex m;
	std::atomic<bool> held{false};
	std::thread other([&] {
		std::lock_guard g(m);
		held = true;
		std::this_thread::sleep_for(50ms);
	});
	while (!held)
		std::this_thread::yield();
	auto start = std::chrono::steady_clock::now();
	auto taker = inger::launch([&] { std::lock_guard g(m); }, inger::unlimited);
	CHECK(taker.done()); // it blocked until the other thread let go; it never paused
	CHECK(std::chrono::steady_clock::now() - start >= 20ms);
	other.join();
}

TEST_CASE("recursive and error-checking mutexes keep libc's answers") {
	pthread_mutexattr_t a;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
	pthread_mutex_t m;
	pthread_mutex_init(&m, &a);
	int second = -1;
	auto f = inger::launch(
	    [&] {
		    REQUIRE(pthread_mutex_lock(&m) == 0);
		    second = pthread_mutex_lock(&m);
		    pthread_mutex_unlock(&m);
	    },
	    inger::unlimited);
	CHECK(f.done());
	CHECK(second == EDEADLK);
	CHECK(pthread_mutex_unlock(&m) == EPERM); // not ours: unlocked above
	pthread_mutex_destroy(&m);
	pthread_mutexattr_destroy(&a);
}
