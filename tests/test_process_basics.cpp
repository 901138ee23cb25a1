// Processes: spawn, terminate, wait, initialize/finalize, self, managed processes, wrappers.
#include <turquoise/async/testing.hpp>
#include <turquoise/pool.hpp>
#include <turquoise/process/dispatch.hpp>
#include <turquoise/process/process.hpp>
#include <turquoise/process/wrapper.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace turquoise;
using namespace std::chrono_literals;

namespace {

// Records the order of its hooks and messages (read only after it terminated).
class Recorder : public Process<Recorder> {
public:
	explicit Recorder(std::string id = "") : ProcessBase(id.empty() ? ID::generate("recorder") : id) {}

	std::vector<std::string> log;
	UPID self_in_initialize;
	UPID self_in_handler;
	std::thread::id initialize_thread;

	void note(const std::string &what) { log.push_back(what); }
	UPID who() {
		self_in_handler = self();
		return self();
	}

protected:
	void initialize() override {
		self_in_initialize = self();
		log.push_back("initialize");
	}
	void finalize() override { log.push_back("finalize"); }
};

std::atomic<int> managed_destroyed{0};

class Managed : public Process<Managed> {
public:
	~Managed() override { managed_destroyed++; }
	int ping() { return 1; }
};

// Blocks its first message until `open` is set (test-controlled gate).
class Gated : public Process<Gated> {
public:
	std::atomic<bool> open{false};
	std::atomic<bool> entered{false};
	std::vector<int> seen;
	void hold() {
		entered = true;
		while (!open.load())
			std::this_thread::sleep_for(100us);
	}
	void add(int n) { seen.push_back(n); }
	std::vector<int> values() { return seen; }

protected:
	void finalize() override { seen.push_back(-1); }
};

} // namespace

TEST_CASE("spawn runs initialize before any message and finalize on terminate") {
	Recorder r;
	PID<Recorder> pid = spawn(r);
	REQUIRE(pid);
	CHECK(pid.id == r.self().id);
	dispatch(pid, &Recorder::note, std::string("a"));
	dispatch(pid, &Recorder::note, std::string("b"));
	Future<UPID> who = dispatch(pid, &Recorder::who);
	AWAIT_READY(who);
	CHECK(who.get() == pid);
	terminate(pid, false); // behind the queued messages
	REQUIRE(wait(pid, 15s));
	REQUIRE(r.log == std::vector<std::string>{"initialize", "a", "b", "finalize"});
	CHECK(r.self_in_initialize == pid);
	CHECK(r.self_in_handler == pid);
	CHECK(ProcessManager::live() == 0);
}

TEST_CASE("self() is stable and typed, UPIDs print and parse as id@host:port") {
	Recorder r("fixed-id");
	PID<Recorder> before = r.self();
	CHECK(before.id == "fixed-id");
	PID<Recorder> pid = spawn(r);
	CHECK(pid == before);
	CHECK(pid.str() == "fixed-id@127.0.0.1:0");
	UPID parsed = UPID::parse(pid.str());
	CHECK(parsed == pid);
	CHECK_FALSE(UPID::parse("x@host:notaport"));
	CHECK_FALSE(UPID());
	// A UPID made from text reaches the process through the registry.
	Future<Nothing> f = dispatch(parsed, [] {});
	AWAIT_READY(f);
	terminate(pid);
	REQUIRE(wait(pid, 15s));
}

TEST_CASE("generated ids are unique, a duplicate id cannot be spawned") {
	CHECK(ID::generate("x") != ID::generate("x"));
	Recorder a("dup"), b("dup");
	UPID pa = spawn(a);
	REQUIRE(pa);
	CHECK_FALSE(spawn(a)); // running already
	UPID pb = spawn(b);
	CHECK_FALSE(pb);
	terminate(pa);
	REQUIRE(wait(pa, 15s));
	// Once terminated, the id is free again; the old pid does not reach the new process.
	UPID again = spawn(b);
	REQUIRE(again);
	CHECK(again == pa);
	std::atomic<int> via_old{0};
	Future<Nothing> old = dispatch(pa, [&] { via_old++; });
	AWAIT_ABANDONED(old);
	CHECK(via_old == 0);
	Future<Nothing> fresh = dispatch(again, [&] { via_old++; });
	AWAIT_READY(fresh);
	terminate(again);
	REQUIRE(wait(again, 15s));
	// A terminated process can be spawned again: initialize() runs anew.
	UPID third = spawn(a);
	REQUIRE(third);
	terminate(third);
	REQUIRE(wait(third, 15s));
	CHECK(a.log == std::vector<std::string>{"initialize", "finalize", "initialize", "finalize"});
}

TEST_CASE("terminate with inject runs ahead of queued messages, which are dropped") {
	Gated g;
	PID<Gated> pid = spawn(g);
	dispatch(pid, &Gated::hold);
	for (int i = 0; i < 5; ++i)
		dispatch(pid, &Gated::add, i);
	Future<std::vector<int>> late = dispatch(pid, &Gated::values);
	while (!g.entered.load())
		std::this_thread::sleep_for(100us);
	terminate(pid); // inject: ahead of the five adds
	g.open = true;
	REQUIRE(wait(pid, 15s));
	CHECK(g.seen == std::vector<int>{-1});
	AWAIT_ABANDONED(late);
}

TEST_CASE("terminate without inject lets queued messages run first") {
	Gated g;
	PID<Gated> pid = spawn(g);
	dispatch(pid, &Gated::hold);
	for (int i = 0; i < 5; ++i)
		dispatch(pid, &Gated::add, i);
	terminate(pid, false);
	Future<std::vector<int>> after = dispatch(pid, &Gated::values); // behind the terminate
	g.open = true;
	REQUIRE(wait(pid, 15s));
	CHECK(g.seen == std::vector<int>{0, 1, 2, 3, 4, -1});
	AWAIT_ABANDONED(after);
	// Messages to a terminated process are dropped too.
	auto before = ProcessManager::stats().dropped;
	Future<Nothing> dead = dispatch(pid, &Gated::add, 9);
	AWAIT_ABANDONED(dead);
	CHECK(ProcessManager::stats().dropped > before);
}

TEST_CASE("wait with a timeout, when_terminated, unknown pids") {
	Gated g;
	PID<Gated> pid = spawn(g);
	dispatch(pid, &Gated::hold);
	Future<Nothing> done = when_terminated(pid);
	CHECK(done.isPending());
	while (!g.entered.load())
		std::this_thread::sleep_for(100us);
	terminate(pid);
	CHECK_FALSE(wait(pid, 20ms)); // the handler holds the process
	g.open = true;
	AWAIT_READY(done);
	CHECK(wait(pid, 15s));
	CHECK(wait(UPID("no-such-process"), 1s));
	CHECK(when_terminated(UPID("no-such-process")).isReady());
	terminate(UPID("no-such-process")); // no-op
}

TEST_CASE("wait() inside a pool task throws instead of blocking the worker") {
	Recorder r;
	PID<Recorder> pid = spawn(r);
	Future<bool> threw = dispatch(pid, [pid] {
		try {
			wait(pid, 1s);
			return false;
		} catch (const std::logic_error &) {
			return true;
		}
	});
	AWAIT_ASSERT_EQ(true, threw);
	terminate(pid);
	REQUIRE(wait(pid, 15s));
}

TEST_CASE("a managed process is deleted by the runtime after it terminates") {
	managed_destroyed = 0;
	PID<Managed> pid = spawn(new Managed(), true);
	REQUIRE(pid);
	AWAIT_ASSERT_EQ(1, dispatch(pid, &Managed::ping));
	terminate(pid);
	REQUIRE(wait(pid, 15s));
	CHECK(managed_destroyed == 1); // deleted before waiters are woken
	// A managed process whose spawn fails is deleted at once.
	Managed keep;
	UPID kept = spawn(keep);
	REQUIRE(kept);
	struct Named : Managed {
		explicit Named(const std::string &id) : ProcessBase(id) {}
	};
	CHECK_FALSE(spawn(new Named(kept.id), true));
	CHECK(managed_destroyed == 2);
	terminate(kept);
	REQUIRE(wait(kept, 15s));
}

TEST_CASE("many processes run concurrently, each one message at a time") {
	// Each process checks that no two of its handlers overlap.
	class Exclusive : public Process<Exclusive> {
	public:
		std::atomic<int> inside{0};
		std::atomic<int> overlaps{0};
		int count = 0;
		void step() {
			if (inside.fetch_add(1) != 0)
				overlaps++;
			for (int i = 0; i < 2000; ++i)
				asm volatile("" ::: "memory");
			++count;
			inside.fetch_sub(1);
		}
	};
	constexpr int processes = 16, messages = 500;
	std::vector<std::unique_ptr<Exclusive>> ps;
	std::vector<PID<Exclusive>> pids;
	for (int i = 0; i < processes; ++i) {
		ps.push_back(std::make_unique<Exclusive>());
		pids.push_back(spawn(*ps.back()));
	}
	// Senders from several threads at once.
	std::vector<std::thread> senders;
	for (int t = 0; t < 4; ++t)
		senders.emplace_back([&] {
			for (int m = 0; m < messages / 4; ++m)
				for (auto &pid : pids)
					dispatch(pid, &Exclusive::step);
		});
	for (auto &t : senders)
		t.join();
	for (auto &pid : pids)
		terminate(pid, false);
	for (auto &pid : pids)
		REQUIRE(wait(pid, 30s));
	for (auto &p : ps) {
		CHECK(p->overlaps == 0);
		CHECK(p->count == messages);
		CHECK(p->stats().messages == static_cast<std::uint64_t>(messages));
	}
}

TEST_CASE("each sender's messages run in the order it sent them") {
	// Several senders at once, outside the pool and from pool tasks: the mailbox takes
	// messages in batches in whatever order senders raced, and must still hand each sender's
	// messages over in that sender's order.
	class Sequence : public Process<Sequence> {
	public:
		std::vector<std::vector<int>> got = std::vector<std::vector<int>>(8);
		void add(int sender, int n) { got[static_cast<std::size_t>(sender)].push_back(n); }
	};
	constexpr int threads = 4, tasks = 4, per_sender = 5000;
	pool workers(pool_options{2});
	runtime_scope scope(workers);
	Sequence seq;
	PID<Sequence> pid = spawn(seq);
	std::atomic<int> tasks_done{0};
	std::vector<std::thread> senders;
	for (int t = 0; t < threads; ++t)
		senders.emplace_back([&, t] {
			for (int n = 0; n < per_sender; ++n)
				dispatch(pid, &Sequence::add, t, n);
		});
	for (int k = 0; k < tasks; ++k)
		workers.post([&, k] {
			for (int n = 0; n < per_sender; ++n)
				dispatch(pid, &Sequence::add, threads + k, n);
			tasks_done++;
		});
	for (auto &t : senders)
		t.join();
	while (tasks_done.load() < tasks)
		std::this_thread::sleep_for(100us);
	terminate(pid, false); // behind every message
	REQUIRE(wait(pid, 30s));
	for (int s = 0; s < threads + tasks; ++s) {
		const auto &got = seq.got[static_cast<std::size_t>(s)];
		REQUIRE(got.size() == static_cast<std::size_t>(per_sender));
		for (int n = 0; n < per_sender; ++n)
			REQUIRE(got[static_cast<std::size_t>(n)] == n);
	}
}

TEST_CASE("an unnamed process is called (N), as in libprocess") {
	class Anonymous : public Process<Anonymous> {};
	Anonymous a, b;
	const std::string &ida = a.self().id, &idb = b.self().id;
	CHECK(ida != idb);
	for (const std::string &id : {ida, idb}) {
		REQUIRE(id.size() >= 3);
		CHECK(id.front() == '(');
		CHECK(id.back() == ')');
		CHECK(id.find_first_not_of("0123456789", 1) == id.size() - 1);
	}
}

TEST_CASE("ProcessWrapper spawns, forwards and terminates") {
	class Counter : public Process<Counter> {
	public:
		int add(int n) { return total += n; }
		int total = 0;
	};
	UPID pid;
	{
		ProcessWrapper<Counter> counter;
		pid = counter.pid();
		CHECK(when_terminated(pid).isPending());
		counter.dispatch(&Counter::add, 2);
		AWAIT_ASSERT_EQ(5, counter.dispatch(&Counter::add, 3));
	}
	CHECK(when_terminated(pid).isReady());

	// Destroyed inside a task: no blocking, the runtime deletes the process.
	managed_destroyed = 0;
	Recorder owner;
	PID<Recorder> owner_pid = spawn(owner);
	Future<Nothing> destroyed = dispatch(owner_pid, [] {
		auto w = std::make_unique<ProcessWrapper<Managed>>();
		w->dispatch(&Managed::ping);
		w.reset();
	});
	AWAIT_READY(destroyed);
	for (int i = 0; i < 15000 && managed_destroyed == 0; ++i)
		std::this_thread::sleep_for(1ms);
	CHECK(managed_destroyed == 1);
	terminate(owner_pid);
	REQUIRE(wait(owner_pid, 15s));
}

TEST_CASE("runtime_scope runs processes on the given pool and cleans up") {
	pool p(pool_options{.workers = 2});
	std::atomic<bool> on_pool{false};
	{
		runtime_scope scope(p);
		auto *r = new Recorder();
		PID<Recorder> pid = spawn(r, true);
		AWAIT_READY(dispatch(pid, [&] { on_pool = pool::current() == &p; }));
		AWAIT_READY(turquoise::async([&] { return pool::current() == &p; }));
		CHECK(ProcessManager::live() == 1);
	} // terminates and waits for the managed recorder
	CHECK(on_pool);
	CHECK(ProcessManager::live() == 0);
	CHECK(&ProcessManager::workers() != &p);
}
