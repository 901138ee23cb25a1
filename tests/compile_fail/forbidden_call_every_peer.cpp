// forbidden_call_every_peer.cpp — the Registry calls a function placed on every Node.
// expect: placement error: a placed function is called over a single or optional tie
// expect: check::tie_is_single_or_optional<Registry, Node>' evaluates to false
#include "peers.hpp"

struct Calls {
	placed<Node, std::function<int()>> ping;
};
void on_registry(Calls &c, here<Registry> h) { h.as_local_from_all(c.ping); }
