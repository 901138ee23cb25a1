// caf_half.cpp — the CAF 0.17 half of turquoise-remote-vs-caf: a client actor system (the
// middleman loaded) talking to remote-bench-caf-peer, another OS process, over loopback.
//
//   roundtrip   an event-based actor sends (ping, 64 bytes) with request() and continues on the
//               (pong, body) answer, kRoundTrips times per iteration (an item: one round trip)
//   oneway      an event-based actor sends batch_for(payload) (data, payload) messages with
//               send(), then request()s a flush, whose answer (the count the peer received)
//               ends the iteration (an item: one message)
//
// Each benchmark run makes its own actor system and connection (remote_actor), outside the
// timed loop (one warm-up iteration follows), and tears them down after it: only one client
// runtime exists at a time.
#include "bench_remote.hpp"
#include "caf_messages.hpp"

#include <cstdint>
#include <string>

namespace remotebench::caf_half {

namespace {

using namespace cafremote;
using go_atom = caf::atom_constant<caf::atom("go")>;

struct PingState {
	int left = 0;
	std::string body;
};

void ping_next(caf::stateful_actor<PingState> *self, const caf::actor &peer, Done *done) {
	if (self->state.left-- == 0) {
		done->signal(true);
		return;
	}
	self->request(peer, caf::infinite, ping_atom::value, self->state.body)
	    .then(
	        [=](pong_atom, const std::string &body) {
		        if (body.size() != self->state.body.size()) {
			        done->signal(false);
			        return;
		        }
		        ping_next(self, peer, done);
	        },
	        [=](caf::error &) { done->signal(false); });
}

caf::behavior pinger(caf::stateful_actor<PingState> *self, caf::actor peer, Done *done) {
	self->state.body.assign(kSmall, 'p');
	return {
	    [=](go_atom, int n) {
		    self->state.left = n;
		    ping_next(self, peer, done);
	    },
	};
}

caf::behavior sender(caf::event_based_actor *self, caf::actor peer, Done *done, std::string body) {
	return {
	    [=](go_atom, int n) {
		    for (int i = 0; i < n; ++i)
			    self->send(peer, data_atom::value, body);
		    self->request(peer, caf::infinite, flush_atom::value)
		        .then([=](std::uint64_t received) { done->signal(received == static_cast<std::uint64_t>(n)); },
		              [=](caf::error &) { done->signal(false); });
	    },
	};
}

// host:port -> the peer's published actor, or an error message in `why`.
caf::actor connect(caf::actor_system &sys, const std::string &peer, std::string &why) {
	auto colon = peer.rfind(':');
	if (colon == std::string::npos) {
		why = "CAF peer address is not host:port: " + peer;
		return {};
	}
	auto port = std::stoul(peer.substr(colon + 1));
	auto actor = sys.middleman().remote_actor(peer.substr(0, colon), static_cast<std::uint16_t>(port));
	if (!actor) {
		why = "remote_actor(" + peer + "): " + sys.render(actor.error());
		return {};
	}
	return *actor;
}

template <class Spawn>
void run(benchmark::State &state, const std::string &peer, int per_iteration, Spawn spawn) {
	Config cfg;
	caf::actor_system sys{cfg};
	std::string why;
	caf::actor remote = connect(sys, peer, why);
	if (!remote) {
		state.SkipWithError(why.c_str());
		return;
	}
	Done done;
	caf::actor client = spawn(sys, remote, &done);
	done.reset(); // warm-up, as in the turquoise half
	caf::anon_send(client, go_atom::value, 1);
	bool ok = done.wait();
	for (auto _ : state) {
		if (!ok)
			break;
		done.reset();
		caf::anon_send(client, go_atom::value, per_iteration);
		ok = done.wait();
	}
	if (!ok)
		state.SkipWithError("a request failed, timed out, or the peer's count is wrong");
	state.SetItemsProcessed(state.iterations() * per_iteration);
	caf::anon_send_exit(client, caf::exit_reason::user_shutdown);
}

} // namespace

void roundtrip(benchmark::State &state, std::string peer) {
	run(state, peer, kRoundTrips, [](caf::actor_system &sys, caf::actor remote, Done *done) {
		return sys.spawn(pinger, remote, done);
	});
}

void oneway(benchmark::State &state, std::string peer, std::size_t payload) {
	run(state, peer, batch_for(payload), [payload](caf::actor_system &sys, caf::actor remote, Done *done) {
		return sys.spawn(sender, remote, done, std::string(payload, 'd'));
	});
	state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * batch_for(payload) *
	                       static_cast<std::int64_t>(payload));
}

} // namespace remotebench::caf_half
