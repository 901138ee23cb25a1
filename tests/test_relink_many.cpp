// libgotcha: a program with more routed functions than one trampoline chunk holds (1 024).
#include "gotcha_helpers.hpp"

#include <catch2/catch.hpp>

#include <libgotcha.h>
#include <libinger.h>

extern "C" {
long many_routes_call_all(void); // calls many_routes_f0..f(N-1) through the PLT: sum of 0..N-1
int many_routes_calls(void);     // how many of them ran against this libset's copy
}

namespace {

struct many_routes_job {
	long sum = 0;
	int calls = 0;
};

void call_every_route(void *p) {
	auto *j = static_cast<many_routes_job *>(p);
	j->sum = many_routes_call_all();
	j->calls = many_routes_calls();
}

constexpr long expected_sum = static_cast<long>(MANY_ROUTES_COUNT) * (MANY_ROUTES_COUNT - 1) / 2;

} // namespace

TEST_CASE("every trampoline is executable when more than 1 024 functions are routed", "[relink][many]") {
	many_routes_job job;
	linger_t l = launch(call_every_route, LINGER_UNLIMITED, &job);
	REQUIRE(l.is_complete);
	CHECK(job.sum == expected_sum);
	if (!th::libsets_available())
		return;
	gotcha_info info = th::libsets_info();
	CHECK(info.routed_symbols > MANY_ROUTES_COUNT);
	// The calls reached the function's own copy of the library, not the base one.
	CHECK(job.calls == MANY_ROUTES_COUNT);
	CHECK(many_routes_calls() == 0);
	// And the caller's calls, through the same trampolines, reach the base library.
	CHECK(many_routes_call_all() == expected_sum);
	CHECK(many_routes_calls() == MANY_ROUTES_COUNT);
}
