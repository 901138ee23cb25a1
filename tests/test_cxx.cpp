// The C++ API: inger::launch / inger::preemptible<T>: values (including move-only ones),
// void, exceptions, errors, cancellation by the destructor, moves, budgets.
#include <catch2/catch.hpp>

#include "helpers.hpp"

#include <inger/inger.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <type_traits>
#include <vector>

using namespace std::chrono_literals;

static_assert(!std::is_copy_constructible_v<inger::preemptible<int>>);
static_assert(!std::is_copy_assignable_v<inger::preemptible<int>>);
static_assert(std::is_nothrow_move_constructible_v<inger::preemptible<int>>);
static_assert(std::is_nothrow_move_assignable_v<inger::preemptible<int>>);
static_assert(std::is_same_v<decltype(inger::launch([] { return 1; }, 1ms)), inger::preemptible<int>>);
static_assert(std::is_same_v<decltype(inger::launch([] {}, 1ms)), inger::preemptible<void>>);
static_assert(std::is_error_code_enum_v<inger::errc>);

namespace {

struct custom_error {
	int code;
};

// Spins until `stop` (bounded by wall time).
struct spin_flag {
	std::atomic<bool> stop{false};
	std::atomic<long> n{0};
};

void spin_until(spin_flag &f) {
	double give_up = th::now_us() + 3e6;
	while (!f.stop.load(std::memory_order_relaxed) && th::now_us() < give_up)
		f.n.fetch_add(1, std::memory_order_relaxed);
}

template <class F>
inger::errc error_of(F &&f) {
	try {
		f();
	} catch (const inger::error &e) {
		return e.code_value();
	}
	return static_cast<inger::errc>(-1);
}

} // namespace

TEST_CASE("a callable's value is returned by get()", "[cxx]") {
	auto f = inger::launch([] { return 6 * 7; }, 1s);
	REQUIRE(f.valid());
	REQUIRE(f.done());
	CHECK(f.get() == 42);
	CHECK_FALSE(f.valid());
	CHECK_FALSE(f.done());
}

TEST_CASE("move-only and heap-owning values are moved out", "[cxx]") {
	SECTION("std::unique_ptr") {
		auto f = inger::launch([] { return std::make_unique<int>(7); }, inger::unlimited);
		REQUIRE(f.done());
		std::unique_ptr<int> p = f.get();
		REQUIRE(p);
		CHECK(*p == 7);
	}
	SECTION("std::string") {
		auto f = inger::launch([] { return std::string(1000, 'x') + "end"; }, 10ms);
		REQUIRE(f.done());
		std::string s = f.get();
		CHECK(s.size() == 1003);
		CHECK(s.substr(1000) == "end");
	}
	SECTION("std::vector of unique_ptr") {
		auto f = inger::launch(
		    [] {
			    std::vector<std::unique_ptr<std::string>> v;
			    for (int i = 0; i < 100; ++i)
				    v.push_back(std::make_unique<std::string>(std::to_string(i)));
			    return v;
		    },
		    1s);
		REQUIRE(f.done());
		auto v = f.get();
		REQUIRE(v.size() == 100);
		CHECK(*v[99] == "99");
	}
	SECTION("a callable capturing a move-only value") {
		auto p = std::make_unique<int>(5);
		auto f = inger::launch([q = std::move(p)]() mutable { return *q * 2; }, 1s);
		REQUIRE(f.done());
		CHECK(f.get() == 10);
	}
}

TEST_CASE("void callables", "[cxx]") {
	int x = 0;
	auto f = inger::launch([&] { x = 1; }, 1ms);
	REQUIRE(f.done());
	CHECK(x == 1);
	f.get();
	CHECK_FALSE(f.valid());
	CHECK(error_of([&] { f.get(); }) == inger::errc::not_live);
}

TEST_CASE("exceptions thrown by the callable are rethrown by get()", "[cxx][exceptions]") {
	SECTION("std::runtime_error") {
		auto f = inger::launch([]() -> int { throw std::runtime_error("boom"); }, 1s);
		REQUIRE(f.done());
		try {
			(void)f.get();
			FAIL("get() did not throw");
		} catch (const std::runtime_error &e) {
			CHECK(std::string(e.what()) == "boom");
		}
		CHECK_FALSE(f.valid());
	}
	SECTION("a non-std exception type, from a void callable") {
		auto f = inger::launch([] { throw custom_error{17}; }, inger::unlimited);
		REQUIRE(f.done());
		try {
			f.get();
			FAIL("get() did not throw");
		} catch (const custom_error &e) {
			CHECK(e.code == 17);
		}
	}
	SECTION("thrown after being preempted and resumed") {
		spin_flag flag;
		auto f = inger::launch(
		    [&]() -> std::string {
			    std::string local = "unwound";
			    spin_until(flag);
			    throw std::logic_error(local);
		    },
		    1ms);
		REQUIRE_FALSE(f.done());
		flag.stop = true;
		REQUIRE(f.resume(inger::unlimited));
		CHECK_THROWS_AS(f.get(), std::logic_error);
	}
	SECTION("exceptions caught inside the callable stay inside") {
		auto f = inger::launch(
		    [] {
			    try {
				    throw std::out_of_range("inner");
			    } catch (const std::out_of_range &) {
				    return 1;
			    }
		    },
		    1s);
		REQUIRE(f.done());
		CHECK(f.get() == 1);
	}
}

TEST_CASE("get() before the callable finished throws not_complete", "[cxx][errors]") {
	int ran = 0;
	auto f = inger::launch([&] { return ++ran; }, 0ms);
	REQUIRE(f.valid());
	REQUIRE_FALSE(f.done());
	CHECK(ran == 0);
	CHECK(error_of([&] { (void)f.get(); }) == inger::errc::not_complete);
	CHECK(f.valid()); // still usable

	REQUIRE(f.resume(inger::unlimited));
	CHECK(f.done());
	CHECK(f.get() == 1);
	CHECK(error_of([&] { (void)f.get(); }) == inger::errc::not_live);
	CHECK(error_of([&] { f.resume(1ms); }) == inger::errc::not_live);
	CHECK(error_of([&] { f.cancel(); }) == inger::errc::not_live);
}

TEST_CASE("inger::error is a std::system_error in inger::category()", "[cxx][errors]") {
	auto f = inger::launch([] { return 1; }, 0ms);
	try {
		(void)f.get();
		FAIL("no throw");
	} catch (const std::system_error &e) {
		CHECK(e.code().category() == inger::category());
		CHECK(e.code().value() == static_cast<int>(inger::errc::not_complete));
		CHECK(e.code() == inger::errc::not_complete);
		CHECK(std::string(e.what()).size() > 0);
	}
	CHECK(std::string(inger::category().name()).size() > 0);
	for (int v : {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 100, 101}) {
		std::error_code ec = static_cast<inger::errc>(v);
		CHECK(ec.message().size() > 0);
	}
	CHECK(inger::make_error_code(inger::errc::not_live) != inger::make_error_code(inger::errc::not_complete));
}

TEST_CASE("preemption through the C++ API", "[cxx][preempt]") {
	auto before = th::stats();
	spin_flag flag;
	auto f = inger::launch(
	    [&] {
		    spin_until(flag);
		    return flag.n.load();
	    },
	    1ms);
	REQUIRE_FALSE(f.done());
	long n = flag.n.load();
	CHECK(n > 0);
	CHECK_FALSE(f.resume(1000us));
	CHECK(flag.n.load() > n);
	CHECK_FALSE(f.resume(std::chrono::duration<double, std::milli>(1.5)));
	flag.stop = true;
	CHECK(f.resume(1ms));
	CHECK(f.done());
	CHECK(f.get() >= n);
	auto d = th::diff(before, th::stats());
	CHECK(d.preemptions == 3);
	CHECK(d.completions == 1);
	CHECK(d.live == 0);
}

TEST_CASE("inger::pause and inger::in_preemptible", "[cxx][pause]") {
	CHECK_FALSE(inger::in_preemptible());
	int step = 0;
	bool inside = false;
	auto f = inger::launch(
	    [&] {
		    inside = inger::in_preemptible();
		    step = 1;
		    inger::pause();
		    step = 2;
		    return step;
	    },
	    inger::unlimited);
	CHECK_FALSE(f.done());
	CHECK(step == 1);
	CHECK(inside);
	CHECK(f.resume(inger::unlimited));
	CHECK(f.get() == 2);
}

TEST_CASE("destroying an unfinished handle cancels it", "[cxx][cancel]") {
	auto before = th::stats();
	int after_pause = 0;
	{
		auto f = inger::launch(
		    [&] {
			    inger::pause();
			    after_pause = 1;
		    },
		    inger::unlimited);
		REQUIRE_FALSE(f.done());
		CHECK(th::diff(before, th::stats()).live == 1);
	}
	auto d = th::diff(before, th::stats());
	CHECK(d.cancels == 1);
	CHECK(d.live == 0);
	CHECK(after_pause == 0);

	// A set-up-only function too, and a preempted one.
	{
		auto f = inger::launch([] { return 1; }, 0ms);
		REQUIRE_FALSE(f.done());
	}
	{
		spin_flag flag;
		auto f = inger::launch([&] { spin_until(flag); }, 1ms);
		REQUIRE_FALSE(f.done());
	}
	d = th::diff(before, th::stats());
	CHECK(d.cancels == 3);
	CHECK(d.live == 0);
}

TEST_CASE("destroying a finished handle cancels nothing", "[cxx][cancel]") {
	auto before = th::stats();
	{
		auto f = inger::launch([] { return std::make_unique<int>(1); }, 1s);
		REQUIRE(f.done()); // never get()
	}
	{
		auto f = inger::launch([] { return 2; }, 1s);
		REQUIRE(f.get() == 2);
	}
	auto d = th::diff(before, th::stats());
	CHECK(d.cancels == 0);
	CHECK(d.completions == 2);
	CHECK(d.live == 0);
}

TEST_CASE("explicit cancel", "[cxx][cancel]") {
	auto before = th::stats();
	auto f = inger::launch([] { inger::pause(); return 1; }, inger::unlimited);
	REQUIRE_FALSE(f.done());
	f.cancel();
	CHECK_FALSE(f.valid());
	CHECK(error_of([&] { (void)f.get(); }) == inger::errc::not_live);
	CHECK(error_of([&] { f.resume(1ms); }) == inger::errc::not_live);
	auto d = th::diff(before, th::stats());
	CHECK(d.cancels == 1);
	CHECK(d.live == 0);

	// cancel() of a finished function is a no-op (nothing to cancel), and empties the handle.
	auto g = inger::launch([] { return 1; }, 1s);
	REQUIRE(g.done());
	g.cancel();
	CHECK_FALSE(g.valid());
	CHECK(th::diff(before, th::stats()).cancels == 1);
}

TEST_CASE("handles move - the moved-from one is empty", "[cxx][move]") {
	auto before = th::stats();
	auto f = inger::launch([] { inger::pause(); return std::string("moved"); }, inger::unlimited);
	REQUIRE_FALSE(f.done());

	inger::preemptible<std::string> g(std::move(f));
	CHECK_FALSE(f.valid());
	CHECK(g.valid());
	CHECK(error_of([&] { (void)f.get(); }) == inger::errc::not_live);
	CHECK(error_of([&] { f.resume(1ms); }) == inger::errc::not_live);

	inger::preemptible<std::string> h;
	CHECK_FALSE(h.valid());
	h = std::move(g);
	CHECK_FALSE(g.valid());
	REQUIRE(h.valid());
	CHECK(h.resume(inger::unlimited));
	CHECK(h.get() == "moved");
	auto d = th::diff(before, th::stats());
	CHECK(d.cancels == 0);
	CHECK(d.live == 0);

	// A handle stored in a container survives the container's reallocations.
	std::vector<inger::preemptible<int>> v;
	for (int i = 0; i < 50; ++i)
		v.push_back(inger::launch([i] { inger::pause(); return i * i; }, inger::unlimited));
	for (int i = 0; i < 50; ++i) {
		REQUIRE(v[i].resume(inger::unlimited));
		CHECK(v[i].get() == i * i);
	}
	CHECK(th::diff(before, th::stats()).live == 0);
}

TEST_CASE("move-assigning onto a live handle cancels its old function", "[cxx][move][cancel]") {
	auto before = th::stats();
	int old_finished = 0;
	auto a = inger::launch([&] { inger::pause(); old_finished = 1; return 1; }, inger::unlimited);
	auto b = inger::launch([] { inger::pause(); return 2; }, inger::unlimited);
	REQUIRE_FALSE(a.done());
	REQUIRE_FALSE(b.done());
	a = std::move(b);
	auto d = th::diff(before, th::stats());
	CHECK(d.cancels == 1);
	CHECK(d.live == 1);
	CHECK(a.resume(inger::unlimited));
	CHECK(a.get() == 2);
	CHECK(old_finished == 0);
	CHECK(th::diff(before, th::stats()).live == 0);
}

TEST_CASE("negative budgets are rejected with std::invalid_argument", "[cxx][errors]") {
	auto before = th::stats();
	int ran = 0;
	CHECK_THROWS_AS(inger::launch([&] { ++ran; }, -1ms), std::invalid_argument);
	CHECK_THROWS_AS(inger::launch([&] { ++ran; }, std::chrono::duration<double>(-0.5)), std::invalid_argument);
	CHECK(ran == 0);
	CHECK(th::diff(before, th::stats()).launches == 0);

	auto f = inger::launch([&] { return ++ran; }, 0ms);
	CHECK_THROWS_AS(f.resume(-1us), std::invalid_argument);
	CHECK(ran == 0);
	REQUIRE(f.valid());
	CHECK(f.resume(1s));
	CHECK(f.get() == 1);
}

TEST_CASE("budgets of any duration type", "[cxx]") {
	// Sub-microsecond budgets round up (never to 0, which would mean "set up only").
	auto f = inger::launch([] { return 3; }, 1ns);
	auto g = inger::launch([] { return 4; }, std::chrono::duration<double>(0.25));
	auto h = inger::launch([] { return 5; }, std::chrono::hours(1));
	auto u = inger::launch([] { return 6; }, std::chrono::duration<double>(1e300));
	// A trivial callable finishes within 1 us essentially always; what matters is that it
	// was started at all.
	if (f.done())
		CHECK(f.get() == 3);
	else
		CHECK(f.resume(inger::unlimited));
	CHECK(g.done());
	CHECK(h.done());
	CHECK(u.done());
	CHECK(g.get() == 4);
	CHECK(h.get() == 5);
	CHECK(u.get() == 6);
}

TEST_CASE("resuming itself throws running, and only inside", "[cxx][errors]") {
	inger::preemptible<int> *self = nullptr;
	inger::errc seen = static_cast<inger::errc>(-1);
	auto f = inger::launch(
	    [&] {
		    seen = error_of([&] { self->resume(1ms); });
		    return 1;
	    },
	    0ms);
	self = &f;
	bool finished = false;
	// The inner failure must not leak into the outer, successful resume.
	CHECK_NOTHROW(finished = f.resume(inger::unlimited));
	CHECK(seen == inger::errc::running);
	REQUIRE(f.done());
	CHECK(finished);
	CHECK(f.get() == 1);
}
