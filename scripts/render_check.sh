#!/usr/bin/env bash
# Render the publishable formats of the demo report and look at them as a
# user would: the HTML in headless Chromium (a PNG screenshot and an A4
# PDF), the XLSX as a file. Prints where the results are; open the PNG to
# check the layout by eye.
#
#   scripts/render_check.sh [OUTDIR]     (default /tmp/sustrack-render)
#
# Uses `sustrack demo`; if the demo cannot run, falls back to the small
# generated report of tests/render_formats.rs. Needs Chromium for the
# images (apt-get install -y chromium); without it only the files are made.
set -euo pipefail

cd "$(dirname "$0")/.."
out=${1:-/tmp/sustrack-render}
mkdir -p "$out"
html="$out/demo.html"
png="$out/demo.png"
pdf="$out/demo.pdf"
xlsx="$out/demo.xlsx"

chromium=$(command -v chromium || command -v chromium-browser || true)
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT

if cargo run --quiet --release -- demo --format html >"$html" 2>"$out/demo.log" &&
    cargo run --quiet --release -- demo --format xlsx >"$xlsx" 2>>"$out/demo.log"; then
    echo "demo rendered: $html, $xlsx"
    for lang in en; do
        cargo run --quiet --release -- demo --lang "$lang" --format html >"$out/demo-$lang.html" 2>>"$out/demo.log"
    done
else
    echo "demo did not run (see $out/demo.log); falling back to the generated test report"
    if [ -z "$chromium" ]; then
        echo "SKIPPED: chromium is not installed (apt-get install -y chromium)"
        exit 0
    fi
    SUSTRACK_SCREENSHOT="$png" cargo test --quiet --release --test render_formats html_renders_in_headless_chromium
    echo "screenshot: $png"
    exit 0
fi

# Self-contained: nothing fetched from anywhere else.
if grep -Eiq 'https?://|<script|<link|<img|@import|src=' "$html"; then
    echo "FAIL: $html refers to something outside the file:" >&2
    grep -Eion 'https?://[^"]*|<script|<link|<img|@import|src=' "$html" | head >&2
    exit 1
fi
echo "ok: $html is self-contained ($(grep -o '<svg' "$html" | wc -l) charts, $(grep -o '<table' "$html" | wc -l) tables)"
head -c 2 "$xlsx" | grep -q PK || {
    echo "FAIL: $xlsx is not a zip/xlsx file" >&2
    exit 1
}
echo "ok: $xlsx ($(wc -c <"$xlsx") bytes)"

if [ -z "$chromium" ]; then
    echo "SKIPPED screenshots: chromium is not installed (apt-get install -y chromium)"
    exit 0
fi
flags=(--headless --no-sandbox --disable-gpu --disable-background-networking
    --disable-component-update --disable-sync --no-first-run --hide-scrollbars
    --user-data-dir="$profile")
"$chromium" "${flags[@]}" --screenshot="$png" --window-size=1200,3000 "$html" >/dev/null 2>&1
"$chromium" "${flags[@]}" --no-pdf-header-footer --print-to-pdf="$pdf" "$html" >/dev/null 2>&1
if [ -f "$out/demo-en.html" ]; then
    "$chromium" "${flags[@]}" --screenshot="$out/demo-en.png" --window-size=1200,3000 "$out/demo-en.html" >/dev/null 2>&1
fi
[ -s "$png" ] || {
    echo "FAIL: no screenshot written" >&2
    exit 1
}
pages=$(grep -ac '/Type /Page\b' "$pdf" || true)
echo "ok: screenshot $png ($(wc -c <"$png") bytes), A4 PDF $pdf ($pages pages)"
