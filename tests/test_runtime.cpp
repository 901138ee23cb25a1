// The runtime object (turquoise/runtime.hpp): one pool for processes, Clock timers and io,
// installed by one scope; the environment read in one place, invalid values refused.
#include <catch2/catch.hpp>

#include <turquoise/async/testing.hpp>
#include <turquoise/process/dispatch.hpp>
#include <turquoise/process/process.hpp>
#include <turquoise/runtime.hpp>
#include <turquoise/util/io.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <unistd.h>

using namespace std::chrono_literals;
using namespace turquoise;

namespace {

// Sets (or, with nullptr, unsets) a variable for the scope; restores it afterwards.
class env_var {
public:
	env_var(const char *name, const char *value) : name_(name) {
		if (const char *old = std::getenv(name))
			old_ = old, had_ = true;
		value ? setenv(name, value, 1) : unsetenv(name);
	}
	~env_var() { had_ ? setenv(name_, old_.c_str(), 1) : unsetenv(name_); }

private:
	const char *name_;
	std::string old_;
	bool had_ = false;
};

std::string rejection(const char *name, const char *value) {
	env_var v(name, value);
	try {
		runtime_options::from_environment();
	} catch (const std::invalid_argument &e) {
		return e.what();
	}
	return "accepted";
}

struct Probe : Process<Probe> {
	std::atomic<pool *> ran_on{nullptr};
	void tick() { ran_on = pool::current(); }
};

} // namespace

TEST_CASE("from_environment reads LIBPROCESS_NUM_WORKER_THREADS, INGER_QUANTUM_US, INGER_FAIRNESS") {
	env_var w("LIBPROCESS_NUM_WORKER_THREADS", "3"), q("INGER_QUANTUM_US", "250"),
	    f("INGER_FAIRNESS", "4");
	runtime_options o = runtime_options::from_environment();
	CHECK(o.pool.workers == 3);
	CHECK(o.pool.quantum == 250us);
	CHECK(o.pool.fairness == 4);
	env_var off("INGER_QUANTUM_US", "off");
	CHECK(runtime_options::from_environment().pool.quantum == no_preemption);
}

TEST_CASE("unset or empty variables leave the defaults (the API's values) alone") {
	env_var w("LIBPROCESS_NUM_WORKER_THREADS", ""), q("INGER_QUANTUM_US", nullptr),
	    f("INGER_FAIRNESS", nullptr);
	runtime_options defaults;
	defaults.pool.workers = 5;
	defaults.pool.quantum = 123us;
	runtime_options o = runtime_options::from_environment(defaults);
	CHECK(o.pool.workers == 5);
	CHECK(o.pool.quantum == 123us);
	CHECK(o.pool.fairness == defaults.pool.fairness);
}

TEST_CASE("an invalid value is an error naming the variable, the value and what is expected") {
	for (const char *bad : {"abc", "0", "-1", " 2", "2x", "1025", "99999999999999999999999"}) {
		std::string why = rejection("LIBPROCESS_NUM_WORKER_THREADS", bad);
		INFO(bad << ": " << why);
		CHECK(why.find("LIBPROCESS_NUM_WORKER_THREADS=\"" + std::string(bad) + "\"") != std::string::npos);
		CHECK(why.find("from 1 to 1024") != std::string::npos);
	}
	CHECK(rejection("INGER_QUANTUM_US", "fast").find("or \"off\"") != std::string::npos);
	CHECK(rejection("INGER_FAIRNESS", "0").find("INGER_FAIRNESS") != std::string::npos);
	CHECK(rejection("INGER_FAIRNESS", "8") == "accepted");
}

TEST_CASE("a runtime built from options owns its pool") {
	runtime_options o;
	o.pool.workers = 2;
	o.pool.quantum = 300us;
	runtime rt(o);
	CHECK(rt.workers().size() == 2);
	CHECK(rt.workers().quantum() == 300us);
}

TEST_CASE("one scope puts processes, delay(), Clock timers, after() and io on one pool") {
	runtime rt(runtime_options{.pool = {.workers = 2, .quantum = 500us}});
	pool *mine = &rt.workers();
	{
		Probe probe; // outlives the scope, which terminates it
		runtime_scope scope(rt);
		CHECK(&runtime::current() == &rt);
		CHECK(&ProcessManager::workers() == mine);
		CHECK(&io::reactor() == mine);

		auto pid = spawn(probe);
		delay(1ms, pid, &Probe::tick);
		std::atomic<pool *> timer_on{nullptr}, after_on{nullptr};
		Promise<Nothing> fired;
		Clock::timer(1ms, [&] {
			timer_on = pool::current();
			fired.set();
		});
		AWAIT_READY(fired.future());
		Clock::pause(); // so the callback is registered before the future can be ready
		Future<Nothing> later = turquoise::after(1s);
		Promise<Nothing> after_ran; // a future is ready before its callbacks have run
		later.onReady([&] {
			after_on = pool::current();
			after_ran.set();
		});
		Clock::advance(1s);
		Clock::settle();
		Clock::resume();
		AWAIT_READY(later);
		AWAIT_READY(after_ran.future());
		for (int i = 0; i < 5000 && probe.ran_on.load() == nullptr; ++i)
			std::this_thread::sleep_for(1ms);
		CHECK(probe.ran_on.load() == mine); // the dispatch delay() made
		CHECK(timer_on.load() == mine);     // not a plain (unpreemptible) timer thread
		CHECK(after_on.load() == mine);
		int fds[2];
		REQUIRE(pipe(fds) == 0);
		std::atomic<pool *> read_on{nullptr};
		Future<std::string> got = io::read(fds[0]);
		Promise<Nothing> read_ran;
		got.onReady([&] { // before the data: runs where the read completes
			read_on = pool::current();
			read_ran.set();
		});
		REQUIRE(write(fds[1], "x", 1) == 1);
		close(fds[1]);
		AWAIT_EXPECT_EQ(std::string("x"), got);
		AWAIT_READY(read_ran.future()); // CI once checked read_on before the callback had run
		close(fds[0]);
		CHECK(read_on.load() == mine);
	} // terminates `probe`
	CHECK(&runtime::current() == &runtime::standard());
	CHECK(&ProcessManager::workers() != mine);
}

TEST_CASE("scopes nest: the innermost wins, and leaving it reinstalls the outer one") {
	runtime outer(runtime_options{.pool = {.workers = 1}});
	runtime inner(runtime_options{.pool = {.workers = 1}});
	runtime_scope a(outer);
	{
		runtime_scope b(inner);
		CHECK(&runtime::current() == &inner);
	}
	CHECK(&runtime::current() == &outer);
	std::atomic<pool *> on{nullptr};
	Promise<Nothing> fired;
	Clock::timer(1ms, [&] {
		on = pool::current();
		fired.set();
	});
	AWAIT_READY(fired.future());
	CHECK(on.load() == &outer.workers());
}

TEST_CASE("without a scope the default runtime runs timers, and initialize() makes it") {
	initialize();
	CHECK(&runtime::current() == &runtime::standard());
	std::atomic<pool *> on{nullptr};
	Promise<Nothing> fired;
	Clock::timer(1ms, [&] {
		on = pool::current();
		fired.set();
	});
	AWAIT_READY(fired.future());
	CHECK(on.load() == &runtime::standard().workers());
}
