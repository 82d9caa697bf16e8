// eddy/outbox.hpp - convenience umbrella: every public header of the outbox layer
// (transactional outbox and relay, inbox and idempotent consumers).
#pragma once

#include <eddy/outbox/append_with_outbox.hpp>
#include <eddy/outbox/duplicate_message.hpp>
#include <eddy/outbox/idempotency_store.hpp>
#include <eddy/outbox/idempotent.hpp>
#include <eddy/outbox/inbox_store.hpp>
#include <eddy/outbox/memory_idempotency_store.hpp>
#include <eddy/outbox/memory_inbox_store.hpp>
#include <eddy/outbox/memory_outbox_store.hpp>
#include <eddy/outbox/outbox_listener.hpp>
#include <eddy/outbox/outbox_message.hpp>
#include <eddy/outbox/outbox_relay.hpp>
#include <eddy/outbox/outbox_store.hpp>
#include <eddy/outbox/request_in_progress.hpp>
