// forbidden_remote_read_directly.cpp — a Node reads the Registry's value as if it were local.
// expect: placement error: a value placed on another peer cannot be read directly
// expect: check::value_is_placed_on_local_peer<Node, Registry>' evaluates to false
#include "peers.hpp"

void on_node(App &app, here<Node> h) { (void)h.local(app.motd); }
