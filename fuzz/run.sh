#!/usr/bin/env bash
# Builds the fuzz targets, seeds their corpora from the fixtures and runs each for SECONDS, then prints
# one row per target: executions, executions per second, coverage, corpus size and findings (files in
# fuzz/artifacts/<target>/). Exits non-zero when any target has a finding or stopped early.
#
#   fuzz/run.sh SECONDS [--smoke] [TARGET…]
#
# --smoke builds without optimizations (about half the build time, far fewer executions per second)
# and starts from the seeds alone in a scratch directory, so fuzz/corpus does not grow. FUZZ_SANITIZER (default none) is passed to `cargo fuzz build --sanitizer`.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:?usage: fuzz/run.sh SECONDS [--smoke] [TARGET…]}
shift
smoke=false
if [ "${1:-}" = --smoke ]; then smoke=true; shift; fi
sanitizer=${FUZZ_SANITIZER:-none}
target_dir=$PWD/fuzz/target
triple=$(rustc -vV | sed -n 's/^host: //p')

build=(cargo fuzz build --sanitizer "$sanitizer" --target-dir "$target_dir")
profile=release
if $smoke; then build+=(--dev); profile=debug; fi
# Any sanitizer needs -Zsanitizer; the stable toolchain accepts it when told it may.
if [ "$sanitizer" != none ]; then export RUSTC_BOOTSTRAP=1; fi

mapfile -t all < <(sed -n 's/^name = "\(.*\)"$/\1/p' fuzz/Cargo.toml | grep -v '^tracepin-fuzz$')
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")

"${build[@]}"
fuzz/seed.sh > /dev/null

mkdir -p fuzz/logs
rows=()
failed=0
for t in "${targets[@]}"; do
  bin=$target_dir/$triple/$profile/$t
  mkdir -p "fuzz/artifacts/$t" "fuzz/corpus/$t"
  log=fuzz/logs/$t.log
  corpus_dir=fuzz/corpus/$t
  if $smoke; then
    # The seeds alone, in a scratch directory: the smoke takes the same time whatever earlier runs
    # added to fuzz/corpus, and what it finds is not kept.
    corpus_dir=$(mktemp -d)
    find "fuzz/corpus/$t" -maxdepth 1 -name 'seed-*' -exec cp -t "$corpus_dir" {} +
  fi
  rc=0
  "$bin" "$corpus_dir" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 \
    -rss_limit_mb=2048 -artifact_prefix="fuzz/artifacts/$t/" > "$log" 2>&1 || rc=$?
  corpus=$(find "$corpus_dir" -type f | wc -l)
  if $smoke; then rm -rf "$corpus_dir"; fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  cov=$(grep -oE '^#[0-9]+.* cov: [0-9]+' "$log" | tail -n 1 | sed 's/.*cov: //')
  findings=$(find "fuzz/artifacts/$t" -type f | wc -l)
  note=""
  if [ "$findings" -gt 0 ]; then
    failed=1
    note="see fuzz/artifacts/$t/ and $log"
  elif [ "$rc" -ne 0 ]; then
    failed=1
    note="libFuzzer exited with $rc: see $log"
  fi
  rows+=("$(printf '%-24s %12s %8s %6s %7s %9s  %s' "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" "$corpus" "$findings" "$note")")
done

echo
printf '%-24s %12s %8s %6s %7s %9s\n' target executions exec/s cov corpus findings
printf '%s\n' "${rows[@]}"
echo "($seconds s per target, sanitizer $sanitizer, $($smoke && echo 'unoptimized smoke build' || echo 'optimized build with debug assertions'))"
if [ "$failed" -ne 0 ]; then
  echo "fuzzing found problems; reproduce one with: $target_dir/$triple/$profile/<target> fuzz/artifacts/<target>/<file>" >&2
  exit 1
fi
