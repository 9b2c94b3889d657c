#!/usr/bin/env bash
# Issue 18: what SPEC 13's figures (activities, referrals, the wait,
# reach, cost) cost a national-scale report, in one run on copies of one
# generated register:
# - `report --year 2021` on the register as generated (with activities,
#   referrals and budgets) against the same file with those three tables
#   emptied (the baseline: the report of before), the ratio;
# - the same with `--suppress-below 5` (the new figures join the linked
#   system);
# - `generate` itself (it now writes the three registers too).
#
#   bash benches/beyond.sh [ENROLMENTS] [RUNS]     (defaults: 1000000, 5)
#
# The register is generated with the test KDF profile (random
# fingerprints, no hashing), as every large register here.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
RUNS=${2:-5}
WORK=${BENCH_DIR:-/tmp/sustrack-bench}
mkdir -p "$WORK"
if [ -z "${BIN:-}" ]; then
  cargo build --release --locked -q
  BIN=$PWD/target/release/sustrack
fi
FULL=$WORK/beyond-$N.db
BASE=$WORK/beyond-base-$N.db
rm -f "$FULL" "$BASE"
t() { /usr/bin/time -f "%e %M" -o "$WORK/t" "$@" >/dev/null 2>&1; read -r s m < "$WORK/t"; echo "$s $m"; }
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
read -r gen gen_m < <(t "$BIN" --db "$FULL" generate --enrolments "$N" --seed 1 --kdf test)
cp "$FULL" "$BASE"
python3 - "$BASE" "$FULL" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("DELETE FROM referral"); c.execute("DELETE FROM activity"); c.execute("DELETE FROM budget")
c.commit(); c.execute("VACUUM"); c.close()
f = sqlite3.connect(sys.argv[2])
for t in ("activity", "referral", "budget"):
    print(t, f.execute(f"SELECT count(*) FROM {t}").fetchone()[0], file=sys.stderr)
print("referrals received in 2021", f.execute("SELECT count(*) FROM referral WHERE date LIKE '2021%'").fetchone()[0], file=sys.stderr)
PY
cat "$FULL" "$BASE" > /dev/null
run() { local db=$1; shift; local out=(); for _ in $(seq "$RUNS"); do read -r s _ < <(t "$BIN" --db "$db" report --year 2021 "$@"); out+=("$s"); done; median "${out[@]}"; }
# Interleaved: baseline and full in the same run, the same warm cache.
b=$(run "$BASE"); f=$(run "$FULL")
bs=$(run "$BASE" --suppress-below 5); fs=$(run "$FULL" --suppress-below 5)
read -r _ mem < <(t "$BIN" --db "$FULL" report --year 2021)
echo "| what ($N enrolments, 2 cores, median of $RUNS) | time |"
echo "|---|---|"
echo "| \`generate --enrolments $N\` (with activities, referrals, budgets) | ${gen} s, $((gen_m / 1024)) MB |"
echo "| \`report --year 2021\`, without the three registers (baseline) | ${b} s |"
echo "| \`report --year 2021\`, with them | ${f} s, $((mem / 1024)) MB |"
echo "| **ratio** | **$(python3 -c "print(f'{$f/$b:.2f}')")** |"
echo "| \`report --year 2021 --suppress-below 5\`, baseline | ${bs} s |"
echo "| \`report --year 2021 --suppress-below 5\`, with them | ${fs} s |"
echo "| **ratio** | **$(python3 -c "print(f'{$fs/$bs:.2f}')")** |"
