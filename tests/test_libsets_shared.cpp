// libgotcha's other side of the line: a function that gets no slot of its own (every slot is
// busy on another thread, or libgotcha is off) runs against the base libraries, and then
// preemption is deferred while it executes their code.
// Runs with INGER_LIBSETS=1 (tests/CMakeLists.txt): one slot.
#include "gotcha_helpers.hpp"

#include <catch2/catch.hpp>

#include <libgotcha.h>
#include <libinger.h>

#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

namespace {

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
	std::atomic<bool> enough{false}; // set by the caller once it has seen what it needs
	int rounds = 0;
};

// Alternates libc's memset of 1 MiB (tens of microseconds: the base libc's, in shared mode)
// with some work of its own, until the caller has seen enough.
void memset_storm(void *p) {
	auto *j = static_cast<memset_job *>(p);
	for (; !j->enough.load(std::memory_order_relaxed); j->rounds++) {
		std::memset(j->buffer.data(), j->rounds & 0xff, j->buffer.size());
		th::spin_us(10);
	}
	j->rounds--;
}

// Resume until `seen(stats since start)` holds (or 10 s pass), then let the function finish.
template <class Seen>
th::stats_delta drive(linger_t &l, memset_job &j, Seen seen) {
	auto before = th::stats();
	double give_up = th::now_us() + 10e6;
	while (l.error == LINGER_OK && !l.is_complete) {
		if (seen(th::diff(before, th::stats())) || th::now_us() > give_up)
			j.enough = true;
		resume(&l, 100);
	}
	return th::diff(before, th::stats());
}

} // namespace

TEST_CASE("with every slot busy, a function runs in shared mode: deferred inside the base libraries", "[libsets][shared]") {
	if (!th::libsets_available())
		return;
	REQUIRE(th::libsets_info().slots == 1);
	std::thread other([] {
		linger_t l = launch(occupy_slot, LINGER_UNLIMITED, nullptr);
		REQUIRE(l.is_complete);
	});
	while (!holding.load())
		th::spin_us(10);

	gotcha_info gbefore = th::libsets_info();
	memset_job j;
	linger_t l = launch(memset_storm, 100, &j);
	CHECK(th::libsets_info().shared_mode == gbefore.shared_mode + 1);
	auto d = drive(l, j, [](const th::stats_delta &s) { return s.deferrals >= 20 && s.preemptions >= 20; });
	hold = false;
	other.join();
	REQUIRE(l.error == LINGER_OK);
	REQUIRE(l.is_complete);
	INFO("preemptions " << d.preemptions << ", deferrals " << d.deferrals << ", rounds " << j.rounds);
	// Timer expiries that land inside memset are put off (and looked at again 5 us later);
	// the function is preempted in its own code.
	CHECK(d.deferrals >= 20);
	CHECK(d.preemptions >= 20);
	for (int i = 0; i < 1 << 20; i += 4096)
		REQUIRE(j.buffer[static_cast<std::size_t>(i)] == static_cast<char>(j.rounds & 0xff));
}

TEST_CASE("with a slot free, the same function is isolated and preempted inside memset", "[libsets][shared]") {
	if (!th::libsets_available())
		return;
	gotcha_info gbefore = th::libsets_info();
	memset_job j;
	linger_t l = launch(memset_storm, 100, &j);
	auto d = drive(l, j, [](const th::stats_delta &s) { return s.preemptions >= 100; });
	REQUIRE(l.is_complete);
	CHECK(th::libsets_info().shared_mode == gbefore.shared_mode);
	INFO("preemptions " << d.preemptions << ", deferrals " << d.deferrals);
	CHECK(d.preemptions >= 100);
	// Its memset is its own copy's: preemptible anywhere. (A deferral or two can still come
	// from libinger's own calls into the base libc around a switch, such as its timer_settime.)
	CHECK(d.deferrals * 10 <= d.preemptions);
}
