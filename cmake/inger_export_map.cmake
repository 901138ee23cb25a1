# inger_export_map.cmake — inger_export_map(<target> <map> [HIDE <regex>] [KEEP <regex>]):
# link a shared library with a version script that exports its public names and hides its
# internals.
#
# <map> is the library's hand-written version script: its public namespaces as wildcard
# patterns in global:, and `local: *;`. A wildcard cannot say "except detail": GNU ld lets a
# global wildcard win over every local wildcard, and fnmatch has no negation beyond one
# character ([!x]), so hand-written exclusions only work name by name and break as soon as a
# namespace gains a `detail` (it happened: turquoise::http::detail and placement::detail were
# exported through turquoise::[!dpt]* and turquoise::p[!o]*). ld does let a *literal* local
# name win over a global wildcard. So just before each link (PRE_LINK), inger_export_map.sh
# lists the symbols the target's objects define, and adds every internal one to the map's
# local: section by its exact mangled name. Internal means: the demangled name matches HIDE
# (default `detail|internal`, the rule tests/abi/ checks), with one exception, protobuf's own
# types in the parameters of protoc's generated methods (cmake/internal_names.awk). The written
# map is the hand-written one plus that list, which is complete by construction, whatever
# namespace, class or template argument the internal name sits in.
#
# KEEP <regex>: internal names that stay exported for now, because a header still calls them
# (a temporary exception, named where it is made; tests/abi/ reports these names and lets
# only them through: the global property INGER_EXPORTED_INTERNALS collects the regexes).
#
# The function must be called in the directory that defines <target> (CMake runs PRE_LINK
# commands only for targets of the current directory).
set(INGER_EXPORT_MAP_DIR "${CMAKE_CURRENT_LIST_DIR}") # this file's directory, at include time
function(inger_export_map target map)
  cmake_parse_arguments(PARSE_ARGV 2 arg "" "HIDE;KEEP" "")
  if(NOT arg_HIDE)
    set(arg_HIDE "detail|internal")
  endif()
  if(arg_KEEP)
    set_property(GLOBAL APPEND PROPERTY INGER_EXPORTED_INTERNALS "${arg_KEEP}")
  else()
    set(arg_KEEP "^$") # matches no symbol name
  endif()
  get_filename_component(map "${map}" ABSOLUTE)
  set(objects "${CMAKE_CURRENT_BINARY_DIR}/${target}.objects")
  set(written "${CMAKE_CURRENT_BINARY_DIR}/${target}.map")
  file(GENERATE OUTPUT "${objects}" CONTENT "$<JOIN:$<TARGET_OBJECTS:${target}>,\n>\n")
  add_custom_command(TARGET ${target} PRE_LINK
    COMMAND "${INGER_EXPORT_MAP_DIR}/inger_export_map.sh" "${map}" "${written}" "${objects}" "${arg_HIDE}" "${arg_KEEP}"
    COMMENT "Writing the version script of ${target} (internal names hidden)"
    VERBATIM)
  target_link_options(${target} PRIVATE "-Wl,--version-script=${written}")
  set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS "${map}"
    "${INGER_EXPORT_MAP_DIR}/inger_export_map.sh" "${INGER_EXPORT_MAP_DIR}/internal_names.awk")
endfunction()
