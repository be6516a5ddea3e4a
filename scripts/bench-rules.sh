#!/usr/bin/env bash
# Rule-compiler scale benchmark (issue #3 goals). Usage: scripts/bench-rules.sh [BUILD_DIR]
# Env: DOMAINS (1000000), URLS (100000), REGEXES (10000), HS_DOMAINS (= DOMAINS: the
# Hyperscan literal database of the same names, ~50 s and ~2.6 GiB at 1M; a smaller value is
# extrapolated linearly), QUERIES (1000000). Each scenario runs in its own process; peak RSS
# via /usr/bin/time.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-rules}
domains=${DOMAINS:-1000000}
urls=${URLS:-100000}
regexes=${REGEXES:-10000}
hs_domains=${HS_DOMAINS:-$domains}
queries=${QUERIES:-1000000}
ninja -C "$build" bench_rules >/dev/null
bin="$build/bin/bench_rules"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

run() {  # name args...
  local name=$1
  shift
  /usr/bin/time -f "peak_rss_mb %M" -o "$out/$name.rss" "$bin" "$@" >"$out/$name.txt"
  awk '{printf "peak_rss_mb %.0f\n", $2 / 1024}' "$out/$name.rss" >>"$out/$name.txt"
  echo "== $name ($*)"
  cat "$out/$name.txt"
}

echo "load: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
run domains domains "$domains"
run mixed mixed "$domains" "$urls" "$regexes"
run lookup lookup "1000,$domains" "$queries"
run hs hs-literal "$hs_domains"

get() { awk -v k="$2" '$1 == k {print $2; exit}' "$out/$1.txt"; }
python3 - "$domains" "$hs_domains" \
  "$(get domains compile_ms)" "$(get domains file_bytes_per_domain)" \
  "$(get domains memory_bytes_per_domain)" "$(get mixed compile_ms)" "$(get mixed peak_rss_mb)" \
  "$(get lookup lookup_ratio_largest_vs_smallest)" "$(get hs hs_compile_ms)" \
  "$(get hs peak_rss_mb)" "$(get hs hs_db_bytes)" "$(get hs hs_lookup_ns)" \
  "$(awk '$1 == "lookup_rules" {m = $4} END {print m}' "$out/lookup.txt")" \
  "$(get domains peak_rss_mb)" <<'PY'
import sys
(n, hs_n, c_ms, file_b, mem_b, mix_ms, mix_rss, ratio, hs_ms, hs_rss, hs_db, hs_ns,
 med, dom_rss) = sys.argv[1:]
n, hs_n = int(n), int(hs_n)
scale = n / hs_n
print("\n== summary (goal in brackets)")
print(f"{n} domains compile          {float(c_ms):8.0f} ms   [<= 1500 ms]")
print(f"snapshot file per domain      {float(file_b):8.1f} B    [<= 64 B]")
print(f"snapshot memory per domain    {float(mem_b):8.1f} B    (in-process, incl. Rule table)")
print(f"mixed compile                 {float(mix_ms):8.0f} ms   [<= 20000 ms]")
print(f"mixed peak RSS                {float(mix_rss):8.0f} MiB  [<= 1024 MiB]")
print(f"lookup median at {n}       {float(med):8.1f} ns   [<= 100 ns]")
print(f"lookup ratio {n}/1000      {float(ratio):8.2f} x    [<= 1.5x]")
hs_ext = float(hs_ms) * scale
print(f"Hyperscan literal DB, {hs_n} domains: compile {float(hs_ms):.0f} ms, "
      f"peak RSS {float(hs_rss):.0f} MiB, DB {int(hs_db)/1e6:.1f} MB, scan {float(hs_ns):.0f} ns")
if hs_n != n:
    print(f"  extrapolated linearly to {n} (at least; Hyperscan compile is superlinear): "
          f"compile >= {hs_ext/1000:.0f} s, DB >= {int(hs_db)*scale/1e6:.0f} MB")
print(f"ratio Hyperscan-literal / domain-table compile{'' if hs_n == n else ' (extrapolated)'}: "
      f"{hs_ext/float(c_ms):.0f}x; peak RSS {float(hs_rss):.0f} vs "
      f"{float(dom_rss):.0f} MiB; lookup: {float(hs_ns)/float(med):.1f}x")
PY
