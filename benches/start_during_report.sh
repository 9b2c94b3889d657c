#!/usr/bin/env bash
# Does a registration wait for a report? Five times: a report over every
# year (the longest scan) runs in the background, and 0.15 s into it a
# `start` is registered and timed.
#
#   bash benches/start_during_report.sh BINARY DATABASE
#
# DATABASE gets five anonymous starts in F00-I0: use a copy of a generated
# register, not the benchmark file.
set -euo pipefail
BIN=$1; DB=$2
for i in 1 2 3 4 5; do
  t0=$(date +%s%N)
  "$BIN" --db "$DB" report --from 2015-01-01 --to 2025-12-31 >/dev/null 2>&1 &
  rp=$!
  sleep 0.15
  t1=$(date +%s%N)
  "$BIN" --db "$DB" start --intervention F00-I0 --anonymous --gender woman --date 2025-06-0$i >/dev/null
  t2=$(date +%s%N)
  wait $rp
  t3=$(date +%s%N)
  echo "start took $(( (t2-t1)/1000000 )) ms; report ran $(( (t3-t0)/1000000 )) ms; start finished $(( (t3-t2)/1000000 )) ms before the report"
done
