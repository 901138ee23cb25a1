// test_mesos_launcher.cpp — the local cluster's task launcher: real child processes in their
// sandbox (stdout/stderr captured), shell and argv forms, environment, exit statuses, a
// missing program, and the kill policy (SIGTERM, grace period, SIGKILL; leftovers killed).
#include <catch2/catch.hpp>

#include "libturquoise/mesos/cluster/launcher.hpp"

#include <turquoise/async/testing.hpp>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace turquoise;
using namespace turquoise::mesos::local;
using namespace std::chrono_literals;

namespace {

struct sandbox_root {
	std::filesystem::path path;
	sandbox_root() {
		char tmpl[] = "/tmp/inger-launcher-XXXXXX";
		REQUIRE(::mkdtemp(tmpl) != nullptr);
		path = tmpl;
	}
	~sandbox_root() {
		std::error_code ec;
		std::filesystem::remove_all(path, ec);
	}
	std::string sandbox(const std::string &name) const { return (path / name).string(); }
};

std::string slurp(const std::string &file) {
	std::ifstream in(file);
	std::stringstream s;
	s << in.rdbuf();
	return s.str();
}

command_line shell(std::string cmd) {
	command_line c;
	c.value = std::move(cmd);
	c.environment = {{"PATH", "/usr/bin:/bin"}};
	return c;
}

int wait_status(const task_process &t) {
	Future<int> f = t.exited();
	AWAIT_READY_FOR(f, std::chrono::seconds(20));
	return f.get();
}

} // namespace

TEST_CASE("a shell command runs in its sandbox with its environment, output captured") {
	pool p(pool_options{.workers = 2});
	sandbox_root root;
	command_line c = shell("echo out; echo err >&2; pwd; echo \"$GREETING\"; test -z \"$HOME\"");
	c.environment["GREETING"] = "hello there";
	std::string box = root.sandbox("a/b/run1"); // parents are created
	Try<task_process> t = task_process::launch(c, box, p);
	REQUIRE(t.isSome());
	int st = wait_status(t.get());
	CHECK(WIFEXITED(st));
	CHECK(WEXITSTATUS(st) == 0); // HOME is not inherited: the environment is the given one
	CHECK(slurp(box + "/stdout") == "out\n" + std::filesystem::canonical(box).string() + "\nhello there\n");
	CHECK(slurp(box + "/stderr") == "err\n");
	CHECK(describe_exit(st) == "Command exited with status 0");
}

TEST_CASE("argv form: the program is found in the task's PATH, arguments are not re-split") {
	pool p(pool_options{.workers = 2});
	sandbox_root root;
	command_line c;
	c.shell = false;
	c.value = "printf";
	c.arguments = {"printf", "[%s]", "a b", "$HOME"};
	c.environment = {{"PATH", "/nonexistent:/usr/bin:/bin"}};
	Try<task_process> t = task_process::launch(c, root.sandbox("x"), p);
	REQUIRE(t.isSome());
	CHECK(WEXITSTATUS(wait_status(t.get())) == 0);
	CHECK(slurp(root.sandbox("x") + "/stdout") == "[a b][$HOME]");
}

TEST_CASE("exit statuses: true, false, and a missing program") {
	pool p(pool_options{.workers = 2});
	sandbox_root root;
	Try<task_process> ok = task_process::launch(shell("true"), root.sandbox("t"), p);
	Try<task_process> bad = task_process::launch(shell("false"), root.sandbox("f"), p);
	Try<task_process> gone = task_process::launch(shell("no-such-command-here"), root.sandbox("g"), p);
	REQUIRE(ok.isSome());
	REQUIRE(bad.isSome());
	REQUIRE(gone.isSome()); // the shell runs, and reports 127
	CHECK(describe_exit(wait_status(ok.get())) == "Command exited with status 0");
	CHECK(describe_exit(wait_status(bad.get())) == "Command exited with status 1");
	CHECK(describe_exit(wait_status(gone.get())) == "Command exited with status 127");

	command_line argv;
	argv.shell = false;
	argv.value = "no-such-program-here";
	argv.environment = {{"PATH", "/usr/bin:/bin"}};
	Try<task_process> missing = task_process::launch(argv, root.sandbox("m"), p);
	REQUIRE(missing.isError());
	CHECK_THAT(missing.error(), Catch::Contains("no-such-program-here") && Catch::Contains("No such file"));
	argv.value = "/no/such/path";
	CHECK(task_process::launch(argv, root.sandbox("m2"), p).isError());
	CHECK(task_process::launch(shell("true"), "/proc/no-sandbox-here", p).isError());
}

TEST_CASE("kill: SIGTERM first, a task that ignores it gets SIGKILL after the grace period") {
	pool p(pool_options{.workers = 2});
	sandbox_root root;
	SECTION("a task that exits on SIGTERM") {
		Try<task_process> t = task_process::launch(shell("exec sleep 30"), root.sandbox("s"), p);
		REQUIRE(t.isSome());
		std::this_thread::sleep_for(50ms);
		auto start = std::chrono::steady_clock::now();
		t.get().kill(10s);
		int st = wait_status(t.get());
		CHECK(describe_exit(st) == "Command terminated with signal Terminated");
		CHECK(std::chrono::steady_clock::now() - start < 8s);
		CHECK(t.get().kill_requested());
	}
	SECTION("a task that traps SIGTERM") {
		// The shell ignores TERM and waits for its child, which ignores it too (inherited).
		Try<task_process> t = task_process::launch(shell("trap '' TERM; echo ready; sleep 30; echo never"),
		                                           root.sandbox("s"), p);
		REQUIRE(t.isSome());
		for (int i = 0; i < 500 && slurp(root.sandbox("s") + "/stdout").empty(); ++i)
			std::this_thread::sleep_for(10ms);
		auto start = std::chrono::steady_clock::now();
		t.get().kill(300ms);
		int st = wait_status(t.get());
		auto took = std::chrono::steady_clock::now() - start;
		CHECK(describe_exit(st) == "Command terminated with signal Killed");
		CHECK(took >= 250ms);
		CHECK(took < 10s);
		CHECK(slurp(root.sandbox("s") + "/stdout") == "ready\n");
	}
}

TEST_CASE("what a task leaves behind in its process group is killed once it exits") {
	pool p(pool_options{.workers = 2});
	sandbox_root root;
	Try<task_process> t = task_process::launch(shell("sleep 60 & echo $! > bg.pid"), root.sandbox("l"), p);
	REQUIRE(t.isSome());
	CHECK(WEXITSTATUS(wait_status(t.get())) == 0);
	pid_t bg = std::atoi(slurp(root.sandbox("l") + "/bg.pid").c_str());
	REQUIRE(bg > 0);
	// The leftover was killed; it is reparented (to init or a subreaper) which reaps it.
	bool gone = false;
	for (int i = 0; i < 1000 && !gone; ++i) {
		std::string stat = slurp("/proc/" + std::to_string(bg) + "/stat");
		gone = stat.empty() || stat.find(") Z ") != std::string::npos;
		if (!gone)
			std::this_thread::sleep_for(10ms);
	}
	CHECK(gone);
}
