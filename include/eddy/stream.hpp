// eddy/stream.hpp - convenience umbrella: every public header of the stream layer.
#pragma once

#include <eddy/stream/async_stage.hpp>
#include <eddy/stream/count.hpp>
#include <eddy/stream/empty.hpp>
#include <eddy/stream/error_stream.hpp>
#include <eddy/stream/filter.hpp>
#include <eddy/stream/first.hpp>
#include <eddy/stream/for_each.hpp>
#include <eddy/stream/from_channel.hpp>
#include <eddy/stream/from_range.hpp>
#include <eddy/stream/interval.hpp>
#include <eddy/stream/just.hpp>
#include <eddy/stream/map.hpp>
#include <eddy/stream/pipeline.hpp>
#include <eddy/stream/reduce.hpp>
#include <eddy/stream/scan.hpp>
#include <eddy/stream/skip.hpp>
#include <eddy/stream/stream.hpp>
#include <eddy/stream/streamable.hpp>
#include <eddy/stream/take.hpp>
#include <eddy/stream/take_while.hpp>
#include <eddy/stream/to_vector.hpp>
