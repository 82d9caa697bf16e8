// eddy/bus.hpp - convenience umbrella: every public header of the bus layer.
#pragma once

#include <eddy/bus/bus_observer.hpp>
#include <eddy/bus/consumer_options.hpp>
#include <eddy/bus/dead_letter.hpp>
#include <eddy/bus/dead_letter_entry.hpp>
#include <eddy/bus/event_bus.hpp>
#include <eddy/bus/headers.hpp>
#include <eddy/bus/message_bus.hpp>
#include <eddy/bus/offset_out_of_range.hpp>
#include <eddy/bus/producer_fenced.hpp>
#include <eddy/bus/producer_sequence.hpp>
#include <eddy/bus/record.hpp>
#include <eddy/bus/record_too_large.hpp>
#include <eddy/bus/subscription.hpp>
#include <eddy/bus/topic_config.hpp>
#include <eddy/bus/transaction.hpp>
