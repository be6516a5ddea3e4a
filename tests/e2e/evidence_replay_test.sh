#!/usr/bin/env bash
# cordond writes every enforcement into the evidence ledger with its triggering packet
# (replay mode, config `evidence: {packets: true}`); `cordonctl evidence verify` accepts the
# ledger, finds one verified packet per event, and rejects it after one packet byte changes.
# Usage: evidence_replay_test.sh CORDOND CORDONCTL CAPTURE LIST
set -euo pipefail
cordond=$1 cordonctl=$2 capture=$3 list=$4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
openssl genpkey -algorithm ed25519 -out "$work/key.pem" 2>/dev/null
cat >"$work/c.yaml" <<YAML
rules:
  - {name: sample, path: $list, action: block}
evidence: {dir: $work/ledger, key: $work/key.pem, packets: true}
YAML
"$cordond" --config "$work/c.yaml" --replay "$capture" --write "$work/out.pcap" \
  --events "$work/events.jsonl" >/dev/null
events=$(wc -l <"$work/events.jsonl")
[ "$events" -gt 0 ] || { echo "no events: the test proves nothing"; exit 1; }
"$cordonctl" evidence verify "$work/ledger" >"$work/verify.txt"
grep -q "packets verified: $events" "$work/verify.txt" || { cat "$work/verify.txt"; exit 1; }
grep -q "$events events" "$work/verify.txt" || { cat "$work/verify.txt"; exit 1; }
# The first packet record starts after the 24-byte pcap header and 16-byte record header.
/usr/bin/python3 - "$work/ledger/packets-000001.pcap" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[24 + 16 + 30] ^= 0xFF
open(p, "wb").write(bytes(b))
PY
if "$cordonctl" evidence verify "$work/ledger" >"$work/verify2.txt" 2>&1; then
  echo "a changed packet byte was not detected"; cat "$work/verify2.txt"; exit 1
fi
echo "ok: $events events with their packets verified; a changed packet byte is caught:"
head -n 2 "$work/verify2.txt"
