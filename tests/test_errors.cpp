// Error reporting: every LINGER_E* code, in the handle's `error` field and in errno.
// (LINGER_ESTACKOVERFLOW is covered by test_stack.cpp, EFOREIGN across threads by
// test_threads.cpp.)
#include <catch2/catch.hpp>

#include "helpers.hpp"

extern "C" {
#include "libinger/testing.h" // the test seam: linger_testing_enter_runtime/leave_runtime
}

#include <inger/inger.hpp>
#include <libinger.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <string>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

struct counter {
	int runs = 0;
};

void count_run(void *p) { static_cast<counter *>(p)->runs++; }

void count_and_pause(void *p) {
	static_cast<counter *>(p)->runs++;
	linger_pause();
	static_cast<counter *>(p)->runs++;
}

} // namespace

TEST_CASE("LINGER_ENULLFN: launch of a NULL function", "[errors]") {
	auto before = th::stats();
	for (std::uint64_t budget : {std::uint64_t{0}, std::uint64_t{1000}, LINGER_UNLIMITED}) {
		errno = 0;
		linger_t l = launch(nullptr, budget, nullptr);
		CHECK(l.error == LINGER_ENULLFN);
		CHECK(errno == EINVAL);
		CHECK_FALSE(l.is_complete);

		// A failed launch's handle is not a live handle.
		errno = 0;
		resume(&l, LINGER_UNLIMITED);
		CHECK(l.error == LINGER_EFOREIGN);
		CHECK(errno == ESRCH);
	}
	auto d = th::diff(before, th::stats());
	CHECK(d.launches == 0);
	CHECK(d.live == 0);
}

TEST_CASE("LINGER_ENULLHANDLE: resume or cancel of a NULL handle", "[errors]") {
	errno = 0;
	resume(nullptr, 1000);
	CHECK(errno == EINVAL);
	errno = 0;
	resume(nullptr, LINGER_UNLIMITED);
	CHECK(errno == EINVAL);
	errno = 0;
	cancel(nullptr);
	CHECK(errno == EINVAL);
}

TEST_CASE("LINGER_ECOMPLETED: resume or cancel of a function that returned", "[errors]") {
	auto before = th::stats();
	counter c;
	linger_t l = launch(count_run, LINGER_UNLIMITED, &c);
	REQUIRE(l.is_complete);
	REQUIRE(l.error == LINGER_OK);

	errno = 0;
	resume(&l, LINGER_UNLIMITED);
	CHECK(l.error == LINGER_ECOMPLETED);
	CHECK(errno == EALREADY);
	CHECK(l.is_complete);

	errno = 0;
	cancel(&l);
	CHECK(l.error == LINGER_ECOMPLETED);
	CHECK(errno == EALREADY);
	CHECK(l.is_complete);

	CHECK(c.runs == 1);
	auto d = th::diff(before, th::stats());
	CHECK(d.cancels == 0);
	CHECK(d.completions == 1);
}

TEST_CASE("LINGER_ECOMPLETED also for a function completed by resume - a stale copy is foreign", "[errors]") {
	counter c;
	linger_t l = launch(count_and_pause, LINGER_UNLIMITED, &c);
	REQUIRE_FALSE(l.is_complete);
	const linger_t stale = l;
	resume(&l, LINGER_UNLIMITED);
	REQUIRE(l.is_complete);

	errno = 0;
	resume(&l, 100);
	CHECK(l.error == LINGER_ECOMPLETED);
	CHECK(errno == EALREADY);

	linger_t copy = stale;
	errno = 0;
	resume(&copy, LINGER_UNLIMITED);
	CHECK(copy.error == LINGER_EFOREIGN);
	CHECK(errno == ESRCH);
	copy = stale;
	errno = 0;
	cancel(&copy);
	CHECK(copy.error == LINGER_EFOREIGN);
	CHECK(errno == ESRCH);
	CHECK(c.runs == 2);
}

TEST_CASE("LINGER_ECANCELLED: resume or cancel of a cancelled function", "[errors]") {
	counter c;
	linger_t l = launch(count_and_pause, LINGER_UNLIMITED, &c);
	REQUIRE_FALSE(l.is_complete);
	cancel(&l);
	REQUIRE(l.error == LINGER_OK);

	errno = 0;
	resume(&l, LINGER_UNLIMITED);
	CHECK(l.error == LINGER_ECANCELLED);
	CHECK(errno == ECANCELED);
	CHECK_FALSE(l.is_complete);

	errno = 0;
	cancel(&l);
	CHECK(l.error == LINGER_ECANCELLED);
	CHECK(errno == ECANCELED);
	CHECK(c.runs == 1);
}

TEST_CASE("LINGER_EFOREIGN: a zeroed or garbage handle", "[errors]") {
	// Keep some functions live so that slot look-ups land on real records.
	counter c;
	linger_t live[4];
	for (auto &l : live) {
		l = launch(count_and_pause, LINGER_UNLIMITED, &c);
		REQUIRE_FALSE(l.is_complete);
	}
	auto before = th::stats();

	linger_t zero;
	std::memset(&zero, 0, sizeof zero);
	linger_t l = zero;
	errno = 0;
	resume(&l, LINGER_UNLIMITED);
	CHECK(l.error == LINGER_EFOREIGN);
	CHECK(errno == ESRCH);
	l = zero;
	errno = 0;
	cancel(&l);
	CHECK(l.error == LINGER_EFOREIGN);
	CHECK(errno == ESRCH);

	// Ids no real handle of this short-lived process can have.
	const std::uint64_t ids[] = {0x0123456789abcdefull, 0x8000000000000000ull, 0xdeadbeefcafef00dull, ~0ull};
	const std::uint32_t slots[] = {0, 1, 2, 3, 1000, 0xffffffffu};
	const std::uint32_t flags[] = {0, 1, 0x5a5a5a5au};
	for (auto id : ids)
		for (auto slot : slots)
			for (auto flag : flags) {
				linger_t g = zero;
				g.continuation.id = id;
				g.continuation.slot = slot;
				g.continuation.flags = flag;
				errno = 0;
				resume(&g, LINGER_UNLIMITED);
				INFO("id " << id << " slot " << slot << " flags " << flag);
				// The flags are opaque (they may well encode "cancelled"): garbage in them must
				// be an error, and with clean flags it must be LINGER_EFOREIGN.
				if (flag == 0) {
					CHECK(g.error == LINGER_EFOREIGN);
					CHECK(errno == ESRCH);
				} else {
					CHECK(g.error != LINGER_OK);
				}
				g.error = 0;
				g.continuation.id = id;
				g.continuation.slot = slot;
				g.continuation.flags = flag;
				errno = 0;
				cancel(&g);
				if (flag == 0) {
					CHECK(g.error == LINGER_EFOREIGN);
					CHECK(errno == ESRCH);
				} else {
					CHECK(g.error != LINGER_OK);
				}
			}

	// A live handle with a corrupted id names nothing.
	for (auto &real : live) {
		linger_t forged = real;
		forged.continuation.id ^= 0x100000001ull;
		resume(&forged, LINGER_UNLIMITED);
		CHECK(forged.error == LINGER_EFOREIGN);
	}
	CHECK(c.runs == 4); // none of the live functions was run by a bogus handle
	auto d = th::diff(before, th::stats());
	CHECK(d.cancels == 0);
	CHECK(d.live == 0);

	for (auto &h : live) {
		resume(&h, LINGER_UNLIMITED);
		REQUIRE(h.error == LINGER_OK);
		REQUIRE(h.is_complete);
	}
	CHECK(c.runs == 8);
}

namespace {

struct self_ctx {
	linger_t *self = nullptr;
	linger_t *outer = nullptr;
	int resume_error = -1, resume_errno = -1;
	int cancel_error = -1, cancel_errno = -1;
	int inner_launch_error = -1;
};

void resume_self(void *p) {
	auto *s = static_cast<self_ctx *>(p);
	linger_t c = *s->self;
	errno = 0;
	resume(&c, LINGER_UNLIMITED);
	s->resume_error = c.error;
	s->resume_errno = errno;
	c = *s->self;
	errno = 0;
	cancel(&c);
	s->cancel_error = c.error;
	s->cancel_errno = errno;
}

void resume_outer(void *p) {
	auto *s = static_cast<self_ctx *>(p);
	linger_t c = *s->outer;
	errno = 0;
	resume(&c, LINGER_UNLIMITED);
	s->resume_error = c.error;
	s->resume_errno = errno;
	c = *s->outer;
	errno = 0;
	cancel(&c);
	s->cancel_error = c.error;
	s->cancel_errno = errno;
}

void launch_inner(void *p) {
	auto *s = static_cast<self_ctx *>(p);
	linger_t inner = launch(resume_outer, LINGER_UNLIMITED, s);
	s->inner_launch_error = inner.is_complete ? inner.error : -2;
}

} // namespace

TEST_CASE("LINGER_ERUNNING: a function resuming or cancelling itself", "[errors]") {
	self_ctx s;
	linger_t l = launch(resume_self, 0, &s);
	REQUIRE(l.error == LINGER_OK);
	s.self = &l;
	resume(&l, LINGER_UNLIMITED);
	REQUIRE(l.error == LINGER_OK);
	REQUIRE(l.is_complete);
	CHECK(s.resume_error == LINGER_ERUNNING);
	CHECK(s.resume_errno == EBUSY);
	CHECK(s.cancel_error == LINGER_ERUNNING);
	CHECK(s.cancel_errno == EBUSY);
}

TEST_CASE("LINGER_ERUNNING: an inner function resuming or cancelling its launcher", "[errors][nested]") {
	self_ctx s;
	linger_t l = launch(launch_inner, 0, &s);
	REQUIRE(l.error == LINGER_OK);
	s.outer = &l;
	resume(&l, LINGER_UNLIMITED);
	REQUIRE(l.error == LINGER_OK);
	REQUIRE(l.is_complete);
	CHECK(s.inner_launch_error == LINGER_OK);
	CHECK(s.resume_error == LINGER_ERUNNING);
	CHECK(s.resume_errno == EBUSY);
	CHECK(s.cancel_error == LINGER_ERUNNING);
	CHECK(s.cancel_errno == EBUSY);
	CHECK(th::stats().live == 0);
}

namespace {

// Exit codes of the ENOMEM child; 0 is success.
const char *enomem_failure(int code) {
	switch (code) {
	case 10: return "linger_set_stack_size(1 GiB) failed";
	case 11: return "setrlimit(RLIMIT_AS) failed";
	case 12: return "launch under RLIMIT_AS did not report LINGER_ENOMEM";
	case 13: return "errno was not ENOMEM";
	case 14: return "the function ran although its launch failed";
	case 15: return "the failed launch reported is_complete";
	case 16: return "resume of the failed launch's handle was not LINGER_EFOREIGN";
	case 17: return "inger::launch did not throw inger::error(out_of_memory)";
	case 18: return "restoring the stack size failed";
	case 19: return "launch after restoring the stack size failed";
	case 20: return "launch with timeout 0 did not report LINGER_ENOMEM";
	case 21: return "live count not 0 after failed launches";
	default: return "unexpected exit code";
	}
}

int enomem_child() {
	std::size_t old = linger_stack_size();
	if (linger_set_stack_size(std::size_t{1} << 30) != 0)
		return 10;
	rlim_t limit = th::vsz_bytes() + (std::size_t{256} << 20);
	struct rlimit rl = {limit, limit};
	if (setrlimit(RLIMIT_AS, &rl) != 0)
		return 11;
	counter c;
	errno = 0;
	linger_t l = launch(count_run, LINGER_UNLIMITED, &c);
	if (l.error != LINGER_ENOMEM)
		return 12;
	if (errno != ENOMEM)
		return 13;
	if (c.runs != 0)
		return 14;
	if (l.is_complete)
		return 15;
	resume(&l, LINGER_UNLIMITED);
	if (l.error != LINGER_EFOREIGN)
		return 16;
	l = launch(count_run, 0, &c);
	if (l.error != LINGER_ENOMEM || errno != ENOMEM)
		return 20;
	l = launch(count_run, 1000, &c);
	if (l.error != LINGER_ENOMEM || errno != ENOMEM)
		return 12;
	try {
		auto f = inger::launch([] { return 1; }, std::chrono::milliseconds(1));
		return 17;
	} catch (const inger::error &e) {
		if (e.code_value() != inger::errc::out_of_memory)
			return 17;
	} catch (...) {
		return 17;
	}
	if (c.runs != 0)
		return 14;
	if (th::stats().live != 0)
		return 21;
	if (linger_set_stack_size(old) != 0)
		return 18;
	l = launch(count_run, LINGER_UNLIMITED, &c);
	if (l.error != LINGER_OK || !l.is_complete || c.runs != 1)
		return 19;
	return 0;
}

} // namespace

TEST_CASE("LINGER_ENOMEM: no memory for the stack (1 GiB stack under RLIMIT_AS)", "[errors][enomem]") {
#if defined(__SANITIZE_ADDRESS__)
	WARN("RLIMIT_AS cannot be used with AddressSanitizer's shadow memory: skipped");
	return;
#endif
	std::fflush(nullptr);
	pid_t pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0)
		_exit(enomem_child());
	int status = 0;
	REQUIRE(waitpid(pid, &status, 0) == pid);
	INFO("child status " << status);
	REQUIRE_FALSE(WIFSIGNALED(status)); // it must not crash
	REQUIRE(WIFEXITED(status));
	int code = WEXITSTATUS(status);
	INFO("child: " << enomem_failure(code));
	CHECK(code == 0);
}

namespace {

struct handler_report {
	int launch_error = -1, launch_errno = -1;
	bool launch_complete = false;
	int resume_error = -1, resume_errno = -1;
	int cancel_error = -1, cancel_errno = -1;
	int calls = 0;
};

handler_report report;
linger_t *handler_target = nullptr;
counter handler_counter;

void usr1_handler(int) {
	int saved = errno;
	report.calls++;
	errno = 0;
	linger_t l = launch(count_run, LINGER_UNLIMITED, &handler_counter);
	report.launch_error = l.error;
	report.launch_errno = errno;
	report.launch_complete = l.is_complete;
	if (handler_target) {
		errno = 0;
		resume(handler_target, LINGER_UNLIMITED);
		report.resume_error = handler_target->error;
		report.resume_errno = errno;
		linger_t copy = *handler_target;
		errno = 0;
		cancel(&copy);
		report.cancel_error = copy.error;
		report.cancel_errno = errno;
	}
	errno = saved;
}

struct scoped_handler {
	struct sigaction old {};
	explicit scoped_handler(void (*fn)(int)) {
		struct sigaction sa {};
		sa.sa_handler = fn;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGUSR1, &sa, &old);
	}
	~scoped_handler() { sigaction(SIGUSR1, &old, nullptr); }
};

} // namespace

TEST_CASE("LINGER_ESIGNAL: a signal handler that interrupted libinger cannot call into it", "[errors][signal]") {
	scoped_handler h(usr1_handler);
	counter paused;
	linger_t target = launch(count_and_pause, LINGER_UNLIMITED, &paused);
	REQUIRE_FALSE(target.is_complete);
	auto before = th::stats();

	report = handler_report{};
	handler_counter = counter{};
	handler_target = &target;
	linger_testing_enter_runtime();
	raise(SIGUSR1);
	linger_testing_leave_runtime();
	handler_target = nullptr;

	REQUIRE(report.calls == 1);
	CHECK(report.launch_error == LINGER_ESIGNAL);
	CHECK(report.launch_errno == EDEADLK);
	CHECK_FALSE(report.launch_complete);
	CHECK(handler_counter.runs == 0);
	CHECK(report.resume_error == LINGER_ESIGNAL);
	CHECK(report.resume_errno == EDEADLK);
	CHECK(report.cancel_error == LINGER_ESIGNAL);
	CHECK(report.cancel_errno == EDEADLK);
	CHECK(paused.runs == 1);
	auto d = th::diff(before, th::stats());
	CHECK(d.launches == 0);
	CHECK(d.cancels == 0);

	// The target was left as it was: a later resume succeeds and clears the error.
	CHECK(target.error == LINGER_ESIGNAL);
	resume(&target, LINGER_UNLIMITED);
	CHECK(target.error == LINGER_OK);
	REQUIRE(target.is_complete);
	CHECK(paused.runs == 2);
}

TEST_CASE("a signal handler that did not interrupt libinger may launch", "[errors][signal]") {
	scoped_handler h(usr1_handler);
	report = handler_report{};
	handler_counter = counter{};
	handler_target = nullptr;
	raise(SIGUSR1);
	REQUIRE(report.calls == 1);
	CHECK(report.launch_error == LINGER_OK);
	CHECK(report.launch_complete);
	CHECK(handler_counter.runs == 1);
}

TEST_CASE("linger_strerror describes every code, and unknown ones", "[errors]") {
	const int codes[] = {LINGER_OK,        LINGER_ENULLFN,  LINGER_ENULLHANDLE, LINGER_ECOMPLETED,
	                     LINGER_ECANCELLED, LINGER_EFOREIGN, LINGER_ERUNNING,    LINGER_ENOMEM,
	                     LINGER_ESIGNAL,   LINGER_ESTACKOVERFLOW, LINGER_ESYSTEM};
	std::string seen[sizeof codes / sizeof codes[0]];
	std::size_t n = 0;
	for (int code : codes) {
		const char *s = linger_strerror(code);
		INFO("code " << code);
		REQUIRE(s != nullptr);
		CHECK(std::strlen(s) > 0);
		for (std::size_t k = 0; k < n; ++k)
			CHECK(seen[k] != s);
		seen[n++] = s;
	}
	for (int unknown : {-1, 11, 99, 1000, -2147483647 - 1, 2147483647}) {
		const char *s = linger_strerror(unknown);
		INFO("unknown code " << unknown);
		REQUIRE(s != nullptr);
		CHECK(std::strlen(s) > 0);
		for (std::size_t k = 0; k < n; ++k)
			CHECK(seen[k] != s);
	}
}

TEST_CASE("the error codes have their documented values", "[errors]") {
	// Source compatibility with the header's table (and with inger::errc).
	CHECK(LINGER_OK == 0);
	CHECK(LINGER_ENULLFN == 1);
	CHECK(LINGER_ENULLHANDLE == 2);
	CHECK(LINGER_ECOMPLETED == 3);
	CHECK(LINGER_ECANCELLED == 4);
	CHECK(LINGER_EFOREIGN == 5);
	CHECK(LINGER_ERUNNING == 6);
	CHECK(LINGER_ENOMEM == 7);
	CHECK(LINGER_ESIGNAL == 8);
	CHECK(LINGER_ESTACKOVERFLOW == 9);
	CHECK(LINGER_ESYSTEM == 10);
}
