#!/usr/bin/env bash
# One thread classifying batches of random size 1-128 with forward passes padded to a few batch
# shapes, and one at each batch's own size, side by side on a core each, so that both meet the same
# (shared, drifting) machine. Figures in docs/benchmarks.md. Needs a model (./run trains one).
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v taskset >/dev/null || { echo "needs taskset (util-linux)" >&2; exit 1; }
./run stream-benchmark --help >/dev/null   # builds if needed
taskset -c 0 ./run batch-shape-benchmark "$@" &
padded=$!
taskset -c 1 ./run batch-shape-benchmark --unpadded "$@"
wait $padded
