#!/usr/bin/env bash
# README command 1: install, build, and replay the sample capture through cordond with the
# sample blacklist, printing the summary and the events.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh build
out=${OUT_DIR:-out}
mkdir -p "$out"
echo "== cordond --rules rules/sample.list --replay pcaps/sample/input.pcap"
build/bin/cordond --rules rules/sample.list --replay pcaps/sample/input.pcap \
  --write "$out/sample-out.pcap" --events "$out/sample-events.jsonl"
echo "== events ($out/sample-events.jsonl)"
cat "$out/sample-events.jsonl"
echo "== output capture: $out/sample-out.pcap"
