#!/usr/bin/env bash
# `cordonctl compile -o` + `cordond --snapshot` decide exactly like compiling the lists:
# replaying the sample capture both ways gives byte-identical output and identical events.
# A truncated snapshot file is refused with its name and a non-zero exit.
# Usage: snapshot_replay_test.sh CORDOND CORDONCTL CAPTURE LIST
set -euo pipefail
cordond=$1 cordonctl=$2 capture=$3 list=$4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$cordonctl" compile "$list" -o "$work/rules.snap" >/dev/null
"$cordond" --snapshot "$work/rules.snap" --replay "$capture" --write "$work/snap.pcap" \
  --events "$work/snap.jsonl" >"$work/snap.json"
"$cordond" --rules "$list" --replay "$capture" --write "$work/list.pcap" \
  --events "$work/list.jsonl" >"$work/list.json"
cmp "$work/snap.pcap" "$work/list.pcap"
diff "$work/snap.jsonl" "$work/list.jsonl"
[ "$(wc -l <"$work/snap.jsonl")" -gt 0 ] || { echo "no events: the test proves nothing"; exit 1; }
head -c 100 "$work/rules.snap" >"$work/cut.snap"
if "$cordond" --snapshot "$work/cut.snap" --replay "$capture" 2>"$work/err.txt" >/dev/null; then
  echo "a truncated snapshot was accepted"
  exit 1
fi
grep -q "cut.snap" "$work/err.txt" || { cat "$work/err.txt"; exit 1; }
echo "ok: $(wc -l <"$work/snap.jsonl") events identical, truncated file refused"
