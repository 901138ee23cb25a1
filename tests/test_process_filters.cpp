// Dispatch filters: FUTURE_DISPATCH, DROP_DISPATCH(ES), EXPECT_NO_FUTURE_DISPATCHES, spoofing,
// and a custom filter().
#include <turquoise/async/testing.hpp>
#include <turquoise/process/dispatch.hpp>
#include <turquoise/process/filter.hpp>
#include <turquoise/process/process.hpp>
#include <turquoise/process/testing.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>

using namespace turquoise;
using namespace std::chrono_literals;

namespace {

class Target : public Process<Target> {
public:
	std::atomic<int> a_calls{0};
	std::atomic<int> b_calls{0};
	std::atomic<int> last{0};
	void a(int v) {
		a_calls++;
		last = v;
	}
	int b() { return ++b_calls; }
};

// Clears the global expectations when a test ends (even by a failed REQUIRE).
struct Clear {
	~Clear() { turquoise::testing::clear_dispatch_expectations(); }
};

} // namespace

TEST_CASE("FUTURE_DISPATCH becomes ready when the dispatch is delivered, which still runs") {
	Clear clear;
	Target t;
	PID<Target> pid = spawn(t);
	Future<Nothing> first = FUTURE_DISPATCH(pid, &Target::a);
	Future<Nothing> second = FUTURE_DISPATCH(pid, &Target::a);
	Future<Nothing> on_b = FUTURE_DISPATCH(pid, &Target::b);
	CHECK(first.isPending());
	AWAIT_EXPECT_EQ(1, dispatch(pid, &Target::b));
	AWAIT_READY(on_b);
	CHECK(first.isPending());
	dispatch(pid, &Target::a, 1);
	AWAIT_READY(first);
	CHECK(second.isPending()); // one dispatch satisfies one expectation, oldest first
	dispatch(pid, &Target::a, 2);
	AWAIT_READY(second);
	AWAIT_READY(dispatch(pid, [] {}));
	CHECK(t.a_calls == 2);
	CHECK(t.last == 2);
	terminate(pid);
	REQUIRE(wait(pid, 15s));
}

TEST_CASE("DROP_DISPATCH drops the next matching dispatch only") {
	Clear clear;
	Target t;
	PID<Target> pid = spawn(t);
	Future<Nothing> dropped = DROP_DISPATCH(pid, &Target::b);
	auto before = t.stats().dropped;
	Future<int> lost = dispatch(pid, &Target::b);
	AWAIT_READY(dropped);
	AWAIT_ABANDONED(lost);
	AWAIT_EXPECT_EQ(1, dispatch(pid, &Target::b)); // the next one runs
	CHECK(t.stats().dropped == before + 1);
	terminate(pid);
	REQUIRE(wait(pid, 15s));
}

TEST_CASE("DROP_DISPATCHES drops all matching dispatches, SPOOF_DISPATCH bypasses it") {
	Clear clear;
	Target t, other;
	PID<Target> pid = spawn(t);
	PID<Target> other_pid = spawn(other);
	auto dropping = DROP_DISPATCHES(pid, &Target::a);
	for (int i = 0; i < 5; ++i)
		dispatch(pid, &Target::a, i);
	AWAIT_READY(dispatch(pid, [] {}));
	CHECK(t.a_calls == 0);
	CHECK(dropping.count() == 5);
	// Other methods and other processes are unaffected.
	AWAIT_EXPECT_EQ(1, dispatch(pid, &Target::b));
	AWAIT_READY(dispatch(other_pid, &Target::a, 7));
	CHECK(other.a_calls == 1);
	// A spoofed dispatch is not filtered.
	AWAIT_READY(SPOOF_DISPATCH(pid, &Target::a, 42));
	CHECK(t.a_calls == 1);
	CHECK(t.last == 42);
	CHECK(dropping.count() == 5);
	AWAIT_EXPECT_EQ(1, SPOOF_DISPATCH(pid, [&t] { return t.b_calls.load(); }));
	dropping.cancel();
	AWAIT_READY(dispatch(pid, &Target::a, 8));
	CHECK(t.last == 8);
	terminate(pid);
	terminate(other_pid);
	REQUIRE(wait(pid, 15s));
	REQUIRE(wait(other_pid, 15s));
}

TEST_CASE("EXPECT_NO_FUTURE_DISPATCHES counts matching dispatches without dropping them") {
	Clear clear;
	Target t;
	PID<Target> pid = spawn(t);
	auto none = EXPECT_NO_FUTURE_DISPATCHES(pid, &Target::a);
	auto some = EXPECT_NO_FUTURE_DISPATCHES(turquoise::testing::any_process, &Target::b);
	AWAIT_EXPECT_EQ(1, dispatch(pid, &Target::b));
	AWAIT_EXPECT_EQ(2, dispatch(pid, &Target::b));
	CHECK(none.count() == 0);
	CHECK(some.count() == 2);
	// Watches do not consume: a FUTURE_DISPATCH set alongside is still satisfied.
	Future<Nothing> f = FUTURE_DISPATCH(pid, &Target::b);
	AWAIT_EXPECT_EQ(3, dispatch(pid, &Target::b));
	AWAIT_READY(f);
	CHECK(some.count() == 3);
	terminate(pid);
	REQUIRE(wait(pid, 15s));
}

TEST_CASE("lambda dispatches match a null method, any_process matches every process") {
	Clear clear;
	Target t1, t2;
	PID<Target> p1 = spawn(t1), p2 = spawn(t2);
	Future<Nothing> lambda_seen = FUTURE_DISPATCH(p2, nullptr);
	Future<Nothing> any_a = DROP_DISPATCH(turquoise::testing::any_process, &Target::a);
	dispatch(p2, &Target::a, 1); // dropped by the wildcard expectation
	std::atomic<int> ran{0};
	AWAIT_READY(dispatch(p2, [&] { ran++; }));
	AWAIT_READY(lambda_seen);
	AWAIT_READY(any_a);
	CHECK(ran == 1);
	CHECK(t2.a_calls == 0);
	AWAIT_READY(dispatch(p1, &Target::a, 3));
	CHECK(t1.a_calls == 1);
	terminate(p1);
	terminate(p2);
	REQUIRE(wait(p1, 15s));
	REQUIRE(wait(p2, 15s));
}

TEST_CASE("a custom filter sees each dispatch with its receiver and method") {
	class DropOdd : public Filter {
	public:
		std::atomic<int> seen{0};
		bool filter(const UPID &, const DispatchEvent &e) override {
			seen++;
			return e.is(&Target::a) && (seen % 2 == 1);
		}
	};
	DropOdd f;
	Target t;
	PID<Target> pid = spawn(t);
	filter(&f);
	for (int i = 0; i < 10; ++i)
		dispatch(pid, &Target::a, i);
	AWAIT_READY(dispatch(pid, [] {}));
	filter(nullptr);
	CHECK(f.seen == 11);
	CHECK(t.a_calls == 5);
	AWAIT_READY(dispatch(pid, &Target::a, 99));
	CHECK(f.seen == 11);
	CHECK(t.a_calls == 6);
	terminate(pid);
	REQUIRE(wait(pid, 15s));
}

TEST_CASE("an expectation can be set from the callback of another one") {
	Clear clear;
	Target t;
	PID<Target> pid = spawn(t);
	Future<Nothing> b_after_a = FUTURE_DISPATCH(pid, &Target::a).then([pid] {
		// Runs on the worker, inside the filter; sets the next expectation.
		return FUTURE_DISPATCH(pid, &Target::b);
	});
	dispatch(pid, &Target::a, 1);
	AWAIT_READY(dispatch(pid, [] {}));
	CHECK(b_after_a.isPending());
	AWAIT_EXPECT_EQ(1, dispatch(pid, &Target::b));
	AWAIT_READY(b_after_a);
	terminate(pid);
	REQUIRE(wait(pid, 15s));
}
