# relink_lifecycle/targets.cmake — the copied libraries' constructors and destructors: a
# library that allocates in its constructor and frees in its destructor, a program using it,
# and the test that runs that program.
add_library(test_lifecycle_library SHARED relink_lifecycle/library.c)
target_link_libraries(test_lifecycle_library PRIVATE inger_warnings)
add_executable(test_lifecycle_program relink_lifecycle/program.c)
target_link_libraries(test_lifecycle_program PRIVATE test_lifecycle_library inger::inger inger_warnings)
set(test_environment "GLIBC_TUNABLES=glibc.rtld.nns=16")
inger_tests(inger::inger relink_lifecycle)
unset(test_environment)
target_compile_definitions(test_relink_lifecycle PRIVATE
  INGER_TEST_LIFECYCLE_PROGRAM="$<TARGET_FILE:test_lifecycle_program>")
add_dependencies(test_relink_lifecycle test_lifecycle_program)
