// forbidden_code_on_other_peer.cpp — a value placed on the Registry is made by code placed on a Node.
// expect: placement error: a value placed on one peer is initialized by code placed on another
// expect: check::code_is_placed_on_value_peer<Node, Registry>' evaluates to false
#include "peers.hpp"

struct Wrong {
	placed<Registry, int> count = on<Node>([] { return 1; });
};
void build(std::unique_ptr<endpoint> ep) { instance<Registry, Wrong> r(std::move(ep)); }
