// peers.hpp — the peers and module the compile tests use: Registry ties every Node (multiple),
// a Node ties one Registry (single) and maybe one Monitor (optional), a Worker ties nobody and
// nobody ties it.
#include <turquoise/placement.hpp>

#include <functional>
#include <string>

using namespace turquoise;
using namespace turquoise::placement;

struct Registry;
struct Node;
struct Monitor;
struct Worker;
struct Registry : peer<tie<Node, multiple>> {};
struct Node : peer<tie<Registry, single>, tie<Monitor, optional>> {};
struct Monitor : peer<tie<Node, multiple>> {};
struct Worker : peer<> {};

struct App {
	placed<Node, Event<std::string>> message;
	placed<Node, Signal<int>> load;
	placed<Node, int> id;
	placed<Registry, Event<std::string>> announcements;
	placed<Registry, Signal<int>> members;
	placed<Registry, std::function<int(int, int)>> add;
	placed<Registry, std::string> motd;
	placed<Monitor, Event<std::string>> alerts;
	placed<Worker, int> work;
};
