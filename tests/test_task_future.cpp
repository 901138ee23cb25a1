// pool::submit's result: the one Future (turquoise/async/future.hpp), completed by
// detail::complete_from like every other producer of futures.
#include <catch2/catch.hpp>

#include <turquoise/async/future.hpp>
#include <turquoise/pool.hpp>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <type_traits>

using namespace std::chrono_literals;
using turquoise::Future;
using turquoise::Nothing;

TEST_CASE("submit gives a Future: the value, Nothing for void, a failure for an exception") {
	turquoise::pool p(turquoise::pool_options{.workers = 2});
	auto v = p.submit([] { return std::string("done"); });
	auto nothing = p.submit([] {});
	auto boom = p.submit([]() -> int { throw std::runtime_error("boom"); });
	auto odd = p.submit([]() -> int { throw 7; });
	static_assert(std::is_same_v<decltype(v), Future<std::string>>);
	static_assert(std::is_same_v<decltype(nothing), Future<Nothing>>);
	CHECK(v.get() == "done");
	REQUIRE(nothing.await(10s));
	CHECK(nothing.isReady());
	REQUIRE(boom.await(10s));
	CHECK(boom.failure() == "boom");
	REQUIRE(odd.await(10s));
	CHECK(odd.failure() == "unknown exception");
}

TEST_CASE("submit: a task returning a Future is followed, FutureDiscarded discards") {
	turquoise::pool p(turquoise::pool_options{.workers = 1});
	turquoise::Promise<int> later;
	auto followed = p.submit([f = later.future()] { return f; });
	static_assert(std::is_same_v<decltype(followed), Future<int>>);
	auto discarded = p.submit([]() -> int { throw turquoise::FutureDiscarded(); });
	REQUIRE(discarded.await(10s));
	CHECK(discarded.isDiscarded());
	CHECK_FALSE(followed.await(20ms));
	later.set(5);
	CHECK(followed.get() == 5);
}

TEST_CASE("submit's future chains with then() and runs the continuation once") {
	turquoise::pool p(turquoise::pool_options{.workers = 2});
	std::atomic<int> runs{0};
	auto f = p.submit([] { return 20; }).then([&](int x) {
		++runs;
		return x + 1;
	});
	CHECK(f.get() == 21);
	CHECK(runs.load() == 1);
}
