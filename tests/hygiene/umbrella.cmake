# Umbrella completeness check; run as a script:
#
#   cmake -DROOT=<directory holding include/eddy> -P umbrella.cmake
#
# * every header under include/eddy/<folder>/ (outside any detail/ folder) is included
#   directly by the folder's umbrella include/eddy/<folder>.hpp;
# * every layer umbrella (core, stream, bus, es, outbox, saga) that exists is included by
#   include/eddy/eddy.hpp; adapter umbrellas (sqlite, postgres, nats, json) are not, and the
#   layering check rejects them there.
# Each violation is printed as file:line: message; the script fails if there is any.

cmake_minimum_required(VERSION 3.25)

if(NOT DEFINED ROOT)
    message(FATAL_ERROR "usage: cmake -DROOT=<dir containing include/eddy> -P umbrella.cmake")
endif()
file(REAL_PATH "${ROOT}" ROOT)

set(layers core stream bus es outbox saga)
set(include_dir "${ROOT}/include/eddy")

# includes_of(<file> <out>): the <...> include paths named by a file, in order.
function(includes_of file out)
    file(STRINGS "${file}" include_lines REGEX "^[ \t]*#[ \t]*include[ \t]*<[^>]*>")
    set(result "")
    foreach(line IN LISTS include_lines)
        string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]*<([^>]*)>.*$" "\\1" path "${line}")
        list(APPEND result "${path}")
    endforeach()
    set(${out} "${result}" PARENT_SCOPE)
endfunction()

set(violations 0)

file(GLOB folders LIST_DIRECTORIES true RELATIVE "${include_dir}" "${include_dir}/*")
list(SORT folders)
set(layer_umbrellas "")
foreach(folder IN LISTS folders)
    if(NOT IS_DIRECTORY "${include_dir}/${folder}")
        continue()
    endif()
    file(GLOB_RECURSE headers RELATIVE "${include_dir}" "${include_dir}/${folder}/*.hpp")
    list(FILTER headers EXCLUDE REGEX "(^|/)detail/")
    list(SORT headers)
    if(NOT headers)
        continue()
    endif()
    set(umbrella "${include_dir}/${folder}.hpp")
    if(folder IN_LIST layers)
        list(APPEND layer_umbrellas "${folder}")
    endif()
    if(NOT EXISTS "${umbrella}")
        list(LENGTH headers count)
        message("${umbrella}:1: missing: the umbrella of '${folder}' must include its ${count} public header(s)")
        math(EXPR violations "${violations} + 1")
        continue()
    endif()
    includes_of("${umbrella}" included)
    foreach(header IN LISTS headers)
        if(NOT "eddy/${header}" IN_LIST included)
            message("${umbrella}:1: does not include <eddy/${header}>")
            math(EXPR violations "${violations} + 1")
        endif()
    endforeach()
endforeach()

# Layer umbrellas present without a folder (a layer with a single header) count as well.
foreach(layer IN LISTS layers)
    if(EXISTS "${include_dir}/${layer}.hpp" AND NOT layer IN_LIST layer_umbrellas)
        list(APPEND layer_umbrellas "${layer}")
    endif()
endforeach()

set(top "${include_dir}/eddy.hpp")
list(JOIN layer_umbrellas ", " layer_umbrellas_text)
if(layer_umbrellas)
    if(NOT EXISTS "${top}")
        message("${top}:1: missing: the umbrella of every layer must include <eddy/<layer>.hpp> for: ${layer_umbrellas_text}")
        math(EXPR violations "${violations} + 1")
    else()
        includes_of("${top}" included)
        foreach(layer IN LISTS layer_umbrellas)
            if(NOT "eddy/${layer}.hpp" IN_LIST included)
                message("${top}:1: does not include <eddy/${layer}.hpp>")
                math(EXPR violations "${violations} + 1")
            endif()
        endforeach()
    endif()
endif()

if(violations GREATER 0)
    message(FATAL_ERROR "umbrella_complete: ${violations} violation(s)")
endif()
message("umbrella_complete: umbrellas of ${layer_umbrellas_text} are complete")
