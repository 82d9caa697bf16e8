# scripts/lib/postgres.sh - sourced by scripts/test: the PostgreSQL server the eddy::postgres
# tests use. Defines postgres_packages (Debian packages), postgres_start (starts a throwaway
# server on loopback and exports its connection string in EDDY_PG_CONNINFO) and postgres_stop.
#
# For a manual run:  source scripts/lib/postgres.sh && postgres_start && <run tests> ; postgres_stop
postgres_packages=(postgresql-15 libpq-dev)

postgres_bin=/usr/lib/postgresql/15/bin
postgres_dir=""
postgres_port=""

# postgres_as_owner <command...>: runs a server command as the cluster's owner. initdb and the
# server refuse to run as root (scripts/test runs as root in CI): then the `postgres` user
# (created by the postgresql-15 package) owns the cluster.
postgres_as_owner() {
    if ((EUID == 0)); then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# postgres_start: initdb into a mktemp directory, start on 127.0.0.1 at a free port (its unix
# socket in the same directory, nowhere else), wait until it accepts connections (at most
# 30 s), create the database "eddy", export EDDY_PG_CONNINFO.
postgres_start() {
    postgres_dir=$(mktemp -d "${TMPDIR:-/tmp}/eddy-postgres.XXXXXX")
    if ((EUID == 0)); then
        chown postgres: "$postgres_dir"
    fi
    local port
    for _ in $(seq 1 200); do
        port=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            postgres_port=$port
            break
        fi
    done
    if [[ -z $postgres_port ]]; then
        echo "postgres_start: no free port found" >&2
        return 1
    fi
    if ! postgres_as_owner "$postgres_bin/initdb" -D "$postgres_dir/data" -U postgres \
        --auth=trust --encoding=UTF8 --no-sync >"$postgres_dir/initdb.log" 2>&1; then
        cat "$postgres_dir/initdb.log" >&2
        return 1
    fi
    # fsync off (and full_page_writes off): the cluster is thrown away after the run, so an OS
    # crash or power loss could only lose data that is deleted anyway; what the tests check
    # (atomicity, isolation, ordering, lost connections) does not depend on flushing to disk,
    # and flushing would slow every commit on a small shared machine. synchronous_commit stays
    # on: a commit still waits for its WAL record to be written, as in production.
    # max_connections: each storage holds its pool plus a LISTEN connection, and ctest runs
    # test programs two at a time.
    if ! postgres_as_owner "$postgres_bin/pg_ctl" -D "$postgres_dir/data" -l "$postgres_dir/server.log" \
        -w -t 30 -o "-c listen_addresses=127.0.0.1 -c port=$postgres_port \
-c unix_socket_directories=$postgres_dir -c fsync=off -c full_page_writes=off \
-c max_connections=300" start >/dev/null; then
        cat "$postgres_dir/server.log" >&2
        return 1
    fi
    local deadline=$((SECONDS + 30))
    until "$postgres_bin/pg_isready" -q -h 127.0.0.1 -p "$postgres_port"; do
        if ((SECONDS > deadline)); then
            echo "postgres_start: the server did not become ready" >&2
            return 1
        fi
        sleep 0.2
    done
    "$postgres_bin/createdb" -h 127.0.0.1 -p "$postgres_port" -U postgres eddy || return 1
    export EDDY_PG_CONNINFO="host=127.0.0.1 port=$postgres_port dbname=eddy user=postgres"
    echo "== PostgreSQL 15 on 127.0.0.1:$postgres_port (data in $postgres_dir)"
}

# postgres_stop: stops the server (fast shutdown: disconnects clients) and removes its directory.
postgres_stop() {
    if [[ -n $postgres_dir && -d $postgres_dir ]]; then
        postgres_as_owner "$postgres_bin/pg_ctl" -D "$postgres_dir/data" -m fast -w stop \
            >/dev/null 2>&1 || true
        rm -rf "$postgres_dir"
    fi
    postgres_dir=""
    postgres_port=""
    unset EDDY_PG_CONNINFO
}
