# EDDY_CHECK_HEADERS_STD_PCH: every public header (core to saga and the adapters built) compiles
# alone with this build's compiler, against a precompiled header of the standard library
# headers eddy includes. Included from the top-level CMakeLists.txt.
#
# VERIFY_INTERFACE_HEADER_SETS (EDDY_VERIFY_HEADERS) is the full check, standard includes and
# all; it parses the standard library once per header (183 headers: 130 s of a 2-core build),
# so scripts/test runs it with clang++ only. This check costs a fraction of that, because what
# it is about, each header naming the eddy and third-party headers it uses and compiling with
# this compiler, does not need the standard library parsed again: the asan preset runs it with
# g++ (a missing standard include is the clang++ check's to find).
option(EDDY_CHECK_HEADERS_STD_PCH
       "Check that every public header compiles alone, the standard library precompiled" OFF)

if(EDDY_CHECK_HEADERS_STD_PCH)
    set(check_targets eddy)
    foreach(adapter IN LISTS EDDY_ADAPTERS)
        if(TARGET eddy_${adapter})
            list(APPEND check_targets eddy_${adapter})
        endif()
    endforeach()
    set(check_sources "")
    set(std_headers "")
    foreach(target IN LISTS check_targets)
        get_target_property(headers ${target} HEADER_SET)
        foreach(header IN LISTS headers)
            file(RELATIVE_PATH relative "${PROJECT_SOURCE_DIR}/include" "${header}")
            string(MAKE_C_IDENTIFIER "${relative}" id)
            set(source "${CMAKE_CURRENT_BINARY_DIR}/eddy_header_check/${id}.cpp")
            file(CONFIGURE OUTPUT "${source}" CONTENT "#include <${relative}>\n" @ONLY)
            list(APPEND check_sources "${source}")
            # Standard headers: <name> without a folder or an extension.
            file(STRINGS "${header}" includes REGEX "^#include <[a-z_]+>")
            foreach(line IN LISTS includes)
                string(REGEX REPLACE "^#include (<[a-z_]+>).*$" "\\1" std_header "${line}")
                list(APPEND std_headers "${std_header}")
            endforeach()
        endforeach()
    endforeach()
    list(REMOVE_DUPLICATES std_headers)
    list(SORT std_headers)
    add_library(eddy_header_check OBJECT ${check_sources})
    target_link_libraries(eddy_header_check PRIVATE ${check_targets})
    if(TARGET eddy_warnings)
        target_link_libraries(eddy_header_check PRIVATE eddy_warnings)
    endif()
    target_precompile_headers(eddy_header_check PRIVATE ${std_headers})
    # Only compiling is checked: no sanitizer instrumentation, no debug information.
    target_compile_options(eddy_header_check PRIVATE -g0 -fno-sanitize=all)
endif()
