// libgotcha: library code calling back into the program, exceptions and signal handlers.
#include "helpers.hpp"

#include <catch2/catch.hpp>

#include <libgotcha.h>
#include <libinger.h>

#include <algorithm>
#include <atomic>
#include <csetjmp>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <sys/mman.h>
#include <vector>

namespace {

std::vector<int> shuffled(std::size_t n, unsigned seed) {
	std::vector<int> v(n);
	for (std::size_t i = 0; i < n; i++)
		v[i] = static_cast<int>(i);
	for (std::size_t i = n - 1; i > 0; i--) {
		seed = seed * 1103515245u + 12345u;
		std::swap(v[i], v[seed % (i + 1)]);
	}
	return v;
}

thread_local long comparisons = 0;

int slow_compare(const void *a, const void *b) {
	comparisons++;
	th::spin_us(0.2); // make the sort long enough to be preempted inside qsort many times
	int x = *static_cast<const int *>(a), y = *static_cast<const int *>(b);
	return (x > y) - (x < y);
}

int compare(const void *a, const void *b) {
	int x = *static_cast<const int *>(a), y = *static_cast<const int *>(b);
	return (x > y) - (x < y);
}

void sort_slowly(void *p) {
	auto *v = static_cast<std::vector<int> *>(p);
	std::qsort(v->data(), v->size(), sizeof(int), slow_compare);
}

} // namespace

TEST_CASE("qsort with a program callback, preempted mid-sort while the caller sorts too", "[relink][qsort]") {
	auto before = th::stats();
	std::vector<int> v = shuffled(20000, 1);
	linger_t l = launch(sort_slowly, 50, &v);
	int caller_sorts = 0;
	while (l.error == LINGER_OK && !l.is_complete) {
		std::vector<int> mine = shuffled(200, static_cast<unsigned>(caller_sorts) + 7);
		std::qsort(mine.data(), mine.size(), sizeof(int), compare);
		REQUIRE(std::is_sorted(mine.begin(), mine.end()));
		caller_sorts++;
		resume(&l, 50);
	}
	REQUIRE(l.error == LINGER_OK);
	REQUIRE(l.is_complete);
	CHECK(std::is_sorted(v.begin(), v.end()));
	CHECK(v.front() == 0);
	CHECK(v.back() == 19999);
	auto d = th::diff(before, th::stats());
	INFO("preemptions " << d.preemptions << ", caller sorts " << caller_sorts);
	CHECK(d.preemptions >= 20); // the sort was preempted (inside the callback or qsort itself)
	CHECK(caller_sorts == static_cast<int>(d.preemptions));
}

namespace {

struct exception_job {
	int caught = 0;
	std::string last_what;
};

void throw_through_libstdcxx(void *p) {
	auto *j = static_cast<exception_job *>(p);
	for (int i = 0; i < 2000; i++) {
		try {
			std::vector<int> v(3);
			if (i % 2)
				(void)v.at(static_cast<std::size_t>(i) + 3); // std::out_of_range from libstdc++
			else
				(void)std::stoi("not a number " + std::to_string(i)); // std::invalid_argument
		} catch (const std::out_of_range &e) {
			j->caught++;
			j->last_what = e.what();
		} catch (const std::invalid_argument &) {
			j->caught++;
		}
		th::spin_us(2);
	}
	throw std::runtime_error("out of the function");
}

} // namespace

TEST_CASE("C++ exceptions thrown inside a preemptible function that calls into libstdc++", "[relink][exceptions]") {
	auto before = th::stats();
	exception_job j;
	linger_t l = launch(
	    [](void *p) {
		    try {
			    throw_through_libstdcxx(p);
		    } catch (const std::runtime_error &e) {
			    static_cast<exception_job *>(p)->last_what = e.what();
		    }
	    },
	    20, &j);
	while (l.error == LINGER_OK && !l.is_complete)
		resume(&l, 20);
	REQUIRE(l.error == LINGER_OK);
	CHECK(j.caught == 2000);
	CHECK(j.last_what == "out of the function");
	CHECK(th::diff(before, th::stats()).preemptions >= 10);
}

namespace {

char *guarded_page = nullptr;
std::atomic<int> handled{0};

void make_page_writable(int, siginfo_t *info, void *) {
	auto *addr = static_cast<char *>(info->si_addr);
	if (addr >= guarded_page && addr < guarded_page + 4096) {
		handled++;
		mprotect(guarded_page, 4096, PROT_READ | PROT_WRITE);
	} else {
		std::abort();
	}
}

} // namespace

TEST_CASE("the user's SIGSEGV handler runs for faults inside preemptible functions", "[relink][signals]") {
	void *map = mmap(nullptr, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	REQUIRE(map != MAP_FAILED);
	guarded_page = static_cast<char *>(map);
	struct sigaction sa {}, old {};
	sa.sa_sigaction = make_page_writable;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	REQUIRE(sigaction(SIGSEGV, &sa, &old) == 0);

	linger_t l = launch(
	    [](void *) {
		    th::spin_us(300); // preempted first
		    // Through a volatile pointer: a call into libc's strcpy, not inlined stores.
		    static char *(*volatile copy)(char *, const char *) = std::strcpy;
		    copy(guarded_page, "written after the fault"); // faults inside libc's strcpy
	    },
	    50, nullptr);
	while (l.error == LINGER_OK && !l.is_complete)
		resume(&l, 50);
	REQUIRE(l.error == LINGER_OK);
	CHECK(handled == 1);
	CHECK(std::strcmp(guarded_page, "written after the fault") == 0);
	sigaction(SIGSEGV, &old, nullptr);
	munmap(map, 4096);
}
