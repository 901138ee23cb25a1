// libgotcha: the constructors and destructors of copied libraries (relink_lifecycle/).
//
// The program under test links a library whose constructor mallocs and whose destructor
// frees; libgotcha copies that library into every slot. Its output goes to a pipe, so stdout
// is fully buffered and only flushed by exit() after the libraries' destructors have run: a
// destructor that aborts loses that output as well as the exit status.
#include <catch2/catch.hpp>

#include <cerrno>
#include <spawn.h>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

namespace {

struct outcome {
	int status = -1;      // as waitpid() reports it
	std::string out;      // what the program wrote to stdout, but the destructors' lines
	int destructors = 0;  // how many instances of the library ran its destructor
};

// Take the library's destructor lines out of the output, counting them.
int take_destructor_lines(std::string *out) {
	static const std::string line = "lifecycle destructor\n";
	int n = 0;
	for (std::size_t at; (at = out->find(line)) != std::string::npos; n++)
		out->erase(at, line.size());
	return n;
}

outcome run_program(const char *argument) {
	int fds[2];
	REQUIRE(pipe(fds) == 0);
	posix_spawn_file_actions_t actions;
	posix_spawn_file_actions_init(&actions);
	posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
	posix_spawn_file_actions_addclose(&actions, fds[0]);
	posix_spawn_file_actions_addclose(&actions, fds[1]);
	char *argv[] = {const_cast<char *>(INGER_TEST_LIFECYCLE_PROGRAM), const_cast<char *>(argument),
	                nullptr};
	pid_t child;
	int spawned = posix_spawn(&child, argv[0], &actions, nullptr, argv, environ);
	posix_spawn_file_actions_destroy(&actions);
	close(fds[1]);
	REQUIRE(spawned == 0);
	outcome o;
	char buffer[4096];
	for (;;) {
		ssize_t n = read(fds[0], buffer, sizeof buffer);
		if (n > 0)
			o.out.append(buffer, static_cast<std::size_t>(n));
		else if (n == 0 || errno != EINTR)
			break;
	}
	close(fds[0]);
	REQUIRE(waitpid(child, &o.status, 0) == child);
	o.destructors = take_destructor_lines(&o.out);
	return o;
}

std::string expected_output() {
	std::string s = "library ready\n";
	for (int i = 0; i < 2000; i++)
		s += "line " + std::to_string(i) + "\n";
	return s;
}

} // namespace

TEST_CASE("a copied library that frees at exit what its constructor allocated lets the program exit", "[relink][lifecycle]") {
	outcome o = run_program(nullptr);
	INFO("status " << o.status);
	REQUIRE(WIFEXITED(o.status)); // not killed by SIGABRT from free()
	CHECK(WEXITSTATUS(o.status) == 3);
	CHECK(o.out == expected_output());
}

TEST_CASE("a copied library's later calls can free what its constructor allocated", "[relink][lifecycle]") {
	// The preemptible function reallocs the constructor's table in its libset's copy.
	outcome o = run_program("grow");
	INFO("status " << o.status);
	REQUIRE(WIFEXITED(o.status));
	CHECK(WEXITSTATUS(o.status) == 3);
	CHECK(o.out == expected_output());
}

TEST_CASE("only the base instance of a copied library runs its destructors", "[relink][lifecycle]") {
	outcome o = run_program(nullptr);
	REQUIRE(WIFEXITED(o.status));
	CHECK(o.destructors == 1); // not once more per slot
}
