# Shared by the benchmark scripts: build products, and start the loopback destination
# (IngestNoopServer) that answers at once. Source it from the repository root.
. appliance/lib/setup.sh

# build_release PRODUCT...
build_release() {
    ensure_build_dependencies
    for product in "$@"; do swift build -c release --product "$product"; done
}

# start_destination PORT LOG: runs IngestNoopServer on PORT, waits until it listens, and
# sets DESTINATION_PID.
start_destination() {
    .build/release/IngestNoopServer "$1" > "$2" 2>&1 &
    DESTINATION_PID=$!
    for _ in $(seq 1 300); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done
    echo "the destination did not start on port $1" >&2
    return 1
}
