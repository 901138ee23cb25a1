// test_process_signals.cpp — signals that reach the whole process, and fork(), around
// preemptible functions: each case runs in a child process and checks how it ends.
#include <catch2/catch.hpp>

#include "helpers.hpp"

#include <libinger.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <sys/wait.h>
#include <unistd.h>

namespace {

void nothing(void *) {}

// Run `body` in a child process; return its wait status.
template <class Body>
int in_child(Body body) {
	pid_t pid = fork();
	if (pid == 0) {
		body();
		_exit(0);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	return status;
}

void launch_once() {
	linger_t l = launch(nothing, 1000, nullptr);
	if (!l.is_complete)
		_exit(3);
}

// Under the sanitizers, their own SIGSEGV handler was there before us: it reports the signal
// and aborts (abort_on_error=1), which is the program's handler getting it, as it should.
bool died_of_segv(int status) {
	if (!WIFSIGNALED(status))
		return false;
	return WTERMSIG(status) == SIGSEGV || (th::sanitized && WTERMSIG(status) == SIGABRT);
}

std::atomic<int> program_segv{0};
void on_program_segv(int) { program_segv++; }

} // namespace

TEST_CASE("a SIGSEGV sent with kill, tgkill or sigqueue after a launch gets its default action",
          "[signals][kill]") {
	int status = in_child([] {
		launch_once();
		kill(getpid(), SIGSEGV);
	});
	INFO("kill: status " << status);
	CHECK(died_of_segv(status));

	status = in_child([] {
		launch_once();
		raise(SIGSEGV);
	});
	INFO("raise: status " << status);
	CHECK(died_of_segv(status));

	status = in_child([] {
		launch_once();
		sigqueue(getpid(), SIGSEGV, sigval{});
	});
	INFO("sigqueue: status " << status);
	CHECK(died_of_segv(status));

	// Sent while a preemptible function runs: the same.
	status = in_child([] {
		launch(
		    [](void *) {
			    kill(getpid(), SIGSEGV);
			    _exit(4);
		    },
		    LINGER_UNLIMITED, nullptr);
		_exit(5);
	});
	INFO("inside a function: status " << status);
	CHECK(died_of_segv(status));
}

TEST_CASE("a SIGSEGV sent with kill goes to the program's handler, or is ignored if it says so",
          "[signals][kill]") {
	int status = in_child([] {
		signal(SIGSEGV, on_program_segv);
		launch_once();
		kill(getpid(), SIGSEGV);
		_exit(program_segv == 1 ? 0 : 6);
	});
	CHECK(WIFEXITED(status));
	CHECK(WEXITSTATUS(status) == 0);

	status = in_child([] {
		signal(SIGSEGV, SIG_IGN);
		launch_once();
		kill(getpid(), SIGSEGV);
		_exit(0);
	});
	CHECK(WIFEXITED(status));
	CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("in the child of a fork made inside a preemptible function, it is still preempted",
          "[signals][fork]") {
	struct result {
		pid_t parent_pid = getpid();
		int child_status = -1;
	} r;
	// A 20 ms budget: in the child, the function spins for 2 s unless preempted.
	linger_t l = launch(
	    [](void *p) {
		    auto *res = static_cast<result *>(p);
		    pid_t pid = fork();
		    if (pid == 0) {
			    double give_up = th::now_us() + 2e6;
			    while (th::now_us() < give_up) {
			    }
			    return;
		    }
		    int status = 0;
		    waitpid(pid, &status, 0);
		    res->child_status = WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
	    },
	    20000, &r);
	if (getpid() != r.parent_pid) // the child: preempted (0) or ran to the end (1)
		_exit(l.is_complete ? 1 : 0);
	while (!l.is_complete && l.error == LINGER_OK)
		resume(&l, LINGER_UNLIMITED);
	INFO("child's exit status " << r.child_status << " (1: its function ran 2 s unpreempted)");
	CHECK(r.child_status == 0);
}
