// Catch2 main for every test executable (built once as inger_test_main).
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
