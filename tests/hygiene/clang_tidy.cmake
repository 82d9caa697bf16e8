# clang-tidy check of eddy's public headers; run as a script:
#
#   cmake -DROOT=<source dir> -DCLANG_TIDY=<clang-tidy> -DWORK_DIR=<scratch dir> [-DJOBS=2]
#         -P clang_tidy.cmake
#
# For every public header include/eddy/<layer>/<name>.hpp (globbed when the test runs, so new
# headers are covered without re-configuring) it writes a translation unit that includes only
# that header and runs clang-tidy on it, JOBS at a time, with ROOT/.clang-tidy and
# --warnings-as-errors=*. The configuration's header filter reports what is found in any eddy
# header the TU pulls in, so detail/ headers are checked through the public ones. Not checked on
# their own: umbrellas (eddy.hpp, and <layer>.hpp beside a <layer>/ folder: they only include)
# and adapters (they need their third-party headers; each adapter brings its own check).
# Fix a failure in the code, or exclude a noisy check in .clang-tidy with a one-line reason.

cmake_minimum_required(VERSION 3.25)

if(NOT DEFINED ROOT OR NOT DEFINED CLANG_TIDY OR NOT DEFINED WORK_DIR)
    message(FATAL_ERROR
        "usage: cmake -DROOT=<dir> -DCLANG_TIDY=<exe> -DWORK_DIR=<dir> [-DJOBS=n] -P clang_tidy.cmake")
endif()
if(NOT DEFINED JOBS)
    set(JOBS 2)
endif()
file(REAL_PATH "${ROOT}" ROOT)

set(adapters sqlite postgres nats json)
set(include_dir "${ROOT}/include")
file(GLOB_RECURSE found RELATIVE "${include_dir}" "${include_dir}/eddy/*.hpp")
list(SORT found)
set(headers "")
foreach(header IN LISTS found)
    string(REGEX MATCH "^eddy/([^/.]+)" folder "${header}")
    set(folder "${CMAKE_MATCH_1}")
    if(header MATCHES "(^|/)detail/" OR folder IN_LIST adapters OR header STREQUAL "eddy/eddy.hpp")
        continue()
    endif()
    if(header MATCHES "^eddy/[^/]+\\.hpp$" AND IS_DIRECTORY "${include_dir}/eddy/${folder}")
        continue() # the umbrella of a folder (a layer with a single header has no folder)
    endif()
    list(APPEND headers "${header}")
endforeach()
list(LENGTH headers count)
if(count EQUAL 0)
    message("clang_tidy: no headers to check")
    return()
endif()

# One TU per header, named after it (eddy/core/task.hpp -> eddy_core_task.cpp); the list of
# TUs goes to xargs, which runs clang-tidy on them in parallel.
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
set(units "")
foreach(header IN LISTS headers)
    string(REGEX REPLACE "\\.hpp$" "" unit "${header}")
    string(REPLACE "/" "_" unit "${unit}")
    set(unit "${WORK_DIR}/${unit}.cpp")
    file(WRITE "${unit}" "#include <${header}>\n")
    string(APPEND units "${unit}\n")
endforeach()
file(WRITE "${WORK_DIR}/units.txt" "${units}")

# The TUs live outside the source tree, so the configuration is named explicitly. xargs exits
# with 123 when any clang-tidy run failed (a warning, being an error, or a compile error).
execute_process(
    COMMAND xargs -P "${JOBS}" -I "{}"
            "${CLANG_TIDY}" --quiet "--config-file=${ROOT}/.clang-tidy" --warnings-as-errors=*
            "{}" -- -std=c++20 "-I${include_dir}"
    INPUT_FILE "${WORK_DIR}/units.txt"
    WORKING_DIRECTORY "${ROOT}"
    OUTPUT_VARIABLE output
    ERROR_VARIABLE output
    RESULT_VARIABLE result)
# Drop clang's per-TU "N warnings generated." (warnings from the standard library, which the
# header filter suppresses); keep everything else.
string(REGEX REPLACE "(^|\n)[0-9]+ warnings? generated\." "\\1" output "${output}")
string(REGEX REPLACE "\n\n+" "\n" output "${output}")
string(STRIP "${output}" output)
if(output)
    message("${output}")
endif()
if(NOT result EQUAL 0)
    message(FATAL_ERROR "clang_tidy: findings above in ${count} header(s) checked (exit ${result}); "
                        "fix the code, or exclude a noisy check in .clang-tidy with its reason")
endif()
message("clang_tidy: ${count} header(s) clean")
