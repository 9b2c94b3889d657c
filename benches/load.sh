#!/usr/bin/env bash
# The server under load (issue 13; BENCHMARKS.md "the server under load").
#   bash benches/load.sh [ENROLMENTS...]      default: 10000 1000000
# For each register size: a synthetic register with the DEFAULT KDF profile
# (registrations hash personnummer as in production), 50 staff users each
# granted one intervention, enrolled over HTTP; then `examples/load.rs` runs
# 20 and 50 simulated staff for $SECONDS s each against the release server.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_RUN=${SECONDS_RUN:-60}
SIZES=${*:-10000 1000000}
cargo build --release --quiet --bin sustrack --example load
BIN=target/release/sustrack
LOAD=target/release/examples/load
WORK=$(mktemp -d)
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
echo "machine: $(nproc) cores, $(grep MemTotal /proc/meminfo | awk '{print int($2/1024/1024)}') GiB; $(date -u +%F)"
for N in $SIZES; do
  DB="$WORK/load-$N.db"
  export SUSTRACK_DB="$DB"
  "$BIN" generate --enrolments "$N" --seed 1 --kdf default >/dev/null
  # 50 staff, each on one individual intervention of förbund 0..9.
  "$BIN" intervention list 2>/dev/null | awk 'NR>2 && $1 ~ /-I[0-9]$/ {print $1}' | head -50 > "$WORK/codes"
  : > "$WORK/links"
  i=0
  while read -r code; do
    i=$((i + 1))
    link=$("$BIN" user add "staff$i" --role staff --intervention "$code" 2>/dev/null | grep -o '/enrol/[A-Za-z0-9_-]*')
    echo "staff$i $code $link" >> "$WORK/links"
  done < "$WORK/codes"
  "$BIN" serve --listen 127.0.0.1:0 > "$WORK/serve.out" 2>"$WORK/serve.err" &
  SERVER=$!
  for _ in $(seq 50); do grep -q listening "$WORK/serve.out" 2>/dev/null && break; sleep 0.2; done
  BASE=$(head -1 "$WORK/serve.out" | sed 's/.*listening on //')
  "$LOAD" enrol "$BASE" "$WORK/links" "$WORK/users"
  for USERS in 20 50; do
    echo
    echo "== register of $N enrolments (KDF default), $USERS staff"
    "$LOAD" run "$BASE" "$WORK/users" "$USERS" "$SECONDS_RUN" "$SERVER"
    sleep 35  # a TOTP code is accepted once: the next run signs in with fresh ones
  done
  kill $SERVER; wait $SERVER 2>/dev/null || true
  unset SUSTRACK_DB
done
