// forbidden_no_tie.cpp — a Node reads a value placed on a Worker, and Node has no tie to Worker.
// expect: placement error: the local peer has no tie to the peer this value is placed on
// expect: check::has_tie_to<Node, Worker>' evaluates to false
#include "peers.hpp"

void on_node(App &app, here<Node> h) { (void)h.as_local(app.work); }
