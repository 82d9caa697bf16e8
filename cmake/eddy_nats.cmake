# eddy::nats - the bus concept on NATS JetStream via libnats (adapter: its own target, header
# set, dependency and package component). Included from the top-level CMakeLists.txt.
option(EDDY_NATS "Build the eddy::nats adapter (the bus on NATS JetStream; needs libnats)" OFF)
