# Formatting check; run as a script:
#
#   cmake -DROOT=<source dir> -DCLANG_FORMAT=<clang-format> -P clang_format.cmake
#
# Runs `clang-format --dry-run --Werror` (style from ROOT/.clang-format) on every C++ file
# under include/, tests/, benchmarks/ and examples/, globbed when the test runs so new files
# are covered without re-configuring. Fix a failure with: clang-format -i <file>.

cmake_minimum_required(VERSION 3.25)

if(NOT DEFINED ROOT OR NOT DEFINED CLANG_FORMAT)
    message(FATAL_ERROR "usage: cmake -DROOT=<dir> -DCLANG_FORMAT=<exe> -P clang_format.cmake")
endif()
file(REAL_PATH "${ROOT}" ROOT)

set(files "")
foreach(dir include tests benchmarks examples)
    file(GLOB_RECURSE found "${ROOT}/${dir}/*.hpp" "${ROOT}/${dir}/*.cpp" "${ROOT}/${dir}/*.h")
    list(APPEND files ${found})
endforeach()
list(SORT files)
list(LENGTH files count)
if(count EQUAL 0)
    message("clang_format: no files to check")
    return()
endif()

execute_process(
    COMMAND "${CLANG_FORMAT}" --style=file --dry-run --Werror ${files}
    WORKING_DIRECTORY "${ROOT}"
    RESULT_VARIABLE result)
if(NOT result EQUAL 0)
    message(FATAL_ERROR "clang_format: files above are not formatted (clang-format -i <file>)")
endif()
message("clang_format: ${count} file(s) formatted")
