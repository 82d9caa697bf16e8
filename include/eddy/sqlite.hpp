// eddy/sqlite.hpp - convenience umbrella of the eddy::sqlite adapter (every storage concept on
// SQLite 3; link eddy::sqlite). Not part of eddy/eddy.hpp: adapters are opt-in.
#pragma once

#include <eddy/sqlite/sqlite_checkpoint_store.hpp>
#include <eddy/sqlite/sqlite_error.hpp>
#include <eddy/sqlite/sqlite_event_store.hpp>
#include <eddy/sqlite/sqlite_idempotency_store.hpp>
#include <eddy/sqlite/sqlite_inbox_store.hpp>
#include <eddy/sqlite/sqlite_options.hpp>
#include <eddy/sqlite/sqlite_outbox_store.hpp>
#include <eddy/sqlite/sqlite_saga_log.hpp>
#include <eddy/sqlite/sqlite_snapshot_store.hpp>
#include <eddy/sqlite/sqlite_storage.hpp>
#include <eddy/sqlite/sqlite_unit_of_work.hpp>
#include <eddy/sqlite/sqlite_value.hpp>
