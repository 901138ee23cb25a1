# check.cmake — compile one source (-fsyntax-only) with the project's compiler and include path.
# A forbidden_*.cpp passes only if the compiler rejects it and its output matches every
# "// expect: REGEX" line of the source; an allowed_*.cpp passes only if it compiles cleanly.
# cmake -DCOMPILER=... -DINCLUDE=... -DSOURCE=... -P check.cmake
set(ENV{LC_ALL} C) # plain quotes in the compiler's notes
execute_process(
  COMMAND ${COMPILER} -std=c++20 -fsyntax-only -Wall -Wextra -Werror -I${INCLUDE} ${SOURCE}
  RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE out)
get_filename_component(name ${SOURCE} NAME)
if(name MATCHES "^allowed_")
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "${name} should compile and does not:\n${out}")
  endif()
  message(STATUS "${name} compiles")
  return()
endif()
if(status EQUAL 0)
  message(FATAL_ERROR "${name} should not compile, and it does")
endif()
file(STRINGS ${SOURCE} expectations REGEX "^// expect: ")
if(NOT expectations)
  message(FATAL_ERROR "${name} has no '// expect:' line")
endif()
foreach(line IN LISTS expectations)
  string(REGEX REPLACE "^// expect: " "" pattern "${line}")
  if(NOT out MATCHES "${pattern}")
    message(FATAL_ERROR "${name} is rejected, but the compiler's output lacks '${pattern}':\n${out}")
  endif()
endforeach()
message(STATUS "${name} is rejected with the expected message")
