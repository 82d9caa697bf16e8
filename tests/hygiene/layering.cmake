# Layering check for eddy's headers; run as a script:
#
#   cmake -DROOT=<directory holding include/eddy> -P layering.cmake
#
# Rules (DESIGN.md, "Layers"):
#   * layers are ranked core=0 stream=1 bus=2 es=3 outbox=4 saga=5; a header of a layer
#     includes eddy headers only of its own layer or of layers below it;
#     include/eddy/<layer>.hpp belongs to <layer>; include/eddy/eddy.hpp may include any layer;
#   * adapter folders (sqlite, postgres, nats, json) may include any layer and any
#     third-party header, but no layer may include an adapter;
#   * outside the adapters, every #include <...> names eddy/... or a standard C++ header
#     from the whitelist below;
#   * #include "..." is not used anywhere under include/eddy (write <eddy/...>).
# Each violation is printed as file:line: message; the script fails if there is any.

cmake_minimum_required(VERSION 3.25)

if(NOT DEFINED ROOT)
    message(FATAL_ERROR "usage: cmake -DROOT=<dir containing include/eddy> -P layering.cmake")
endif()
file(REAL_PATH "${ROOT}" ROOT)

set(layers core stream bus es outbox saga)
set(adapters sqlite postgres nats json)
list(JOIN layers ", " layers_text)
list(JOIN adapters ", " adapters_text)

# Standard C++ library headers (C++20, plus the <cxxx> forms of the C library).
set(standard_headers
    algorithm any array atomic barrier bit bitset charconv chrono codecvt compare complex
    concepts condition_variable coroutine deque exception execution expected filesystem
    format forward_list fstream functional future initializer_list iomanip ios iosfwd
    iostream istream iterator latch limits list locale map memory memory_resource mutex new
    numbers numeric optional ostream queue random ranges ratio regex scoped_allocator
    semaphore set shared_mutex source_location span sstream stack stdexcept stop_token
    streambuf string string_view syncstream system_error thread tuple type_traits typeindex
    typeinfo unordered_map unordered_set utility valarray variant vector version
    cassert cctype cerrno cfenv cfloat cinttypes climits clocale cmath csetjmp csignal
    cstdarg cstddef cstdint cstdio cstdlib cstring ctime cuchar cwchar cwctype)

# rank_of(<folder> <out>): rank of a layer, "adapter", "top" (eddy.hpp) or "unknown".
function(rank_of folder out)
    list(FIND layers "${folder}" rank)
    if(rank GREATER -1)
        set(${out} ${rank} PARENT_SCOPE)
    elseif(folder IN_LIST adapters)
        set(${out} adapter PARENT_SCOPE)
    elseif(folder STREQUAL "eddy")
        set(${out} top PARENT_SCOPE)
    else()
        set(${out} unknown PARENT_SCOPE)
    endif()
endfunction()

# folder_of(<path relative to include/eddy> <out>): core/task.hpp -> core, core.hpp -> core.
function(folder_of path out)
    string(REGEX REPLACE "/.*$" "" first "${path}")
    string(REGEX REPLACE "\\.(hpp|h)$" "" first "${first}")
    set(${out} "${first}" PARENT_SCOPE)
endfunction()

set(include_dir "${ROOT}/include/eddy")
file(GLOB_RECURSE headers RELATIVE "${include_dir}"
     "${include_dir}/*.hpp" "${include_dir}/*.h" "${include_dir}/*.ipp")
list(SORT headers)

set(violations 0)
foreach(header IN LISTS headers)
    set(file "${include_dir}/${header}")
    folder_of("${header}" folder)
    rank_of("${folder}" rank)
    if(rank STREQUAL "unknown")
        message("${file}:1: folder '${folder}' is neither a layer (${layers_text}) nor an adapter (${adapters_text})")
        math(EXPR violations "${violations} + 1")
        continue()
    endif()

    # Split into lines, keeping empty ones so line numbers stay right. Characters with a
    # meaning in CMake lists are masked first; include lines never contain them.
    file(READ "${file}" content)
    string(REPLACE "\\" "_" content "${content}")
    string(REPLACE ";" "_" content "${content}")
    string(REPLACE "[" "_" content "${content}")
    string(REPLACE "]" "_" content "${content}")
    string(REPLACE "\n" ";" lines "${content}")

    set(line_number 0)
    foreach(line IN LISTS lines)
        math(EXPR line_number "${line_number} + 1")
        if(NOT line MATCHES "^[ \t]*#[ \t]*include[ \t]*([<\"])([^>\"]*)[>\"]")
            continue()
        endif()
        set(delimiter "${CMAKE_MATCH_1}")
        set(included "${CMAKE_MATCH_2}")
        set(where "${file}:${line_number}:")

        if(delimiter STREQUAL "\"")
            message("${where} relative include \"${included}\": write #include <eddy/...>")
            math(EXPR violations "${violations} + 1")
            continue()
        endif()

        if(included MATCHES "^eddy/(.*)$")
            folder_of("${CMAKE_MATCH_1}" target_folder)
            rank_of("${target_folder}" target_rank)
            if(target_rank STREQUAL "adapter")
                if(NOT rank STREQUAL "adapter")
                    message("${where} layer '${folder}' includes adapter header <${included}>; only adapters may depend on adapters' dependencies")
                    math(EXPR violations "${violations} + 1")
                endif()
            elseif(target_rank STREQUAL "unknown")
                message("${where} <${included}> is not in a known layer or adapter folder")
                math(EXPR violations "${violations} + 1")
            elseif(target_rank STREQUAL "top")
                if(NOT rank STREQUAL "adapter")
                    message("${where} <${included}> is the umbrella of every layer; include the headers you need")
                    math(EXPR violations "${violations} + 1")
                endif()
            elseif(rank STREQUAL "top" OR rank STREQUAL "adapter")
                # eddy.hpp and adapters may include any layer.
            elseif(target_rank GREATER rank)
                message("${where} layer '${folder}' includes <${included}> of the higher layer '${target_folder}'")
                math(EXPR violations "${violations} + 1")
            endif()
        elseif(NOT rank STREQUAL "adapter" AND NOT included IN_LIST standard_headers)
            message("${where} <${included}> is neither an eddy header nor a standard C++ header; third-party headers belong in an adapter folder (${adapters_text})")
            math(EXPR violations "${violations} + 1")
        endif()
    endforeach()
endforeach()

list(LENGTH headers header_count)
if(violations GREATER 0)
    message(FATAL_ERROR "layering: ${violations} violation(s) in ${header_count} header(s)")
endif()
message("layering: ${header_count} header(s) checked, no violations")
