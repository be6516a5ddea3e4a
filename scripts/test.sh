#!/usr/bin/env bash
# README command 2 (and CI): install, build, and run the whole test suite:
#  1. release build + every CTest (unit, pcap regression, DPDK vdev end-to-end, cordonctl);
#  2. unit tests again under AddressSanitizer + UBSan;
#  3. libFuzzer targets for the DNS, TLS and HTTP parsers, bounded.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
jobs=$(nproc)

echo "== build (RelWithDebInfo)"
bash scripts/build.sh build
echo "== ctest"
(cd build && ctest --output-on-failure -j "$jobs" --timeout 600)

echo "== unit tests under AddressSanitizer + UBSan"
bash scripts/build.sh build-asan -DCORDON_SANITIZE=ON
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
   ctest --output-on-failure -j "$jobs" -L unit --timeout 600)

echo "== fuzz (bounded)"
bash scripts/run-fuzz.sh "${FUZZ_RUNS:-200000}"
echo "== all test stages passed"
