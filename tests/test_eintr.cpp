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
#include <semaphore.h>
#include <sys/select.h>
#include <sys/sem.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <thread>
#include <unistd.h>

namespace {

struct call {
	std::function<int()> blocking; // returns the call's result, errno kept
	int result = 0;
	int error = 0;
};

void run_call(void *arg) {
	auto *c = static_cast<call *>(arg);
	errno = 0;
	c->result = c->blocking();
	c->error = errno;
}

// Run the call in a preemptible function with 1 ms budgets until it returns; return the
// number of preemptions it took.
std::int64_t run_preempted(call &c) {
	auto before = th::stats();
	linger_t l = launch(run_call, 1000, &c);
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

namespace {

std::atomic<int> program_alarms{0};
void on_program_alarm(int) { program_alarms++; }

// Installs a SIGALRM handler without SA_RESTART and arms a one-shot alarm `after_us` from now.
struct program_alarm {
	struct sigaction old {};
	explicit program_alarm(long after_us) {
		struct sigaction sa {};
		sa.sa_handler = on_program_alarm;
		sigemptyset(&sa.sa_mask);
		sa.sa_flags = 0; // no SA_RESTART: blocking calls fail with EINTR
		sigaction(SIGALRM, &sa, &old);
		program_alarms = 0;
		itimerval it{};
		it.it_value.tv_sec = after_us / 1000000;
		it.it_value.tv_usec = after_us % 1000000;
		setitimer(ITIMER_REAL, &it, nullptr);
	}
	~program_alarm() {
		itimerval off{};
		setitimer(ITIMER_REAL, &off, nullptr);
		sigaction(SIGALRM, &old, nullptr);
	}
};

// Run the call preemptibly with `budget_us` budgets; returns the time it took, in ms.
double run_with_budget(call &c, std::uint64_t budget_us) {
	double t0 = th::now_us();
	linger_t l = launch(run_call, budget_us, &c);
	while (!l.is_complete && l.error == LINGER_OK)
		resume(&l, budget_us);
	return (th::now_us() - t0) / 1000.0;
}

} // namespace

TEST_CASE("the program's own SIGALRM interrupts nanosleep and read at 20 us budgets",
          "[eintr][program]") {
	for (int round = 0; round < 5; ++round) {
		INFO("round " << round);
		{
			program_alarm alarm(50000);
			call c;
			c.blocking = [] {
				timespec two_s{2, 0};
				return nanosleep(&two_s, nullptr);
			};
			double ms = run_with_budget(c, 20);
			INFO("nanosleep(2 s) returned " << c.result << " errno " << c.error << " after " << ms << " ms");
			CHECK(program_alarms == 1);
			CHECK(c.result == -1);
			CHECK(c.error == EINTR);
			CHECK(ms < 1500.0);
		}
		{
			int fds[2];
			REQUIRE(pipe(fds) == 0);
			program_alarm alarm(50000);
			call c;
			c.blocking = [fd = fds[0]] {
				char b;
				return static_cast<int>(read(fd, &b, 1));
			};
			std::thread writer([fd = fds[1]] { // unblocks the read if the alarm does not
				// The alarm is for the reading thread: the kernel hands a process-wide signal
				// to another thread when the one it prefers has a signal pending already.
				sigset_t alrm;
				sigemptyset(&alrm);
				sigaddset(&alrm, SIGALRM);
				pthread_sigmask(SIG_BLOCK, &alrm, nullptr);
				std::this_thread::sleep_for(std::chrono::milliseconds(1500));
				ssize_t n = write(fd, "x", 1);
				(void)n;
			});
			double ms = run_with_budget(c, 20);
			writer.join();
			close(fds[0]);
			close(fds[1]);
			INFO("read() returned " << c.result << " errno " << c.error << " after " << ms << " ms");
			CHECK(program_alarms == 1);
			CHECK(c.result == -1);
			CHECK(c.error == EINTR);
			CHECK(ms < 1400.0);
		}
	}
}

namespace {

// Like run_preempted, but the caller keeps the CPU for `away_us` after every preemption: a
// timeout must count that time too (the call would have returned on time without us).
double run_with_caller_busy(call &c, double away_us) {
	double t0 = th::now_us();
	linger_t l = launch(run_call, 1000, &c);
	while (!l.is_complete && l.error == LINGER_OK) {
		double until = th::now_us() + away_us;
		while (th::now_us() < until) {
		}
		resume(&l, 1000);
	}
	return (th::now_us() - t0) / 1000.0;
}

} // namespace

TEST_CASE("select and pselect time out after their time, the time switched out included",
          "[eintr][timeout]") {
	call sel;
	sel.blocking = [] {
		timeval tv{0, 200000};
		return select(0, nullptr, nullptr, nullptr, &tv);
	};
	double ms = run_with_caller_busy(sel, 1000);
	INFO("select(200 ms): " << sel.result << " errno " << sel.error << " after " << ms << " ms");
	CHECK(sel.result == 0);
	CHECK(ms >= 195.0);
	CHECK(ms < 250.0 * th::slack); // before: 200 ms of its own time plus ~1 ms per preemption

	call psel;
	psel.blocking = [] {
		timespec ts{0, 200000000};
		sigset_t none;
		sigemptyset(&none);
		return pselect(0, nullptr, nullptr, nullptr, &ts, &none);
	};
	ms = run_with_caller_busy(psel, 500);
	INFO("pselect(200 ms): " << psel.result << " errno " << psel.error << " after " << ms << " ms");
	CHECK(psel.result == 0);
	CHECK(psel.error != EINTR);
	CHECK(ms >= 195.0);
	CHECK(ms < 260.0 * th::slack);
}

TEST_CASE("sigtimedwait, semtimedop, sem_timedwait and recv with SO_RCVTIMEO time out without EINTR",
          "[eintr][timeout]") {
	call wait;
	wait.blocking = [] {
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, SIGUSR2);
		pthread_sigmask(SIG_BLOCK, &set, nullptr);
		timespec ts{0, 200000000};
		int r = sigtimedwait(&set, nullptr, &ts);
		pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
		return r;
	};
	double ms = run_with_caller_busy(wait, 100);
	INFO("sigtimedwait(200 ms): " << wait.result << " errno " << wait.error << " after " << ms << " ms");
	CHECK(wait.result == -1);
	CHECK(wait.error == EAGAIN);
	CHECK(ms >= 195.0);
	CHECK(ms < 400.0 * th::slack);

	int sem = semget(IPC_PRIVATE, 1, IPC_CREAT | 0600);
	REQUIRE(sem >= 0);
	call semwait;
	semwait.blocking = [sem] {
		sembuf op{0, -1, 0};
		timespec ts{0, 200000000};
		return semtimedop(sem, &op, 1, &ts);
	};
	ms = run_with_caller_busy(semwait, 100);
	semctl(sem, 0, IPC_RMID);
	INFO("semtimedop(200 ms): " << semwait.result << " errno " << semwait.error << " after " << ms << " ms");
	CHECK(semwait.result == -1);
	CHECK(semwait.error == EAGAIN);
	CHECK(ms < 400.0 * th::slack);

	sem_t psem;
	sem_init(&psem, 0, 0);
	call ptimed;
	ptimed.blocking = [&psem] {
		timespec deadline;
		clock_gettime(CLOCK_REALTIME, &deadline);
		deadline.tv_nsec += 200000000;
		if (deadline.tv_nsec >= 1000000000) {
			deadline.tv_sec++;
			deadline.tv_nsec -= 1000000000;
		}
		return sem_timedwait(&psem, &deadline);
	};
	ms = run_with_caller_busy(ptimed, 100);
	sem_destroy(&psem);
	INFO("sem_timedwait(200 ms): " << ptimed.result << " errno " << ptimed.error << " after " << ms << " ms");
	CHECK(ptimed.result == -1);
	CHECK(ptimed.error == ETIMEDOUT);

	int sv[2];
	REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	timeval tv{0, 200000};
	REQUIRE(setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0);
	call rcv;
	rcv.blocking = [fd = sv[0]] {
		char b;
		return static_cast<int>(recv(fd, &b, 1, 0));
	};
	ms = run_with_caller_busy(rcv, 500);
	INFO("recv, SO_RCVTIMEO 200 ms: " << rcv.result << " errno " << rcv.error << " after " << ms << " ms");
	CHECK(rcv.result == -1);
	CHECK((rcv.error == EAGAIN || rcv.error == EWOULDBLOCK));
	CHECK(ms >= 195.0);
	CHECK(ms < 300.0 * th::slack);

	// Data that comes in time is received.
	std::thread sender([fd = sv[1]] {
		std::this_thread::sleep_for(std::chrono::milliseconds(50));
		ssize_t n = send(fd, "y", 1, 0);
		(void)n;
	});
	call rcv2;
	char got = 0;
	rcv2.blocking = [fd = sv[0], &got] { return static_cast<int>(recv(fd, &got, 1, 0)); };
	run_with_caller_busy(rcv2, 500);
	sender.join();
	CHECK(rcv2.result == 1);
	CHECK(got == 'y');
	close(sv[0]);
	close(sv[1]);
}
