#!/usr/bin/env bash
# Issue 17: what participants' rights and the register's records cost on a
# national-scale register, in one run on copies of one file:
# - `report --year 2021` of an unpublished period against the same report
#   once the period is published (the "figures differ" check), the ratio;
# - `publish --year 2021`; `purge --dry-run` and the real purge of
#   everything ended before 2019;
# - `extract` and `withdraw` of one person with 1,000,000 audit entries in
#   the trail (the extract reads the trail for entries naming the person).
#
#   bash benches/rights.sh [ENROLMENTS] [RUNS]     (defaults: 1000000, 5)
#
# Reuses the register benches/run.sh generates (same path, same seed).
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
SRC=$WORK/register-$N.db
if [ ! -f "$SRC" ]; then
  "$BIN" --db "$SRC" generate --enrolments "$N" --seed 1 >/dev/null 2>&1
fi
DB=$WORK/rights-$N.db
cp "$SRC" "$DB"
export SUSTRACK_DB=$DB
PNR=19800315-2421
"$BIN" intervention add BENCH --name Bench >/dev/null 2>&1 || true
"$BIN" start --intervention BENCH --pnr "$PNR" --consent --date 2021-02-01 >/dev/null 2>&1
python3 - "$DB" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.executemany(
    "INSERT INTO audit (at, actor, action, subject) VALUES (?, 'eva', 'show', ?)",
    ((f"2024-01-{1 + i % 28:02d}T10:00:00Z", f"{i:08x}") for i in range(1_000_000)),
)
c.commit()
PY
cat "$DB" > /dev/null
t() { /usr/bin/time -f "%e %M" -o "$WORK/t" "$@" >/dev/null 2>&1; read -r s m < "$WORK/t"; echo "$s $m"; }
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
plain=(); for _ in $(seq "$RUNS"); do read -r s _ < <(t "$BIN" report --year 2021); plain+=("$s"); done
read -r pub pub_m < <(t "$BIN" publish --year 2021)
published=(); for _ in $(seq "$RUNS"); do read -r s _ < <(t "$BIN" report --year 2021); published+=("$s"); done
# A selection is not the published shape: the whole register's report is
# computed beside it for the comparison.
sel=(); for _ in $(seq "$RUNS"); do read -r s _ < <(t "$BIN" report --year 2021 --intervention BENCH); sel+=("$s"); done
extract=(); for _ in $(seq "$RUNS"); do read -r s _ < <(t "$BIN" extract --pnr "$PNR"); extract+=("$s"); done
read -r wd _ < <(t "$BIN" withdraw --pnr "$PNR")
read -r dry dry_m < <(t "$BIN" purge --ended-before 2019-01-01 --dry-run)
read -r real real_m < <(t "$BIN" purge --ended-before 2019-01-01)
p=$(median "${plain[@]}"); q=$(median "${published[@]}")
echo "| what ($N enrolments, 1,000,000 extra audit entries) | time | peak memory |"
echo "|---|---|---|"
echo "| \`report --year 2021\`, not published (median of $RUNS) | ${p} s | |"
echo "| \`publish --year 2021\` (both languages) | ${pub} s | $((pub_m / 1024)) MB |"
echo "| \`report --year 2021\`, published: the figures compared (median of $RUNS) | ${q} s | |"
echo "| **ratio published / not** | **$(python3 -c "print(f'{$q/$p:.2f}')")** | |"
echo "| \`report --year 2021 --intervention BENCH\`, published (median of $RUNS) | $(median "${sel[@]}") s | |"
echo "| \`extract --pnr\` (median of $RUNS) | $(median "${extract[@]}") s | |"
echo "| \`withdraw --pnr\` | ${wd} s | |"
echo "| \`purge --ended-before 2019-01-01 --dry-run\` | ${dry} s | $((dry_m / 1024)) MB |"
echo "| \`purge --ended-before 2019-01-01\` | ${real} s | $((real_m / 1024)) MB |"
rm -f "$DB" "$DB-wal" "$DB-shm"
