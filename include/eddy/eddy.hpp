// eddy/eddy.hpp - convenience umbrella: every layer of eddy (no adapters). Include the layer or
// the single header you use to keep compile times down.
#pragma once

#include <eddy/bus.hpp>
#include <eddy/core.hpp>
#include <eddy/es.hpp>
#include <eddy/outbox.hpp>
#include <eddy/saga.hpp>
#include <eddy/stream.hpp>
