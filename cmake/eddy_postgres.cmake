# eddy::postgres - every storage concept on PostgreSQL via libpq (adapter: its own target,
# header set, dependency and package component). Included from the top-level CMakeLists.txt.
option(EDDY_POSTGRES "Build the eddy::postgres adapter (storage on PostgreSQL; needs libpq)" OFF)
