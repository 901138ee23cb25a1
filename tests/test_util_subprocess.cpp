// turquoise::subprocess and io::read/io::write: redirections, exit statuses, reaping through
// the reactor, a timeout that kills the child, errors.
#include <catch2/catch.hpp>

#include "helpers.hpp"

#include <turquoise/async/testing.hpp>
#include <turquoise/pool.hpp>
#include <turquoise/runtime.hpp>
#include <turquoise/util/io.hpp>
#include <turquoise/util/subprocess.hpp>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

using namespace std::chrono_literals;
using turquoise::Failure;
using turquoise::Future;
using turquoise::Nothing;
using turquoise::Option;
using turquoise::Subprocess;
using turquoise::subprocess;
namespace io = turquoise::io;

namespace {
turquoise::pool_options two_workers() { return turquoise::pool_options{.workers = 2}; }

// The status, waited for in real time; -1 if it did not arrive.
int wait_status(const Subprocess &s, std::chrono::seconds limit = 20s) {
	Future<Option<int>> st = s.status();
	if (!st.await(limit) || !st.isReady() || st.get().isNone())
		return -1;
	return st.get().get();
}
} // namespace

TEST_CASE("echo: stdout through a pipe, exit status 0") {
	turquoise::pool p(two_workers());
	auto s = subprocess("/bin/echo", {"echo", "hello", "world"}, Subprocess::PATH("/dev/null"),
	                    Subprocess::PIPE(), Subprocess::FD(STDERR_FILENO), turquoise::None(), &p);
	REQUIRE(s.isSome());
	CHECK(s->pid() > 0);
	CHECK(s->in().isNone());
	REQUIRE(s->out().isSome());
	CHECK(s->err().isNone());
	Future<std::string> out = io::read(*s->out(), &p);
	AWAIT_ASSERT_EQ(std::string("hello world\n"), out);
	int st = wait_status(s.get());
	REQUIRE(st != -1);
	CHECK(WIFEXITED(st));
	CHECK(WEXITSTATUS(st) == 0);
}

TEST_CASE("cat: a megabyte through stdin and back through stdout") {
	turquoise::pool p(two_workers());
	auto s = subprocess("/bin/cat", {"cat"}, Subprocess::PIPE(), Subprocess::PIPE(),
	                    Subprocess::FD(STDERR_FILENO), turquoise::None(), &p);
	REQUIRE(s.isSome());
	std::string data;
	for (int i = 0; data.size() < (1u << 20); ++i)
		data += "line " + std::to_string(i) + "\n";
	Future<Nothing> written = io::write(*s->in(), data, &p);
	s->closeIn(); // io::write holds its own duplicate: EOF once it is done
	CHECK(s->in().isNone());
	Future<std::string> out = io::read(*s->out(), &p);
	AWAIT_READY_FOR(written, 20s);
	AWAIT_READY_FOR(out, 20s);
	CHECK(out.get().size() == data.size());
	CHECK(out.get() == data);
	int st = wait_status(s.get());
	REQUIRE(st != -1);
	CHECK(WIFEXITED(st));
	CHECK(WEXITSTATUS(st) == 0);
}

TEST_CASE("sh -c 'exit 3' reports exit status 3") {
	turquoise::pool p(two_workers());
	auto s = subprocess("exit 3", Subprocess::PATH("/dev/null"), Subprocess::FD(STDOUT_FILENO),
	                    Subprocess::FD(STDERR_FILENO), turquoise::None(), &p);
	REQUIRE(s.isSome());
	int st = wait_status(s.get());
	REQUIRE(st != -1);
	CHECK(WIFEXITED(st));
	CHECK(WEXITSTATUS(st) == 3);
}

TEST_CASE("stderr through a pipe, stdout to a file, custom environment") {
	turquoise::pool p(two_workers());
	char path[] = "/tmp/turquoise-subprocess-XXXXXX";
	int tmp = mkstemp(path);
	REQUIRE(tmp >= 0);
	close(tmp);
	auto s = subprocess("echo \"out=$FOO\"; echo err >&2; exit 0", Subprocess::PATH("/dev/null"),
	                    Subprocess::PATH(path), Subprocess::PIPE(),
	                    std::map<std::string, std::string>{{"FOO", "bar"}, {"PATH", "/bin:/usr/bin"}},
	                    &p);
	REQUIRE(s.isSome());
	Future<std::string> err = io::read(*s->err(), &p);
	AWAIT_ASSERT_EQ(std::string("err\n"), err);
	int st = wait_status(s.get());
	REQUIRE(st != -1);
	CHECK(WIFEXITED(st));
	std::ifstream in(path);
	std::stringstream contents;
	contents << in.rdbuf();
	CHECK(contents.str() == "out=bar\n");
	unlink(path);
}

TEST_CASE("a sleep killed by an after() timeout finishes quickly and is reaped") {
	turquoise::pool p(two_workers());
	auto s = subprocess("/bin/sleep", {"sleep", "10"}, Subprocess::PATH("/dev/null"),
	                    Subprocess::FD(STDOUT_FILENO), Subprocess::FD(STDERR_FILENO), turquoise::None(),
	                    &p);
	REQUIRE(s.isSome());
	pid_t pid = s->pid();
	auto start = std::chrono::steady_clock::now();
	// The idiom from libprocess, verbatim.
	Future<Option<int>> timed = s->status().after(200ms, [pid](auto f) {
		kill(pid, SIGKILL);
		f.discard();
		return Failure("timed out");
	});
	AWAIT_EXPECT_FAILED_WITH(timed, "timed out");
	auto elapsed = std::chrono::steady_clock::now() - start;
	CHECK(elapsed < 5s);
	// The discard request is ignored: the killed child is still reaped.
	int st = wait_status(s.get(), 10s);
	REQUIRE(st != -1);
	CHECK(WIFSIGNALED(st));
	CHECK(WTERMSIG(st) == SIGKILL);
	CHECK(std::chrono::steady_clock::now() - start < 8s);
}

TEST_CASE("a child that finishes before the timeout: after() follows the status") {
	turquoise::pool p(two_workers());
	auto s = subprocess("exit 0", Subprocess::PATH("/dev/null"), Subprocess::FD(STDOUT_FILENO),
	                    Subprocess::FD(STDERR_FILENO), turquoise::None(), &p);
	REQUIRE(s.isSome());
	Future<Option<int>> timed = s->status().after(30s, [](const Future<Option<int>> &f) {
		f.discard();
		return Future<Option<int>>(Failure("timed out"));
	});
	AWAIT_READY_FOR(timed, 20s);
	REQUIRE(timed.get().isSome());
	CHECK(WIFEXITED(timed.get().get()));
}

TEST_CASE("a bad path is an error") {
	turquoise::pool p(two_workers());
	auto s = subprocess("/nonexistent/turquoise-no-such-binary", {"x"}, Subprocess::PIPE(),
	                    Subprocess::PIPE(), Subprocess::PIPE(), turquoise::None(), &p);
	REQUIRE(s.isError());
	CHECK(s.error().find("No such file") != std::string::npos);
	auto bad_in = subprocess("/bin/cat", {"cat"}, Subprocess::PATH("/nonexistent/dir/file"),
	                         Subprocess::PIPE(), Subprocess::PIPE(), turquoise::None(), &p);
	CHECK(bad_in.isError());
}

TEST_CASE("without a pool argument the reactor is the current runtime's pool") {
	{
		turquoise::pool p(two_workers());
		turquoise::runtime_scope scope(p);
		CHECK(&io::reactor() == &p);
		auto s = subprocess("/bin/echo", {"echo", "via use"}, Subprocess::PATH("/dev/null"),
		                    Subprocess::PIPE());
		REQUIRE(s.isSome());
		AWAIT_ASSERT_EQ(std::string("via use\n"), io::read(*s->out()));
		CHECK(wait_status(s.get()) == 0);
	}
	CHECK(&io::reactor() == &turquoise::runtime::standard().workers());
	auto s = subprocess("/bin/echo", {"echo", "fallback"}, Subprocess::PATH("/dev/null"),
	                    Subprocess::PIPE());
	REQUIRE(s.isSome());
	AWAIT_ASSERT_EQ(std::string("fallback\n"), io::read(*s->out()));
	CHECK(wait_status(s.get()) == 0);
}

TEST_CASE("io::read of a pipe: discard stops it, the caller may close its fd meanwhile") {
	turquoise::pool p(two_workers());
	int fds[2];
	REQUIRE(pipe2(fds, O_CLOEXEC) == 0);
	Future<std::string> f = io::read(fds[0], &p);
	close(fds[0]); // io::read works on a duplicate
	REQUIRE(write(fds[1], "abc", 3) == 3);
	CHECK_FALSE(f.await(100ms));
	CHECK(f.discard());
	AWAIT_DISCARDED(f);
	Future<std::string> bad = io::read(fds[0], &p); // closed fd
	CHECK(bad.isFailed());
	close(fds[1]);
}

TEST_CASE("FD() redirections refer to the parent's descriptors, whatever the order") {
	turquoise::pool p(two_workers());
	// stderr = the parent's fd 1, while the child's fd 1 is a pipe: stderr must not follow it.
	auto s = subprocess("echo to-parent-stdout >&2; echo to-pipe", Subprocess::PATH("/dev/null"),
	                    Subprocess::PIPE(), Subprocess::FD(STDOUT_FILENO), turquoise::None(), &p);
	REQUIRE(s.isSome());
	AWAIT_ASSERT_EQ(std::string("to-pipe\n"), io::read(*s->out(), &p));
	CHECK(wait_status(s.get()) == 0);
}
