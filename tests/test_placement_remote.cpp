// test_placement_remote.cpp — placement over the remote layer between real OS processes on
// 127.0.0.1: this test binary re-runs itself as a Registry or a Node (INGER_PLACEMENT_TEST_ROLE)
// and checks events in order per source, the multiple view losing a killed Node, a second
// Registry refused on a single tie, a killed Registry failing a Node's event, a wrong peer type,
// and a build of the program with one placed type changed (placement_variant.cpp) refused.
#include <turquoise/placement.hpp>
#include <turquoise/placement/remote.hpp>

#include <catch2/catch.hpp>

#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

extern char **environ;

using namespace turquoise;
using namespace turquoise::placement;
using namespace std::chrono_literals;

struct App;
struct Registry;
struct Node;
struct Registry : peer<tie<Node, multiple>> {
	using module = App; // run<Registry>(...) builds an App
};
struct Node : peer<tie<Registry, single>> {
	using module = App;
};

struct App {
	placed<Node, Event<std::string>> message;
	placed<Registry, Event<std::string>> news = on<Registry>([] { return Event<std::string>(); });
	placed<Registry, std::function<std::string(std::string)>> echo = on<Registry>([] {
		return std::function<std::string(std::string)>([](std::string s) { return "echo " + s; });
	});
};

namespace {
// What the network and the peer runtime counted (for a failure's diagnosis).
template <class I>
std::string counters(I &i) {
	network_stats n = runtime::current().network();
	auto p = i.stats();
	return "network: sent " + std::to_string(n.sent) + " received " + std::to_string(n.received) + " dropped " +
	       std::to_string(n.dropped) + " not_found " + std::to_string(n.not_found) + " bad " +
	       std::to_string(n.bad_messages + n.bad_requests) + " timeouts " + std::to_string(n.timeouts) +
	       " connection_failures " + std::to_string(n.connection_failures) + " opened " +
	       std::to_string(n.connections_opened) + ", placement: connections " + std::to_string(p.connections) +
	       " errors " + std::to_string(p.errors) + " (" + p.last_error + ")";
}

// The child's side: run as a peer, say so on stdout, fire, stay until stdin closes.
int role(const std::string &what, int argc, char **argv) {
	setenv("INGER_PLACEMENT_QUIET", "1", 1);
	if (what == "registry") {
		auto r = run<Registry>(listen(0));
		std::cout << "READY " << r->address() << std::endl;
		char c;
		while (read(0, &c, 1) > 0) // until the test closes our stdin
			r->context().local(r->module().news).fire("tick");
		return 0;
	}
	if (what == "node" && argc >= 3) {
		auto n = run<Node, App>(connect_to<Registry>(argv[1]));
		int count = std::atoi(argv[2]);
		for (int i = 0; i < count; ++i)
			n->context().local(n->module().message).fire(n->address() + " " + std::to_string(i));
		std::cout << "SENT " << n->address() << std::endl;
		char c;
		while (read(0, &c, 1) > 0)
			if (c == 's') // the test asks what became of them
				std::cout << "STATS " << counters(*n) << std::endl;
		return 0;
	}
	return 2;
}

[[maybe_unused]] const int role_ran = [] {
	if (const char *r = std::getenv("INGER_PLACEMENT_TEST_ROLE")) {
		std::string args = std::getenv("INGER_PLACEMENT_TEST_ARGS") ? std::getenv("INGER_PLACEMENT_TEST_ARGS") : "";
		std::vector<std::string> words{"child"};
		for (std::size_t at = 0; at < args.size();) {
			auto space = args.find(' ', at);
			words.push_back(args.substr(at, space - at));
			at = space == std::string::npos ? args.size() : space + 1;
		}
		std::vector<char *> argv;
		for (auto &w : words)
			argv.push_back(w.data());
		int status = 1;
		try {
			status = role(r, static_cast<int>(argv.size()), argv.data());
		} catch (const std::exception &e) {
			std::cout << "ERROR " << e.what() << std::endl;
		}
		std::cout.flush();
		_exit(status);
	}
	return 0;
}();

// This binary as a child peer, with pipes to its stdin and from its stdout.
struct child {
	pid_t pid = -1;
	int in = -1, out = -1;
	std::string buffered;

	// This binary as `role` with `args`; or another program (role empty) with one argument.
	child(const std::string &role, const std::string &args, const char *program = "/proc/self/exe") {
		int to[2], from[2];
		REQUIRE(pipe(to) == 0);
		REQUIRE(pipe(from) == 0);
		posix_spawn_file_actions_t fa;
		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_adddup2(&fa, to[0], 0);
		posix_spawn_file_actions_adddup2(&fa, from[1], 1);
		posix_spawn_file_actions_addclose(&fa, to[1]);
		posix_spawn_file_actions_addclose(&fa, from[0]);
		std::vector<std::string> env;
		for (char **e = environ; *e; ++e)
			env.emplace_back(*e);
		if (!role.empty()) {
			env.push_back("INGER_PLACEMENT_TEST_ROLE=" + role);
			env.push_back("INGER_PLACEMENT_TEST_ARGS=" + args);
		}
		std::vector<char *> envp;
		for (auto &e : env)
			envp.push_back(e.data());
		envp.push_back(nullptr);
		std::string path = program, arg = args;
		std::vector<char *> argv{path.data()};
		if (role.empty())
			argv.push_back(arg.data());
		argv.push_back(nullptr);
		REQUIRE(posix_spawn(&pid, program, &fa, nullptr, argv.data(), envp.data()) == 0);
		posix_spawn_file_actions_destroy(&fa);
		close(to[0]);
		close(from[1]);
		in = to[1];
		out = from[0];
	}
	~child() {
		if (in >= 0)
			close(in);
		if (pid > 0) {
			kill(pid, SIGKILL);
			waitpid(pid, nullptr, 0);
		}
		close(out);
	}
	// The next line of its stdout (empty after 15 s or at its end).
	std::string line() {
		auto deadline = std::chrono::steady_clock::now() + 15s;
		for (;;) {
			auto nl = buffered.find('\n');
			if (nl != std::string::npos) {
				std::string l = buffered.substr(0, nl);
				buffered.erase(0, nl + 1);
				return l;
			}
			auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
			if (left.count() <= 0)
				return "";
			pollfd p{out, POLLIN, 0};
			if (poll(&p, 1, static_cast<int>(left.count())) <= 0)
				return "";
			char buf[512];
			ssize_t n = read(out, buf, sizeof buf);
			if (n <= 0)
				return "";
			buffered.append(buf, n);
		}
	}
	std::string expect(const std::string &prefix) {
		std::string l = line();
		INFO("child said: " << l);
		REQUIRE(l.rfind(prefix, 0) == 0);
		return l.substr(prefix.size());
	}
	void tick() { ask('x'); }
	void ask(char c) { REQUIRE(write(in, &c, 1) == 1); }
	void sigkill() {
		kill(pid, SIGKILL);
		waitpid(pid, nullptr, 0);
		pid = -1;
	}
};

template <class P>
bool eventually(P pred, std::chrono::milliseconds limit = 30s) { // (loose: ASan on a loaded VM)
	auto deadline = std::chrono::steady_clock::now() + limit;
	while (!pred() && std::chrono::steady_clock::now() < deadline)
		std::this_thread::sleep_for(10ms);
	return pred();
}
} // namespace

// Under AddressSanitizer only, [!mayfail]: not lost or late events but a deadlock of the
// Registry's process. Found under load (3 copies + 2 busy loops, ASan build): each Node had
// written its 2000 occurrences (network sent 2003, dropped 0), the Registry's inbound sockets
// held ~120 KB unread, and its workers were stuck for good: one pool task inside ASan's
// allocator (SizeClassAllocator64::GetFromAllocator, waiting on a size class's mutex) while
// holding the network's mutex, the other worker waiting on that mutex. The allocator mutex is
// held by a pool task that was preempted inside ASan's malloc: ASan's allocator replaces
// malloc ahead of libinger's critical-section wrappers (libinger/shared_calls.cpp), and
// libgotcha's defer ranges leave the sanitizer runtimes out (role::kept_shared). The same
// happens to tests/test_shared_calls.cpp's allocation storm, skipped under ASan for that
// reason. Not in the placement or remote layers: see the report of issue 12.
#if defined(__SANITIZE_ADDRESS__)
#define PLACEMENT_SANITIZER_DEADLOCK "[!mayfail]"
#else
#define PLACEMENT_SANITIZER_DEADLOCK ""
#endif
TEST_CASE("every Node's events reach the Registry in order per Node, and a killed Node leaves the view", PLACEMENT_SANITIZER_DEADLOCK) {
	setenv("INGER_PLACEMENT_QUIET", "1", 1);
	auto r = run<Registry>(listen(0));
	std::mutex m;
	std::map<std::string, std::vector<int>> seen;
	auto all = r->context().as_local_from_all(r->module().message);
	all.observe([&](const std::pair<remote<Node>, std::string> &p) {
		auto space = p.second.rfind(' ');
		std::lock_guard<std::mutex> g(m);
		seen[p.first.address].push_back(std::stoi(p.second.substr(space + 1)));
	});
	constexpr int count = 2000;
	std::string address = r->address().substr(r->address().find('@') + 1);
	child a("node", address + " " + std::to_string(count)), b("node", address + " " + std::to_string(count));
	std::string a_address = a.expect("SENT "), b_address = b.expect("SENT ");
	bool arrived = eventually([&] {
		std::lock_guard<std::mutex> g(m);
		return seen[a_address].size() == count && seen[b_address].size() == count;
	});
	if (!arrived) {
		std::lock_guard<std::mutex> g(m);
		a.ask('s');
		b.ask('s');
		UNSCOPED_INFO("registry saw " << seen[a_address].size() << " from a, " << seen[b_address].size() << " from b; "
		                              << counters(*r));
		UNSCOPED_INFO("a: " << a.line());
		UNSCOPED_INFO("b: " << b.line());
	}
	REQUIRE(arrived);
	{
		std::lock_guard<std::mutex> g(m);
		for (auto *s : {&seen[a_address], &seen[b_address]})
			for (int i = 0; i < count; ++i)
				REQUIRE((*s)[i] == i);
	}
	CHECK(r->context().remotes<Node>().size() == 2);
	auto killed = std::chrono::steady_clock::now();
	a.sigkill();
	REQUIRE(eventually([&] { return r->context().remotes<Node>().size() == 1; }));
	CHECK(std::chrono::steady_clock::now() - killed < 5s);
	CHECK(r->context().remotes<Node>().front().address == b_address);
}

TEST_CASE("a Node follows a Registry process, refuses a second one, fails when it is killed, reconnects") {
	setenv("INGER_PLACEMENT_QUIET", "1", 1);
	child r1("registry", ""), r2("registry", "");
	std::string r1_address = r1.expect("READY "), r2_address = r2.expect("READY ");
	auto n = run<Node, App>(connect_to<Registry>(r1_address));
	auto h = n->context();
	auto news = h.as_local(n->module().news);
	std::atomic<int> ticks{0};
	news.observe([&](const std::string &s) {
		if (s == "tick")
			++ticks;
	});
	auto echoed = h.as_local(n->module().echo)("hi");
	REQUIRE(echoed.await(10s));
	CHECK(echoed.get() == "echo hi");
	r1.tick(); // after our subscription: the echo's reply came after it was taken
	r1.tick();
	REQUIRE(eventually([&] { return ticks == 2; }));

	auto second = n->connect<Registry>(r2_address);
	REQUIRE(second.await(10s));
	REQUIRE(second.isFailed());
	CHECK(second.failure().find("Node's tie to Registry is single and a Registry is already connected") != std::string::npos);

	auto killed = std::chrono::steady_clock::now();
	r1.sigkill();
	REQUIRE(news.ended().await(10s));
	CHECK(std::chrono::steady_clock::now() - killed < 5s);
	REQUIRE(news.ended().isFailed());
	CHECK(news.ended().failure() == "placement: Registry at " + r1_address + " disconnected");

	// The single tie is free again: the second Registry is taken.
	auto again = n->connect<Registry>(r2_address);
	REQUIRE(again.await(10s));
	REQUIRE(again.isReady());
	auto echoed2 = h.as_local(n->module().echo)("again");
	REQUIRE(echoed2.await(10s));
	CHECK(echoed2.get() == "echo again");
}

TEST_CASE("a Node that connects to a Node as if it were a Registry is refused, and so is an absent Registry") {
	setenv("INGER_PLACEMENT_QUIET", "1", 1);
	child r("registry", "");
	std::string r_address = r.expect("READY ");
	child other("node", r_address + " 0");
	std::string other_address = other.expect("SENT ");
	try {
		auto n = run<Node, App>(connect_to<Registry>(other_address));
		FAIL("connected to a Node as a Registry");
	} catch (const std::runtime_error &e) {
		CHECK(std::string(e.what()).find("expected a Registry at " + other_address + ", this is a Node") != std::string::npos);
	}
	// A port nobody listens on (the killed Registry's).
	r.sigkill();
	try {
		auto n = run<Node, App>(connect_to<Registry>(r_address));
		FAIL("connected to a dead Registry");
	} catch (const std::runtime_error &e) {
		CHECK(std::string(e.what()).find("could not reach Registry at " + r_address) != std::string::npos);
	}
}

TEST_CASE("a build of the program with one placed value's type changed is refused, naming that value") {
	setenv("INGER_PLACEMENT_QUIET", "1", 1);
	auto r = run<Registry>(listen(0));
	std::string address = r->address().substr(r->address().find('@') + 1);
	// Same module name (App), same peers, same number of values: only message's type differs.
	child variant("", address, INGER_PLACEMENT_VARIANT);
	std::string error = variant.expect("ERROR ");
	CHECK(error.find("a different program: App's value #0 is placed<Node, turquoise::placement::Event<int>> there, "
	                 "placed<Node, turquoise::placement::Event<std::__cxx11::basic_string<char") != std::string::npos);
	CHECK(r->stats().errors == 1);
	CHECK(r->stats().last_error.find("App's value #0 is placed<Node, turquoise::placement::Event<int>> there") != std::string::npos);
	CHECK(r->context().remotes<Node>().empty());
}
