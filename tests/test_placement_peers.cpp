// test_placement_peers.cpp — placement across peers on the in-process loopback network: remote
// reads, calls, events and signals over each multiplicity, the handshake's checks,
// disconnection and reconnection, hostile input.
#include <turquoise/placement.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <map>
#include <string>
#include <vector>

using namespace turquoise;
using namespace turquoise::placement;
using namespace std::chrono_literals;

// (Outside the anonymous namespace: a peer's name is its type's name.)
struct Registry;
struct Node;
struct Monitor;
struct Registry : peer<tie<Node, multiple>> {};
struct Node : peer<tie<Registry, single>, tie<Monitor, optional>> {};
struct Monitor : peer<tie<Node, multiple>> {};

namespace {

struct App {
	placed<Node, Event<std::string>> message;
	placed<Node, Signal<int>> load = on<Node>([] { return Signal<int>(0); });
	placed<Node, int> id = on<Node>([] { return 7; });
	placed<Registry, Event<std::string>> everyone = on<Registry>([this](here<Registry> h) { return h.as_local_from_all_seq(message); });
	placed<Registry, Signal<int>> members = on<Registry>([] { return Signal<int>(0); });
	placed<Registry, std::function<int(int, int)>> add = on<Registry>([] {
		return std::function<int(int, int)>([](int a, int b) {
			if (a < 0)
				throw std::invalid_argument("negative");
			return a + b;
		});
	});
	placed<Registry, std::string> motd = on<Registry>([] { return std::string("welcome"); });
};

template <class T>
const T &ready(const Future<T> &f) {
	REQUIRE(f.await(5s));
	if (f.isFailed())
		FAIL(f.failure());
	return f.get();
}
template <class T>
std::string failure(const Future<T> &f) {
	REQUIRE(f.await(5s));
	REQUIRE(f.isFailed());
	return f.failure();
}
// Wait (bounded) until pred() holds.
template <class P>
bool eventually(P pred) {
	for (int i = 0; i < 500 && !pred(); ++i)
		std::this_thread::sleep_for(10ms);
	return pred();
}
} // namespace

TEST_CASE("a Node reads the Registry's value and calls its function over a single tie") {
	loopback_network net;
	instance<Registry, App> r(net.open("registry"));
	instance<Node, App> n(net.open("node"));
	ready(n.connect<Registry>("registry"));
	auto h = n.context();
	CHECK(ready(h.as_local(n.module().motd)) == "welcome");
	CHECK(ready(h.as_local(n.module().add)(20, 22)) == 42);
	CHECK(failure(h.as_local(n.module().add)(-1, 1)) == "negative");
	CHECK(n.module().id.hosted());
	CHECK_FALSE(n.module().motd.hosted());
	CHECK(r.context().local(r.module().motd) == "welcome");
}

TEST_CASE("the Registry merges every Node's events, in order per Node, including later Nodes") {
	loopback_network net;
	instance<Registry, App> r(net.open("registry"));
	std::vector<std::string> seen;
	std::mutex m;
	r.context().local(r.module().everyone).observe([&](const std::string &s) {
		std::lock_guard<std::mutex> g(m);
		seen.push_back(s);
	});
	auto tagged = r.context().as_local_from_all(r.module().message);
	std::map<std::string, int> per_address;
	tagged.observe([&](const std::pair<remote<Node>, std::string> &p) {
		std::lock_guard<std::mutex> g(m);
		++per_address[p.first.address];
	});
	std::vector<std::unique_ptr<instance<Node, App>>> nodes;
	for (int i = 0; i < 3; ++i) {
		nodes.push_back(std::make_unique<instance<Node, App>>(net.open("node-" + std::to_string(i))));
		ready(nodes.back()->connect<Registry>("registry"));
	}
	// No settling: connect() completes once the Registry's subscriptions are in place.
	constexpr int per_node = 200;
	for (int k = 0; k < per_node; ++k)
		for (int i = 0; i < 3; ++i)
			nodes[i]->context().local(nodes[i]->module().message).fire(std::to_string(i) + ":" + std::to_string(k));
	REQUIRE(eventually([&] { std::lock_guard<std::mutex> g(m); return seen.size() == 3 * per_node; }));
	std::lock_guard<std::mutex> g(m);
	std::vector<int> next(3, 0);
	for (const auto &s : seen) {
		int node = s[0] - '0';
		CHECK(std::stoi(s.substr(2)) == next[node]);
		++next[node];
	}
	CHECK(per_address == std::map<std::string, int>{{"node-0", per_node}, {"node-1", per_node}, {"node-2", per_node}});
}

TEST_CASE("a Node follows the Registry's event, and the Registry reads every Node's value") {
	loopback_network net;
	instance<Registry, App> r(net.open("registry"));
	instance<Node, App> a(net.open("a")), b(net.open("b"));
	ready(a.connect<Registry>("registry"));
	ready(b.connect<Registry>("registry"));
	std::vector<std::string> at_b;
	std::mutex m;
	b.context().as_local(b.module().everyone).observe([&](const std::string &s) {
		std::lock_guard<std::mutex> g(m);
		at_b.push_back(s);
	});
	REQUIRE(net.settle());
	a.context().local(a.module().message).fire("from a");
	REQUIRE(eventually([&] { std::lock_guard<std::mutex> g(m); return at_b.size() == 1; }));
	CHECK(at_b.front() == "from a");
	auto ids = ready(r.context().as_local_from_all_seq(r.module().id));
	CHECK(ids == std::vector<int>{7, 7});
	auto tagged = ready(r.context().as_local_from_all(r.module().id));
	REQUIRE(tagged.size() == 2);
	CHECK(tagged[0].first.address == "a");
	CHECK(tagged[1].first.address == "b");
	CHECK(r.context().remotes<Node>().size() == 2);
}

TEST_CASE("remote signals: a copy that follows the changes, and a map of every peer's value") {
	loopback_network net;
	instance<Registry, App> r(net.open("registry"));
	instance<Node, App> a(net.open("a")), b(net.open("b"));
	auto all = r.context().as_local_from_all(r.module().load);
	auto seq = r.context().as_local_from_all_seq(r.module().load);
	ready(a.connect<Registry>("registry"));
	ready(b.connect<Registry>("registry"));
	r.context().local(r.module().members).set(2);
	Signal<int> members = ready(a.context().as_local(a.module().members));
	CHECK(members.now() == 2);
	r.context().local(r.module().members).set(3);
	REQUIRE(eventually([&] { return members.now() == 3; }));

	a.context().local(a.module().load).set(10);
	b.context().local(b.module().load).set(20);
	REQUIRE(eventually([&] { auto v = seq.now(); return v == std::vector<int>{10, 20}; }));
	CHECK(all.now().at(remote<Node>{"a"}) == 10);
	// A Node that leaves leaves the map.
	b.stop();
	REQUIRE(eventually([&] { return seq.now() == std::vector<int>{10}; }));
	// The Registry leaving fails the copy's changes and keeps its last value.
	r.stop();
	REQUIRE(members.changed().ended().await(5s));
	CHECK(members.changed().ended().isFailed());
	CHECK(members.now() == 3);
}

TEST_CASE("a second Registry on a single tie is refused, from either side") {
	loopback_network net;
	instance<Registry, App> r1(net.open("r1")), r2(net.open("r2"));
	instance<Node, App> n(net.open("node"));
	ready(n.connect<Registry>("r1"));
	auto local = failure(n.connect<Registry>("r2"));
	CHECK(local.find("Node's tie to Registry is single") != std::string::npos);
	CHECK(local.find("r2 refused") != std::string::npos);
	// The Registry may connect to Nodes (multiple); this Node refuses a second Registry.
	auto remote_side = failure(r2.connect<Node>("node"));
	CHECK(remote_side.find("node refused Registry") != std::string::npos);
	CHECK(remote_side.find("tie to Registry is single and a Registry is already connected") != std::string::npos);
	CHECK(n.stats().errors == 1);
	CHECK(n.stats().connections == 1);
	// The first connection still works.
	CHECK(ready(n.context().as_local(n.module().motd)) == "welcome");
}

TEST_CASE("the handshake refuses a peer of the wrong type, another program, and an absent peer") {
	loopback_network net;
	instance<Node, App> n(net.open("node")), other(net.open("other"));
	auto wrong = failure(n.connect<Registry>("other"));
	CHECK(wrong.find("expected a Registry at other, this is a Node") != std::string::npos);

	struct Other {
		placed<Registry, int> x;
	};
	instance<Registry, Other> stranger(net.open("stranger"));
	auto program = failure(n.connect<Registry>("stranger"));
	CHECK(program.find("a different program") != std::string::npos);

	auto absent = failure(n.connect<Registry>("nobody"));
	CHECK(absent.find("could not reach Registry at nobody") != std::string::npos);
	CHECK(n.stats().connections == 0);
}

TEST_CASE("a Registry that dies fails the Node's remote event and requests, the Node reconnects") {
	loopback_network net;
	auto r = std::make_unique<instance<Registry, App>>(net.open("registry"));
	instance<Node, App> n(net.open("node"));
	ready(n.connect<Registry>("registry"));
	auto everyone = n.context().as_local(n.module().everyone);
	REQUIRE(net.settle());
	r.reset();
	REQUIRE(everyone.ended().await(5s));
	REQUIRE(everyone.ended().isFailed());
	CHECK(everyone.ended().failure() == "placement: Registry at registry disconnected");
	CHECK(failure(n.context().as_local(n.module().motd)).find("no Registry connected") != std::string::npos);

	// Another Registry: the single tie is free again.
	instance<Registry, App> r2(net.open("registry-2"));
	ready(n.connect<Registry>("registry-2"));
	CHECK(ready(n.context().as_local(n.module().motd)) == "welcome");
	auto again = n.context().as_local(n.module().everyone);
	std::vector<std::string> got;
	std::mutex m;
	again.observe([&](const std::string &s) { std::lock_guard<std::mutex> g(m); got.push_back(s); });
	REQUIRE(net.settle());
	n.context().local(n.module().message).fire("back");
	REQUIRE(eventually([&] { std::lock_guard<std::mutex> g(m); return got.size() == 1; }));
}

TEST_CASE("hostile input is refused with a clear error, counted, and the peer goes on") {
	setenv("INGER_PLACEMENT_QUIET", "1", 1);
	loopback_network net;
	instance<Registry, App> r(net.open("registry"));
	instance<Node, App> n(net.open("node"));
	ready(n.connect<Registry>("registry"));
	auto errors = [&] { return r.stats().errors; };
	std::uint64_t before = errors();

	// From a connected peer: a value the Registry does not host, a value that does not exist,
	// the wrong type, malformed bodies, a reply nobody asked for, an unknown message.
	std::string type_int = typeid(int).name();
	net.inject("node", "registry", "placement.request", encode(std::tuple<std::uint64_t, std::uint64_t, std::string, bool, std::string>{2, 99, type_int, false, ""}));
	net.inject("node", "registry", "placement.request", encode(std::tuple<std::uint64_t, std::uint64_t, std::string, bool, std::string>{1000, 98, type_int, false, ""}));
	net.inject("node", "registry", "placement.subscribe", encode(std::tuple<std::uint64_t, std::uint64_t, std::string>{6, 97, type_int}));
	net.inject("node", "registry", "placement.request", "\x01\x02");
	net.inject("node", "registry", "placement.subscribe", std::string(1000, '\xff'));
	net.inject("node", "registry", "placement.reply", encode(std::tuple<std::uint64_t, bool, std::string>{12345, true, ""}));
	net.inject("node", "registry", "placement.nonsense", "");
	// From a stranger that never said hello.
	net.inject("mallory", "registry", "placement.request", encode(std::tuple<std::uint64_t, std::uint64_t, std::string, bool, std::string>{6, 1, typeid(std::string).name(), false, ""}));
	REQUIRE(net.settle());
	REQUIRE(eventually([&] { return errors() == before + 8; }));
	auto last = r.stats().last_error;
	CHECK(last.find("mallory, which is not connected") != std::string::npos);

	// A malformed occurrence to the Node: dropped and reported, the event goes on.
	auto everyone = n.context().as_local(n.module().everyone);
	std::vector<std::string> got;
	std::mutex m;
	everyone.observe([&](const std::string &s) { std::lock_guard<std::mutex> g(m); got.push_back(s); });
	REQUIRE(net.settle());
	std::uint64_t node_errors = n.stats().errors;
	for (std::uint64_t sub = 1; sub < 10; ++sub)
		net.inject("registry", "node", "placement.occurrence", encode(std::tuple<std::uint64_t, std::string>{sub, "\x05"}));
	REQUIRE(net.settle());
	CHECK(n.stats().errors > node_errors);
	CHECK_FALSE(everyone.isEnded());
	n.context().local(n.module().message).fire("still fine");
	REQUIRE(eventually([&] { std::lock_guard<std::mutex> g(m); return got.size() == 1; }));
	CHECK(ready(n.context().as_local(n.module().motd)) == "welcome");
	unsetenv("INGER_PLACEMENT_QUIET");
}

TEST_CASE("a value placed outside a peer instance is a clear error") {
	CHECK_THROWS_AS(App(), std::logic_error);
}
