// dispatch (results, failures, futures), defer, delay on a paused Clock, async.
#include <turquoise/async/testing.hpp>
#include <turquoise/pool.hpp>
#include <turquoise/process/dispatch.hpp>
#include <turquoise/process/process.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace turquoise;
using namespace std::chrono_literals;

namespace {

class Calc : public Process<Calc> {
public:
	int total = 0;
	std::vector<std::string> calls;

	int add(int n) { return total += n; }
	void reset() { total = 0; }
	int get() const { return total; }
	std::string concat(const std::string &a, std::string b) { return a + b; }
	void bump(int &out) { out += 1; } // non-const lvalue parameter: gets the stored copy
	std::size_t take(std::unique_ptr<int> p) { return p ? static_cast<std::size_t>(*p) : 0u; }
	int fail(const std::string &why) { throw std::runtime_error(why); }
	Future<int> later(Future<int> f) {
		return f.then([this](int v) { return v + total; });
	}
	Future<std::string> chained(int n) {
		return dispatch(self(), &Calc::add, n).then([](int v) { return std::to_string(v); });
	}
	void tick(const std::string &tag) { calls.push_back(tag); }
	std::vector<std::string> log() { return calls; }

	// defer: continue in this process's context when `f` is ready.
	Future<int> add_when(Future<int> f) {
		return f.then(defer(self(), [this](const int &v) {
			// Runs in the process's context: touching `total` needs no lock.
			return total += v;
		}));
	}
};

class Base : public Process<Base> {
public:
	virtual std::string name() { return "base"; }
};
class Derived : public Base {
public:
	std::string name() override { return "derived"; }
	int only_derived() { return 7; }
};

} // namespace

TEST_CASE("dispatch returns the method's result as a future") {
	Calc c;
	PID<Calc> pid = spawn(c);
	AWAIT_EXPECT_EQ(2, dispatch(pid, &Calc::add, 2));
	AWAIT_EXPECT_EQ(5, dispatch(pid, &Calc::add, 3));
	AWAIT_EXPECT_EQ(5, dispatch(pid, &Calc::get));            // const method
	Future<Nothing> reset = dispatch(pid, &Calc::reset);       // void -> Nothing
	AWAIT_READY(reset);
	AWAIT_EXPECT_EQ(0, dispatch(pid, &Calc::get));
	AWAIT_EXPECT_EQ(std::string("ab"), dispatch(pid, &Calc::concat, "a", std::string("b")));
	AWAIT_EXPECT_EQ(std::size_t(42), dispatch(pid, &Calc::take, std::make_unique<int>(42)));
	int outside = 10;
	AWAIT_READY(dispatch(pid, &Calc::bump, outside));
	CHECK(outside == 10); // the argument was copied at dispatch
	// Through the Process object itself, and a lambda.
	AWAIT_EXPECT_EQ(1, dispatch(c, &Calc::add, 1));
	AWAIT_EXPECT_EQ(2, dispatch(&c, &Calc::add, 1));
	AWAIT_EXPECT_EQ(6, dispatch(pid, [&c](int k) { return c.total * k; }, 3));
	terminate(pid);
	REQUIRE(wait(pid, 15s));
}

TEST_CASE("dispatch: exceptions fail the future, returned futures are followed") {
	Calc c;
	PID<Calc> pid = spawn(c);
	AWAIT_EXPECT_FAILED_WITH(dispatch(pid, &Calc::fail, std::string("boom")), "boom");
	AWAIT_EXPECT_FAILED_WITH(dispatch(pid, [] { throw std::logic_error("lambda boom"); }), "lambda boom");
	Future<Nothing> discarded = dispatch(pid, [] { throw FutureDiscarded(); });
	AWAIT_DISCARDED(discarded);

	// A method returning Future<int>: the dispatch's future follows it.
	Promise<int> p;
	AWAIT_READY(dispatch(pid, &Calc::add, 10));
	Future<int> r = dispatch(pid, &Calc::later, p.future());
	// Its handler returned; the result still waits for p.
	AWAIT_READY(dispatch(pid, [] {}));
	CHECK(r.isPending());
	p.set(5);
	AWAIT_EXPECT_EQ(15, r);
	Promise<int> q;
	Future<int> rf = dispatch(pid, &Calc::later, q.future());
	q.fail("upstream");
	AWAIT_EXPECT_FAILED_WITH(rf, "upstream");
	AWAIT_EXPECT_EQ(std::string("11"), dispatch(pid, &Calc::chained, 1));
	// A process dispatching to itself from a handler is queued, not run inline: no deadlock.
	terminate(pid);
	REQUIRE(wait(pid, 15s));
}

TEST_CASE("dispatch through a base-class PID reaches the derived process") {
	Derived d;
	PID<Derived> pid = spawn(d);
	PID<Base> base = pid;
	AWAIT_EXPECT_EQ(std::string("derived"), dispatch(base, &Base::name));
	AWAIT_EXPECT_EQ(7, dispatch(pid, &Derived::only_derived));
	// A PID<Derived> made from the text of another process's pid fails the dispatch.
	Calc other;
	UPID other_pid = spawn(other);
	PID<Derived> wrong(UPID::parse(other_pid.str()));
	AWAIT_FAILED(dispatch(wrong, &Derived::only_derived));
	terminate(pid);
	terminate(other_pid);
	REQUIRE(wait(pid, 15s));
	REQUIRE(wait(other_pid, 15s));
}

TEST_CASE("defer continues a future in the process's context") {
	Calc c;
	PID<Calc> pid = spawn(c);
	Promise<int> p;
	Future<int> r = dispatch(pid, &Calc::add_when, p.future());
	AWAIT_READY(dispatch(pid, [] {}));
	CHECK(r.isPending());
	// Completed from the test thread, the continuation still runs inside the process.
	std::thread([&] { p.set(4); }).join();
	AWAIT_EXPECT_EQ(4, r);
	AWAIT_EXPECT_EQ(4, dispatch(pid, &Calc::get));

	// defer with a method and bound arguments; call-time arguments are appended.
	auto add = defer(pid, &Calc::add);
	AWAIT_EXPECT_EQ(6, add(2));
	auto add_three = defer(pid, &Calc::add, 3);
	AWAIT_EXPECT_EQ(9, add_three());
	Future<int> chained = Future<int>(1).then(defer(pid, &Calc::add));
	AWAIT_EXPECT_EQ(10, chained);

	// The deferred lambda runs on the process: it sees pool::current() and its handlers
	// serialize with the process's other messages.
	std::atomic<bool> on_pool{false};
	Future<Nothing> seen = Future<int>(0).then(defer(pid, [&](int) { on_pool = pool::current() != nullptr; }));
	AWAIT_READY(seen);
	CHECK(on_pool);

	// A deferred call to a terminated process is dropped: the chain is abandoned.
	terminate(pid);
	REQUIRE(wait(pid, 15s));
	Future<int> dead = Future<int>(1).then(defer(pid, &Calc::add));
	AWAIT_ABANDONED(dead);
}

TEST_CASE("delay dispatches after a paused Clock is advanced") {
	Clock::pause();
	Calc c;
	PID<Calc> pid = spawn(c);
	delay(100ms, pid, &Calc::tick, std::string("100ms"));
	delay(50ms, pid, &Calc::tick, std::string("50ms"));
	Timer cancelled = delay(60ms, pid, &Calc::tick, std::string("cancelled"));
	std::atomic<int> lambda_runs{0};
	delay(1s, pid, [&] { lambda_runs++; });

	REQUIRE(ProcessManager::settle());
	AWAIT_ASSERT_EQ(std::vector<std::string>{}, dispatch(pid, &Calc::log));

	Clock::advance(55ms);
	REQUIRE(ProcessManager::settle());
	AWAIT_ASSERT_EQ(std::vector<std::string>{"50ms"}, dispatch(pid, &Calc::log));

	CHECK(Clock::cancel(cancelled));
	Clock::advance(50ms);
	REQUIRE(ProcessManager::settle());
	AWAIT_ASSERT_EQ((std::vector<std::string>{"50ms", "100ms"}), dispatch(pid, &Calc::log));
	CHECK(lambda_runs == 0);

	Clock::advance(1s);
	REQUIRE(ProcessManager::settle());
	CHECK(lambda_runs == 1);
	Clock::resume();
	terminate(pid);
	REQUIRE(wait(pid, 15s));
}

TEST_CASE("async runs on the runtime's pool and returns a future") {
	pool p(pool_options{.workers = 2});
	runtime_scope scope(p);
	AWAIT_EXPECT_EQ(42, turquoise::async([](int a, int b) { return a * b; }, 6, 7));
	Future<bool> where = turquoise::async([&] { return pool::current() == &p; });
	AWAIT_EXPECT_EQ(true, where);
	AWAIT_EXPECT_FAILED_WITH(turquoise::async([]() -> int { throw std::runtime_error("async boom"); }),
	                         "async boom");
	Future<Nothing> v = turquoise::async([] {});
	AWAIT_READY(v);
	// A Future result is followed.
	Promise<int> pr;
	Future<int> followed = turquoise::async([f = pr.future()] { return f; });
	AWAIT_READY(turquoise::async([] {})); // (let it run)
	pr.set(3);
	AWAIT_EXPECT_EQ(3, followed);
	// Many calls, no thread per call: they all complete on the pool's two workers.
	std::vector<Future<int>> many;
	for (int i = 0; i < 1000; ++i)
		many.push_back(turquoise::async([i] { return i; }));
	for (int i = 0; i < 1000; ++i)
		AWAIT_EXPECT_EQ(i, many[i]);
}
