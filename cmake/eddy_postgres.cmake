# eddy::postgres - every storage concept on PostgreSQL via libpq (adapter: its own target,
# header set, dependency and package component). Included from the top-level CMakeLists.txt.
# JSON is its default codec, hence eddy::json.
option(EDDY_POSTGRES "Build the eddy::postgres adapter (storage on PostgreSQL; needs libpq and EDDY_JSON)"
       ${PROJECT_IS_TOP_LEVEL})

if(EDDY_POSTGRES)
    if(NOT TARGET eddy_json)
        message(FATAL_ERROR "EDDY_POSTGRES needs EDDY_JSON (JSON is the PostgreSQL stores' default codec)")
    endif()
    # CMake's FindPostgreSQL finds libpq (libpq-dev); the server headers are not needed.
    find_package(PostgreSQL REQUIRED)
    file(GLOB_RECURSE eddy_postgres_headers CONFIGURE_DEPENDS
         "${PROJECT_SOURCE_DIR}/include/eddy/postgres/*.hpp")
    add_library(eddy_postgres INTERFACE)
    add_library(eddy::postgres ALIAS eddy_postgres)
    # Exported as eddy::postgres (the export set's namespace plus this name).
    set_target_properties(eddy_postgres PROPERTIES EXPORT_NAME postgres)
    target_link_libraries(eddy_postgres INTERFACE eddy::eddy eddy::json PostgreSQL::PostgreSQL)
    eddy_header_sets(eddy_postgres "${PROJECT_SOURCE_DIR}/include/eddy/postgres.hpp"
                     ${eddy_postgres_headers})
endif()
