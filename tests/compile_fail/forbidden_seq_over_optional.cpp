// forbidden_seq_over_optional.cpp — a Node merges "every" Monitor's alerts, but its tie is optional.
// expect: placement error: as_local_from_all_seq\(\) reads over a multiple tie
// expect: check::tie_is_multiple<Node, Monitor>' evaluates to false
#include "peers.hpp"

void on_node(App &app, here<Node> h) { (void)h.as_local_from_all_seq(app.alerts); }
