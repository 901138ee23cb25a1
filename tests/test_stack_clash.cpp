// Stack clash (issue 14, item 5): a frame larger than the guard below a function's stack,
// compiled without -fstack-clash-protection (this file is), must not silently write into the
// paused function whose stack lies below: either it faults in the guard (reported as a stack
// overflow), or the clobbered neighbour is caught before it runs again.
#include <catch2/catch.hpp>

#include "helpers.hpp"

#include <libinger.h>

#include <alloca.h>
#include <cerrno>
#include <cstdint>
#include <cstring>

namespace {

constexpr std::uintptr_t page = 4096;

struct victim {
	std::uintptr_t local = 0; // an address in its top frame
	int resumed = 0;
	std::uint64_t check = 0;
};

void victim_body(void *p) {
	auto *v = static_cast<victim *>(p);
	volatile std::uint64_t canary = 0x1234567887654321u;
	v->local = reinterpret_cast<std::uintptr_t>(&canary);
	linger_pause();
	v->resumed++;
	v->check = canary;
}

struct attack {
	std::uintptr_t write_at = 0; // lowest address to write (below its own stack)
	std::size_t bytes = 0;
	bool returned = false;
};

// One frame reaching down to write_at, of which only [write_at, write_at + bytes) is written
// (no probing of the pages between, whatever flags the project builds tests with):
// the guard between is jumped, not touched.
__attribute__((noinline, optimize("no-stack-clash-protection"))) void attacker(void *p) {
	auto *a = static_cast<attack *>(p);
	char here;
	std::size_t frame = reinterpret_cast<std::uintptr_t>(&here) - a->write_at;
	char *buf = static_cast<char *>(alloca(frame));
	std::memset(buf, 0x5a, a->bytes);
	asm volatile("" ::"r"(buf) : "memory");
	a->returned = true;
}

std::uintptr_t round_up(std::uintptr_t a) { return (a + page - 1) & ~(page - 1); }

// Paused victims, and one of them (above) whose stack lies right above another's (below),
// with above cancelled: the next launch takes its stack (the per-thread cache is LIFO).
struct neighbours {
	static constexpr int n = 8;
	victim v[n];
	linger_t l[n];
	int above = -1, below = -1;

	neighbours() {
		for (int i = 0; i < n; ++i) {
			l[i] = launch(victim_body, LINGER_UNLIMITED, &v[i]);
			REQUIRE(l[i].error == LINGER_OK);
			REQUIRE_FALSE(l[i].is_complete);
		}
		// Stacks are mapped top-down: the one mapped next lies just below, one guard apart.
		for (int i = 0; i < n && above < 0; ++i)
			for (int j = 0; j < n && above < 0; ++j) {
				std::uintptr_t top_i = round_up(v[i].local), top_j = round_up(v[j].local);
				std::uintptr_t span = top_i - top_j;
				if (top_i > top_j && span >= linger_stack_size() && span <= linger_stack_size() + (2u << 20) &&
				    span % page == 0)
					above = i, below = j;
			}
		REQUIRE(above >= 0);
		cancel(&l[above]);
		REQUIRE(l[above].error == LINGER_OK);
	}
	~neighbours() {
		for (int i = 0; i < n; ++i)
			if (i != above && !l[i].is_complete && l[i].error == LINGER_OK)
				cancel(&l[i]);
	}
	// One past the highest usable byte of the neighbour below (its top frame is in its top page).
	std::uintptr_t below_top() const { return round_up(v[below].local); }
	std::uintptr_t above_lo() const { return round_up(v[above].local) - linger_stack_size(); }
};

} // namespace

TEST_CASE("a frame 128 KiB beyond its stack faults in the guard instead of writing below it", "[stack][clash]") {
	if (th::sanitized) {
		WARN("skipped under AddressSanitizer: it reports the attacker's write itself");
		return;
	}
	neighbours nb;
	attack a;
	a.write_at = nb.above_lo() - 128 * 1024;
	a.bytes = 64;
	linger_t l = launch(attacker, LINGER_UNLIMITED, &a);
	CHECK(l.error == LINGER_ESTACKOVERFLOW);
	CHECK_FALSE(a.returned);
	// The neighbour below is intact.
	victim &b = nb.v[nb.below];
	resume(&nb.l[nb.below], LINGER_UNLIMITED);
	REQUIRE(nb.l[nb.below].error == LINGER_OK);
	REQUIRE(nb.l[nb.below].is_complete);
	CHECK(b.check == 0x1234567887654321u);
}

TEST_CASE("a neighbour whose top was clobbered by a frame that jumped the guard is never run",
          "[stack][clash]") {
	if (th::sanitized) {
		WARN("skipped under AddressSanitizer: it reports the attacker's write itself");
		return;
	}
	neighbours nb;
	victim &b = nb.v[nb.below];
	attack a;
	a.write_at = nb.below_top() - 1024; // the top KiB of the neighbour: its record and frames
	a.bytes = 1024;
	linger_t l = launch(attacker, LINGER_UNLIMITED, &a);
	REQUIRE(l.error == LINGER_OK); // nothing faulted: the write landed beyond the guard
	REQUIRE(a.returned);
	errno = 0;
	resume(&nb.l[nb.below], LINGER_UNLIMITED);
	CHECK(nb.l[nb.below].error == LINGER_ECORRUPTED);
	CHECK(errno == EFAULT);
	CHECK(b.resumed == 0);
	cancel(&nb.l[nb.below]);
	CHECK(nb.l[nb.below].error == LINGER_ECORRUPTED);
	CHECK(std::strstr(linger_strerror(LINGER_ECORRUPTED), "stack") != nullptr);
	// The others were not touched and still run.
	for (int i = 0; i < nb.n; ++i)
		if (i != nb.above && i != nb.below) {
			resume(&nb.l[i], LINGER_UNLIMITED);
			CHECK(nb.l[i].error == LINGER_OK);
			CHECK(nb.v[i].check == 0x1234567887654321u);
		}
}
