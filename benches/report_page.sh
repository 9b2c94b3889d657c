#!/usr/bin/env bash
# The report page (issue 14; BENCHMARKS.md "the report page"):
#   bash benches/report_page.sh [ENROLMENTS...]      default: 10000 1000000
# For each register size: a synthetic register (`generate`, test KDF
# profile: no personnummer is hashed here), a coordinator enrolled over
# HTTP, the release server; then the report page for the busiest year,
# inline and as a csv download, timed by `examples/load.rs report` on
# loopback (median of 15), against the baseline measured in the same run:
# `sustrack report --year Y --suppress-below 5` through the CLI (median of
# 15, process start included).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-15}
SIZES=${*:-10000 1000000}
cargo build --release --quiet --bin sustrack --example load
BIN=target/release/sustrack
LOAD=target/release/examples/load
WORK=$(mktemp -d)
SERVER=
trap 'if [ -n "$SERVER" ]; then kill $SERVER 2>/dev/null || true; fi; rm -rf "$WORK"' EXIT
echo "machine: $(nproc) cores, $(grep MemTotal /proc/meminfo | awk '{print int($2/1024/1024)}') GiB; $(date -u +%F); load $(cut -d' ' -f1-3 /proc/loadavg)"
for N in $SIZES; do
  DB="$WORK/page-$N.db"
  export SUSTRACK_DB="$DB"
  "$BIN" generate --enrolments "$N" --seed 1 --kdf test >/dev/null 2>&1
  YEAR=$(python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print(c.execute(\"SELECT substr(start_date,1,4) y FROM enrolment GROUP BY y ORDER BY count(*) DESC LIMIT 1\").fetchone()[0])" "$DB")
  IN_YEAR=$(python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print(c.execute(\"SELECT count(*) FROM enrolment WHERE start_date <= '$YEAR-12-31' AND (exit_date IS NULL OR exit_date >= '$YEAR-01-01')\").fetchone()[0])" "$DB")
  link=$("$BIN" user add coord --role coordinator 2>/dev/null | grep -o '/enrol/[A-Za-z0-9_-]*')
  echo "coord - $link" > "$WORK/links"
  "$BIN" serve --listen 127.0.0.1:0 > "$WORK/serve.out" 2>"$WORK/serve.err" &
  SERVER=$!
  for _ in $(seq 50); do grep -q listening "$WORK/serve.out" 2>/dev/null && break; sleep 0.2; done
  BASE=$(head -1 "$WORK/serve.out" | sed 's/.*listening on //')
  "$LOAD" enrol "$BASE" "$WORK/links" "$WORK/users"
  echo
  echo "== $N enrolments; year $YEAR ($IN_YEAR enrolments active in it)"
  "$LOAD" report "$BASE" "$WORK/users" "$RUNS" "year=$YEAR" "year=$YEAR&format=csv"
  TIMES=()
  "$BIN" report --year "$YEAR" --suppress-below 5 >/dev/null 2>&1
  for _ in $(seq "$RUNS"); do
    t0=$(date +%s%N); "$BIN" report --year "$YEAR" --suppress-below 5 >/dev/null 2>&1; t1=$(date +%s%N)
    TIMES+=($(( (t1 - t0) / 100000 )))
  done
  MEDIAN=$(printf '%s\n' "${TIMES[@]}" | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p")
  echo "baseline: sustrack report --year $YEAR --suppress-below 5 (CLI): median $(echo "scale=1; $MEDIAN / 10" | bc) ms ($RUNS runs)"
  kill $SERVER; wait $SERVER 2>/dev/null || true
  SERVER=
  unset SUSTRACK_DB
done
