#!/bin/bash
# The agent pipeline's benchmarks, alternating between two builds in one run, so that their ratios compare
# under the same load (see docs/performance.md, "The agent pipeline after its restructuring").
#   bench/compare-pipeline.sh BEFORE_CHECKOUT AFTER_CHECKOUT [ROUNDS]
# Each checkout must have its bench built: dotnet build -c Release bench/SessionTrail.Bench
# Needs root (capture and logship).
set -u
before=${1:?usage: compare-pipeline.sh BEFORE_CHECKOUT AFTER_CHECKOUT [ROUNDS]}
after=${2:?usage: compare-pipeline.sh BEFORE_CHECKOUT AFTER_CHECKOUT [ROUNDS]}
rounds=${3:-3}
for dir in "$before" "$after"; do
  [ -f "$dir/bench/SessionTrail.Bench/bin/Release/net10.0/SessionTrail.Bench.dll" ] \
    || { echo "no bench build in $dir: run dotnet build -c Release bench/SessionTrail.Bench there" >&2; exit 2; }
done
for round in $(seq 1 "$rounds"); do
  for side in before after; do
    dir=$before; [ $side = after ] && dir=$after
    B="dotnet $dir/bench/SessionTrail.Bench/bin/Release/net10.0/SessionTrail.Bench.dll"
    echo "=== round $round $side ($dir) $(date +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "--- queue"; $B queue 1000000 2>&1 | tail -n 3
    echo "--- route"; $B route 200000 3 2>&1 | tail -n 4
    echo "--- capture"; $B capture --rates 1000 --seconds 6 2>&1 | tail -n 3
    echo "--- logship"; DOTNET_gcConcurrent=1 DOTNET_GCgen0size=0x1000000 $B logship --mib 256 --runs 1 --skip-server 2>&1 | tail -n 3
  done
done
