# Build options shared by every target. Warnings are errors everywhere.
option(ERGW_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)
option(ERGW_FUZZ "Build libFuzzer targets (needs clang)" OFF)
option(ERGW_BUILD_TESTS "Build the test suite" ON)
option(ERGW_BUILD_BENCH "Build the benchmarks" ON)
option(ERGW_DEBUG_LINES_ONLY "Debug information of line tables only (-g1): backtraces and sanitizer reports keep their lines, no variables" OFF)

add_library(ergw_build_options INTERFACE)
target_compile_options(ergw_build_options INTERFACE
  -Wall -Wextra -Wpedantic -Werror
  -Wshadow -Wnon-virtual-dtor -Woverloaded-virtual -Wcast-align
  -Wimplicit-fallthrough -Wformat=2 -Wmissing-declarations)
target_include_directories(ergw_build_options INTERFACE ${CMAKE_SOURCE_DIR})
# GCC 12 (Debian 12's 12.2) at -O3 - the Release build, which the Debian
# packages use - reports two things inside libstdc++ that cannot happen:
# `"text" + std::string&&` (operator+ is insert(0, ...) there) as a memcpy of
# 2^63 bytes that may overlap (-Wrestrict, 13 of our files), and the first
# emplace_back into an empty vector of pairs as a subscript outside a
# zero-length array (-Warray-bounds, in vector::_M_realloc_insert). Many other
# projects built with GCC 12 in C++20 mode meet the same. The -O2 builds
# (tools/setup, CI) keep both warnings, so real overlapping copies and
# out-of-bounds subscripts are still caught there.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(ergw_build_options INTERFACE $<$<CONFIG:Release>:-Wno-restrict -Wno-array-bounds>)
endif()

# Debug information is kept (backtraces, ASan reports with lines) but stored
# compressed: the three flavours of a full test run otherwise take about 7 GB,
# and a CI run once failed on a full disk in the middle of the ASan build.
include(CheckCXXCompilerFlag)
check_cxx_compiler_flag(-gz ERGW_HAVE_COMPRESSED_DEBUG)
# tools/setup builds with line tables only: full debug information made about a
# fifth of the compile time of a whole test run (docs/development.md).
if(ERGW_DEBUG_LINES_ONLY)
  target_compile_options(ergw_build_options INTERFACE -g1)
endif()
if(ERGW_HAVE_COMPRESSED_DEBUG)
  target_compile_options(ergw_build_options INTERFACE -gz)
  target_link_options(ergw_build_options INTERFACE -gz)
endif()

# In a fuzz build every library carries coverage instrumentation (without
# libFuzzer's main), so the fuzzer sees the code it drives, not just its harness.
if(ERGW_FUZZ)
  target_compile_options(ergw_build_options INTERFACE -fsanitize=fuzzer-no-link)
  # `cmake --build build-fuzz --target ergw_fuzz` builds just the fuzz targets.
  add_custom_target(ergw_fuzz)
endif()

if(ERGW_SANITIZE OR ERGW_FUZZ)
  set(ERGW_SANITIZER_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=undefined
                           -fno-omit-frame-pointer)
  target_compile_options(ergw_build_options INTERFACE ${ERGW_SANITIZER_FLAGS})
  target_link_options(ergw_build_options INTERFACE ${ERGW_SANITIZER_FLAGS})
endif()

# ergw_fuzz_target(NAME SOURCES... LIBS ...): a libFuzzer binary, built only when
# ERGW_FUZZ is on, registered as a bounded ctest run (label "fuzz").
function(ergw_fuzz_target name)
  cmake_parse_arguments(F "" "" "SOURCES;LIBS;CORPUS" ${ARGN})
  if(NOT ERGW_FUZZ)
    return()
  endif()
  add_executable(${name} ${F_SOURCES})
  add_dependencies(ergw_fuzz ${name})
  target_link_libraries(${name} PRIVATE ergw_build_options ${F_LIBS})
  target_compile_options(${name} PRIVATE -fsanitize=fuzzer)
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  set(corpus_dir ${CMAKE_BINARY_DIR}/fuzz-corpus/${name})
  file(MAKE_DIRECTORY ${corpus_dir})
  set(seed_args)
  if(F_CORPUS)
    set(seed_args ${F_CORPUS})
  endif()
  if(NOT DEFINED ERGW_FUZZ_SECONDS)
    set(ERGW_FUZZ_SECONDS 30)
  endif()
  add_test(NAME fuzz.${name}
           COMMAND ${name} -max_total_time=${ERGW_FUZZ_SECONDS} -rss_limit_mb=2048
                   -print_final_stats=1 ${corpus_dir} ${seed_args})
  set_tests_properties(fuzz.${name} PROPERTIES LABELS fuzz TIMEOUT 600)
endfunction()
