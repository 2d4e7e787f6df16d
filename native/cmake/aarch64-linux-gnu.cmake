# Cross build for linux-aarch64 with Debian's GNU toolchain (apt-get install gcc-aarch64-linux-gnu;
# qemu-user to run the tests):
#
#   cmake -S . -B target/native-aarch64 -DCMAKE_TOOLCHAIN_FILE=native/cmake/aarch64-linux-gnu.cmake
#   cmake --build target/native-aarch64 -j2 && ctest --test-dir target/native-aarch64
#
# ctest runs each test through qemu-aarch64 (CMAKE_CROSSCOMPILING_EMULATOR) with the target's
# loader and libc from PANMAX_AARCH64_SYSROOT. OpenBLAS comes from the linux-arm64 jar (see
# PanmaxOpenBLAS.cmake). Overrides (-D or environment): PANMAX_AARCH64_PREFIX (the tools' prefix,
# default aarch64-linux-gnu-), PANMAX_AARCH64_SYSROOT (default /usr/aarch64-linux-gnu).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

# Each from -D, else the environment (as native/cmake/build-aarch64.sh and native/tests/aarch64.sh
# read them), else Debian's layout.
foreach(_pm_var PANMAX_AARCH64_PREFIX PANMAX_AARCH64_SYSROOT)
  if(NOT ${_pm_var} AND DEFINED ENV{${_pm_var}})
    set(${_pm_var} "$ENV{${_pm_var}}")
  endif()
endforeach()
if(NOT PANMAX_AARCH64_PREFIX)
  set(PANMAX_AARCH64_PREFIX aarch64-linux-gnu-)
endif()
if(NOT PANMAX_AARCH64_SYSROOT)
  set(PANMAX_AARCH64_SYSROOT /usr/aarch64-linux-gnu)
endif()
# try_compile() projects re-read this file: pass the two settings on to them.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES PANMAX_AARCH64_PREFIX PANMAX_AARCH64_SYSROOT)

set(CMAKE_C_COMPILER ${PANMAX_AARCH64_PREFIX}gcc)
# Libraries and headers of the target from its sysroot only; programs (cmake, qemu) from the host.
set(CMAKE_FIND_ROOT_PATH ${PANMAX_AARCH64_SYSROOT})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

find_program(PANMAX_QEMU_AARCH64 qemu-aarch64)
if(PANMAX_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR "${PANMAX_QEMU_AARCH64}")
  # QEMU_LD_PREFIX rather than -L: test_api re-executes itself (PANMAX_TEST_EMULATOR, see
  # CMakeLists.txt) and its children inherit the environment, not the emulator's arguments.
  set(PANMAX_TEST_EMULATOR_ENV "PANMAX_TEST_EMULATOR=${PANMAX_QEMU_AARCH64}"
      "QEMU_LD_PREFIX=${PANMAX_AARCH64_SYSROOT}")
endif()
