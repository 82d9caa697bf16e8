# eddy::nats - the bus concept on NATS JetStream via libnats (adapter: its own target, header
# set, dependency and package component). Included from the top-level CMakeLists.txt.
option(EDDY_NATS "Build the eddy::nats adapter (the bus on NATS JetStream; needs libnats)"
       ${PROJECT_IS_TOP_LEVEL})

if(EDDY_NATS)
    # libnats (the NATS C client, Debian's libnats-dev): pkg-config first, then a plain search.
    find_package(PkgConfig QUIET)
    if(PKG_CONFIG_FOUND)
        pkg_check_modules(EDDY_LIBNATS QUIET libnats)
    endif()
    if(EDDY_LIBNATS_FOUND)
        find_library(EDDY_LIBNATS_LIBRARY NAMES nats HINTS ${EDDY_LIBNATS_LIBRARY_DIRS})
        find_path(EDDY_LIBNATS_INCLUDE_DIR nats/nats.h HINTS ${EDDY_LIBNATS_INCLUDE_DIRS})
    else()
        find_library(EDDY_LIBNATS_LIBRARY NAMES nats)
        find_path(EDDY_LIBNATS_INCLUDE_DIR nats/nats.h)
    endif()
    if(NOT EDDY_LIBNATS_LIBRARY OR NOT EDDY_LIBNATS_INCLUDE_DIR)
        message(FATAL_ERROR "EDDY_NATS needs libnats, the NATS C client (Debian: apt-get install "
                            "libnats-dev), or configure with -DEDDY_NATS=OFF")
    endif()
    file(GLOB_RECURSE eddy_nats_headers CONFIGURE_DEPENDS
         "${PROJECT_SOURCE_DIR}/include/eddy/nats/*.hpp")
    add_library(eddy_nats INTERFACE)
    add_library(eddy::nats ALIAS eddy_nats)
    # Exported as eddy::nats (the export set's namespace plus this name).
    set_target_properties(eddy_nats PROPERTIES EXPORT_NAME nats)
    # The found library for builds in this tree; an installed eddy links libnats by name (the
    # package config checks that it is there when the nats component is asked for).
    target_link_libraries(eddy_nats INTERFACE eddy::eddy
                          "$<BUILD_INTERFACE:${EDDY_LIBNATS_LIBRARY}>" "$<INSTALL_INTERFACE:nats>")
    target_include_directories(eddy_nats SYSTEM INTERFACE
                               "$<BUILD_INTERFACE:${EDDY_LIBNATS_INCLUDE_DIR}>")
    eddy_header_sets(eddy_nats "${PROJECT_SOURCE_DIR}/include/eddy/nats.hpp" ${eddy_nats_headers})
endif()
