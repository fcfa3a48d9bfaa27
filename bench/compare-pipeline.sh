#!/bin/bash
# The agent pipeline's benchmarks, alternating between two builds in one run, so that their ratios compare
# under the same load (see docs/performance.md, "The agent pipeline after its restructuring").
#   bench/compare-pipeline.sh BEFORE_CHECKOUT AFTER_CHECKOUT [ROUNDS [BENCH...]]
# BENCH: queue route capture logship (the default: the agent pipeline), and for the server's store
# ingest (`ingest --direct`: start and exit in one batch), ingest-late (`--late-exits`: each exit one batch
# after its start), ingest-http and ingest-http-late (the same through real HTTP, `ingest --runs 3`).
# Each checkout must have its bench built: dotnet build -c Release bench/SessionTrail.Bench
# Needs root (capture and logship).
set -u
before=${1:?usage: compare-pipeline.sh BEFORE_CHECKOUT AFTER_CHECKOUT [ROUNDS]}
after=${2:?usage: compare-pipeline.sh BEFORE_CHECKOUT AFTER_CHECKOUT [ROUNDS]}
rounds=${3:-3}
shift $(( $# < 3 ? $# : 3 ))
benches=${*:-queue route capture logship}
for dir in "$before" "$after"; do
  [ -f "$dir/bench/SessionTrail.Bench/bin/Release/net10.0/SessionTrail.Bench.dll" ] \
    || { echo "no bench build in $dir: run dotnet build -c Release bench/SessionTrail.Bench there" >&2; exit 2; }
done
for round in $(seq 1 "$rounds"); do
  for side in before after; do
    dir=$before; [ $side = after ] && dir=$after
    B="dotnet $dir/bench/SessionTrail.Bench/bin/Release/net10.0/SessionTrail.Bench.dll"
    echo "=== round $round $side ($dir) $(date +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
    for bench in $benches; do
      echo "--- $bench"
      case $bench in
        queue) $B queue 1000000 2>&1 | tail -n 3 ;;
        route) $B route 200000 3 2>&1 | tail -n 4 ;;
        capture) $B capture --rates 1000 --seconds 6 2>&1 | tail -n 3 ;;
        logship) DOTNET_gcConcurrent=1 DOTNET_GCgen0size=0x1000000 $B logship --mib 256 --runs 1 --skip-server 2>&1 | tail -n 3 ;;
        ingest) $B ingest --direct 2>&1 | tail -n 1 ;;
        ingest-late) $B ingest --direct --late-exits 2>&1 | tail -n 1 ;;
        ingest-http) $B ingest --runs 3 2>&1 | tail -n 1 ;;
        ingest-http-late) $B ingest --runs 3 --late-exits 2>&1 | tail -n 1 ;;
        *) echo "unknown bench $bench (queue route capture logship ingest ingest-late ingest-http ingest-http-late)" >&2; exit 2 ;;
      esac
    done
  done
done
