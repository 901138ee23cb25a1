// libinger: a paused or preempted function handed to another thread (inger/detail/migrate.h)
// continues there with its own registers, errno and result; handles that cannot move are
// refused with a clear error.
#include <catch2/catch.hpp>

#include "helpers.hpp"

#include <inger/detail/migrate.h>
#include <inger/inger.hpp>
#include <libinger.h>

#include <atomic>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <sys/syscall.h>
#include <thread>
#include <unistd.h>

namespace {

pid_t gettid_now() { return static_cast<pid_t>(syscall(SYS_gettid)); }

struct spinner {
	std::uint64_t rounds = 0;
	double sum = 0;          // floating-point work: the extended state must travel too
	int errno_after = 0;
	pid_t first_tid = 0, last_tid = 0;
};

// Preempted many times: sums 1/k² in floating point while keeping errno at 4242.
void spin(void *arg) {
	auto *s = static_cast<spinner *>(arg);
	s->first_tid = gettid_now();
	errno = 4242;
	double sum = 0;
	for (std::uint64_t k = 1; k <= s->rounds; ++k) {
		sum += 1.0 / (static_cast<double>(k) * static_cast<double>(k));
		asm volatile("" : "+x"(sum));
	}
	s->sum = sum;
	s->errno_after = errno;
	s->last_tid = gettid_now();
}

double expected_sum(std::uint64_t rounds) {
	double sum = 0;
	for (std::uint64_t k = 1; k <= rounds; ++k) {
		sum += 1.0 / (static_cast<double>(k) * static_cast<double>(k));
		asm volatile("" : "+x"(sum));
	}
	return sum;
}

// Run `f` on a new thread and wait for it.
template <class F>
void on_another_thread(F f) {
	std::thread t(f);
	t.join();
}

} // namespace

TEST_CASE("a preempted function moves between threads and finishes with its own state") {
	spinner s;
	s.rounds = 40u * 1000 * 1000;
	linger_t l = launch(spin, 200, &s);
	REQUIRE(l.error == LINGER_OK);
	REQUIRE(!l.is_complete);
	REQUIRE(linger_migrate_out(&l) == 0);
	resume(&l, 200); // no longer this thread's
	CHECK(l.error == LINGER_EFOREIGN);
	errno = 7;

	// Back and forth between two other threads, a slice at a time, until it finishes.
	int moves = 0;
	while (!l.is_complete && moves < 100000) {
		on_another_thread([&] {
			REQUIRE(linger_migrate_in(&l) == 0);
			stack_t before{}, after{};
			sigaltstack(nullptr, &before);
			resume(&l, 200);
			REQUIRE(l.error == LINGER_OK);
			// The kernel's sigreturn restores the alternate signal stack saved in the signal
			// frame: the old thread's, unless the handler replaced it with this thread's.
			sigaltstack(nullptr, &after);
			CHECK(after.ss_sp == before.ss_sp);
			CHECK(after.ss_size == before.ss_size);
			if (!l.is_complete)
				REQUIRE(linger_migrate_out(&l) == 0);
		});
		++moves;
	}
	REQUIRE(l.is_complete);
	CHECK(moves > 2);
	CHECK(s.sum == expected_sum(s.rounds));
	CHECK(s.errno_after == 4242);
	CHECK(s.first_tid == gettid_now());
	CHECK(s.last_tid != gettid_now());
	CHECK(errno == 7); // the threads' own errno is theirs
}

TEST_CASE("a paused function moves to another thread") {
	static std::atomic<int> stage{0};
	stage = 0;
	auto body = [](void *) {
		stage = 1;
		linger_pause();
		stage = 2;
	};
	linger_t l = launch(body, LINGER_UNLIMITED, nullptr);
	REQUIRE(!l.is_complete);
	REQUIRE(linger_migrate_out(&l) == 0);
	on_another_thread([&] {
		REQUIRE(linger_migrate_in(&l) == 0);
		resume(&l, LINGER_UNLIMITED);
	});
	CHECK(l.is_complete);
	CHECK(stage == 2);
}

TEST_CASE("a moved function can be cancelled by its new thread, and a handle is adopted once") {
	spinner s;
	s.rounds = UINT64_MAX;
	linger_t l = launch(spin, 100, &s);
	REQUIRE(!l.is_complete);
	REQUIRE(linger_migrate_out(&l) == 0);
	linger_t copy = l;
	auto live_before = th::stats().live;
	on_another_thread([&] {
		REQUIRE(linger_migrate_in(&l) == 0);
		CHECK(th::stats().live == 1);
		errno = 0;
		CHECK(linger_migrate_in(&copy) == -1); // adopted already
		CHECK(errno == ESRCH);
		cancel(&l);
		CHECK(l.error == LINGER_OK);
		CHECK(th::stats().live == 0);
	});
	CHECK(th::stats().live == live_before);
}

TEST_CASE("handles that cannot move are refused") {
	errno = 0;
	CHECK(linger_migrate_out(nullptr) == -1);
	CHECK(errno == EINVAL);
	CHECK(linger_migrate_in(nullptr) == -1);

	linger_t forged{};
	forged.continuation.id = 12345;
	forged.continuation.slot = 3;
	errno = 0;
	CHECK(linger_migrate_out(&forged) == -1);
	CHECK(errno == ESRCH);
	errno = 0;
	CHECK(linger_migrate_in(&forged) == -1);
	CHECK(errno == ESRCH);

	// Never taken out: not in transit.
	linger_t paused = launch([](void *) { linger_pause(); }, LINGER_UNLIMITED, nullptr);
	REQUIRE(!paused.is_complete);
	errno = 0;
	CHECK(linger_migrate_in(&paused) == -1);
	CHECK(errno == ESRCH);
	resume(&paused, LINGER_UNLIMITED);
	CHECK(paused.is_complete);
	errno = 0;
	CHECK(linger_migrate_out(&paused) == -1); // completed
	CHECK(errno == ESRCH);

	// Running: the function itself asks.
	static int self_result;
	static linger_t self;
	self = launch([](void *) {
		linger_pause();
		errno = 0;
		self_result = linger_migrate_out(&self) == -1 ? errno : 0;
	}, LINGER_UNLIMITED, nullptr);
	resume(&self, LINGER_UNLIMITED);
	CHECK(self.is_complete);
	CHECK(self_result == EBUSY);

	// Paused inside a critical section.
	linger_t critical = launch([](void *) {
		inger::critical_section section;
		linger_pause();
	}, LINGER_UNLIMITED, nullptr);
	REQUIRE(!critical.is_complete);
	errno = 0;
	CHECK(linger_migrate_out(&critical) == -1);
	CHECK(errno == EBUSY);
	resume(&critical, LINGER_UNLIMITED);
	CHECK(critical.is_complete);

	// Holding a paused function of its own on this thread.
	static linger_t child;
	linger_t parent = launch([](void *) {
		child = launch([](void *) { linger_pause(); }, LINGER_UNLIMITED, nullptr);
		linger_pause();
		resume(&child, LINGER_UNLIMITED);
	}, LINGER_UNLIMITED, nullptr);
	REQUIRE(!parent.is_complete);
	REQUIRE(!child.is_complete);
	errno = 0;
	CHECK(linger_migrate_out(&parent) == -1);
	CHECK(errno == EBUSY);
	resume(&parent, LINGER_UNLIMITED);
	CHECK(parent.is_complete);
	CHECK(child.is_complete);
}
