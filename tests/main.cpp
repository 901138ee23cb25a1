// Catch2 main for every test executable (built once as inger_test_main).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <libgotcha.h>

int main(int argc, char **argv) {
	// The libsets are made on the first launch of the process, which then takes a few
	// milliseconds; tests that time a function from just before its launch would count that.
	gotcha_init();
	return Catch::Session().run(argc, argv);
}
