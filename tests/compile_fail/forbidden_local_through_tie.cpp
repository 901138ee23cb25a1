// forbidden_local_through_tie.cpp — a Node reads its own value through a tie.
// expect: placement error: this value is placed on the local peer: read it with local\(\)
// expect: check::value_is_placed_on_another_peer<Node, Node>' evaluates to false
#include "peers.hpp"

void on_node(App &app, here<Node> h) { (void)h.as_local(app.message); }
