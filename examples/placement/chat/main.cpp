// inger-chat — the ScalaLoci chat on placement types: a Registry and any number of Nodes, each
// an OS process. `message` is an event placed on every Node; `publicMessage`, placed on the
// Registry, merges every Node's messages; every Node prints the public messages.
//
//   inger-chat registry [--port P]              prints "READY <ip>:<port>", serves until killed
//   inger-chat node --registry <ip:port> --name N
//       fires each stdin line as a message, prints every public message as "<name>: <line>",
//       exits (0) once stdin is closed and its own last message came back.
#include <turquoise/placement.hpp>
#include <turquoise/placement/remote.hpp>

#include <condition_variable>
#include <csignal>
#include <cstring>
#include <iostream>
#include <mutex>
#include <string>
#include <utility>

using namespace turquoise;
using namespace turquoise::placement;

struct Chat;
struct Registry;
struct Node;
struct Registry : peer<tie<Node, multiple>> {
	using module = Chat; // the peers of the Chat module: run<Registry>(...) builds a Chat
};
struct Node : peer<tie<Registry, single>> {
	using module = Chat;
};

using line = std::pair<std::string, std::string>; // (sender's name, text)

struct Chat {
	placed<Node, Event<line>> message;
	placed<Registry, Event<line>> publicMessage =
	    on<Registry>([this](here<Registry> h) { return h.as_local_from_all_seq(message); });
};

static int usage() {
	std::cerr << "usage: inger-chat registry [--port P]\n"
	             "       inger-chat node --registry <ip:port> --name N\n";
	return 2;
}

static int registry(int argc, char **argv) {
	unsigned long port = 0;
	for (int i = 2; i < argc; ++i) {
		if (!std::strcmp(argv[i], "--port") && i + 1 < argc) {
			char *end;
			port = std::strtoul(argv[++i], &end, 10);
			if (*end || port > 65535) {
				std::cerr << "inger-chat: invalid port " << argv[i] << '\n';
				return 2;
			}
		} else {
			return usage();
		}
	}
	// Wait for SIGINT/SIGTERM in this thread (blocked first, so the runtime's threads inherit it).
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, nullptr);
	auto r = run<Registry>(listen(static_cast<std::uint16_t>(port)));
	std::string address = r->address(); // placement@ip:port
	std::cout << "READY " << address.substr(address.find('@') + 1) << std::endl;
	int sig;
	sigwait(&stop, &sig);
	return 0;
}

static int node(int argc, char **argv) {
	std::string registry_address, name;
	for (int i = 2; i + 1 < argc; i += 2) {
		if (!std::strcmp(argv[i], "--registry"))
			registry_address = argv[i + 1];
		else if (!std::strcmp(argv[i], "--name"))
			name = argv[i + 1];
		else
			return usage();
	}
	if (registry_address.empty() || name.empty() || argc % 2 != 0)
		return usage();

	std::mutex m;
	std::condition_variable came_back;
	std::size_t sent = 0, returned = 0;
	auto n = run<Node>(connect_to<Registry>(registry_address));
	auto h = n->context();
	Event<line> pub = h.as_local(n->module().publicMessage);
	pub.observe([&](const line &l) {
		std::lock_guard<std::mutex> g(m);
		std::cout << l.first << ": " << l.second << std::endl;
		if (l.first == name)
			++returned;
		came_back.notify_all();
	});
	// The Registry serves this Node's messages in the order sent: it takes the subscription
	// above before the first message below, so every message of ours comes back.
	std::cerr << "inger-chat: " << name << " joined " << registry_address << std::endl;
	std::string text;
	while (std::getline(std::cin, text)) {
		{
			std::lock_guard<std::mutex> g(m);
			++sent;
		}
		h.local(n->module().message).fire({name, text});
	}
	std::unique_lock<std::mutex> l(m);
	if (!came_back.wait_for(l, std::chrono::seconds(10), [&] { return returned >= sent || pub.isEnded(); }) ||
	    returned < sent) {
		std::cerr << "inger-chat: " << returned << " of " << sent << " messages came back"
		          << (pub.isEnded() && pub.ended().isFailed() ? " (" + pub.ended().failure() + ")" : "") << '\n';
		return 1;
	}
	return 0;
}

int main(int argc, char **argv) {
	if (argc < 2)
		return usage();
	try {
		if (!std::strcmp(argv[1], "registry"))
			return registry(argc, argv);
		if (!std::strcmp(argv[1], "node"))
			return node(argc, argv);
	} catch (const std::exception &e) {
		std::cerr << "inger-chat: " << e.what() << '\n';
		return 1;
	}
	return usage();
}
