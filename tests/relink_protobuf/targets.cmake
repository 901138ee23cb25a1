# relink_protobuf/targets.cmake — a library whose state the program fills at start-up
# (libprotobuf: the generated descriptors register themselves with it), used from preemptible
# functions under libsets.
find_package(Protobuf REQUIRED)
add_library(relink_probe_proto OBJECT relink_protobuf/probe.proto)
protobuf_generate(TARGET relink_probe_proto LANGUAGE cpp)
target_include_directories(relink_probe_proto PUBLIC ${CMAKE_CURRENT_BINARY_DIR})
target_link_libraries(relink_probe_proto PUBLIC protobuf::libprotobuf)
inger_tests(inger::inger relink_protobuf)
target_link_libraries(test_relink_protobuf PRIVATE relink_probe_proto)

# The same pattern in a library of the program's own, kept shared by INGER_SHARED_LIBRARIES.
add_library(test_registry SHARED relink_protobuf/registry.c)
target_link_libraries(test_registry PRIVATE inger_warnings)
target_link_libraries(test_relink_protobuf PRIVATE test_registry)
add_test(NAME "relink_protobuf: INGER_SHARED_LIBRARIES keeps a library's registry shared"
  COMMAND test_relink_protobuf "[shared_libraries]")
set_tests_properties("relink_protobuf: INGER_SHARED_LIBRARIES keeps a library's registry shared"
  PROPERTIES ENVIRONMENT "INGER_SHARED_LIBRARIES=libfoo.so:libtest_registry")
