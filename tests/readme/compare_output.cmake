# Runs PROGRAM and fails unless it exits 0 and prints exactly the text in EXPECTED.
execute_process(COMMAND "${PROGRAM}" RESULT_VARIABLE result OUTPUT_VARIABLE output)
if(NOT result EQUAL 0)
    message(FATAL_ERROR "${PROGRAM} exited with ${result}")
endif()
file(READ "${EXPECTED}" expected)
if(NOT output STREQUAL expected)
    message(FATAL_ERROR "README output differs.\n--- README shows:\n${expected}--- program printed:\n${output}")
endif()
