// turquoise::Pipe: in-memory asynchronous stream (libprocess http::Pipe semantics).
#include <catch2/catch.hpp>

#include "helpers.hpp"

#include <turquoise/async/testing.hpp>
#include <turquoise/pool.hpp>
#include <turquoise/util/pipe.hpp>

#include <chrono>
#include <string>

using namespace std::chrono_literals;
using turquoise::Future;
using turquoise::Nothing;
using turquoise::Pipe;

TEST_CASE("chunks written before reads are read in order, then EOF") {
	Pipe pipe;
	auto r = pipe.reader();
	auto w = pipe.writer();
	CHECK(w.write("hello "));
	CHECK(w.write("world"));
	CHECK(w.close());
	CHECK(r.read().get() == "hello ");
	CHECK(r.read().get() == "world");
	CHECK(r.read().get() == "");
	CHECK(r.read().get() == ""); // EOF is sticky
	CHECK_FALSE(w.write("late"));
	CHECK_FALSE(w.close());
}

TEST_CASE("waiting reads are served in order by later writes, close ends the others") {
	Pipe pipe;
	auto r = pipe.reader();
	auto w = pipe.writer();
	Future<std::string> a = r.read(), b = r.read(), c = r.read();
	CHECK(a.isPending());
	CHECK(w.write("1"));
	CHECK(a.isReady());
	CHECK(a.get() == "1");
	CHECK(b.isPending());
	CHECK(w.write("")); // no-op: "" would look like EOF
	CHECK(b.isPending());
	CHECK(w.write("2"));
	CHECK(b.get() == "2");
	CHECK(w.close());
	CHECK(c.isReady());
	CHECK(c.get() == "");
}

TEST_CASE("writer failure fails reads after the buffered data") {
	Pipe pipe;
	auto r = pipe.reader();
	auto w = pipe.writer();
	Future<std::string> waiting = r.read();
	CHECK(w.write("data"));
	CHECK(waiting.get() == "data");
	Future<std::string> pending = r.read();
	CHECK(w.write("more"));
	CHECK(pending.get() == "more");
	CHECK(w.write("buffered"));
	CHECK(w.fail("boom"));
	CHECK_FALSE(w.fail("again"));
	CHECK_FALSE(w.close());
	CHECK(r.read().get() == "buffered");
	Future<std::string> f = r.read();
	REQUIRE(f.isFailed());
	CHECK(f.failure() == "boom");
	Future<std::string> waiter;
	{
		Pipe p2;
		waiter = p2.reader().read();
		p2.writer().fail("x");
	}
	REQUIRE(waiter.isFailed());
	CHECK(waiter.failure() == "x");
}

TEST_CASE("reader close drops data, fails reads, stops writes, signals readerClosed") {
	Pipe pipe;
	auto r = pipe.reader();
	auto w = pipe.writer();
	Future<Nothing> closed = w.readerClosed();
	CHECK(closed.isPending());
	Future<std::string> waiting = r.read();
	CHECK(r.close());
	CHECK_FALSE(r.close());
	REQUIRE(waiting.isFailed());
	CHECK(waiting.failure() == "closed");
	CHECK(closed.isReady());
	CHECK_FALSE(w.write("x"));
	Future<std::string> after = r.read();
	REQUIRE(after.isFailed());
	CHECK(after.failure() == "closed");
}

TEST_CASE("a discarded read is withdrawn without losing data") {
	Pipe pipe;
	auto r = pipe.reader();
	auto w = pipe.writer();
	Future<std::string> a = r.read(), b = r.read();
	CHECK(a.discard());
	CHECK(a.isDiscarded());
	CHECK(w.write("only"));
	CHECK(b.get() == "only");
}

TEST_CASE("readAll collects everything written from pool tasks") {
	turquoise::pool p(turquoise::pool_options{.workers = 2});
	Pipe pipe;
	Future<std::string> all = pipe.reader().readAll();
	auto w = pipe.writer();
	p.submit([w]() mutable {
		 for (int i = 0; i < 100; ++i)
			 w.write(std::to_string(i % 10));
		 w.close();
	 }).get();
	std::string expected;
	for (int i = 0; i < 100; ++i)
		expected += std::to_string(i % 10);
	AWAIT_ASSERT_EQ(expected, all);
}

TEST_CASE("readAll of a failed stream fails") {
	Pipe pipe;
	Future<std::string> all = pipe.reader().readAll();
	pipe.writer().write("a");
	pipe.writer().fail("bad");
	AWAIT_EXPECT_FAILED_WITH(all, "bad");
}

TEST_CASE("readAll of 100000 buffered chunks does not recurse per chunk") {
	turquoise::Pipe pipe;
	auto writer = pipe.writer();
	std::string expected;
	for (int i = 0; i < 100000; ++i) {
		std::string chunk = std::to_string(i % 10);
		writer.write(chunk);
		expected += chunk;
	}
	writer.close();
	auto all = pipe.reader().readAll();
	REQUIRE(all.isReady());
	CHECK(all.get() == expected);
}
