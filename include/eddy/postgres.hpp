// eddy/postgres.hpp - convenience umbrella of the eddy::postgres adapter (storage on PostgreSQL
// via libpq; link eddy::postgres). Not part of eddy/eddy.hpp: adapters are opt-in.
#pragma once

#include <eddy/postgres/lease_lost.hpp>
#include <eddy/postgres/postgres_checkpoint_store.hpp>
#include <eddy/postgres/postgres_error.hpp>
#include <eddy/postgres/postgres_event_store.hpp>
#include <eddy/postgres/postgres_idempotency_store.hpp>
#include <eddy/postgres/postgres_inbox_store.hpp>
#include <eddy/postgres/postgres_lease.hpp>
#include <eddy/postgres/postgres_options.hpp>
#include <eddy/postgres/postgres_outbox_store.hpp>
#include <eddy/postgres/postgres_row.hpp>
#include <eddy/postgres/postgres_saga_log.hpp>
#include <eddy/postgres/postgres_snapshot_store.hpp>
#include <eddy/postgres/postgres_storage.hpp>
#include <eddy/postgres/postgres_unit_of_work.hpp>
#include <eddy/postgres/postgres_value.hpp>
