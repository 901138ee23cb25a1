// test_environment.cpp — the environment variables libinger and libgotcha read: a value that
// is not valid is reported on stderr (naming the variable), never taken silently.
#include <catch2/catch.hpp>

#include <libinger.h>

#include <array>
#include <cstdio>
#include <string>
#include <unistd.h>

namespace {

std::string self_path() {
	std::array<char, 4096> path{};
	ssize_t n = readlink("/proc/self/exe", path.data(), path.size() - 1);
	REQUIRE(n > 0);
	return std::string(path.data(), static_cast<std::size_t>(n));
}

// Runs this test program's hidden child case with `assignment` in its environment, and
// returns what it wrote on stderr and stdout.
std::string run_child(const std::string &assignment) {
	std::string command = "env " + assignment + " '" + self_path() + "' '[.environment_child]' 2>&1";
	FILE *out = popen(command.c_str(), "r");
	REQUIRE(out != nullptr);
	std::string text;
	std::array<char, 512> buffer;
	while (std::size_t n = std::fread(buffer.data(), 1, buffer.size(), out))
		text.append(buffer.data(), n);
	int status = pclose(out);
	INFO(text);
	CHECK(status == 0); // a wrong value is reported, not fatal
	return text;
}

void touch(void *arg) { *static_cast<int *>(arg) = 1; }

} // namespace

TEST_CASE("environment child: launches one function", "[.environment_child]") {
	int x = 0;
	linger_t l = launch(touch, 1000, &x);
	REQUIRE(l.is_complete);
	REQUIRE(x == 1);
}

TEST_CASE("an invalid INGER_STACK_SIZE or INGER_SIGNAL is reported, a valid one is not") {
	CHECK(run_child("INGER_STACK_SIZE=lots").find("INGER_STACK_SIZE=\"lots\"") != std::string::npos);
	CHECK(run_child("INGER_STACK_SIZE=-1").find("INGER_STACK_SIZE=\"-1\"") != std::string::npos);
	CHECK(run_child("INGER_SIGNAL=SIGUSR1").find("INGER_SIGNAL=\"SIGUSR1\"") != std::string::npos);
	CHECK(run_child("INGER_SIGNAL=2").find("INGER_SIGNAL=\"2\"") != std::string::npos);
	CHECK(run_child("INGER_STACK_SIZE=1048576").find("libinger:") == std::string::npos);
}

TEST_CASE("an INGER_LIBSETS that is not a whole number is reported, not taken as the maximum") {
	CHECK(run_child("INGER_LIBSETS=all").find("INGER_LIBSETS=\"all\"") != std::string::npos);
	CHECK(run_child("INGER_LIBSETS=-1").find("INGER_LIBSETS=\"-1\"") != std::string::npos);
	CHECK(run_child("INGER_LIBSETS=2").find("libgotcha:") == std::string::npos);
}
