// turquoise_half.cpp — the turquoise half of turquoise-remote-vs-caf: a client runtime (2
// workers, listening on 127.0.0.1, any free port) whose process talks to remote-bench-peer,
// another OS process, on the libprocess wire (turquoise/process/network.hpp).
//
//   roundtrip   the client sends `ping` (64 bytes) and sends the next on the `pong` the peer
//               sends back (to the client's own address, on the peer's outbound connection),
//               kRoundTrips times per iteration (an item: one round trip)
//   oneway      the client sends batch_for(payload) `data` messages, then `flush`; the peer's
//               `flushed` answer (the count it received) ends the iteration (an item: one
//               message)
//
// As in the CAF half, each benchmark run makes its own runtime and connections outside the
// timed loop (one warm-up iteration opens them) and tears them down after it.
#include "bench_remote.hpp"

#include <turquoise/process/dispatch.hpp>
#include <turquoise/process/process.hpp>
#include <turquoise/runtime.hpp>

#include <cstdint>
#include <string>
#include <utility>

namespace remotebench::turquoise_half {

namespace {

using namespace turquoise;

class Client : public Process<Client> {
public:
	Client(UPID peer, std::size_t payload, Done *done)
	    : ProcessBase(ID::generate("client")), peer_(std::move(peer)), body_(payload, 'p'), done_(done) {}

	void roundtrips(int n) {
		left_ = n;
		send(peer_, "ping", body_);
	}
	void burst(int n) {
		expected_ = static_cast<std::uint64_t>(n);
		for (int i = 0; i < n; ++i)
			send(peer_, "data", body_);
		send(peer_, "flush");
	}

protected:
	void initialize() override {
		install("pong", &Client::pong);
		install("flushed", &Client::flushed);
	}

private:
	void pong(const UPID &, std::string &&body) {
		if (body.size() != body_.size())
			done_->signal(false);
		else if (--left_ == 0)
			done_->signal(true);
		else
			send(peer_, "ping", body_);
	}
	void flushed(const UPID &, std::string &&count) {
		done_->signal(count == std::to_string(expected_));
	}

	UPID peer_;
	std::string body_;
	Done *done_;
	int left_ = 0;
	std::uint64_t expected_ = 0;
};

template <class Go>
void run(benchmark::State &state, const std::string &peer, std::size_t payload, int per_iteration, Go go) {
	UPID to = UPID::parse(peer);
	if (!to || to.address.port == 0) {
		state.SkipWithError(("turquoise peer is not id@ip:port: " + peer).c_str());
		return;
	}
	runtime_options options;
	options.pool.workers = 2;
	runtime rt(options);
	runtime_scope scope(rt);
	Try<Address> address = rt.listen();
	if (address.isError()) {
		state.SkipWithError(("cannot listen: " + address.error()).c_str());
		return;
	}
	Done done;
	Client client(to, payload, &done);
	PID<Client> pid = spawn(client);
	done.reset(); // warm-up: the connections both ways
	dispatch(pid, go, 1);
	bool ok = done.wait();
	for (auto _ : state) {
		if (!ok)
			break;
		done.reset();
		dispatch(pid, go, per_iteration);
		ok = done.wait();
	}
	if (!ok) {
		const network_stats n = rt.network();
		state.SkipWithError(("a message was lost or the peer's count is wrong (client: sent " +
		                     std::to_string(n.sent) + ", dropped " + std::to_string(n.dropped) +
		                     ", connection failures " + std::to_string(n.connection_failures) + ")")
		                        .c_str());
	}
	state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * per_iteration);
	terminate(pid);
	wait(pid);
}

} // namespace

void roundtrip(benchmark::State &state, std::string peer) {
	run(state, peer, kSmall, kRoundTrips, &Client::roundtrips);
}

void oneway(benchmark::State &state, std::string peer, std::size_t payload) {
	run(state, peer, payload, batch_for(payload), &Client::burst);
	state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * batch_for(payload) *
	                        static_cast<std::int64_t>(payload));
}

} // namespace remotebench::turquoise_half
