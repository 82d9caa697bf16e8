// eddy/saga.hpp - convenience umbrella: every public header of the saga layer.
#pragma once

#include <eddy/saga/branch.hpp>
#include <eddy/saga/business_failure.hpp>
#include <eddy/saga/correlation.hpp>
#include <eddy/saga/memory_saga_log.hpp>
#include <eddy/saga/parallel.hpp>
#include <eddy/saga/react.hpp>
#include <eddy/saga/reply_timeout.hpp>
#include <eddy/saga/run_saga.hpp>
#include <eddy/saga/saga.hpp>
#include <eddy/saga/saga_coordinator.hpp>
#include <eddy/saga/saga_log.hpp>
#include <eddy/saga/saga_node.hpp>
#include <eddy/saga/saga_observer.hpp>
#include <eddy/saga/saga_outcome.hpp>
#include <eddy/saga/saga_state.hpp>
#include <eddy/saga/saga_status.hpp>
#include <eddy/saga/saga_transition.hpp>
#include <eddy/saga/sequence.hpp>
#include <eddy/saga/step.hpp>
#include <eddy/saga/step_context.hpp>
#include <eddy/saga/unknown_outcome.hpp>
