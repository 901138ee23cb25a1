// libgotcha: stdio is shared (one stdout), and a function is never paused inside it.
#include "helpers.hpp"

#include <catch2/catch.hpp>

#include <libinger.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <set>
#include <string>
#include <unistd.h>

namespace {

constexpr int lines_each = 20000;

void print_lines(void *) {
	for (int i = 0; i < lines_each; i++) {
		// Long enough that the stream's buffer fills mid-line now and then.
		std::printf("function line %d ..........................................\n", i);
		if (i % 3 == 0)
			std::fprintf(stdout, "function fprintf %d\n", i);
		th::spin_us(2); // some work of its own, where preemption is taken
	}
}

} // namespace

// This failed now and then (a line of the function and one of the caller interleaved, or
// the caller hung on stdout's lock): a deferral's 5 us retry expires during the ~7 us
// timer_settime that arms it, and its signal, taken just after the handler cleared busy,
// preempted the function from the handler's own tail, that is inside the vfprintf the first
// handler had deferred for (signals.cpp, in_own_code). With 3 000 lines 3 of 10 runs failed
// (one hung); with 20 000 lines, every run.
TEST_CASE("printf from a preempted function while the caller prints to the same FILE", "[relink][stdio]") {
	char path[] = "/tmp/inger-stdio-XXXXXX";
	int file = mkstemp(path);
	REQUIRE(file >= 0);
	std::fflush(stdout);
	int saved_stdout = dup(STDOUT_FILENO);
	REQUIRE(dup2(file, STDOUT_FILENO) == STDOUT_FILENO);
	std::setvbuf(stdout, nullptr, _IOFBF, 4096); // a file: fully buffered, like a pipe

	auto before = th::stats();
	linger_t l = launch(print_lines, 20, nullptr);
	int caller = 0;
	while (l.error == LINGER_OK && !l.is_complete) {
		std::printf("caller line %d\n", caller++);
		resume(&l, 20);
	}
	std::printf("caller line %d\n", caller++);
	std::fflush(stdout);
	auto d = th::diff(before, th::stats());
	dup2(saved_stdout, STDOUT_FILENO);
	close(saved_stdout);
	std::setvbuf(stdout, nullptr, _IOLBF, 0);
	REQUIRE(l.error == LINGER_OK);
	REQUIRE(l.is_complete);

	FILE *in = std::fopen(path, "r");
	REQUIRE(in);
	std::set<int> function_lines, fprintf_lines, caller_lines;
	int malformed = 0;
	char line[256];
	while (std::fgets(line, sizeof line, in)) {
		int n;
		char tail[128];
		if (std::sscanf(line, "function line %d %127s", &n, tail) == 2 &&
		    std::strlen(line) == std::strlen("function line  ..........................................\n") +
		                             std::to_string(n).size())
			function_lines.insert(n);
		else if (std::sscanf(line, "function fprintf %d", &n) == 1)
			fprintf_lines.insert(n);
		else if (std::sscanf(line, "caller line %d", &n) == 1)
			caller_lines.insert(n);
		else
			malformed++;
	}
	std::fclose(in);
	unlink(path);
	close(file);
	INFO("preemptions " << d.preemptions << ", deferrals " << d.deferrals << ", caller lines " << caller);
	CHECK(malformed == 0);
	CHECK(static_cast<int>(function_lines.size()) == lines_each);
	CHECK(static_cast<int>(fprintf_lines.size()) == (lines_each + 2) / 3);
	CHECK(static_cast<int>(caller_lines.size()) == caller);
	CHECK(d.preemptions >= 10); // it was preempted, between its calls, many times
}
