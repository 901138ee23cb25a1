// bench_actors.cpp — the actor layer of libturquoise against CAF 0.17, in one binary.
//
// Every benchmark exists twice, "<name>/turquoise" and "<name>/caf" (run.sh pairs them up):
//
//   roundtrip_blocking   a thread outside the runtime asks an actor for a reply and blocks:
//                        dispatch(pid, &Echo::echo, i).get()  vs  scoped_actor request().receive()
//   roundtrip_actors     two actors: A asks B, B answers, A continues on the answer (1000 round
//                        trips per iteration; an item is one round trip):
//                        dispatch(b, ...).onReady(defer(self(), ...))  vs  request(b, ...).then()
//   fanin_N              N senders -> 1 receiver, kFanInMessages messages per iteration; the
//                        iteration ends when the receiver has counted all of them. turquoise
//                        sends with dispatch() (whose future is dropped), CAF with send().
//   spawn_terminate      spawn kSpawnBatch idle actors, ask each to terminate, wait until all
//                        have (a termination callback counts them down on both sides:
//                        when_terminated().onAny() vs attach_functor()). An item is one actor.
//   then_chain_ready     turquoise: 10 then() continuations on a ready future (a plain function
//     (turquoise only)   chain, run on the calling thread). CAF 0.17 has no future type with
//                        continuations outside an actor; its closest idiom is the chain of
//                        request().then() continuations, below. run.sh pairs them but marks
//                        the pair as not like-for-like.
//   then_chain_actor     a chain of 10 continuations, each one a request to an "inc" actor whose
//                        answer continues in the chaining actor:
//                        f.then(defer(self(), [] { return dispatch(inc, ...); }))  vs
//                        request(inc, ...).then([] { request(inc, ...).then(...) }).
//                        The caller sends one request and blocks for the chain's result.
//                        An item is one continuation.
//
// Both runtimes get 2 worker threads (turquoise::pool{workers = 2}, default 1 ms quantum;
// CAF scheduler.max-threads = 2) and exist only while one of their benchmarks runs (each
// benchmark run builds its runtime and tears it down outside the timed loop), so an idle
// runtime never competes with the measured one for the VM's 2 cores. Times are wall-clock
// (UseRealTime): the work happens on the runtimes' threads.
#include <benchmark/benchmark.h>

#include <turquoise/async/async.hpp>
#include <turquoise/pool.hpp>
#include <turquoise/process/dispatch.hpp>
#include <turquoise/process/process.hpp>

#ifdef TURQUOISE_BENCH_HAVE_CAF
#include <caf/all.hpp>
#endif

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

namespace {

constexpr unsigned kWorkers = 2;
constexpr int kRoundTrips = 1000;      // roundtrip_actors: round trips per iteration
constexpr int kFanInMessages = 20000;  // fanin: messages per iteration (all senders together)
constexpr int kSpawnBatch = 256;       // spawn_terminate: actors per iteration
constexpr int kChain = 10;             // then_chain_*: continuations per chain
constexpr double kMinTime = 0.4;       // seconds per repetition

// A one-shot flag a runtime thread raises and the benchmark thread waits for. Lock-free on
// the raising side (a futex wake), so it is safe from preemptible pool tasks, and the same
// for both runtimes.
class Done {
public:
	void reset() { flag_.store(0, std::memory_order_relaxed); }
	void signal() {
		flag_.store(1, std::memory_order_release);
		flag_.notify_all();
	}
	void wait() {
		while (flag_.load(std::memory_order_acquire) == 0)
			flag_.wait(0, std::memory_order_acquire);
	}

private:
	std::atomic<unsigned> flag_{0};
};

// ---------------------------------------------------------------------------------------------
// turquoise
// ---------------------------------------------------------------------------------------------
namespace tq {
using namespace turquoise;

// The runtime for one benchmark run: a 2-worker pool; on exit every process is terminated and
// waited for, then the pool is drained and stopped.
struct Runtime {
	pool workers{pool_options{kWorkers}};
	runtime_scope scope{workers};
};

class Echo : public Process<Echo> {
public:
	int echo(int x) { return x; }
	int inc(int x) { return x + 1; }
};

// Ping-pong: one chain of `n` round trips with an Echo, continuing in this process.
class Ping : public Process<Ping> {
public:
	Ping(PID<Echo> pong, Done *done) : pong_(std::move(pong)), done_(done) {}
	void start(int n) {
		left_ = n;
		next(0);
	}
	void next(int v) {
		if (left_-- == 0) {
			done_->signal();
			return;
		}
		dispatch(pong_, &Echo::echo, v + 1).onReady(defer(self(), &Ping::next));
	}

private:
	PID<Echo> pong_;
	Done *done_;
	int left_ = 0;
};

class Counter : public Process<Counter> {
public:
	explicit Counter(Done *done) : done_(done) {}
	void arm(std::int64_t target) {
		target_ = target;
		count_ = 0;
	}
	void hit() {
		if (++count_ == target_)
			done_->signal();
	}

private:
	Done *done_;
	std::int64_t target_ = -1;
	std::int64_t count_ = 0;
};

class Sender : public Process<Sender> {
public:
	void blast(PID<Counter> to, int n) {
		for (int i = 0; i < n; ++i)
			dispatch(to, &Counter::hit);
	}
};

class Idle : public Process<Idle> {};

class Chainer : public Process<Chainer> {
public:
	explicit Chainer(PID<Echo> inc) : inc_(std::move(inc)) {}
	Future<int> run(int n) {
		Future<int> f = dispatch(inc_, &Echo::inc, 0);
		for (int i = 1; i < n; ++i)
			f = f.then(defer(self(), [inc = inc_](const int &v) { return dispatch(inc, &Echo::inc, v); }));
		return f;
	}

private:
	PID<Echo> inc_;
};

void roundtrip_blocking(benchmark::State &state) {
	Runtime rt;
	Echo echo;
	PID<Echo> pid = spawn(echo);
	int i = 0;
	for (auto _ : state) {
		int r = dispatch(pid, &Echo::echo, i).get();
		if (r != i) {
			state.SkipWithError("wrong answer");
			break;
		}
		++i;
	}
	state.SetItemsProcessed(state.iterations());
	terminate(pid);
	wait(pid);
}

void roundtrip_actors(benchmark::State &state) {
	Runtime rt;
	Done done;
	Echo pong;
	PID<Echo> pong_pid = spawn(pong);
	Ping ping(pong_pid, &done);
	PID<Ping> ping_pid = spawn(ping);
	for (auto _ : state) {
		done.reset();
		dispatch(ping_pid, &Ping::start, kRoundTrips);
		done.wait();
	}
	state.SetItemsProcessed(state.iterations() * kRoundTrips);
	terminate(ping_pid);
	wait(ping_pid);
	terminate(pong_pid);
	wait(pong_pid);
}

void fanin(benchmark::State &state, int senders) {
	const int per_sender = kFanInMessages / senders;
	const std::int64_t total = static_cast<std::int64_t>(per_sender) * senders;
	Runtime rt;
	Done done;
	Counter counter(&done);
	PID<Counter> counter_pid = spawn(counter);
	std::vector<std::unique_ptr<Sender>> sender_objs;
	std::vector<PID<Sender>> sender_pids;
	for (int s = 0; s < senders; ++s) {
		sender_objs.push_back(std::make_unique<Sender>());
		sender_pids.push_back(spawn(*sender_objs.back()));
	}
	for (auto _ : state) {
		done.reset();
		dispatch(counter_pid, &Counter::arm, total).get();
		for (auto &s : sender_pids)
			dispatch(s, &Sender::blast, counter_pid, per_sender);
		done.wait();
	}
	state.SetItemsProcessed(state.iterations() * total);
	for (auto &s : sender_pids)
		terminate(s);
	for (auto &s : sender_pids)
		wait(s);
	terminate(counter_pid);
	wait(counter_pid);
}

void spawn_terminate(benchmark::State &state) {
	Runtime rt;
	std::vector<UPID> pids;
	pids.reserve(kSpawnBatch);
	Done done;
	std::atomic<int> remaining{0};
	for (auto _ : state) {
		done.reset();
		remaining.store(kSpawnBatch);
		for (int i = 0; i < kSpawnBatch; ++i) {
			UPID pid = spawn(new Idle, /*manage=*/true);
			when_terminated(pid).onAny([&] {
				if (remaining.fetch_sub(1) == 1)
					done.signal();
			});
			pids.push_back(std::move(pid));
		}
		for (auto &pid : pids)
			terminate(pid);
		done.wait();
		pids.clear();
	}
	state.SetItemsProcessed(state.iterations() * kSpawnBatch);
}

void then_chain_ready(benchmark::State &state) {
	for (auto _ : state) {
		Future<int> f(0);
		for (int i = 0; i < kChain; ++i)
			f = f.then([](const int &v) { return v + 1; });
		if (f.get() != kChain) {
			state.SkipWithError("wrong answer");
			break;
		}
	}
	state.SetItemsProcessed(state.iterations() * kChain);
}

void then_chain_actor(benchmark::State &state) {
	Runtime rt;
	Echo inc;
	PID<Echo> inc_pid = spawn(inc);
	Chainer chainer(inc_pid);
	PID<Chainer> chainer_pid = spawn(chainer);
	for (auto _ : state) {
		int r = dispatch(chainer_pid, &Chainer::run, kChain).get();
		if (r != kChain) {
			state.SkipWithError("wrong answer");
			break;
		}
	}
	state.SetItemsProcessed(state.iterations() * kChain);
	terminate(chainer_pid);
	wait(chainer_pid);
	terminate(inc_pid);
	wait(inc_pid);
}

} // namespace tq

// ---------------------------------------------------------------------------------------------
// CAF 0.17
// ---------------------------------------------------------------------------------------------
#ifdef TURQUOISE_BENCH_HAVE_CAF
namespace cafb {

using arm_atom = caf::atom_constant<caf::atom("arm")>;
using go_atom = caf::atom_constant<caf::atom("go")>;

// CAF's defaults, but for the worker count. An idle CAF worker polls its queue, then sleeps
// 50 us between polls (work-stealing.moderate-sleep-duration) for a while, then waits on a
// condition variable: so a message to an idle CAF runtime waits for the next poll.
// TURQUOISE_BENCH_CAF_SPIN=1 sets that sleep to 0 (idle workers spin instead) to show how much
// of CAF's latency is that sleep; run.sh reports the default configuration.
bool caf_spin() {
	const char *v = std::getenv("TURQUOISE_BENCH_CAF_SPIN");
	return v != nullptr && *v != '\0' && std::string(v) != "0";
}
struct Config : caf::actor_system_config {
	Config() {
		set("scheduler.max-threads", static_cast<int>(kWorkers));
		if (caf_spin())
			set("work-stealing.moderate-sleep-duration", caf::timespan{0});
	}
};

// The runtime for one benchmark run (its destructor waits for every actor to finish).
struct Runtime {
	Config cfg;
	caf::actor_system sys{cfg};
};

caf::behavior echo() {
	return {
	    [](int x) { return x; },
	};
}

caf::behavior inc() {
	return {
	    [](int x) { return x + 1; },
	};
}

// Ping-pong: on (go, n), n request/response round trips with `pong`, then done->signal().
struct PingState {
	int left = 0;
};
void ping_next(caf::stateful_actor<PingState> *self, const caf::actor &pong, Done *done, int v) {
	if (self->state.left-- == 0) {
		done->signal();
		return;
	}
	self->request(pong, caf::infinite, v + 1).then([=](int r) { ping_next(self, pong, done, r); });
}
caf::behavior ping(caf::stateful_actor<PingState> *self, caf::actor pong, Done *done) {
	return {
	    [=](go_atom, int n) {
		    self->state.left = n;
		    ping_next(self, pong, done, 0);
	    },
	};
}

struct CounterState {
	std::int64_t target = -1;
	std::int64_t count = 0;
};
caf::behavior counter(caf::stateful_actor<CounterState> *self, Done *done) {
	return {
	    [=](arm_atom, std::int64_t target) {
		    self->state.target = target;
		    self->state.count = 0;
		    return target;
	    },
	    [=](int) {
		    if (++self->state.count == self->state.target)
			    done->signal();
	    },
	};
}

caf::behavior sender(caf::event_based_actor *self) {
	return {
	    [=](const caf::actor &to, int n) {
		    for (int i = 0; i < n; ++i)
			    self->send(to, 1);
	    },
	};
}

caf::behavior idle() {
	return {
	    [](int) {},
	};
}

void chain_step(caf::event_based_actor *self, const caf::actor &inc_actor, caf::response_promise rp,
                int v, int left) {
	if (left == 0) {
		rp.deliver(v);
		return;
	}
	self->request(inc_actor, caf::infinite, v).then([=](int r) {
		chain_step(self, inc_actor, rp, r, left - 1);
	});
}
caf::behavior chainer(caf::event_based_actor *self, caf::actor inc_actor) {
	return {
	    [=](int n) {
		    auto rp = self->make_response_promise();
		    chain_step(self, inc_actor, rp, 0, n);
		    return rp;
	    },
	};
}

void roundtrip_blocking(benchmark::State &state) {
	Runtime rt;
	auto e = rt.sys.spawn(echo);
	{
		caf::scoped_actor self{rt.sys};
		int i = 0;
		bool ok = true;
		for (auto _ : state) {
			self->request(e, caf::infinite, i)
			    .receive([&](int r) { ok = r == i; }, [&](caf::error &) { ok = false; });
			if (!ok) {
				state.SkipWithError("wrong answer");
				break;
			}
			++i;
		}
		state.SetItemsProcessed(state.iterations());
		self->send_exit(e, caf::exit_reason::user_shutdown);
	}
}

void roundtrip_actors(benchmark::State &state) {
	Runtime rt;
	Done done;
	auto pong = rt.sys.spawn(echo);
	auto p = rt.sys.spawn(ping, pong, &done);
	for (auto _ : state) {
		done.reset();
		caf::anon_send(p, go_atom::value, kRoundTrips);
		done.wait();
	}
	state.SetItemsProcessed(state.iterations() * kRoundTrips);
	caf::anon_send_exit(p, caf::exit_reason::user_shutdown);
	caf::anon_send_exit(pong, caf::exit_reason::user_shutdown);
}

void fanin(benchmark::State &state, int senders) {
	const int per_sender = kFanInMessages / senders;
	const std::int64_t total = static_cast<std::int64_t>(per_sender) * senders;
	Runtime rt;
	Done done;
	auto c = rt.sys.spawn(counter, &done);
	std::vector<caf::actor> ss;
	for (int s = 0; s < senders; ++s)
		ss.push_back(rt.sys.spawn(sender));
	{
		caf::scoped_actor self{rt.sys};
		for (auto _ : state) {
			done.reset();
			bool ok = true;
			self->request(c, caf::infinite, arm_atom::value, total)
			    .receive([](std::int64_t) {}, [&](caf::error &) { ok = false; });
			if (!ok) {
				state.SkipWithError("arm failed");
				break;
			}
			for (auto &s : ss)
				self->send(s, c, per_sender);
			done.wait();
		}
		state.SetItemsProcessed(state.iterations() * total);
		for (auto &s : ss)
			self->send_exit(s, caf::exit_reason::user_shutdown);
		self->send_exit(c, caf::exit_reason::user_shutdown);
	}
}

void spawn_terminate(benchmark::State &state) {
	Runtime rt;
	std::vector<caf::actor> actors;
	actors.reserve(kSpawnBatch);
	Done done;
	std::atomic<int> remaining{0};
	for (auto _ : state) {
		done.reset();
		remaining.store(kSpawnBatch);
		for (int i = 0; i < kSpawnBatch; ++i) {
			auto a = rt.sys.spawn(idle);
			a->attach_functor([&](const caf::error &) {
				if (remaining.fetch_sub(1) == 1)
					done.signal();
			});
			actors.push_back(std::move(a));
		}
		for (auto &a : actors)
			caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
		done.wait();
		actors.clear();
	}
	state.SetItemsProcessed(state.iterations() * kSpawnBatch);
}

void then_chain_actor(benchmark::State &state) {
	Runtime rt;
	auto i = rt.sys.spawn(inc);
	auto ch = rt.sys.spawn(chainer, i);
	{
		caf::scoped_actor self{rt.sys};
		for (auto _ : state) {
			int r = -1;
			self->request(ch, caf::infinite, kChain)
			    .receive([&](int v) { r = v; }, [&](caf::error &) {});
			if (r != kChain) {
				state.SkipWithError("wrong answer");
				break;
			}
		}
		state.SetItemsProcessed(state.iterations() * kChain);
		self->send_exit(ch, caf::exit_reason::user_shutdown);
		self->send_exit(i, caf::exit_reason::user_shutdown);
	}
}

} // namespace cafb
#endif

benchmark::internal::Benchmark *common(benchmark::internal::Benchmark *b) {
	return b->UseRealTime()->MinTime(kMinTime)->Repetitions(3)->ReportAggregatesOnly(true)->Unit(
	    benchmark::kNanosecond);
}

void register_all() {
	struct pair {
		const char *name;
		void (*turquoise)(benchmark::State &);
		void (*caf)(benchmark::State &);
	};
#ifdef TURQUOISE_BENCH_HAVE_CAF
#define CAF_OR_NULL(f) &cafb::f
#else
#define CAF_OR_NULL(f) nullptr
#endif
	const pair pairs[] = {
	    {"roundtrip_blocking", &tq::roundtrip_blocking, CAF_OR_NULL(roundtrip_blocking)},
	    {"roundtrip_actors", &tq::roundtrip_actors, CAF_OR_NULL(roundtrip_actors)},
	    {"spawn_terminate", &tq::spawn_terminate, CAF_OR_NULL(spawn_terminate)},
	    {"then_chain_actor", &tq::then_chain_actor, CAF_OR_NULL(then_chain_actor)},
	};
	for (const auto &p : pairs) {
		common(benchmark::RegisterBenchmark((std::string(p.name) + "/turquoise").c_str(), p.turquoise));
		if (p.caf)
			common(benchmark::RegisterBenchmark((std::string(p.name) + "/caf").c_str(), p.caf));
	}
	for (int n : {4, 16}) {
		std::string name = "fanin_" + std::to_string(n);
		common(benchmark::RegisterBenchmark((name + "/turquoise").c_str(), &tq::fanin, n));
#ifdef TURQUOISE_BENCH_HAVE_CAF
		common(benchmark::RegisterBenchmark((name + "/caf").c_str(), &cafb::fanin, n));
#endif
	}
	common(benchmark::RegisterBenchmark("then_chain_ready/turquoise", &tq::then_chain_ready));
#undef CAF_OR_NULL
}

} // namespace

int main(int argc, char **argv) {
	register_all();
	benchmark::Initialize(&argc, argv);
	if (benchmark::ReportUnrecognizedArguments(argc, argv))
		return 1;
#ifndef TURQUOISE_BENCH_HAVE_CAF
	std::fputs("turquoise-vs-caf: built without CAF (libcaf-dev not found): turquoise only\n", stderr);
#endif
	benchmark::AddCustomContext("workers", std::to_string(kWorkers));
#ifdef TURQUOISE_BENCH_HAVE_CAF
	benchmark::AddCustomContext("caf_idle_workers",
	                            cafb::caf_spin() ? "spin (TURQUOISE_BENCH_CAF_SPIN)" : "default (sleep 50us between polls)");
#endif
	benchmark::RunSpecifiedBenchmarks();
	benchmark::Shutdown();
	return 0;
}
