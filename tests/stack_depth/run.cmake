# Builds deep_loops.cpp with COMPILER and FLAGS (space-separated), runs it, and fails unless it
# exits 0. Usage: cmake -DCOMPILER=... -DFLAGS=... -DSOURCE=... -DINCLUDE_DIR=... -DOUT=... -P run.cmake
separate_arguments(flags UNIX_COMMAND "${FLAGS}")
execute_process(COMMAND "${COMPILER}" -std=c++20 ${flags} "-I${INCLUDE_DIR}" "${SOURCE}"
                        -pthread -o "${OUT}"
                RESULT_VARIABLE built OUTPUT_VARIABLE log ERROR_VARIABLE log)
if(NOT built EQUAL 0)
    message(FATAL_ERROR "build failed:\n${log}")
endif()
execute_process(COMMAND "${OUT}" RESULT_VARIABLE ran OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT ran EQUAL 0)
    message(FATAL_ERROR "${COMPILER} ${FLAGS}: exited with ${ran}:\n${out}")
endif()
message(STATUS "${COMPILER} ${FLAGS}: ${out}")
