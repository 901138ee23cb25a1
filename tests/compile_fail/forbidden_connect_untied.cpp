// forbidden_connect_untied.cpp — a Node connects to a Worker, and has no tie to Worker.
// expect: placement error: connect<Q>\(\) needs a tie from the local peer to Q
// expect: check::has_tie_to<Node, Worker>' evaluates to false
#include "peers.hpp"

void start(std::unique_ptr<endpoint> ep) {
	instance<Node, App> node(std::move(ep));
	(void)node.connect<Worker>("worker");
}
