#!/usr/bin/env bash
# Seeds fuzz/corpus/<target>/ from the test fixtures and from the string literals of the tests that
# list real inputs. Idempotent: run before every fuzzing run; what the fuzzer adds is kept beside it.
set -euo pipefail
cd "$(dirname "$0")"
FIXTURES=../tests/fixtures
MAX_SEED_BYTES=${MAX_SEED_BYTES:-131072}   # larger fixtures would only slow every iteration down
SEP=$'\n--tracepin-fuzz--\n'              # tracepin_fuzz::SEPARATOR

DECODERS=(decode decode_stream decode_otlp_json decode_otlp_proto decode_tempo_v1 decode_tempo_v2 decode_jaeger_v1
  decode_jaeger_v3 decode_sentry_envelope decode_sentry_web decode_sentry_event)

# seed TARGET NAME < content
seed() {
  mkdir -p "corpus/$1"
  cat > "corpus/$1/seed-$2"
}

# Every payload fixture goes to every decoder: the sniffing target needs them all, and a format's
# decoder learns its refusals from the others.
fixtures=()
while IFS= read -r -d '' f; do fixtures+=("$f"); done < <(
  find "$FIXTURES" -type f ! -name '*.md' ! -name '*.py' -size -"$((MAX_SEED_BYTES / 1024))"k -print0 | sort -z)
for f in "${fixtures[@]}"; do
  name=$(printf '%s' "${f#"$FIXTURES"/}" | tr '/' '_')
  for t in "${DECODERS[@]}"; do seed "$t" "$name" < "$f"; done
done
# Gzip is accepted by every entry point.
for f in "$FIXTURES"/formats/tempo-v2.partial.json "$FIXTURES"/upstream/jaeger/api_v3_GetTrace.json; do
  for t in decode decode_tempo_v2 decode_jaeger_v3; do gzip -9nc < "$f" | seed "$t" "$(basename "$f").gz"; done
done
# The event item of each envelope, as a plain Sentry event.
for f in "$FIXTURES"/sdk/*/sentry-envelopes/*.envelope "$FIXTURES"/upstream/sentry-spotlight/*.txt; do
  awk 'prev ~ /"type": *"event"/ { print; exit } { prev = $0 }' "$f" | seed decode_sentry_event "$(basename "$f").event.json"
done
# correlate: each scenario's spans and its first error envelope.
for d in "$FIXTURES"/sdk/*/; do
  otlp="$d/otlp.json"; env=$(ls "$d"/sentry-envelopes/*-event-*.envelope 2>/dev/null | head -n 1 || true)
  [ -f "$otlp" ] && [ -n "$env" ] && [ "$(wc -c < "$otlp")" -le "$MAX_SEED_BYTES" ] || continue
  { cat "$otlp"; printf '%s' "$SEP"; cat "$env"; } | seed correlate "$(basename "$d")"
done

# String literals of the tests that list real inputs, one seed each, with the tests' id constants
# filled in where a format! string names them.
literals() {
  grep -ohP '(?<![A-Za-z0-9_])"(?:[^"\\]|\\.)*"' "$@" |
    sed -e 's/^"//' -e 's/"$//' -e 's/\\"/"/g' -e 's/\\n/\n/g' -e 's/\\t/\t/g' -e 's/\\\\/\\/g' \
      -e 's/{T32}/4bf92f3577b34da6a3ce929d0e0e4736/g' -e 's/{S16}/00f067aa0ba902b7/g' \
      -e 's/{E32}/0af7651916cd43dd8448eb211c80319c/g' -e 's/{J16}/a3ce929d0e0e4736/g' |
    awk 'length($0) > 0' | sort -u
}
seed_literals() {
  local target=$1; shift
  local i=0
  while IFS= read -r line; do
    i=$((i + 1))
    printf '%s' "$line" | seed "$target" "literal-$i"
  done < <(literals "$@")
}
seed_literals recognise ../src/domain/recognise/tests.rs ../src/domain/recognise/mod.rs ../src/domain/links.rs
seed_literals filter ../src/view/filter.rs ../end2end/tests/timeline.spec.ts
seed_literals view_state ../src/view/state.rs ../end2end/tests/linking.spec.ts
seed_literals lenient_ids ../src/domain/lenient.rs ../src/domain/ids.rs

for t in "${DECODERS[@]}" correlate recognise filter view_state lenient_ids; do
  printf '%-24s %5d seeds\n' "$t" "$(ls "corpus/$t" | grep -c '^seed-')"
done
