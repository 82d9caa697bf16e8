# Compiles one compile-fail case twice: with EDDY_COMPILE_FAIL defined it must fail with the
# diagnostic named on the case's `// expect:` line; without, it must compile (the twin that keeps
# the harness from passing vacuously).
# Usage: cmake -DCOMPILER=... -DSOURCE=... -DINCLUDE_DIR=... -P check.cmake
file(STRINGS "${SOURCE}" expect_lines REGEX "^// expect: ")
if(NOT expect_lines)
    message(FATAL_ERROR "${SOURCE}: no `// expect: <regex>` line")
endif()
list(GET expect_lines 0 expect_line)
string(REGEX REPLACE "^// expect: " "" expected "${expect_line}")

set(flags -std=c++20 -fsyntax-only "-I${INCLUDE_DIR}")

execute_process(COMMAND "${COMPILER}" ${flags} "${SOURCE}"
                RESULT_VARIABLE twin_result OUTPUT_VARIABLE twin_out ERROR_VARIABLE twin_out)
if(NOT twin_result EQUAL 0)
    message(FATAL_ERROR "${SOURCE}: the must-compile twin does not compile:\n${twin_out}")
endif()

execute_process(COMMAND "${COMPILER}" ${flags} -DEDDY_COMPILE_FAIL "${SOURCE}"
                RESULT_VARIABLE fail_result OUTPUT_VARIABLE fail_out ERROR_VARIABLE fail_out)
if(fail_result EQUAL 0)
    message(FATAL_ERROR "${SOURCE}: compiled, but must fail with: ${expected}")
endif()
if(NOT fail_out MATCHES "${expected}")
    message(FATAL_ERROR "${SOURCE}: failed without the promised diagnostic '${expected}':\n${fail_out}")
endif()
message(STATUS "${SOURCE}: fails as promised (${expected}); its twin compiles")
