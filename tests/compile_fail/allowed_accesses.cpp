// allowed_accesses.cpp — every access the ties allow compiles, with the types here.hpp promises.
#include "peers.hpp"

#include <type_traits>

void on_node(App &app, here<Node> h) {
	static_assert(std::is_same_v<decltype(h.local(app.message)), Event<std::string> &>);
	static_assert(std::is_same_v<decltype(h.as_local(app.announcements)), Event<std::string>>);
	static_assert(std::is_same_v<decltype(h.as_local(app.members)), Future<Signal<int>>>);
	static_assert(std::is_same_v<decltype(h.as_local(app.motd)), Future<std::string>>);
	static_assert(std::is_same_v<decltype(h.as_local(app.add)(1, 2)), Future<int>>);
	static_assert(std::is_same_v<decltype(h.as_local(app.alerts)), Event<std::string>>); // optional tie
	(void)h.remotes<Registry>();
}

void on_registry(App &app, here<Registry> h) {
	static_assert(std::is_same_v<decltype(h.local(app.add)), std::function<int(int, int)> &>);
	static_assert(std::is_same_v<decltype(h.as_local_from_all_seq(app.message)), Event<std::string>>);
	static_assert(std::is_same_v<decltype(h.as_local_from_all(app.message)),
	                             Event<std::pair<remote<Node>, std::string>>>);
	static_assert(std::is_same_v<decltype(h.as_local_from_all(app.load)), Signal<std::map<remote<Node>, int>>>);
	static_assert(std::is_same_v<decltype(h.as_local_from_all_seq(app.load)), Signal<std::vector<int>>>);
	static_assert(std::is_same_v<decltype(h.as_local_from_all(app.id)), Future<std::vector<std::pair<remote<Node>, int>>>>);
	static_assert(std::is_same_v<decltype(h.as_local_from_all_seq(app.id)), Future<std::vector<int>>>);
}

struct Initialized {
	placed<Node, Event<std::string>> message;
	placed<Registry, Event<std::string>> all = on<Registry>([this](here<Registry> h) { return h.as_local_from_all_seq(message); });
	placed<Node, Nothing> printer = on<Node>([this](here<Node> h) { h.as_local(all).observe([](const std::string &) {}); });
	placed<Registry, int> answer = on<Registry>([] { return 42; });
};

void start(std::unique_ptr<endpoint> ep) {
	instance<Node, Initialized> node(std::move(ep));
	(void)node.connect<Registry>("registry");
	(void)node.connect<Monitor>("monitor");
}

// A peer that names its module is started without naming it again.
struct Named;
struct Lead;
struct Lead : peer<> {
	using module = Named;
};
struct Named {
	placed<Lead, int> answer = on<Lead>([] { return 42; });
};
void start_named(std::unique_ptr<endpoint> ep) {
	instance<Lead> lead(std::move(ep));
	static_assert(std::is_same_v<decltype(lead.module()), Named &>);
}
