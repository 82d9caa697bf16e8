# clang-tidy check of eddy's public headers; run as a script:
#
#   cmake -DROOT=<source dir> -DCLANG_TIDY=<clang-tidy> -DWORK_DIR=<scratch dir> [-DJOBS=2]
#         -P clang_tidy.cmake
#
# Every public header include/eddy/<layer>/<name>.hpp (globbed when the test runs, so new
# headers are covered without re-configuring) is included by one of JOBS translation units,
# and clang-tidy runs on those in parallel, with ROOT/.clang-tidy and --warnings-as-errors=*. The configuration's header filter reports what is found in any eddy
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

# JOBS TUs, each including its share of the headers (round robin): parsing the headers' common
# closure once per TU instead of once per header makes the check ~10x faster, and the header
# filter still reports every finding in every eddy header. (That each header compiles alone is
# checked by VERIFY_INTERFACE_HEADER_SETS, not here.) The list of TUs goes to xargs, which runs
# clang-tidy on them in parallel.
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
set(units "")
set(index 0)
foreach(header IN LISTS headers)
    math(EXPR group "${index} % ${JOBS}")
    math(EXPR index "${index} + 1")
    file(APPEND "${WORK_DIR}/headers_${group}.cpp" "#include <${header}>\n")
endforeach()
math(EXPR last "${JOBS} - 1")
foreach(group RANGE ${last})
    if(EXISTS "${WORK_DIR}/headers_${group}.cpp")
        string(APPEND units "${WORK_DIR}/headers_${group}.cpp\n")
    endif()
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
