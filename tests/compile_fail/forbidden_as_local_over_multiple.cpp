// forbidden_as_local_over_multiple.cpp — the Registry reads a Node's event with as_local(), but
// its tie to Node is multiple: which Node?
// expect: placement error: as_local\(\) reads over a single or optional tie, and this tie is multiple
// expect: check::tie_is_single_or_optional<Registry, Node>' evaluates to false
#include "peers.hpp"

void on_registry(App &app, here<Registry> h) { (void)h.as_local(app.message); }
