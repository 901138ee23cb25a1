// test_signal_actions.cpp — the program's own handlers around the runtime: the preemption
// signal cannot be taken over silently, and other handlers behave as installed.
#include <catch2/catch.hpp>

#include "helpers.hpp"

#include <libinger.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <sys/wait.h>
#include <unistd.h>

namespace {

std::atomic<int> handled{0};
void on_signal(int) { handled++; }
void on_signal_info(int, siginfo_t *, void *) { handled++; }

struct spinner {
	std::atomic<bool> stop{false};
};

void spin(void *p) {
	auto *s = static_cast<spinner *>(p);
	double give_up = th::now_us() + 2e6;
	while (!s->stop.load(std::memory_order_relaxed) && th::now_us() < give_up) {
	}
}

// Launch a spinner with a 1 ms budget: true if it came back preempted within 300 ms.
bool preempts() {
	spinner s;
	double t0 = th::now_us();
	linger_t l = launch(spin, 1000, &s);
	double ms = (th::now_us() - t0) / 1000.0;
	bool preempted = l.error == LINGER_OK && !l.is_complete && ms < 300.0 * th::slack;
	s.stop = true;
	resume(&l, LINGER_UNLIMITED);
	return preempted;
}

} // namespace

TEST_CASE("a handler for the preemption signal installed before the first launch makes launch fail",
          "[signals][sigaction]") {
	pid_t pid = fork();
	if (pid == 0) {
		struct sigaction sa {};
		sa.sa_handler = on_signal;
		if (sigaction(linger_signal(), &sa, nullptr) != 0)
			_exit(10); // not refused yet: the runtime does not use it yet
		errno = 0;
		linger_t l = launch([](void *) {}, 1000, nullptr);
		if (l.error != LINGER_ESYSTEM || errno != EBUSY)
			_exit(11);
		// The program's handler is still there.
		struct sigaction now {};
		sigaction(linger_signal(), nullptr, &now);
		_exit(now.sa_handler == on_signal ? 0 : 12);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	INFO("child status " << status);
	CHECK(WIFEXITED(status));
	CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("installing a handler for the preemption signal once in use fails with EINVAL",
          "[signals][sigaction]") {
	REQUIRE(preempts());
	struct sigaction sa {}, before {}, after {};
	sigaction(linger_signal(), nullptr, &before);
	sa.sa_handler = on_signal;
	errno = 0;
	CHECK(sigaction(linger_signal(), &sa, nullptr) == -1);
	CHECK(errno == EINVAL);
	errno = 0;
	CHECK(signal(linger_signal(), on_signal) == SIG_ERR);
	CHECK(errno == EINVAL);
	errno = 0;
	CHECK(signal(linger_signal(), SIG_IGN) == SIG_ERR);
	CHECK(errno == EINVAL);
	sigaction(linger_signal(), nullptr, &after);
	CHECK(after.sa_sigaction == before.sa_sigaction);
	CHECK(preempts());
}

TEST_CASE("the program's handlers run and are reported as installed", "[signals][sigaction]") {
	REQUIRE(preempts());
	struct sigaction sa {}, old {}, now {};
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	REQUIRE(sigaction(SIGUSR1, &sa, &old) == 0);
	REQUIRE(sigaction(SIGUSR1, nullptr, &now) == 0);
	CHECK(now.sa_handler == on_signal);
	CHECK((now.sa_flags & SA_RESTART) != 0);
	handled = 0;
	raise(SIGUSR1);
	CHECK(handled == 1);

	sa.sa_sigaction = on_signal_info;
	sa.sa_flags = SA_SIGINFO;
	struct sigaction prev {};
	REQUIRE(sigaction(SIGUSR1, &sa, &prev) == 0);
	CHECK(prev.sa_handler == on_signal);
	raise(SIGUSR1);
	CHECK(handled == 2);
	// signal() reports the handler field of what was installed.
	CHECK(reinterpret_cast<void *>(signal(SIGUSR1, SIG_DFL)) == reinterpret_cast<void *>(on_signal_info));
	sigaction(SIGUSR1, &old, nullptr);
}
