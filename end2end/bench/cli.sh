#!/usr/bin/env bash
# `tracepin correlate` on a generated trace of N spans (default 1,000,000) and E Sentry events
# (default 10,000): wall time and peak RSS (GNU time), and what it pinned. Figures only.
# Usage (from the project root, after a release build): end2end/bench/cli.sh [N] [E]
set -euo pipefail
n=${1:-1000000}
e=${2:-10000}
bin=${TRACEPIN_BIN:-./target/release/tracepin}
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
GEN_ERRORS=$e node --max-old-space-size=8192 end2end/bench/gen.mjs "$n" "$d" > /dev/null
mkdir -p "$d/events" && mv "$d"/*.envelope "$d/events/"
echo "trace: $(du -m "$d/trace.otlp.json" | cut -f1) MB of OTLP JSON, $n spans; $e events"
for run in 1 2; do
  /usr/bin/time -f "run $run: %e s wall, %M KB peak RSS" \
    "$bin" correlate --trace "$d/trace.otlp.json" --events "$d/events" --format json > "$d/report.json"
done
python3 - "$d/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
t = r["timelines"][0]
print(f"spans {t['span_count']}, pinned {len(t['pins'])}, unplaced {len(t['unplaced']) + len(r['unplaced'])}")
PY
