// eddy/core.hpp - convenience umbrella: every public header of the coroutine core.
#pragma once

#include <eddy/core/async_event.hpp>
#include <eddy/core/async_latch.hpp>
#include <eddy/core/async_mutex.hpp>
#include <eddy/core/async_scope.hpp>
#include <eddy/core/async_semaphore.hpp>
#include <eddy/core/awaitable.hpp>
#include <eddy/core/channel.hpp>
#include <eddy/core/error.hpp>
#include <eddy/core/generator.hpp>
#include <eddy/core/inline_scheduler.hpp>
#include <eddy/core/retry_policy.hpp>
#include <eddy/core/scheduler.hpp>
#include <eddy/core/stop_token.hpp>
#include <eddy/core/sync_wait.hpp>
#include <eddy/core/task.hpp>
#include <eddy/core/thread_pool.hpp>
#include <eddy/core/virtual_time_scheduler.hpp>
#include <eddy/core/when_all.hpp>
#include <eddy/core/when_any.hpp>
