#!/usr/bin/env bash
# The stream benchmark with the broker in its own process on core 0 and the app, its load
# generator and its consumer on core 1: how close the app comes to the model alone when it does
# not share its core with Kafka. (./run stream-benchmark is the same on shared cores.)
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v taskset >/dev/null || { echo "needs taskset (util-linux)" >&2; exit 1; }
dir=$(mktemp -d)
port=${PORT:-19092}
./run stream-app --help >/dev/null   # builds if needed, before anything is pinned
taskset -c 0 ./run stream-app broker --port "$port" --dir "$dir/kafka" > "$dir/broker.log" 2>&1 &
broker=$!
trap 'kill $broker 2>/dev/null; wait $broker 2>/dev/null; rm -rf "$dir"' EXIT
until grep -q "Kafka broker on" "$dir/broker.log"; do
  kill -0 $broker 2>/dev/null || { cat "$dir/broker.log" >&2; exit 1; }
  sleep 1
done
taskset -c 1 ./run stream-benchmark --bootstrap-servers "localhost:$port" "$@"
