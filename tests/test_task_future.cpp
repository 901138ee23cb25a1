// The pool's minimal future/promise (turquoise/future.hpp).
#include <catch2/catch.hpp>

#include <turquoise/future.hpp>

#include <stdexcept>
#include <string>
#include <thread>

TEST_CASE("a promise's value reaches its future once - a used future reports it") {
	turquoise::promise<std::string> p;
	auto f = p.get_future();
	CHECK_FALSE(f.ready());
	std::thread t([&] { p.set_value("done"); });
	CHECK(f.get() == "done");
	t.join();
	CHECK_FALSE(f.valid());
	CHECK_THROWS_AS(f.get(), std::logic_error);
	CHECK_THROWS_AS(f.ready(), std::logic_error);
	turquoise::future<int> never;
	CHECK_THROWS_AS(never.wait(), std::logic_error);
}

TEST_CASE("a promise destroyed unfulfilled breaks its future - self move-assignment does not") {
	turquoise::future<int> f;
	{
		turquoise::promise<int> p;
		f = p.get_future();
		auto &alias = p;
		p = std::move(alias); // self-move: still the same, unbroken promise
		CHECK_FALSE(f.ready());
	}
	CHECK_THROWS_AS(f.get(), turquoise::broken_promise);
}

TEST_CASE("on_ready runs at once when ready and later otherwise") {
	turquoise::promise<int> p;
	auto f = p.get_future();
	int seen = 0;
	f.on_ready([&](turquoise::future<int> g) { seen = g.get(); });
	CHECK(seen == 0);
	p.set_value(7);
	CHECK(seen == 7);
	turquoise::promise<void> q;
	q.set_value();
	bool ran = false;
	q.get_future().on_ready([&](turquoise::future<void>) { ran = true; });
	CHECK(ran);
}
