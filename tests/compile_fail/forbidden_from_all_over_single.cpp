// forbidden_from_all_over_single.cpp — a Node reads "every" Registry, but its tie is single.
// expect: placement error: as_local_from_all\(\) reads over a multiple tie, and this tie is single or optional
// expect: check::tie_is_multiple<Node, Registry>' evaluates to false
#include "peers.hpp"

void on_node(App &app, here<Node> h) { (void)h.as_local_from_all(app.announcements); }
