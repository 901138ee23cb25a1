// test_placement_reactive.cpp — Event<T> and Signal<T> on one peer: delivery order, ending,
// the combinators, derived signals.
#include <turquoise/placement/signal.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

using namespace turquoise;
using namespace turquoise::placement;

// "a" + std::to_string(v), by appending (GCC 12 at -O3 warns falsely, -Wrestrict, on the +).
static std::string tagged(const char *prefix, int v) {
	std::string s(prefix);
	s += std::to_string(v);
	return s;
}

TEST_CASE("fire delivers to observers in registration order, occurrences in fire order") {
	Event<int> e;
	std::vector<std::string> seen;
	e.observe([&](int v) { seen.push_back(tagged("a", v)); });
	e.observe([&](int v) { seen.push_back(tagged("b", v)); });
	CHECK(e.fire(1));
	CHECK(e.fire(2));
	CHECK(seen == std::vector<std::string>{"a1", "b1", "a2", "b2"});
}

TEST_CASE("an observer that fires its own event queues the occurrence behind the current one") {
	Event<int> e;
	std::vector<std::string> seen;
	e.observe([&](int v) {
		seen.push_back(tagged("a", v));
		if (v < 3)
			e.fire(v + 1);
	});
	e.observe([&](int v) { seen.push_back(tagged("b", v)); });
	e.fire(1);
	// b1 before a2: the inner fire is delivered after the current occurrence completes.
	CHECK(seen == std::vector<std::string>{"a1", "b1", "a2", "b2", "a3", "b3"});
}

TEST_CASE("concurrent sources keep their own order, nothing is lost or delivered twice at once") {
	Event<std::pair<int, int>> e;
	std::vector<int> last(2, -1);
	std::atomic<int> inside{0};
	bool ordered = true, overlapped = false;
	long count = 0;
	e.observe([&](const std::pair<int, int> &v) {
		if (inside.fetch_add(1) != 0)
			overlapped = true;
		if (v.second != last[v.first] + 1)
			ordered = false;
		last[v.first] = v.second;
		++count;
		inside.fetch_sub(1);
	});
	constexpr int n = 20000;
	std::vector<std::thread> threads;
	for (int source = 0; source < 2; ++source)
		threads.emplace_back([&, source] {
			for (int i = 0; i < n; ++i)
				e.fire({source, i});
		});
	for (auto &t : threads)
		t.join();
	CHECK(count == 2 * n);
	CHECK(ordered);
	CHECK_FALSE(overlapped);
}

TEST_CASE("end and fail are delivered after earlier occurrences, and later fires are refused") {
	Event<int> e;
	std::vector<int> seen;
	e.observe([&](int v) {
		seen.push_back(v);
		if (v == 1) {
			e.fire(2);
			e.end();
			e.fire(3); // after the end was queued: refused
		}
	});
	e.fire(1);
	CHECK(seen == std::vector<int>{1, 2});
	CHECK(e.isEnded());
	CHECK(e.ended().isReady());
	CHECK_FALSE(e.fire(4));
	CHECK_FALSE(e.end());

	Event<int> f;
	CHECK(f.fail("peer gone"));
	REQUIRE(f.ended().isFailed());
	CHECK(f.ended().failure() == "peer gone");
	CHECK_FALSE(f.fire(1));
}

TEST_CASE("unobserve stops an observer") {
	Event<int> e;
	int a = 0, b = 0;
	auto id = e.observe([&](int) { ++a; });
	e.observe([&](int) { ++b; });
	e.fire(1);
	e.unobserve(id);
	e.fire(2);
	CHECK(a == 1);
	CHECK(b == 2);
}

TEST_CASE("map, filter, merge derive events that end with their sources") {
	Event<int> numbers, others;
	auto squares = numbers.map([](int v) { return std::to_string(v * v); });
	auto evens = numbers.filter([](int v) { return v % 2 == 0; });
	auto both = numbers.merge(others);
	std::vector<std::string> sq;
	std::vector<int> ev, all;
	squares.observe([&](const std::string &s) { sq.push_back(s); });
	evens.observe([&](int v) { ev.push_back(v); });
	both.observe([&](int v) { all.push_back(v); });
	for (int i = 1; i <= 4; ++i)
		numbers.fire(i);
	others.fire(100);
	CHECK(sq == std::vector<std::string>{"1", "4", "9", "16"});
	CHECK(ev == std::vector<int>{2, 4});
	CHECK(all == std::vector<int>{1, 2, 3, 4, 100});
	numbers.end();
	CHECK(squares.isEnded());
	CHECK(evens.isEnded());
	CHECK_FALSE(both.isEnded()); // others still runs
	others.fail("others failed");
	REQUIRE(both.ended().isFailed());
	CHECK(both.ended().failure() == "others failed");
}

TEST_CASE("an exception in a map function fails the derived event, not the source") {
	Event<int> e;
	auto m = e.map([](int v) {
		if (v == 2)
			throw std::runtime_error("two");
		return v;
	});
	std::vector<int> seen;
	m.observe([&](int v) { seen.push_back(v); });
	e.fire(1);
	e.fire(2);
	e.fire(3);
	CHECK(seen == std::vector<int>{1});
	REQUIRE(m.ended().isFailed());
	CHECK(m.ended().failure() == "two");
	CHECK_FALSE(e.isEnded());
}

TEST_CASE("fold and latest turn events into signals") {
	Event<int> e;
	Signal<int> sum = e.fold(0, [](int a, int v) { return a + v; });
	Signal<int> last = e.latest(-1);
	CHECK(sum.now() == 0);
	CHECK(last.now() == -1);
	e.fire(5);
	e.fire(7);
	CHECK(sum.now() == 12);
	CHECK(last.now() == 7);
	CHECK_THROWS_AS(sum.set(1), std::logic_error);
}

TEST_CASE("a source signal changes by set, equal values change nothing, changed fires in order") {
	Signal<std::string> s("a");
	std::vector<std::string> changes;
	s.changed().observe([&](const std::string &v) { changes.push_back(v); });
	s.set("b");
	s.set("b");
	s.set("c");
	CHECK(s.now() == "c");
	CHECK(changes == std::vector<std::string>{"b", "c"});
	CHECK(s.versioned_now().first == 2);
}

TEST_CASE("derived signals update when their inputs change") {
	Signal<int> w(3), h(4);
	Signal<int> area = lift([](int a, int b) { return a * b; }, w, h);
	Signal<std::string> text = area.map([](int a) { return "area " + std::to_string(a); });
	std::vector<int> areas;
	area.changed().observe([&](int a) { areas.push_back(a); });
	CHECK(area.now() == 12);
	CHECK(text.now() == "area 12");
	w.set(5);
	CHECK(area.now() == 20);
	h.set(2);
	CHECK(area.now() == 10);
	CHECK(text.now() == "area 10");
	CHECK(areas == std::vector<int>{20, 10});
	CHECK_THROWS_AS(area.set(0), std::logic_error);
}

TEST_CASE("an observer of a signal may read it: the change is delivered outside the lock") {
	Signal<int> s(0);
	std::vector<int> read;
	s.changed().observe([&](int) { read.push_back(s.now()); });
	s.set(1);
	s.set(2);
	CHECK(read == std::vector<int>{1, 2});
}

TEST_CASE("an exception in a lift function keeps the last value and fails changed()") {
	Signal<int> s(1);
	auto d = s.map([](int v) {
		if (v < 0)
			throw std::invalid_argument("negative");
		return v * 10;
	});
	s.set(2);
	CHECK(d.now() == 20);
	s.set(-1);
	CHECK(d.now() == 20);
	REQUIRE(d.changed().ended().isFailed());
	CHECK(d.changed().ended().failure() == "negative");
}
