#!/usr/bin/env bash
# Benchmarks of SPEC section 10, side by side with the sqlite3 shell.
#
#   bash benches/run.sh [ENROLMENTS] [RUNS]     (defaults: 1000000, 5)
#
# Generates (or reuses) a synthetic register with `sustrack generate`,
# then times, each RUNS times and reporting the median:
#   - report --year 2021 (all tables and indicators, text) against the
#     sqlite3 shell running benches/report_baseline.sql on the same file;
#   - export of one year, and of everything;
#   - import of a 100,000-row CSV into a test-profile database;
# and peak memory (maximum resident set size) of each, with /usr/bin/time.
# Prints a Markdown table for BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
RUNS=${2:-5}
WORK=${BENCH_DIR:-/tmp/sustrack-bench}
mkdir -p "$WORK"
for tool in sqlite3 /usr/bin/time python3; do
  command -v "$tool" >/dev/null || { echo "needs $tool (apt-get install sqlite3 time)" >&2; exit 1; }
done
# BIN=path/to/sustrack measures another build (e.g. an older commit's, for a
# before/after ratio in one run); by default this checkout's release build.
if [ -z "${BIN:-}" ]; then
  cargo build --release --locked -q
  BIN=$PWD/target/release/sustrack
fi
DB=$WORK/register-$N.db
if [ ! -f "$DB" ]; then
  /usr/bin/time -f "%e" -o "$WORK/gen.time" "$BIN" --db "$DB" generate --enrolments "$N" --seed 1 >/dev/null 2>&1
  echo "generated $DB in $(cat "$WORK/gen.time") s" >&2
fi
export SUSTRACK_DB=$DB

# median seconds and max KB of RUNS runs of a command
measure() {
  local times=() mems=()
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -f "%e %M" -o "$WORK/t" "$@" >/dev/null 2>&1
    read -r t m < "$WORK/t"
    times+=("$t"); mems+=("$m")
  done
  local med; med=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  local mem; mem=$(printf '%s\n' "${mems[@]}" | sort -n | tail -1)
  echo "$med $mem"
}

# Warm the OS page cache so both sides read from memory.
cat "$DB" > /dev/null
read -r rep_t rep_m < <(measure "$BIN" report --year 2021)
read -r sql_t sql_m < <(measure sqlite3 "$DB" ".read benches/report_baseline.sql")
# To standard output (discarded by measure): `--out` refuses an existing file.
read -r ex1_t ex1_m < <(measure "$BIN" export --year 2021)
read -r exa_t exa_m < <(measure "$BIN" export --from 1900-01-01 --to 2100-12-31)
read -r scan_t _ < <(measure sqlite3 "$DB" "SELECT count(*), sum(length(municipality)) FROM enrolment")

# Import: 100,000 rows (50,000 persons started and exited) into a fresh test-profile database.
CSV=$WORK/import-100k.csv
[ -f "$CSV" ] || python3 - "$CSV" <<'PY'
import sys, random
rng = random.Random(7)
def luhn(nine):
    t = 0
    for i, ch in enumerate(nine):
        v = int(ch) * (2 if i % 2 == 0 else 1)
        t += v // 10 + v % 10
    return (10 - t % 10) % 10
seen, rows = set(), []
while len(seen) < 50000:
    ymd = f"{rng.randint(1960, 2003)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    nine = ymd[2:] + f"{rng.randint(0, 999):03d}"
    p = f"{ymd}-{nine[6:]}{luhn(nine)}"
    if p in seen: continue
    seen.add(p)
    rows.append(f"start,BENCH,{p},ja,2021-0{rng.randint(1, 6)}-1{rng.randint(0, 9)},Vänersborg,social_assistance,1-3,upper_secondary,af,,,,")
    rows.append(f"exit,BENCH,{p},,2021-1{rng.randint(0, 1)}-2{rng.randint(0, 8)},,,,,,work,wage,yes,improved")
with open(sys.argv[1], "w") as f:
    f.write("event,intervention,pnr,consent,date,municipality,support,years_in_support,education,referrer,outcome,support_after,step_progress,quality_of_life\n")
    f.write("\n".join(rows) + "\n")
PY
imp_times=(); imp_m=0
for _ in $(seq "$RUNS"); do
  rm -f "$WORK/import.db" "$WORK/import.db-wal" "$WORK/import.db-shm"
  "$BIN" --db "$WORK/import.db" init --kdf test >/dev/null 2>&1
  "$BIN" --db "$WORK/import.db" intervention add BENCH --name Bench >/dev/null 2>&1
  /usr/bin/time -f "%e %M" -o "$WORK/t" "$BIN" --db "$WORK/import.db" import "$CSV" >/dev/null 2>&1
  read -r t m < "$WORK/t"; imp_times+=("$t"); [ "$m" -gt "$imp_m" ] && imp_m=$m
done
imp_t=$(printf '%s\n' "${imp_times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')

ratio=$(awk -v a="$rep_t" -v b="$sql_t" 'BEGIN { printf "%.2f", a / b }')
rate=$(awk -v t="$imp_t" 'BEGIN { printf "%.0f", 100000 / t }')
mb() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }
echo "| what | median of $RUNS | peak memory |"
echo "|---|---|---|"
echo "| \`report --year 2021\` ($N enrolments) | $rep_t s | $(mb "$rep_m") MB |"
echo "| sqlite3 shell, \`benches/report_baseline.sql\`, same file | $sql_t s | $(mb "$sql_m") MB |"
echo "| ratio report / sqlite3 | $ratio | |"
echo "| sqlite3 bare full scan of enrolment | $scan_t s | |"
echo "| \`export --year 2021\` | $ex1_t s | $(mb "$ex1_m") MB |"
echo "| \`export\` of all rows | $exa_t s | $(mb "$exa_m") MB |"
echo "| \`import\` 100,000 rows, test KDF | $imp_t s ($rate rows/s) | $(mb "$imp_m") MB |"
