# Builds and runs one consumer project of tests/consumer/; run by ctest as a script:
#
#   cmake -DMODE=find_package|add_subdirectory -DEDDY_SOURCE_DIR=... [-DEDDY_BINARY_DIR=...]
#         -DWORK_DIR=... -DGENERATOR=... -DMAKE_PROGRAM=... -DCXX_COMPILER=...
#         -DCXX_FLAGS=... -DEXE_LINKER_FLAGS=... -DBUILD_TYPE=... -P run_consumer.cmake
#
# find_package: installs EDDY_BINARY_DIR into WORK_DIR/prefix and points the consumer at it.
# add_subdirectory: hands the consumer EDDY_SOURCE_DIR.
# Either way the consumer is configured from scratch in WORK_DIR/build, built and run; its
# program exits 0 iff eddy::sync_wait of a task returning 42 gives 42.
cmake_minimum_required(VERSION 3.25)

foreach(var MODE EDDY_SOURCE_DIR WORK_DIR GENERATOR CXX_COMPILER)
    if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
        message(FATAL_ERROR "run_consumer.cmake: ${var} is not set")
    endif()
endforeach()

# run(<step> <command...>): runs a command, echoing it, and stops at the first failure.
function(run step)
    string(REPLACE ";" " " shown "${ARGN}")
    message("-- ${step}: ${shown}")
    execute_process(COMMAND ${ARGN} RESULT_VARIABLE result)
    if(NOT result EQUAL 0)
        message(FATAL_ERROR "consumer.${MODE}: ${step} failed (${result})")
    endif()
endfunction()

set(build_dir "${WORK_DIR}/build")
file(REMOVE_RECURSE "${build_dir}")

set(configure_args
    -S "${EDDY_SOURCE_DIR}/tests/consumer/${MODE}"
    -B "${build_dir}"
    -G "${GENERATOR}"
    "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}"
    "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}"
    "-DCMAKE_EXE_LINKER_FLAGS=${EXE_LINKER_FLAGS}")
if(MAKE_PROGRAM)
    list(APPEND configure_args "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
endif()
if(BUILD_TYPE)
    list(APPEND configure_args "-DCMAKE_BUILD_TYPE=${BUILD_TYPE}")
endif()

if(MODE STREQUAL "find_package")
    if(NOT EDDY_BINARY_DIR)
        message(FATAL_ERROR "run_consumer.cmake: EDDY_BINARY_DIR is not set")
    endif()
    set(prefix "${WORK_DIR}/prefix")
    file(REMOVE_RECURSE "${prefix}")
    set(install_args --install "${EDDY_BINARY_DIR}" --prefix "${prefix}")
    if(BUILD_TYPE)
        list(APPEND install_args --config "${BUILD_TYPE}")
    endif()
    run(install "${CMAKE_COMMAND}" ${install_args})
    # Only the prefix: a stray eddy elsewhere (e.g. /usr/local) must not satisfy the test.
    list(APPEND configure_args "-DCMAKE_PREFIX_PATH=${prefix}"
         -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF)
elseif(MODE STREQUAL "add_subdirectory")
    list(APPEND configure_args "-DEDDY_SOURCE_DIR=${EDDY_SOURCE_DIR}")
else()
    message(FATAL_ERROR "run_consumer.cmake: unknown MODE '${MODE}'")
endif()

run(configure "${CMAKE_COMMAND}" ${configure_args})
set(build_args --build "${build_dir}")
if(BUILD_TYPE)
    list(APPEND build_args --config "${BUILD_TYPE}")
endif()
run(build "${CMAKE_COMMAND}" ${build_args})

find_program(consumer_exe NAMES consumer PATHS "${build_dir}" "${build_dir}/${BUILD_TYPE}"
             NO_DEFAULT_PATH REQUIRED)
run(run "${consumer_exe}")
message("consumer.${MODE}: eddy::sync_wait(answer()) == 42")
