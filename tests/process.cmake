# The actor ("process") layer of libturquoise: one executable per area.
set(TURQUOISE_PROCESS_TEST_NAMES
  process_basics
  process_dispatch
  process_preemption
  process_filters
  process_scale
)

foreach(name IN LISTS TURQUOISE_PROCESS_TEST_NAMES)
  add_executable(test_${name} ${CMAKE_CURRENT_SOURCE_DIR}/test_${name}.cpp)
  target_link_libraries(test_${name} PRIVATE
    inger_test_main inger::turquoise inger_warnings Threads::Threads)
  target_include_directories(test_${name} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
  catch_discover_tests(test_${name}
    TEST_PREFIX "${name}: "
    PROPERTIES TIMEOUT 120)
endforeach()
