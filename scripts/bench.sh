#!/usr/bin/env bash
# Replay benchmark: cordond inspection off vs on vs ndpiReader on a generated ISP-like mix,
# then the rules lookup benchmark, then live workers on vdev ports (1 and 2 workers). Usage: scripts/bench.sh [N_PACKETS]   (default 1000000)
# Env: REPS (default 3), BUILD_DIR (default build), TIMEOUT per run in seconds (default 300).
# Report: stdout and $BUILD_DIR/bench/report.txt. See tests/bench/replay/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
reps=${REPS:-3}
build=${BUILD_DIR:-build}
[[ $n =~ ^[0-9]+$ && $n -gt 0 ]] || { echo "usage: $0 [N_PACKETS]" >&2; exit 2; }

# 1. build (incremental; ninja does nothing when up to date)
log=$(mktemp)
if ! bash scripts/build.sh "$build" >"$log" 2>&1; then
  echo "bench: scripts/build.sh $build failed:" >&2
  grep -E "error|FAILED" "$log" | head -n 10 >&2 || true
  echo "bench: retrying only the benchmark targets" >&2
  ninja -C "$build" cordond >/dev/null 2>&1 || echo "bench: cordond does not build" >&2
  ninja -C "$build" bench_lookup >/dev/null 2>&1 || true
fi
rm -f "$log"

# 2. the mix, cached per packet count (regenerated when the generator changes)
mix="$build/bench/mix-$n"
gen=tests/bench/replay/gen_mix.py
if [[ ! -s $mix/manifest.json || $gen -nt $mix/manifest.json ]]; then
  echo "bench: generating $n packets into $mix"
  rm -rf "$mix"
  /usr/bin/python3 "$gen" --out "$mix" --packets "$n" >/dev/null
fi

# 3. measure, report
/usr/bin/python3 tests/bench/replay/run_bench.py --bin "$build/bin" --mix "$mix" \
  --reps "$reps" --timeout "${TIMEOUT:-300}" --report "$build/bench/report.txt"

# 4. live workers on vdev ports: 1 and 2 workers, inspection on/off (tests/bench/workers)
wmix="$build/bench/mix-workers"
if [[ ! -s $wmix/manifest.json || $gen -nt $wmix/manifest.json ]]; then
  rm -rf "$wmix"
  # net_pcap's infinite_rx keeps the whole capture in mbufs: keep it small.
  /usr/bin/python3 "$gen" --out "$wmix" --packets 12000 >/dev/null
fi
/usr/bin/python3 tests/bench/workers/run_workers.py --bin "$build/bin" --mix "$wmix" \
  --reps "$reps" --report "$build/bench/workers.txt"

# 5. cycles per packet by class in one worker (tests/bench/worker): bulk, candidate, blocked, DNS
ninja -C "$build" bench_worker >/dev/null && "$build/bin/bench_worker" | tee "$build/bench/worker_cycles.txt"
