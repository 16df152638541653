#!/bin/bash
# measure.sh NAME MODELS TOKEN-FILE SERVER-URL... runs the load generator's
# measurements of one configuration (docs/BENCHMARKS.md, "Scale: the load
# generator"), writing OUT/NAME-*.json and .txt. Before each group it waits
# (at most a minute) for the CPUs to be at least 85% idle, since the machine
# may be shared. LOADGEN (default /tmp/loadgen) and OUT (default ./bench-out)
# may be set in the environment.
set -u
name=$1; models=$2; token=$3; shift 3
servers=(); for s in "$@"; do servers+=(--server "$s"); done
loadgen=${LOADGEN:-/tmp/loadgen}; out=${OUT:-./bench-out}; mkdir -p "$out"

quiet() {
  for _ in $(seq 1 12); do
    read -r -a a < /proc/stat; sleep 3; read -r -a b < /proc/stat
    total=0; for k in 1 2 3 4 5 6 7 8; do total=$((total + b[k] - a[k])); done
    idle=$((100 * (b[4] - a[4]) / total))
    [ "$idle" -ge 85 ] && { echo "idle ${idle}%"; return; }
    sleep 2
  done
  echo "still busy after a minute; measuring anyway"
}

run() { # run SUFFIX FLAGS...: one loadgen run
  local suffix=$1; shift
  "$loadgen" run "${servers[@]}" --token-file "$token" --models "$models" --json "$out/$name-$suffix.json" "$@" \
    > "$out/$name-$suffix.txt" 2>&1
  grep -v '^run:' "$out/$name-$suffix.txt"
}

quiet
# The mix, then get, list of 100 and list of 20 alone against the registry and the ceiling.
run c8 --clients 8 --duration 15s --compare get,list,list20 --compare-duration 10s
quiet
# One client at a time: the latency without queueing.
run c1 --clients 1 --mix get=50,list=50 --duration 10s --compare get --compare-duration 5s
run c1-provider --clients 1 --mix list=1 --list-filter provider --duration 5s --compare none
quiet
# Creates alone, 8 clients.
run create-c8 --clients 8 --mix create=1 --duration 10s --compare none
