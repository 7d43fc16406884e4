#!/usr/bin/env bash
# Prints, every 2 s for the given number of seconds (default 120), how much CPU each Java process of a benchmark run
# used in that interval, in % of one core (utime + stime from /proc, 100 ticks per second), and the total.
# Run it beside `java -jar bench/target/bench.jar ...`; it only reads /proc and stops by itself.
set -euo pipefail
seconds=${1:-120}
declare -A before
label() {
  tr '\0' ' ' < "/proc/$1/cmdline" 2>/dev/null \
    | grep -oE 'QuorumPeerMain|node --id [a-z0-9]+|ReplicaProcessMain [a-z0-9]+|bench[^ ]*\.jar' | head -1 | tr ' ' '_'
}
end=$((SECONDS + seconds))
while [ $SECONDS -lt $end ]; do
  line="$(date +%T)"
  total=0
  for p in $(pgrep java || true); do
    t=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null) || continue
    if [ -n "${before[$p]:-}" ]; then
      pct=$(( (t - before[$p]) / 2 ))
      total=$((total + pct))
      line="$line $(label "$p")=${pct}%"
    fi
    before[$p]=$t
  done
  echo "$line total=${total}%"
  sleep 2
done
