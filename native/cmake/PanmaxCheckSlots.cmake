# ctest "kernel_slots_used": every slot of the kernel table (native/src/kernels.h) must be called
# by a row driver (native/src/rows_generic.h, as kt->slot). A slot that every ISA fills but no
# driver calls is dead code that the tests of the public API never reach (test_kernels tests
# each slot directly, but only a driver makes it matter).
#   cmake -DSRC=<repo>/native/src -P PanmaxCheckSlots.cmake
file(READ "${SRC}/kernels.h" header)
if(NOT header MATCHES "typedef struct pm_kernels_##S {([^}]*)}")
  message(FATAL_ERROR "no pm_kernels struct found in ${SRC}/kernels.h")
endif()
string(REGEX MATCHALL "_fn [a-z0-9_]+" fields "${CMAKE_MATCH_1}")
file(READ "${SRC}/rows_generic.h" drivers)
set(count 0)
set(dead "")
foreach(f IN LISTS fields)
  string(REPLACE "_fn " "" slot "${f}")
  math(EXPR count "${count} + 1")
  string(FIND "${drivers}" "kt->${slot}" at)
  if(at EQUAL -1)
    list(APPEND dead "${slot}")
  endif()
endforeach()
if(count LESS 10)
  message(FATAL_ERROR "found only ${count} slots in kernels.h: the parser no longer matches it")
endif()
if(dead)
  message(FATAL_ERROR "kernel slots no driver calls (delete them, or call them): ${dead}")
endif()
message(STATUS "all ${count} kernel slots are called by the drivers")
