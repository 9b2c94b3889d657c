#!/usr/bin/env bash
# The report page (issue 14; BENCHMARKS.md "the report page"):
#   bash benches/report_page.sh [ENROLMENTS]      default: 1000000
# Two registers: the national one from `generate --seed 1` (test KDF
# profile: no personnummer is hashed here), and "a large förbund": a copy
# that keeps only the first generated förbund (F00, F01, ... merged) whose
# interventions together hold at least 10,000 enrolments active in the
# busiest year, as a förbund's own file would. For each, a coordinator
# enrolled over HTTP and the release server; then the report page as the
# coordinator opens it (that year, every intervention, threshold 5, the
# page's default), inline and as a csv download, timed by
# `examples/load.rs report` on loopback (median of $RUNS after a warm-up).
# The baseline, measured in the same run: `sustrack report --year Y
# --suppress-below 5 --format html` through the CLI (median of $RUNS,
# process start included).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-15}
N=${1:-1000000}
cargo build --release --quiet --bin sustrack --example load
BIN=target/release/sustrack
LOAD=target/release/examples/load
WORK=$(mktemp -d)
SERVER=
trap 'if [ -n "$SERVER" ]; then kill $SERVER 2>/dev/null || true; fi; rm -rf "$WORK"' EXIT
echo "machine: $(nproc) cores, $(grep MemTotal /proc/meminfo | awk '{print int($2/1024/1024)}') GiB; $(date -u +%F); load $(cut -d' ' -f1-3 /proc/loadavg)"
DB="$WORK/page.db"
export SUSTRACK_DB="$DB"
"$BIN" generate --enrolments "$N" --seed 1 --kdf test >/dev/null 2>&1
# The busiest year, and the förbund (F00, F01, ... in order) that together
# hold 10,000 enrolments active in it: their top-level interventions.
read -r YEAR ACTIVE FORBUND < <(python3 - "$DB" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
year = c.execute("SELECT substr(start_date,1,4) y FROM enrolment GROUP BY y ORDER BY count(*) DESC LIMIT 1").fetchone()[0]
active = f"start_date <= '{year}-12-31' AND (exit_date IS NULL OR exit_date >= '{year}-01-01')"
total, chosen = 0, []
for (f,) in c.execute("SELECT DISTINCT substr(code,1,3) FROM intervention ORDER BY 1").fetchall():
    total += c.execute(f"SELECT count(*) FROM enrolment WHERE intervention LIKE '{f}-%' AND {active}").fetchone()[0]
    chosen += [r[0] for r in c.execute(f"SELECT code FROM intervention WHERE code LIKE '{f}-%' AND parent IS NULL AND kind = 'individual'")]
    if total >= 10000:
        break
keep = sorted({x[:3] for x in chosen})
print(year, total, ",".join(keep))
PY
)
# The förbund's own file: its interventions, enrolments and volumes only.
cp "$DB" "$WORK/forbund.db"
python3 - "$WORK/forbund.db" "$FORBUND" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
keep = " OR ".join(f"{col} LIKE '{f}-%'" for f in sys.argv[2].split(",") for col in ["{c}"])
for table, col in [("enrolment", "intervention"), ("volume", "intervention"), ("intervention", "code")]:
    c.execute(f"DELETE FROM {table} WHERE NOT ({keep.replace('{c}', col)})")
c.execute("DELETE FROM person WHERE id NOT IN (SELECT person_id FROM enrolment WHERE person_id IS NOT NULL)")
c.commit()
c.execute("VACUUM")
PY
cli() {
  local times=()
  "$BIN" report "$@" >/dev/null 2>&1
  for _ in $(seq "$RUNS"); do
    t0=$(date +%s%N); "$BIN" report "$@" >/dev/null 2>&1; t1=$(date +%s%N)
    times+=($(( (t1 - t0) / 100000 )))
  done
  local median
  median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p")
  echo "baseline, CLI report --year $YEAR --suppress-below 5 --format html: median $(echo "scale=1; $median / 10" | bc) ms ($RUNS runs)"
}
for FILE in "$WORK/forbund.db" "$DB"; do
  export SUSTRACK_DB="$FILE"
  link=$("$BIN" user add coord --role coordinator 2>/dev/null | grep -o '/enrol/[A-Za-z0-9_-]*')
  echo "coord - $link" > "$WORK/links"
  "$BIN" serve --listen 127.0.0.1:0 > "$WORK/serve.out" 2>"$WORK/serve.err" &
  SERVER=$!
  for _ in $(seq 50); do grep -q listening "$WORK/serve.out" 2>/dev/null && break; sleep 0.2; done
  BASE=$(head -1 "$WORK/serve.out" | sed 's/.*listening on //')
  "$LOAD" enrol "$BASE" "$WORK/links" "$WORK/users"
  echo
  python3 - "$FILE" "$YEAR" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1]); y = sys.argv[2]
n, = c.execute("SELECT count(*) FROM enrolment").fetchone()
a, = c.execute(f"SELECT count(*) FROM enrolment WHERE start_date <= '{y}-12-31' AND (exit_date IS NULL OR exit_date >= '{y}-01-01')").fetchone()
i, = c.execute("SELECT count(*) FROM intervention").fetchone()
print(f"== {sys.argv[1].split('/')[-1]}: {n} enrolments, {i} interventions; {a} active in {y}")
PY
  "$LOAD" report "$BASE" "$WORK/users" "$RUNS" "year=$YEAR" "year=$YEAR&format=csv"
  cli --year "$YEAR" --suppress-below 5 --format html
  kill $SERVER; wait $SERVER 2>/dev/null || true
  SERVER=
done
