#!/usr/bin/env bash
# Issue 16: `report --year Y --compare Y-1` against `report --year Y`, in
# one run on one file (SPEC section 12 asks for at most 1.5 times).
#
#   bash benches/compare.sh [ENROLMENTS] [RUNS]     (defaults: 1000000, 7)
#
# Reuses the register benches/run.sh generates (same path, same seed).
# Prints the median wall time and peak memory of each, and the ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
RUNS=${2:-7}
WORK=${BENCH_DIR:-/tmp/sustrack-bench}
mkdir -p "$WORK"
if [ -z "${BIN:-}" ]; then
  cargo build --release --locked -q
  BIN=$PWD/target/release/sustrack
fi
DB=$WORK/register-$N.db
if [ ! -f "$DB" ]; then
  "$BIN" --db "$DB" generate --enrolments "$N" --seed 1 >/dev/null 2>&1
fi
export SUSTRACK_DB=$DB
cat "$DB" > /dev/null
# Interleaved, so drift in the machine's load hits both alike.
plain=(); cmp=(); plain_m=0; cmp_m=0
for _ in $(seq "$RUNS"); do
  /usr/bin/time -f "%e %M" -o "$WORK/t" "$BIN" report --year 2021 >/dev/null 2>&1
  read -r t m < "$WORK/t"; plain+=("$t"); [ "$m" -gt "$plain_m" ] && plain_m=$m
  /usr/bin/time -f "%e %M" -o "$WORK/t" "$BIN" report --year 2021 --compare 2020 >/dev/null 2>&1
  read -r t m < "$WORK/t"; cmp+=("$t"); [ "$m" -gt "$cmp_m" ] && cmp_m=$m
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
p=$(median "${plain[@]}"); c=$(median "${cmp[@]}")
echo "| what | median of $RUNS | peak memory |"
echo "|---|---|---|"
echo "| \`report --year 2021\` ($N enrolments) | ${p} s | $((plain_m / 1024)) MB |"
echo "| \`report --year 2021 --compare 2020\` | ${c} s | $((cmp_m / 1024)) MB |"
echo "| **ratio** | **$(python3 -c "print(f'{$c/$p:.2f}')")** | |"
