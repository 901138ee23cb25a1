// A preemption never surfaces as EINTR, even from the calls the kernel does not restart
// (sleeps, poll/select/epoll_wait, pause); the program's own signals still interrupt them.
#include <catch2/catch.hpp>

#include "helpers.hpp"

#include <libinger.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <ctime>
#include <functional>
#include <poll.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <thread>
#include <unistd.h>

namespace {

using call = th::blocking_call;
using th::run_blocking_call;

// Run the call in a preemptible function with 1 ms budgets until it returns; return the
// number of preemptions it took.
std::int64_t run_preempted(call &c) {
	auto before = th::stats();
	linger_t l = launch(run_blocking_call, 1000, &c);
	while (!l.is_complete) {
		REQUIRE(l.error == LINGER_OK);
		resume(&l, 1000);
	}
	return th::diff(before, th::stats()).timer_signals;
}

} // namespace

TEST_CASE("nanosleep, usleep and sleep sleep their whole time without EINTR") {
	call c{[] {
		timespec req{0, 30 * 1000 * 1000};
		return nanosleep(&req, nullptr);
	}};
	double t0 = th::now_us();
	std::int64_t signals = run_preempted(c);
	CHECK(signals > 0); // the timer did interrupt the sleep
	CHECK(c.result == 0);
	CHECK(c.error == 0);
	CHECK(th::now_us() - t0 >= 29000);

	call u{[] { return usleep(20000); }};
	t0 = th::now_us();
	run_preempted(u);
	CHECK(u.result == 0);
	CHECK(th::now_us() - t0 >= 19000);
}

TEST_CASE("clock_nanosleep, relative and absolute, without EINTR") {
	call rel{[] {
		timespec req{0, 20 * 1000 * 1000};
		return clock_nanosleep(CLOCK_MONOTONIC, 0, &req, nullptr);
	}};
	double t0 = th::now_us();
	run_preempted(rel);
	CHECK(rel.result == 0);
	CHECK(th::now_us() - t0 >= 19000);

	timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_nsec += 20 * 1000 * 1000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	call abs{[&] { return clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, nullptr); }};
	run_preempted(abs);
	CHECK(abs.result == 0);
	timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	CHECK((now.tv_sec > until.tv_sec || (now.tv_sec == until.tv_sec && now.tv_nsec >= until.tv_nsec)));
}

TEST_CASE("poll, select and epoll_wait time out normally instead of failing with EINTR") {
	int p[2];
	REQUIRE(pipe(p) == 0);
	call pl{[&] {
		pollfd fd{p[0], POLLIN, 0};
		return poll(&fd, 1, 20);
	}};
	double t0 = th::now_us();
	CHECK(run_preempted(pl) > 0);
	CHECK(pl.result == 0);
	CHECK(pl.error == 0);
	CHECK(th::now_us() - t0 >= 19000);

	call sel{[&] {
		fd_set rd;
		FD_ZERO(&rd);
		FD_SET(p[0], &rd);
		timeval tv{0, 20000};
		return select(p[0] + 1, &rd, nullptr, nullptr, &tv);
	}};
	run_preempted(sel);
	CHECK(sel.result == 0);
	CHECK(sel.error == 0);

	int ep = epoll_create1(0);
	epoll_event ev{};
	ev.events = EPOLLIN;
	REQUIRE(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev) == 0);
	call ew{[&] {
		epoll_event out;
		return epoll_wait(ep, &out, 1, 20);
	}};
	run_preempted(ew);
	CHECK(ew.result == 0);
	CHECK(ew.error == 0);
	close(ep);

	// And a poll that is woken by data while being preempted returns the data.
	std::thread writer([&] {
		std::this_thread::sleep_for(std::chrono::milliseconds(15));
		REQUIRE(write(p[1], "x", 1) == 1);
	});
	call woken{[&] {
		pollfd fd{p[0], POLLIN, 0};
		return poll(&fd, 1, 5000);
	}};
	run_preempted(woken);
	writer.join();
	CHECK(woken.result == 1);
	close(p[0]);
	close(p[1]);
}

namespace {
void on_usr1(int) {}
} // namespace

TEST_CASE("the program's own signal still interrupts a sleep with EINTR") {
	struct sigaction sa {};
	sa.sa_handler = on_usr1; // no SA_RESTART: the program asked for EINTR
	sigemptyset(&sa.sa_mask);
	struct sigaction old {};
	REQUIRE(sigaction(SIGUSR1, &sa, &old) == 0);
	pthread_t self = pthread_self();
	std::atomic<bool> stop{false};
	std::thread sender([&] {
		std::this_thread::sleep_for(std::chrono::milliseconds(20));
		while (!stop.load()) {
			pthread_kill(self, SIGUSR1);
			std::this_thread::sleep_for(std::chrono::milliseconds(5));
		}
	});
	call c{[] {
		timespec req{5, 0};
		return nanosleep(&req, nullptr);
	}};
	double t0 = th::now_us();
	run_preempted(c);
	stop = true;
	sender.join();
	CHECK(c.result == -1);
	CHECK(c.error == EINTR);
	CHECK(th::now_us() - t0 < 4000000);
	sigaction(SIGUSR1, &old, nullptr);
}

TEST_CASE("ppoll and epoll_pwait time out normally too") {
	int p[2];
	REQUIRE(pipe(p) == 0);
	call pp{[&] {
		pollfd fd{p[0], POLLIN, 0};
		timespec timeout{0, 20 * 1000 * 1000};
		return ppoll(&fd, 1, &timeout, nullptr);
	}};
	double t0 = th::now_us();
	CHECK(run_preempted(pp) > 0);
	CHECK(pp.result == 0);
	CHECK(pp.error == 0);
	CHECK(th::now_us() - t0 >= 19000);

	int ep = epoll_create1(0);
	epoll_event ev{};
	ev.events = EPOLLIN;
	REQUIRE(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev) == 0);
	call ew{[&] {
		epoll_event out;
		return epoll_pwait(ep, &out, 1, 20, nullptr);
	}};
	run_preempted(ew);
	CHECK(ew.result == 0);
	CHECK(ew.error == 0);
	close(ep);
	close(p[0]);
	close(p[1]);
}

TEST_CASE("sigsuspend and pause wait for the program's signal, not for a preemption") {
	struct sigaction sa {};
	sa.sa_handler = on_usr1;
	sigemptyset(&sa.sa_mask);
	struct sigaction old {};
	REQUIRE(sigaction(SIGUSR1, &sa, &old) == 0);
	pthread_t self = pthread_self();
	for (int which = 0; which < 2; ++which) {
		// Repeated: one that lands while the caller (not the function) runs is not seen by it.
		std::atomic<bool> stop{false};
		std::thread sender([&] {
			std::this_thread::sleep_for(std::chrono::milliseconds(30));
			while (!stop.load()) {
				pthread_kill(self, SIGUSR1);
				std::this_thread::sleep_for(std::chrono::milliseconds(5));
			}
		});
		call c{[which] {
			if (which == 0)
				return pause();
			sigset_t none;
			sigemptyset(&none);
			return sigsuspend(&none);
		}};
		double t0 = th::now_us();
		CHECK(run_preempted(c) > 0); // preempted while waiting, and kept waiting
		stop = true;
		sender.join();
		CHECK(c.result == -1);
		CHECK(c.error == EINTR);
		CHECK(th::now_us() - t0 >= 29000);
	}
	sigaction(SIGUSR1, &old, nullptr);
}
