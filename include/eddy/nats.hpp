// eddy/nats.hpp - convenience umbrella of the eddy::nats adapter (the bus concept on NATS
// JetStream via libnats; link eddy::nats). Not part of eddy/eddy.hpp: adapters are opt-in.
#pragma once

#include <eddy/nats/nats_bus.hpp>
#include <eddy/nats/nats_bus_options.hpp>
#include <eddy/nats/nats_error.hpp>
