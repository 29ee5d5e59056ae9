#!/usr/bin/env bash
# Trainer benchmark: the full default run (accuracy, seconds per epoch, images/s, peak RSS), then the
# oneDNN fast path against DL4J's default slow path on the same subset, in one script so the ratio
# is measured under the same machine load. Figures go to docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
subset=${SUBSET:-12000}

echo "== full default run (./run train) =="
./run train --output "$out/full" 2>"$out/full.log"

echo
echo "== fast path vs DL4J default, 1 epoch on the first $subset training images =="
for mode in on off; do
  disable=false; [ "$mode" = off ] && disable=true
  JAVA_OPTS="-Xmx1g -Dorg.eclipse.deeplearning4j.helpers.disable=$disable" \
    ./run train --epochs 1 --train-limit "$subset" --output "$out/$mode" 2>"$out/$mode.log" >"$out/$mode.out"
  seconds=$(awk '/seconds per epoch/ {print $5}' "$out/$mode.out")
  echo "oneDNN $mode: $seconds s per epoch"
  eval "seconds_$mode=$seconds"
done
awk -v on="$seconds_on" -v off="$seconds_off" 'BEGIN { printf "speed-up of the fast path: %.1fx\n", off / on }'
