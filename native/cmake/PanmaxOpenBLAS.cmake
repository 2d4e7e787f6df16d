# Finds OpenBLAS for libpanmax.so (jacobian_matmul uses cblas ?gemv/?ger).
#
# In:  PANMAX_OPENBLAS (maven|system), PANMAX_OPENBLAS_JAR, PANMAX_OUTPUT_DIR.
# Out: target panmax::openblas (include dir + library + PANMAX_HAVE_OPENBLAS_CONFIG when
#      openblas_get_config() exists), PANMAX_OPENBLAS_BUNDLED_DEPS (libraries copied next to
#      libpanmax.so that it must list as direct dependencies), PANMAX_OPENBLAS_DESCRIPTION.
#
# maven: org.bytedeco:openblas:0.3.28-1.5.11:<platform> is a jar holding a relocatable OpenBLAS
# build (libopenblas.so.0 with RUNPATH $ORIGIN/, its Fortran runtime, and the headers). Its
# lib/cmake/openblas/OpenBLASConfig.cmake names absolute paths of the machine that built it, so it
# is not used: the jar is unpacked and wrapped in an IMPORTED target here. One jar per target
# processor, each pinned by SHA-256 (Maven Central's .sha1 agrees with both):
#   linux-x86_64: libopenblas.so.0, libgfortran.so.5, libquadmath.so.0 (all bundled);
#   linux-arm64:  libopenblas.so.0, libgfortran.so.5 (no libquadmath on aarch64), and a
#                 libgcc_s.so.1 that is NOT bundled: every glibc system has its own (glibc loads
#                 it for pthread_cancel and backtraces), and a second, older copy loaded first
#                 under the same SONAME would be the one every later library gets.

set(_pm_obl_version "0.3.28-1.5.11")
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
  set(_pm_obl_platform "linux-x86_64")
  set(_pm_obl_sha256 "8e20a603cbb7f520eec4dfdea36cb039d92ce40cdc5bcc710dc8fdae64b572ad")
  set(_pm_obl_libs libopenblas.so.0 libgfortran.so.5 libquadmath.so.0)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64|ARM64)$")
  set(_pm_obl_platform "linux-arm64")
  set(_pm_obl_sha256 "142f8de67cfc01bc3111d75cd2edf488286e3bd86c69b27844bdca52f72ea256")
  set(_pm_obl_libs libopenblas.so.0 libgfortran.so.5)
elseif(PANMAX_OPENBLAS STREQUAL "maven")
  message(FATAL_ERROR "panmax: PANMAX_OPENBLAS=maven has OpenBLAS jars for x86_64 and aarch64, not "
          "for CMAKE_SYSTEM_PROCESSOR=${CMAKE_SYSTEM_PROCESSOR}; use -DPANMAX_OPENBLAS=system")
endif()
set(_pm_obl_jar_name "openblas-${_pm_obl_version}-${_pm_obl_platform}.jar")
set(_pm_obl_url
    "https://repo1.maven.org/maven2/org/bytedeco/openblas/${_pm_obl_version}/${_pm_obl_jar_name}")

set(PANMAX_OPENBLAS_BUNDLED_DEPS "")

if(PANMAX_OPENBLAS STREQUAL "maven")
  # 1. the jar named by the user, 2. the local Maven repository, 3. Maven Central.
  set(_pm_jar "")
  set(_pm_jar_origin "")
  if(PANMAX_OPENBLAS_JAR)
    if(NOT EXISTS "${PANMAX_OPENBLAS_JAR}")
      message(FATAL_ERROR "PANMAX_OPENBLAS_JAR=${PANMAX_OPENBLAS_JAR}: no such file")
    endif()
    set(_pm_jar "${PANMAX_OPENBLAS_JAR}")
    set(_pm_jar_origin "PANMAX_OPENBLAS_JAR")
  else()
    set(_pm_m2 "$ENV{HOME}/.m2/repository")
    if(DEFINED ENV{MAVEN_REPO_LOCAL})
      set(_pm_m2 "$ENV{MAVEN_REPO_LOCAL}")
    endif()
    set(_pm_m2_jar "${_pm_m2}/org/bytedeco/openblas/${_pm_obl_version}/${_pm_obl_jar_name}")
    if(EXISTS "${_pm_m2_jar}")
      set(_pm_jar "${_pm_m2_jar}")
      set(_pm_jar_origin "local Maven repository")
    else()
      set(_pm_jar "${CMAKE_BINARY_DIR}/_deps/${_pm_obl_jar_name}")
      set(_pm_jar_origin "Maven Central")
      if(NOT EXISTS "${_pm_jar}")
        message(STATUS "panmax: downloading ${_pm_obl_url}")
        file(DOWNLOAD "${_pm_obl_url}" "${_pm_jar}.part"
             EXPECTED_HASH SHA256=${_pm_obl_sha256}
             STATUS _pm_dl_status TLS_VERIFY ON)
        list(GET _pm_dl_status 0 _pm_dl_code)
        if(NOT _pm_dl_code EQUAL 0)
          file(REMOVE "${_pm_jar}.part")
          list(GET _pm_dl_status 1 _pm_dl_msg)
          message(FATAL_ERROR "panmax: could not download OpenBLAS (${_pm_dl_msg}) from "
                  "${_pm_obl_url}. Put the jar in ~/.m2 (mvn dependency:get "
                  "-Dartifact=org.bytedeco:openblas:${_pm_obl_version}:jar:${_pm_obl_platform}), pass "
                  "-DPANMAX_OPENBLAS_JAR=/path/to/${_pm_obl_jar_name}, or use "
                  "-DPANMAX_OPENBLAS=system.")
        endif()
        file(RENAME "${_pm_jar}.part" "${_pm_jar}")
      endif()
    endif()
  endif()
  # A jar given by hand or found in ~/.m2 is checked as well: the pinned hash is the contract.
  file(SHA256 "${_pm_jar}" _pm_jar_hash)
  if(NOT _pm_jar_hash STREQUAL _pm_obl_sha256)
    message(FATAL_ERROR "panmax: ${_pm_jar} has SHA-256 ${_pm_jar_hash}, expected "
            "${_pm_obl_sha256} (org.bytedeco:openblas:${_pm_obl_version}:${_pm_obl_platform})")
  endif()

  set(_pm_unpack "${CMAKE_BINARY_DIR}/_deps/openblas-${_pm_obl_version}")
  set(_pm_in_jar "org/bytedeco/openblas/${_pm_obl_platform}")
  set(_pm_root "${_pm_unpack}/${_pm_in_jar}")
  if(NOT EXISTS "${_pm_unpack}/.unpacked-${_pm_jar_hash}")
    file(REMOVE_RECURSE "${_pm_unpack}")
    file(MAKE_DIRECTORY "${_pm_unpack}")
    # Only what is used: the headers and the bundled libraries (the jar also carries JNI glue).
    set(_pm_members "${_pm_in_jar}/include")
    foreach(_pm_lib IN LISTS _pm_obl_libs)
      list(APPEND _pm_members "${_pm_in_jar}/${_pm_lib}")
    endforeach()
    execute_process(COMMAND "${CMAKE_COMMAND}" -E tar xf "${_pm_jar}" ${_pm_members}
                    WORKING_DIRECTORY "${_pm_unpack}" RESULT_VARIABLE _pm_tar_rc)
    if(NOT _pm_tar_rc EQUAL 0 OR NOT EXISTS "${_pm_root}/libopenblas.so.0")
      message(FATAL_ERROR "panmax: could not unpack ${_pm_jar} into ${_pm_unpack}")
    endif()
    file(TOUCH "${_pm_unpack}/.unpacked-${_pm_jar_hash}")
  endif()

  # The set travels together: each library finds the next through $ORIGIN (see the root
  # CMakeLists.txt for libgfortran's own dependencies).
  set(PANMAX_OPENBLAS_BUNDLED_DEPS "")
  foreach(_pm_lib IN LISTS _pm_obl_libs)
    configure_file("${_pm_root}/${_pm_lib}" "${PANMAX_OUTPUT_DIR}/${_pm_lib}" COPYONLY)
    if(NOT _pm_lib STREQUAL "libopenblas.so.0")
      list(APPEND PANMAX_OPENBLAS_BUNDLED_DEPS "${PANMAX_OUTPUT_DIR}/${_pm_lib}")
    endif()
  endforeach()

  add_library(panmax::openblas SHARED IMPORTED GLOBAL)
  set_target_properties(panmax::openblas PROPERTIES
      IMPORTED_LOCATION "${PANMAX_OUTPUT_DIR}/libopenblas.so.0"
      IMPORTED_SONAME "libopenblas.so.0"
      INTERFACE_INCLUDE_DIRECTORIES "${_pm_root}/include"
      INTERFACE_COMPILE_DEFINITIONS "PANMAX_HAVE_OPENBLAS_CONFIG=1"
      # Lets the linker resolve libopenblas' own dependencies when linking executables.
      INTERFACE_LINK_OPTIONS "LINKER:-rpath-link,${PANMAX_OUTPUT_DIR}")
  set(PANMAX_OPENBLAS_DESCRIPTION
      "org.bytedeco:openblas:${_pm_obl_version}:${_pm_obl_platform} (${_pm_jar_origin}: ${_pm_jar}), bundled into ${PANMAX_OUTPUT_DIR}")

elseif(PANMAX_OPENBLAS STREQUAL "system")
  # pkg-config first (it knows where cblas.h is), then CMake's FindBLAS.
  find_package(PkgConfig QUIET)
  set(_pm_found FALSE)
  if(PKG_CONFIG_FOUND)
    pkg_check_modules(PANMAX_PC_OPENBLAS QUIET IMPORTED_TARGET openblas)
    if(PANMAX_PC_OPENBLAS_FOUND)
      add_library(panmax::openblas INTERFACE IMPORTED GLOBAL)
      target_link_libraries(panmax::openblas INTERFACE PkgConfig::PANMAX_PC_OPENBLAS)
      set(_pm_found TRUE)
      set(PANMAX_OPENBLAS_DESCRIPTION
          "system OpenBLAS ${PANMAX_PC_OPENBLAS_VERSION} via pkg-config (${PANMAX_PC_OPENBLAS_LINK_LIBRARIES})")
    endif()
  endif()
  if(NOT _pm_found)
    set(BLA_VENDOR OpenBLAS)
    find_package(BLAS)
    if(NOT BLAS_FOUND)
      unset(BLA_VENDOR)
      find_package(BLAS)
    endif()
    if(NOT BLAS_FOUND)
      message(FATAL_ERROR "panmax: PANMAX_OPENBLAS=system but no BLAS was found "
              "(Debian: apt-get install libopenblas-dev), or use PANMAX_OPENBLAS=maven")
    endif()
    find_path(PANMAX_CBLAS_INCLUDE_DIR cblas.h PATH_SUFFIXES openblas)
    if(NOT PANMAX_CBLAS_INCLUDE_DIR)
      message(FATAL_ERROR "panmax: found BLAS (${BLAS_LIBRARIES}) but not cblas.h")
    endif()
    add_library(panmax::openblas INTERFACE IMPORTED GLOBAL)
    target_link_libraries(panmax::openblas INTERFACE ${BLAS_LIBRARIES})
    target_include_directories(panmax::openblas INTERFACE "${PANMAX_CBLAS_INCLUDE_DIR}")
    set(PANMAX_OPENBLAS_DESCRIPTION "system BLAS via FindBLAS (${BLAS_LIBRARIES})")
  endif()
  # openblas_get_config() is OpenBLAS-only; another CBLAS still works, with less info.
  include(CheckSymbolExists)
  include(CMakePushCheckState)
  cmake_push_check_state(RESET)
  get_target_property(_pm_inc panmax::openblas INTERFACE_INCLUDE_DIRECTORIES)
  if(_pm_inc)
    set(CMAKE_REQUIRED_INCLUDES ${_pm_inc})
  endif()
  set(CMAKE_REQUIRED_LIBRARIES panmax::openblas)
  check_symbol_exists(openblas_get_config "cblas.h" PANMAX_SYSTEM_HAS_OPENBLAS_CONFIG)
  cmake_pop_check_state()
  if(PANMAX_SYSTEM_HAS_OPENBLAS_CONFIG)
    set_property(TARGET panmax::openblas APPEND PROPERTY
                 INTERFACE_COMPILE_DEFINITIONS PANMAX_HAVE_OPENBLAS_CONFIG=1)
  endif()
else()
  message(FATAL_ERROR "PANMAX_OPENBLAS must be maven or system, not '${PANMAX_OPENBLAS}'")
endif()
