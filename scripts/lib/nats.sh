# scripts/lib/nats.sh - sourced by scripts/test: the nats-server cluster the eddy::nats tests
# use. Defines nats_packages (Debian packages), nats_start (starts a throwaway 3-node JetStream
# cluster on loopback and exports its URLs in EDDY_NATS_URL) and nats_stop.
#
# For a manual run:  source scripts/lib/nats.sh && nats_start && <run tests> ; nats_stop
nats_packages=(libnats-dev nats-server curl)

nats_dir=""
nats_pids=()

# nats_free_port: sets nats_port to a loopback TCP port nobody listens on (and that nats_start
# has not handed out yet). Not run in a subshell, so it remembers what it handed out.
nats_taken_ports=" "
nats_free_port() {
    local port
    for _ in $(seq 1 200); do
        port=$((20000 + RANDOM % 40000))
        if [[ $nats_taken_ports == *" $port "* ]]; then
            continue
        fi
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            nats_taken_ports+="$port "
            nats_port=$port
            return 0
        fi
    done
    echo "nats_free_port: no free port found" >&2
    return 1
}

# nats_start: 3 JetStream nodes n1..n3 in cluster "eddy", each with its client, cluster and
# monitoring port and its store directory under one mktemp directory; waits (at most 30 s)
# until each node reports JetStream healthy, then exports EDDY_NATS_URL.
nats_start() {
    local nodes=3 i
    local client=() cluster=() monitor=()
    nats_dir=$(mktemp -d "${TMPDIR:-/tmp}/eddy-nats.XXXXXX")
    for ((i = 0; i < nodes; ++i)); do
        nats_free_port || return 1
        client+=("$nats_port")
        nats_free_port || return 1
        cluster+=("$nats_port")
        nats_free_port || return 1
        monitor+=("$nats_port")
    done
    local routes=""
    for ((i = 0; i < nodes; ++i)); do
        routes+="${routes:+,}nats://127.0.0.1:${cluster[i]}"
    done
    for ((i = 0; i < nodes; ++i)); do
        mkdir -p "$nats_dir/n$((i + 1))"
        nats-server -n "n$((i + 1))" -a 127.0.0.1 -p "${client[i]}" -m "${monitor[i]}" \
            -js -sd "$nats_dir/n$((i + 1))" --cluster_name eddy \
            --cluster "nats://127.0.0.1:${cluster[i]}" --routes "$routes" \
            -l "$nats_dir/n$((i + 1)).log" &
        nats_pids+=($!)
    done
    local deadline=$((SECONDS + 30)) ready
    while :; do
        ready=0
        for ((i = 0; i < nodes; ++i)); do
            if curl -fsS -o /dev/null "http://127.0.0.1:${monitor[i]}/healthz" 2>/dev/null; then
                ready=$((ready + 1))
            fi
        done
        if ((ready == nodes)); then
            break
        fi
        if ((SECONDS >= deadline)); then
            echo "nats_start: the JetStream cluster did not become healthy in 30 s; logs in" \
                 "$nats_dir" >&2
            return 1
        fi
        sleep 0.2
    done
    EDDY_NATS_URL=""
    for ((i = 0; i < nodes; ++i)); do
        EDDY_NATS_URL+="${EDDY_NATS_URL:+,}nats://127.0.0.1:${client[i]}"
    done
    export EDDY_NATS_URL
    # For fault tests: the servers' pids and monitoring ports, in node order.
    export EDDY_NATS_PIDS="${nats_pids[*]}"
    echo "== nats: 3-node JetStream cluster at ${EDDY_NATS_URL}"
}

# nats_stop: stops the servers (SIGTERM, then SIGKILL after 10 s) and removes their stores.
nats_stop() {
    local pid
    for pid in "${nats_pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${nats_pids[@]}"; do
        for _ in $(seq 1 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    nats_pids=()
    if [[ -n $nats_dir ]]; then
        rm -rf "$nats_dir"
        nats_dir=""
    fi
    unset EDDY_NATS_URL EDDY_NATS_PIDS
}
