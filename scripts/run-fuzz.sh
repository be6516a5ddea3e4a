#!/usr/bin/env bash
# Builds the libFuzzer targets for the DNS, TLS, HTTP and QUIC parsers and the rule-list readers
# (tests/fuzz) with clang,
# AddressSanitizer and UBSan in build-fuzz/, and runs each for RUNS inputs (default 200000)
# starting from a copy of its seed corpus (tests/fuzz/corpus/<proto>). Exits non-zero on any
# crash, sanitizer report or timeout; the reproducer is left in build-fuzz/artifacts/.
#   scripts/run-fuzz.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-200000}
build=build-fuzz

CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DCORDON_FUZZ=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C "$build" dns_fuzz tls_fuzz http_fuzz quic_fuzz rules_fuzz

mkdir -p "$build/artifacts"
status=0
for proto in dns tls http quic rules; do
  work=$(mktemp -d "$build/corpus-$proto.XXXXXX")
  cp tests/fuzz/corpus/"$proto"/* "$work"/
  # max_len: a whole 16 KiB ClientHello plus record headers for TLS; the others need less.
  max_len=4096
  [[ $proto == tls ]] && max_len=17000
  [[ $proto == quic ]] && max_len=1500  # one datagram at Ethernet MTU
  echo "== $proto: $runs runs"
  if ! ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
      "$build/bin/${proto}_fuzz" -runs="$runs" -max_len="$max_len" -timeout=10 \
      -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$build/artifacts/${proto}-" \
      "$work" 2>"$build/${proto}_fuzz.log"; then
    echo "!! $proto fuzzer failed; see $build/${proto}_fuzz.log and $build/artifacts/" >&2
    tail -n 40 "$build/${proto}_fuzz.log" >&2
    status=1
  else
    grep -E '^stat::(number_of_executed_units|new_units_added)' "$build/${proto}_fuzz.log" || true
  fi
  rm -rf "$work"
done
exit "$status"
