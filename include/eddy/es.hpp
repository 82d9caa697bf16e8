// eddy/es.hpp - convenience umbrella: every public header of the es (event sourcing and CQRS)
// layer. Include the single headers you use to keep compile times down.
#pragma once

#include <eddy/es/aggregate.hpp>
#include <eddy/es/append_result.hpp>
#include <eddy/es/caused_by.hpp>
#include <eddy/es/checkpoint_store.hpp>
#include <eddy/es/codec.hpp>
#include <eddy/es/concurrency_conflict.hpp>
#include <eddy/es/decider.hpp>
#include <eddy/es/decode_error.hpp>
#include <eddy/es/event_envelope.hpp>
#include <eddy/es/event_metadata.hpp>
#include <eddy/es/event_sourced.hpp>
#include <eddy/es/event_store.hpp>
#include <eddy/es/expected_version.hpp>
#include <eddy/es/memory_checkpoint_store.hpp>
#include <eddy/es/memory_event_store.hpp>
#include <eddy/es/memory_snapshot_store.hpp>
#include <eddy/es/named_event.hpp>
#include <eddy/es/projection.hpp>
#include <eddy/es/projector.hpp>
#include <eddy/es/proposed_event.hpp>
#include <eddy/es/repository.hpp>
#include <eddy/es/snapshot_store.hpp>
#include <eddy/es/unknown_event_type.hpp>
#include <eddy/es/upcaster.hpp>
#include <eddy/es/uuid.hpp>
#include <eddy/es/uuid_v7_generator.hpp>
