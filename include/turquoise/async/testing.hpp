// turquoise/async/testing.hpp — Catch2 (v2) assertions on futures, for tests only.
//
//   AWAIT_READY(f)            wait (real time, default 15 s) until f is ready; fail the test
//   AWAIT_FAILED(f)           ... until f has failed
//   AWAIT_DISCARDED(f)        ... until f is discarded
//   AWAIT_ABANDONED(f)        f is (or becomes) abandoned
//   AWAIT_EXPECT_EQ(e, f)     f becomes ready and e == f.get() (non-fatal, like CHECK)
//   AWAIT_ASSERT_EQ(e, f)     same, fatal (like REQUIRE)
//   AWAIT_EXPECT_FAILED_WITH(f, message)
// The *_FOR(..., duration) forms take the timeout. A timeout fails with the future's text and
// its state. Waiting is in real time: with a paused Clock, advance it first.
#ifndef TURQUOISE_ASYNC_TESTING_HPP
#define TURQUOISE_ASYNC_TESTING_HPP

#include <turquoise/async/detail/testing.hpp>
#include <turquoise/async/future.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <string>

namespace turquoise::testing {

inline constexpr std::chrono::seconds default_await_timeout{15};

} // namespace turquoise::testing

#define AWAIT_READY_FOR(future, duration) TURQUOISE_AWAIT_STATE_(FAIL, future, duration, isReady, "ready")
#define AWAIT_FAILED_FOR(future, duration) TURQUOISE_AWAIT_STATE_(FAIL, future, duration, isFailed, "failed")
#define AWAIT_DISCARDED_FOR(future, duration)                                                 \
	TURQUOISE_AWAIT_STATE_(FAIL, future, duration, isDiscarded, "discarded")
#define AWAIT_ABANDONED_FOR(future, duration)                                                 \
	TURQUOISE_AWAIT_STATE_(FAIL, future, duration, isAbandoned, "abandoned")

#define AWAIT_READY(future) AWAIT_READY_FOR(future, ::turquoise::testing::default_await_timeout)
#define AWAIT_FAILED(future) AWAIT_FAILED_FOR(future, ::turquoise::testing::default_await_timeout)
#define AWAIT_DISCARDED(future) AWAIT_DISCARDED_FOR(future, ::turquoise::testing::default_await_timeout)
#define AWAIT_ABANDONED(future) AWAIT_ABANDONED_FOR(future, ::turquoise::testing::default_await_timeout)

#define AWAIT_EXPECT_READY(future)                                                            \
	TURQUOISE_AWAIT_STATE_(FAIL_CHECK, future, ::turquoise::testing::default_await_timeout,   \
	                       isReady, "ready")

#define AWAIT_EXPECT_EQ_FOR(expected, future, duration)                                      \
	TURQUOISE_AWAIT_EQ_(CHECK, FAIL_CHECK, expected, future, duration)
#define AWAIT_ASSERT_EQ_FOR(expected, future, duration)                                      \
	TURQUOISE_AWAIT_EQ_(REQUIRE, FAIL, expected, future, duration)
#define AWAIT_EXPECT_EQ(expected, future)                                                     \
	AWAIT_EXPECT_EQ_FOR(expected, future, ::turquoise::testing::default_await_timeout)
#define AWAIT_ASSERT_EQ(expected, future)                                                     \
	AWAIT_ASSERT_EQ_FOR(expected, future, ::turquoise::testing::default_await_timeout)

#define AWAIT_EXPECT_FAILED_WITH(future, message)                                             \
	do {                                                                                     \
		const auto &tq_await_fw_f_ = (future);                                               \
		TURQUOISE_AWAIT_STATE_(FAIL_CHECK, tq_await_fw_f_,                                   \
		                       ::turquoise::testing::default_await_timeout, isFailed, "failed"); \
		if (tq_await_fw_f_.isFailed())                                                       \
			CHECK(tq_await_fw_f_.failure() == std::string(message));                         \
	} while (false)

#endif
