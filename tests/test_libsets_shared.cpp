// libgotcha's other side of the line: a function that gets no slot of its own (every slot is
// busy on another thread, or libgotcha is off) runs against the base libraries, and then
// preemption is deferred while it executes their code.
// Runs with INGER_LIBSETS=1 (tests/CMakeLists.txt): one slot.
#include "helpers.hpp"

#include <catch2/catch.hpp>

#include <libgotcha.h>
#include <libinger.h>

#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

namespace {

gotcha_info info() {
	gotcha_info i{};
	gotcha_get_info(&i);
	return i;
}

std::atomic<bool> hold{true};
std::atomic<bool> holding{false};

// Keeps the only slot busy: runs (unlimited) on another thread until told to stop.
void occupy_slot(void *) {
	holding = true;
	while (hold.load())
		th::spin_us(10);
}

struct memset_job {
	std::vector<char> buffer = std::vector<char>(1 << 20);
	int rounds = 0;
};

// Spends most of its time inside libc's memset: the base libc's, in shared mode.
void memset_storm(void *p) {
	auto *j = static_cast<memset_job *>(p);
	for (; j->rounds < 400; j->rounds++)
		std::memset(j->buffer.data(), j->rounds & 0xff, j->buffer.size());
}

} // namespace

TEST_CASE("with every slot busy, a function runs in shared mode: deferred inside the base libraries", "[libsets][shared]") {
	if (info().slots == 0) {
		REQUIRE(th::sanitized);
		WARN("libgotcha is disabled here");
		return;
	}
	REQUIRE(info().slots == 1);
	std::thread other([] {
		linger_t l = launch(occupy_slot, LINGER_UNLIMITED, nullptr);
		REQUIRE(l.is_complete);
	});
	while (!holding.load())
		th::spin_us(10);

	auto before = th::stats();
	gotcha_info gbefore = info();
	memset_job j;
	linger_t l = launch(memset_storm, 100, &j);
	CHECK(info().shared_mode == gbefore.shared_mode + 1);
	int resumes = 0;
	while (l.error == LINGER_OK && !l.is_complete) {
		resume(&l, 100);
		resumes++;
	}
	hold = false;
	other.join();
	REQUIRE(l.error == LINGER_OK);
	REQUIRE(l.is_complete);
	CHECK(j.rounds == 400);
	auto d = th::diff(before, th::stats());
	INFO("preemptions " << d.preemptions << ", deferrals " << d.deferrals << ", resumes " << resumes);
	// Each memset of 1 MiB takes tens of microseconds: most timer expiries land inside it and
	// are put off until it returns; the function is still preempted between calls.
	CHECK(d.deferrals >= 10);
	CHECK(d.preemptions >= 10);
	for (int i = 0; i < 1 << 20; i += 4096)
		REQUIRE(j.buffer[static_cast<std::size_t>(i)] == static_cast<char>(399 & 0xff));
}

TEST_CASE("with a slot free, the same function is isolated and preempted inside memset", "[libsets][shared]") {
	if (info().slots == 0)
		return;
	auto before = th::stats();
	gotcha_info gbefore = info();
	memset_job j;
	linger_t l = launch(memset_storm, 100, &j);
	while (l.error == LINGER_OK && !l.is_complete)
		resume(&l, 100);
	REQUIRE(l.is_complete);
	CHECK(info().shared_mode == gbefore.shared_mode);
	auto d = th::diff(before, th::stats());
	INFO("preemptions " << d.preemptions << ", deferrals " << d.deferrals);
	CHECK(d.preemptions >= 10);
	// Its memset is its own copy's: preemptible anywhere. (A deferral or two can still come
	// from libinger's own calls into the base libc around a switch, such as its timer_settime.)
	CHECK(d.deferrals * 10 <= d.preemptions);
}
