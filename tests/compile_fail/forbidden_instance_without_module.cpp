// forbidden_instance_without_module.cpp — instance<Node> (as run<Node>(...) makes) for a peer that
// names no module: the module must be named, in the peer or as the second argument.
// expect: placement error: the peer names no module
// expect: is_missing_module<turquoise::placement::missing_module<Node> >' evaluates to false
#include "peers.hpp"

void start(std::unique_ptr<endpoint> ep) { instance<Node> node(std::move(ep)); }
