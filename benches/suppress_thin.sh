#!/usr/bin/env bash
# Suppression on a register spread thinly over hundreds of interventions
# (the regression of issue 16): `report --suppress-below 5` with the
# baseline binary OLD and this one NEW, interleaved, on one file, and
# whether they hide the same counts (their JSON equal).
#
#   OLD=path/to/old/sustrack bash benches/suppress_thin.sh [ENROLMENTS] [YEAR] [RUNS]
#   (defaults: 150, 2017, 1; `generate --seed 5`)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-150}
YEAR=${2:-2017}
RUNS=${3:-1}
WORK=${BENCH_DIR:-/tmp/sustrack-bench}
mkdir -p "$WORK"
NEW=${NEW:-$PWD/target/release/sustrack}
: "${OLD:?set OLD to the baseline binary}"
DB=$WORK/thin-$N.db
[ -f "$DB" ] || "$NEW" --db "$DB" generate --enrolments "$N" --seed 5 >/dev/null 2>&1
for _ in $(seq "$RUNS"); do
  for which in OLD NEW; do
    bin=${!which}
    /usr/bin/time -f "%e %U %M" -o "$WORK/t" "$bin" --db "$DB" report --year "$YEAR" --suppress-below 5 --format json > "$WORK/thin-$which.json" 2>/dev/null
    read -r wall user mem < "$WORK/t"
    echo "| $which | $wall s | $user s | $((mem / 1024)) MB |"
  done
done
if cmp -s "$WORK/thin-OLD.json" "$WORK/thin-NEW.json"; then
  echo "same counts hidden: yes (JSON identical)"
else
  echo "same counts hidden: NO"
fi
