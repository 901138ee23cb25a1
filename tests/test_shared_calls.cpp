// The malloc family defers preemption: a function preempted during an allocation would hold
// its thread's arena lock, and the next allocation on the thread would wait for it forever.
#include <catch2/catch.hpp>

#include "helpers.hpp"

#include <libinger.h>

#include <cstdlib>
#include <cstring>
#include <vector>

namespace {

struct storm {
	unsigned rounds;
	std::uint64_t checksum = 0;
	bool done = false;
};

// Allocates, fills, reallocates and frees blocks of varied sizes, with live blocks kept
// across preemptions (so the heap is really shared with the caller's allocations).
void malloc_storm(void *arg) {
	auto *s = static_cast<storm *>(arg);
	void *keep[16] = {};
	for (unsigned i = 0; i < s->rounds; ++i) {
		std::size_t size = 16 + (i * 7919u) % 4096;
		unsigned slot = i % 16;
		std::free(keep[slot]);
		auto *p = static_cast<unsigned char *>(std::malloc(size));
		std::memset(p, static_cast<int>(i & 0xff), size);
		p = static_cast<unsigned char *>(std::realloc(p, size * 2));
		s->checksum += p[size - 1];
		keep[slot] = p;
		void *q = std::calloc(4, size / 4 + 1);
		void *a = nullptr;
		if (posix_memalign(&a, 64, size) == 0)
			std::free(a);
		std::free(q);
	}
	for (void *p : keep)
		std::free(p);
	s->done = true;
}

std::uint64_t expected_checksum(unsigned rounds) {
	std::uint64_t sum = 0;
	for (unsigned i = 0; i < rounds; ++i)
		sum += i & 0xff;
	return sum;
}

} // namespace

// Under AddressSanitizer its allocator replaces malloc ahead of libinger's wrappers; preemption
// is then deferred by address inside the sanitizer runtime (deferred_code.cpp) instead.
TEST_CASE("allocations preempted every 20 us while the caller and other functions allocate") {
	constexpr unsigned functions = 8;
	constexpr unsigned rounds = 20000;
	std::vector<storm> storms(functions, storm{rounds});
	std::vector<linger_t> handles;
	auto before = th::stats();
	for (auto &s : storms)
		handles.push_back(launch(malloc_storm, 20, &s));

	std::vector<void *> mine;
	bool all_done = false;
	while (!all_done) {
		all_done = true;
		for (auto &l : handles) {
			if (l.is_complete)
				continue;
			all_done = false;
			mine.push_back(std::malloc(100)); // the caller allocates between resumes
			if (mine.size() > 64) {
				for (void *p : mine)
					std::free(p);
				mine.clear();
			}
			resume(&l, 20);
			REQUIRE(l.error == LINGER_OK);
		}
	}
	for (void *p : mine)
		std::free(p);
	auto d = th::diff(before, th::stats());
	INFO("preemptions " << d.preemptions);
	CHECK(d.preemptions > 100); // the storm really was preempted, many times
	for (auto &s : storms) {
		CHECK(s.done);
		CHECK(s.checksum == expected_checksum(rounds));
	}
}

TEST_CASE("a preemption that falls due inside malloc is taken when it returns") {
	// Each allocation is a critical section, so a function that does nothing but allocate is
	// still preempted (between calls), not run to completion.
	struct args {
		volatile bool stop = false;
		volatile unsigned long calls = 0;
	} a;
	linger_t l = launch(
	    [](void *p) {
		    auto *a = static_cast<args *>(p);
		    while (!a->stop) {
			    std::free(std::malloc(64));
			    a->calls = a->calls + 1;
		    }
	    },
	    1000, &a);
	REQUIRE(l.error == LINGER_OK);
	CHECK_FALSE(l.is_complete);
	unsigned long at_preemption = a.calls;
	CHECK(at_preemption > 0);
	a.stop = true;
	resume(&l, LINGER_UNLIMITED);
	CHECK(l.is_complete);
}
