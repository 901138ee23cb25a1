# turquoise utilities (Queue, Mutex, Pipe, subprocess/io) and metrics: one executable per file.
set(TURQUOISE_UTIL_TEST_NAMES
  util_queue
  util_mutex
  util_pipe
  util_subprocess
  metrics
)

foreach(name IN LISTS TURQUOISE_UTIL_TEST_NAMES)
  add_executable(test_${name} test_${name}.cpp)
  target_link_libraries(test_${name} PRIVATE
    inger_test_main inger::turquoise inger_warnings Threads::Threads)
  target_include_directories(test_${name} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
  catch_discover_tests(test_${name}
    TEST_PREFIX "${name}: "
    PROPERTIES TIMEOUT 120)
endforeach()
