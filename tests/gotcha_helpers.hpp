// Helpers shared by the libgotcha tests.
#ifndef INGER_TESTS_GOTCHA_HELPERS_HPP
#define INGER_TESTS_GOTCHA_HELPERS_HPP

#include "helpers.hpp"

#include <catch2/catch.hpp>

#include <libgotcha.h>

namespace th {

inline gotcha_info libsets_info() {
	gotcha_info i{};
	gotcha_get_info(&i);
	return i;
}

// Whether libsets exist. They must, except under the sanitizers, where libgotcha stays off
// (their interceptors do not survive being copied): then the caller skips its isolation test.
inline bool libsets_available() {
	gotcha_info i = libsets_info();
	if (i.slots > 0)
		return true;
	REQUIRE(sanitized);
	WARN("libgotcha is disabled here: " << (i.disabled_reason ? i.disabled_reason : "?"));
	return false;
}

} // namespace th

#endif
