# ergw_unit_test(NAME SOURCES... LIBS ... [DEFINITIONS ...] [LABELS ...]): a
# GoogleTest binary whose tests are registered with ctest one by one (label
# "unit"). Everything about the target goes through here: the fuzz flavour
# builds no tests, so a target_* call on the test beside it would fail there.
include(GoogleTest OPTIONAL)

# ergw_unit_tests builds what the "unit" label runs and nothing else: the
# sanitizer build (tools/setup asan) runs only unit tests, and the lab and
# kernel tests' binaries were about a third of its build time.
if(ERGW_BUILD_TESTS AND NOT TARGET ergw_unit_tests)
  add_custom_target(ergw_unit_tests)
endif()

# ergw_unit_test_uses(TARGET...): a unit test that is a script runs these
# targets' programs, so ergw_unit_tests must build them.
function(ergw_unit_test_uses)
  if(ERGW_BUILD_TESTS)
    add_dependencies(ergw_unit_tests ${ARGN})
  endif()
endfunction()

function(ergw_unit_test name)
  cmake_parse_arguments(T "" "" "SOURCES;LIBS;LABELS;DEFINITIONS" ${ARGN})
  if(NOT ERGW_BUILD_TESTS)
    return()
  endif()
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ergw_build_options ${T_LIBS} GTest::gtest GTest::gmock GTest::gtest_main)
  target_compile_definitions(${name} PRIVATE ERGW_SOURCE_DIR="${CMAKE_SOURCE_DIR}" ${T_DEFINITIONS})
  set(labels unit)
  if(T_LABELS)
    set(labels ${T_LABELS})
  endif()
  gtest_discover_tests(${name} PROPERTIES LABELS "${labels}" DISCOVERY_TIMEOUT 60)
  if("unit" IN_LIST labels)
    add_dependencies(ergw_unit_tests ${name})
  endif()
endfunction()
