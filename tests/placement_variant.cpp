// placement_variant.cpp — the program of test_placement_remote.cpp built with one placed value's
// type changed (message: Event<int> instead of Event<std::string>): same module name, same
// peers, same number of values. Run as a Node connecting to argv[1]; prints the outcome.
#include <turquoise/placement.hpp>
#include <turquoise/placement/remote.hpp>

#include <cstdlib>
#include <functional>
#include <iostream>
#include <string>

using namespace turquoise;
using namespace turquoise::placement;

struct App;
struct Registry;
struct Node;
struct Registry : peer<tie<Node, multiple>> {
	using module = App;
};
struct Node : peer<tie<Registry, single>> {
	using module = App;
};

struct App {
	placed<Node, Event<int>> message; // Event<std::string> in test_placement_remote.cpp
	placed<Registry, Event<std::string>> news = on<Registry>([] { return Event<std::string>(); });
	placed<Registry, std::function<std::string(std::string)>> echo = on<Registry>([] {
		return std::function<std::string(std::string)>([](std::string s) { return "echo " + s; });
	});
};

int main(int argc, char **argv) {
	if (argc != 2) {
		std::cerr << "usage: placement_variant <registry ip:port>\n";
		return 2;
	}
	setenv("INGER_PLACEMENT_QUIET", "1", 1);
	try {
		auto n = run<Node>(connect_to<Registry>(argv[1]));
		std::cout << "CONNECTED" << std::endl;
	} catch (const std::exception &e) {
		std::cout << "ERROR " << e.what() << std::endl;
	}
	return 0;
}
