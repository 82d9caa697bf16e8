// eddy/json.hpp - convenience umbrella of the eddy::json adapter (the JSON codec on
// nlohmann/json; link eddy::json). Not part of eddy/eddy.hpp: adapters are opt-in.
#pragma once

#include <eddy/json/json_codec.hpp>
