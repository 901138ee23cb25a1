// cancel(): discarding paused, preempted and never-started functions recycles their stacks;
// thousands of launch+cancel cycles must not grow memory.
#include <catch2/catch.hpp>

#include "helpers.hpp"

#include <libinger.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>

namespace {

struct toucher {
	int started = 0;
	int finished = 0;
};

// Dirties 32 KiB of its own stack, then pauses: a leaked stack would show in RSS.
void touch_and_pause(void *p) {
	auto *t = static_cast<toucher *>(p);
	t->started++;
	volatile char buf[32 * 1024];
	for (std::size_t i = 0; i < sizeof buf; i += 512)
		buf[i] = static_cast<char>(i);
	linger_pause();
	t->finished++; // never reached: cancelled while paused
	(void)buf[0];
}

struct spin_arg {
	std::atomic<bool> stop{false};
	std::uint64_t n = 0;
};

void spin_forever(void *p) {
	auto *s = static_cast<spin_arg *>(p);
	volatile char buf[16 * 1024];
	std::memset(const_cast<char *>(buf), 1, sizeof buf);
	double give_up = th::now_us() + 3e6;
	while (!s->stop.load(std::memory_order_relaxed) && th::now_us() < give_up)
		s->n += static_cast<unsigned char>(buf[s->n % sizeof buf]);
}

} // namespace

TEST_CASE("5000 launch+cancel cycles of paused functions keep memory flat", "[cancel][memory]") {
	auto before = th::stats();
	toucher t;
	const int cycles = 5000;
	std::size_t rss_1000 = 0, maps_1000 = 0;
	for (int i = 1; i <= cycles; ++i) {
		linger_t l = launch(touch_and_pause, LINGER_UNLIMITED, &t);
		if (l.error != LINGER_OK || l.is_complete)
			FAIL("cycle " << i << ": launch gave error " << l.error << ", complete " << l.is_complete);
		cancel(&l);
		if (l.error != LINGER_OK)
			FAIL("cycle " << i << ": cancel gave error " << l.error);
		if (i == 1000) {
			rss_1000 = th::rss_bytes();
			maps_1000 = th::map_count();
		}
	}
	std::size_t rss_end = th::rss_bytes();
	std::size_t maps_end = th::map_count();
	CHECK(t.started == cycles);
	CHECK(t.finished == 0);

	const std::size_t allowed = (th::sanitized ? 32u : 8u) << 20;
	INFO("RSS at cycle 1000: " << rss_1000 / 1024 << " KiB, at " << cycles << ": " << rss_end / 1024 << " KiB");
	REQUIRE(rss_1000 > 0);
	CHECK(rss_end < rss_1000 + allowed);
	INFO("mappings at cycle 1000: " << maps_1000 << ", at the end: " << maps_end);
	CHECK(maps_end < maps_1000 + 64);

	auto d = th::diff(before, th::stats());
	CHECK(d.launches == cycles);
	CHECK(d.cancels == cycles);
	CHECK(d.completions == 0);
	CHECK(d.pauses == cycles);
	CHECK(d.live == 0);
}

TEST_CASE("cancelling many live functions at once returns live to 0", "[cancel]") {
	auto before = th::stats();
	toucher t;
	const int n = 200;
	linger_t ls[n];
	for (auto &l : ls) {
		l = launch(touch_and_pause, LINGER_UNLIMITED, &t);
		REQUIRE(l.error == LINGER_OK);
		REQUIRE_FALSE(l.is_complete);
	}
	CHECK(th::diff(before, th::stats()).live == n);
	// Cancel in an interleaved order.
	for (int i = 0; i < n; i += 2)
		cancel(&ls[i]);
	for (int i = 1; i < n; i += 2)
		cancel(&ls[i]);
	for (auto &l : ls)
		CHECK(l.error == LINGER_OK);
	auto d = th::diff(before, th::stats());
	CHECK(d.cancels == n);
	CHECK(d.live == 0);
	CHECK(t.finished == 0);

	// The recycled stacks work for new functions.
	for (auto &l : ls) {
		l = launch(touch_and_pause, LINGER_UNLIMITED, &t);
		REQUIRE(l.error == LINGER_OK);
	}
	for (auto &l : ls) {
		resume(&l, LINGER_UNLIMITED);
		REQUIRE(l.error == LINGER_OK);
		REQUIRE(l.is_complete);
	}
	CHECK(t.finished == n);
	CHECK(th::diff(before, th::stats()).live == 0);
}

TEST_CASE("preempted functions can be cancelled, repeatedly, without leaks", "[cancel][preempt]") {
	auto before = th::stats();
	const int cycles = 300;
	int preempted = 0;
	std::size_t rss_start = 0;
	for (int i = 0; i < cycles; ++i) {
		spin_arg s;
		linger_t l = launch(spin_forever, 50, &s);
		REQUIRE(l.error == LINGER_OK);
		if (!l.is_complete) {
			preempted++;
			cancel(&l);
			REQUIRE(l.error == LINGER_OK);
		}
		if (i == 50)
			rss_start = th::rss_bytes();
	}
	CHECK(preempted == cycles);
	CHECK(th::rss_bytes() < rss_start + ((th::sanitized ? 32u : 8u) << 20));
	auto d = th::diff(before, th::stats());
	CHECK(d.preemptions == cycles);
	CHECK(d.cancels == cycles);
	CHECK(d.live == 0);

	// The runtime still preempts and completes normally afterwards.
	spin_arg s;
	linger_t l = launch(spin_forever, 1000, &s);
	REQUIRE_FALSE(l.is_complete);
	s.stop = true;
	resume(&l, LINGER_UNLIMITED);
	REQUIRE(l.is_complete);
}

TEST_CASE("never-started functions can be cancelled thousands of times", "[cancel]") {
	auto before = th::stats();
	toucher t;
	std::size_t maps_start = 0;
	for (int i = 0; i < 3000; ++i) {
		linger_t l = launch(touch_and_pause, 0, &t);
		if (l.error != LINGER_OK)
			FAIL("launch " << i << " failed: " << l.error);
		cancel(&l);
		if (l.error != LINGER_OK)
			FAIL("cancel " << i << " failed: " << l.error);
		if (i == 100)
			maps_start = th::map_count();
	}
	CHECK(t.started == 0);
	CHECK(th::map_count() < maps_start + 64);
	auto d = th::diff(before, th::stats());
	CHECK(d.cancels == 3000);
	CHECK(d.live == 0);
}

TEST_CASE("a cancelled handle and its copies are dead", "[cancel][errors]") {
	toucher t;
	linger_t l = launch(touch_and_pause, LINGER_UNLIMITED, &t);
	REQUIRE_FALSE(l.is_complete);
	linger_t copy = l;
	const linger_t stale = l;
	cancel(&l);
	REQUIRE(l.error == LINGER_OK);

	errno = 0;
	resume(&l, LINGER_UNLIMITED);
	CHECK(l.error == LINGER_ECANCELLED);
	CHECK(errno == ECANCELED);
	errno = 0;
	cancel(&l);
	CHECK(l.error == LINGER_ECANCELLED);
	CHECK(errno == ECANCELED);

	errno = 0;
	resume(&copy, LINGER_UNLIMITED);
	CHECK(copy.error == LINGER_EFOREIGN);
	CHECK(errno == ESRCH);
	CHECK(t.finished == 0);

	// A new function that reuses the recycled slot is not reachable through the stale copy.
	toucher t2;
	linger_t fresh = launch(touch_and_pause, LINGER_UNLIMITED, &t2);
	REQUIRE_FALSE(fresh.is_complete);
	copy = stale;
	resume(&copy, LINGER_UNLIMITED);
	CHECK(copy.error == LINGER_EFOREIGN);
	copy = stale;
	cancel(&copy);
	CHECK(copy.error == LINGER_EFOREIGN);
	CHECK(t2.finished == 0);
	resume(&fresh, LINGER_UNLIMITED);
	REQUIRE(fresh.is_complete);
	CHECK(t2.finished == 1);
}
