// A preemptible function may end its process or thread: exit(), pthread_exit().
#include <catch2/catch.hpp>

#include <libinger.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

#include <cstdlib>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {
void spin_then_exit(void *arg) {
	volatile unsigned long n = 0;
	while (n < 20000000)
		n = n + 1;
	std::exit(*static_cast<int *>(arg));
}
} // namespace

TEST_CASE("exit() inside a preempted function ends the process with its status") {
	pid_t child = fork();
	REQUIRE(child >= 0);
	if (child == 0) {
#if defined(__SANITIZE_ADDRESS__)
		// LeakSanitizer's check at exit would run on the function's stack and miss what the
		// real main stack still points to: check now, from the real stack, instead.
		__lsan_do_leak_check();
#endif
		int code = 5;
		linger_t l = launch(spin_then_exit, 100, &code);
		while (!l.is_complete)
			resume(&l, 100); // exit() runs atexit handlers and thread-local destructors here
		_exit(99);           // not reached
	}
	int status = 0;
	REQUIRE(waitpid(child, &status, 0) == child);
	INFO("status " << status);
	REQUIRE(WIFEXITED(status)); // not killed by a signal (a SIGSEGV once unmapped its stack)
	CHECK(WEXITSTATUS(status) == 5);
}

TEST_CASE("pthread_exit() inside a preemptible function ends only that thread") {
	pthread_t thread;
	static int value = 42;
	auto body = [](void *) -> void * {
		linger_t l = launch([](void *) { pthread_exit(&value); }, 1000, nullptr);
		while (!l.is_complete && l.error == LINGER_OK)
			resume(&l, 1000); // the unwinding may be preempted too (slow under sanitizers)
		return nullptr;   // not reached
	};
	REQUIRE(pthread_create(&thread, nullptr, body, nullptr) == 0);
	void *result = nullptr;
	REQUIRE(pthread_join(thread, &result) == 0);
	CHECK(result == &value);
	// This thread is unaffected.
	int x = 0;
	linger_t l = launch([](void *p) { *static_cast<int *>(p) = 1; }, LINGER_UNLIMITED, &x);
	CHECK(l.is_complete);
	CHECK(x == 1);
}
