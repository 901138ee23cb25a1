// libgotcha: libraries with process-wide registries (libprotobuf) used from preemptible code.
//
// The program's generated protobuf code registers its descriptors with the libprotobuf it was
// loaded with. A copy of libprotobuf in a libset has an empty registry, so reflection from a
// preemptible function (GetTypeName, JSON, text format) used to crash there.
#include "gotcha_helpers.hpp"
#include "helpers.hpp"

#include <catch2/catch.hpp>

#include <libgotcha.h>
#include <libinger.h>

#include "relink_protobuf/probe.pb.h"

#include <string>

namespace {

struct Outcome {
	std::string type, name, debug;
	long sum = 0;
	bool parsed = false;
};

void use_protobuf(void *arg) {
	auto *out = static_cast<Outcome *>(arg);
	inger::test::Probe probe;
	probe.set_name("probe");
	for (int i = 1; i <= 1000; i++)
		probe.add_values(i);
	out->type = probe.GetTypeName(); // the descriptor registry
	out->debug = probe.ShortDebugString().substr(0, 13);
	std::string wire = probe.SerializeAsString();
	inger::test::Probe back;
	out->parsed = back.ParseFromString(wire);
	out->name = back.name();
	for (long v : back.values())
		out->sum += v;
}

} // namespace

TEST_CASE("protobuf reflection works in a preemptible function under libsets") {
	if (gotcha_init() != 0) // a sanitizer build: no libsets, the base library serves all
		WARN("libsets unavailable: " << th::libsets_info().disabled_reason);
	for (int round = 0; round < 20; round++) {
		Outcome out;
		linger_t f = launch(use_protobuf, 100, &out); // 100 us: preempted now and then
		while (!f.is_complete)
			resume(&f, 100);
		cancel(&f);
		CHECK(out.type == "inger.test.Probe");
		CHECK(out.debug == "name: \"probe\"");
		CHECK(out.parsed);
		CHECK(out.name == "probe");
		CHECK(out.sum == 500500);
	}
}

extern "C" int test_registry_add(const char *name);
extern "C" int test_registry_find(const char *name);

namespace {

void find_registered(void *arg) {
	*static_cast<int *>(arg) = test_registry_find("registered before the first launch");
}

} // namespace

// Run with INGER_SHARED_LIBRARIES naming libtest_registry (see targets.cmake); without it, the
// preemptible function would read an empty copy of the registry.
TEST_CASE("a library named in INGER_SHARED_LIBRARIES is one for all libsets", "[.shared_libraries]") {
	int index = test_registry_add("registered before the first launch");
	REQUIRE(index >= 0);
	gotcha_init();
	int found = -2;
	linger_t f = launch(find_registered, 1000000, &found);
	REQUIRE(f.is_complete);
	cancel(&f);
	CHECK(found == index);
}
