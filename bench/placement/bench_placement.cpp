// bench_placement.cpp — an event fired on one peer and observed on a tied peer, against a raw
// remote send of the same payload, in the same run, between two OS processes over 127.0.0.1.
//
//   placement-bench [--benchmark_out=... --benchmark_out_format=json]
//
// This process is a Node; it re-runs itself (PLACEMENT_BENCH_ROLE=registry) as the Registry,
// which also runs a raw process ("raw") on the same runtime. Per benchmark iteration:
//   RoundTrip/event: the Node fires `ping` (64 bytes); the Registry's observer fires `pong`
//                    with it; the Node waits for it.
//   RoundTrip/raw:   a process sends "ping" to raw, which sends "pong" back; it waits.
//   Throughput/event: the Node fires 1000 `data` events; the Registry fires `ack` at the last.
//   Throughput/event_in_process: the same, fired from a handler of the client process.
//   Throughput/raw:   1000 "data" messages to raw, which sends "ack" at the last.
// Compare each /event figure with its /raw yardstick (ratios; the machine is shared and noisy).
#include <turquoise/placement.hpp>
#include <turquoise/placement/remote.hpp>
#include <turquoise/process/dispatch.hpp>
#include <turquoise/process/process.hpp>

#include <benchmark/benchmark.h>

#include <condition_variable>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <unistd.h>

using namespace turquoise;
using namespace turquoise::placement;

struct Registry;
struct Node;
struct Registry : peer<tie<Node, multiple>> {};
struct Node : peer<tie<Registry, single>> {};

constexpr int batch = 1000;

struct Bench {
	placed<Node, Event<std::string>> ping;
	placed<Node, Event<std::string>> data;
	placed<Registry, Event<std::string>> pong = on<Registry>([this](here<Registry> h) {
		return h.as_local_from_all_seq(ping);
	});
	placed<Registry, Event<int>> ack = on<Registry>([this](here<Registry> h) {
		auto count = std::make_shared<int>(0);
		return h.as_local_from_all_seq(data)
		    .filter([count](const std::string &) { return ++*count % batch == 0; })
		    .map([](const std::string &) { return batch; });
	});
};

// The raw yardstick: answers "ping" with "pong", and every batch-th "data" with "ack".
class Raw : public Process<Raw> {
public:
	Raw() : ProcessBase("raw") {}

protected:
	void initialize() override {
		install("ping", [this](const UPID &from, std::string &&body) { send(from, "pong", std::move(body)); });
		install("data", [this](const UPID &from, std::string &&) {
			if (++count_ % batch == 0)
				send(from, "ack");
		});
	}

private:
	long count_ = 0;
};

// The sender of the raw yardstick: counts answers.
class Client : public Process<Client> {
public:
	Client() : ProcessBase("client") {}
	std::mutex m;
	std::condition_variable cv;
	long pongs = 0, acks = 0;
	void ping(const UPID &to, std::string body) { send(to, "ping", std::move(body)); }
	void data(const UPID &to, const std::string &body) {
		for (int i = 0; i < batch; ++i)
			send(to, "data", body);
	}

protected:
	void initialize() override {
		install("pong", [this](const UPID &, std::string &&) { bump(pongs); });
		install("ack", [this](const UPID &, std::string &&) { bump(acks); });
	}

private:
	void bump(long &n) {
		std::lock_guard<std::mutex> g(m);
		++n;
		cv.notify_all();
	}
};

namespace {
std::unique_ptr<instance<Node, Bench>> node;
Client *client;
UPID raw;
const std::string payload(64, 'x');

struct counter {
	std::mutex m;
	std::condition_variable cv;
	long n = 0;
	void bump() {
		std::lock_guard<std::mutex> g(m);
		++n;
		cv.notify_all();
	}
	void wait_for(long target) {
		std::unique_lock<std::mutex> l(m);
		cv.wait(l, [&] { return n >= target; });
	}
};
counter pongs, acks;

void BM_RoundTrip_event(benchmark::State &state) {
	auto ping = node->context().local(node->module().ping);
	for (auto _ : state) {
		long target = pongs.n + 1;
		ping.fire(payload);
		pongs.wait_for(target);
	}
}
void BM_RoundTrip_raw(benchmark::State &state) {
	for (auto _ : state) {
		long target;
		{
			std::lock_guard<std::mutex> g(client->m);
			target = client->pongs + 1;
		}
		dispatch(client->self(), [to = raw] { client->ping(to, payload); });
		std::unique_lock<std::mutex> l(client->m);
		client->cv.wait(l, [&] { return client->pongs >= target; });
	}
}
void BM_Throughput_event(benchmark::State &state) {
	auto data = node->context().local(node->module().data);
	for (auto _ : state) {
		long target = acks.n + 1;
		for (int i = 0; i < batch; ++i)
			data.fire(payload);
		acks.wait_for(target);
	}
	state.SetItemsProcessed(state.iterations() * batch);
}
// The same events fired where the raw yardstick sends: in a handler of a process (the client),
// so that both run on a pool worker of the Node's runtime.
void BM_Throughput_event_in_process(benchmark::State &state) {
	auto data = node->context().local(node->module().data);
	for (auto _ : state) {
		long target = acks.n + 1;
		dispatch(client->self(), [data] {
			for (int i = 0; i < batch; ++i)
				data.fire(payload);
		});
		acks.wait_for(target);
	}
	state.SetItemsProcessed(state.iterations() * batch);
}
void BM_Throughput_raw(benchmark::State &state) {
	for (auto _ : state) {
		long target;
		{
			std::lock_guard<std::mutex> g(client->m);
			target = client->acks + 1;
		}
		dispatch(client->self(), [to = raw] { client->data(to, payload); });
		std::unique_lock<std::mutex> l(client->m);
		client->cv.wait(l, [&] { return client->acks >= target; });
	}
	state.SetItemsProcessed(state.iterations() * batch);
}
BENCHMARK(BM_RoundTrip_event)->UseRealTime();
BENCHMARK(BM_RoundTrip_raw)->UseRealTime();
BENCHMARK(BM_Throughput_event)->UseRealTime();
BENCHMARK(BM_Throughput_event_in_process)->UseRealTime();
BENCHMARK(BM_Throughput_raw)->UseRealTime();

int registry() {
	auto r = run<Registry, Bench>(listen(0));
	Raw raw_process;
	spawn(raw_process);
	std::cout << "READY " << r->address() << " " << raw_process.self() << std::endl;
	char c;
	while (read(0, &c, 1) > 0) {
	}
	terminate(raw_process);
	wait(raw_process);
	return 0;
}
} // namespace

int main(int argc, char **argv) {
	if (std::getenv("PLACEMENT_BENCH_ROLE"))
		return registry();
	benchmark::Initialize(&argc, argv);
	// The Registry: this program again, its stdin a pipe whose end tells it to stop.
	int to[2], from[2];
	if (pipe(to) || pipe(from))
		return 1;
	if (fork() == 0) {
		dup2(to[0], 0);
		dup2(from[1], 1);
		close(to[1]);
		close(from[0]);
		setenv("PLACEMENT_BENCH_ROLE", "registry", 1);
		execl("/proc/self/exe", argv[0], nullptr);
		_exit(127);
	}
	close(to[0]);
	close(from[1]);
	FILE *in = fdopen(from[0], "r");
	char line[512];
	if (!fgets(line, sizeof line, in)) {
		std::cerr << "placement-bench: the registry did not start\n";
		return 1;
	}
	char registry_address[256], raw_address[256];
	if (std::sscanf(line, "READY %255s %255s", registry_address, raw_address) != 2)
		return 1;
	raw = UPID::parse(raw_address);
	node = run<Node, Bench>(connect_to<Registry>(registry_address));
	auto h = node->context();
	h.as_local(node->module().pong).observe([](const std::string &) { pongs.bump(); });
	h.as_local(node->module().ack).observe([](int) { acks.bump(); });
	Client c;
	client = &c;
	spawn(c);
	// The subscriptions are in place once a round trip over each path completed.
	h.local(node->module().ping).fire(payload);
	pongs.wait_for(1);
	benchmark::RunSpecifiedBenchmarks();
	terminate(c);
	wait(c);
	node.reset();
	close(to[1]);
	return 0;
}
