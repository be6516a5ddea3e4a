#!/usr/bin/env bash
# Runs cordond live (not replay) on two DPDK net_pcap virtual devices bridged inline:
# port "outside" receives the sample capture (client side), port "inside" transmits what
# cordond forwards; injected packets toward the client leave by "outside". Checks that the
# blocked flows' packets are gone, the injected RSTs/answers are there, and allowed packets
# pass byte for byte.
# Usage: vdev_pcap_test.sh CORDOND CAPTURE RULE_LIST
set -euo pipefail
cordond=$1
capture=$2
rule_list=$3
work=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# An empty capture for the inside port's receive side.
/usr/bin/python3 -c "
from scapy.all import wrpcap
wrpcap('$work/empty.pcap', [])" 2>/dev/null

cat >"$work/config.yaml" <<YAML
dataplane:
  mode: inline
  workers: 1
  eal: [--no-huge, -m, "256", --file-prefix, cordon-e2e-$$]
  ports:
    - {name: outside, dev: "net_pcap_out,rx_pcap=$capture,tx_pcap=$work/to_client.pcap"}
    - {name: inside, dev: "net_pcap_in,rx_pcap=$work/empty.pcap,tx_pcap=$work/to_server.pcap"}
rules:
  - {name: rules, path: $rule_list, action: block}
YAML

"$cordond" --config "$work/config.yaml" --events "$work/events.jsonl" >"$work/summary.json" \
  2>"$work/stderr.txt" &
pid=$!
# net_pcap delivers the whole file at once; wait until cordond has consumed it, then stop.
for _ in $(seq 1 50); do
  sleep 0.2
  kill -0 "$pid" 2>/dev/null || break
  [ -s "$work/events.jsonl" ] && sleep 1 && break
done
kill -TERM "$pid"
wait "$pid"
pid=
cat "$work/stderr.txt" >&2
echo "summary: $(cat "$work/summary.json")"

/usr/bin/python3 - "$capture" "$work" <<'PY'
import json, sys
from scapy.all import rdpcap, raw, Ether, TCP, UDP, DNS
capture, work = sys.argv[1], sys.argv[2]
inp = [raw(p) for p in rdpcap(capture)]
to_server = [raw(p) for p in rdpcap(f"{work}/to_server.pcap")]
to_client = rdpcap(f"{work}/to_client.pcap")
summary = json.loads(open(f"{work}/summary.json").read())
events = [json.loads(l) for l in open(f"{work}/events.jsonl")]
fail = []
if summary["packets_in"] != len(inp):
    fail.append(f"packets_in {summary['packets_in']} != {len(inp)} input packets")
# Every packet on the inside port is an input packet, unchanged and in input order, or a
# RST cordon injected toward the server.
pos = 0
forwarded = injected_to_server = 0
for i, p in enumerate(to_server):
    try:
        pos = inp.index(p, pos) + 1
        forwarded += 1
    except ValueError:
        q = Ether(p)
        if TCP in q and q[TCP].flags & 0x04:
            injected_to_server += 1
        else:
            fail.append(f"to_server[{i}] is neither an unchanged input packet nor a RST")
if summary["packets_out"] != forwarded:
    fail.append(f"packets_out {summary['packets_out']} != {forwarded} forwarded on the inside port")
if summary["dropped"] == 0 or summary["blocked_flows"] == 0:
    fail.append("nothing was blocked")
if len(events) != summary["blocked_flows"] + summary["counters"].get("monitored", 0):
    fail.append(f"{len(events)} events for {summary['blocked_flows']} blocked flows")
# Everything sent back toward the client is an injection: a RST or a DNS answer.
for p in to_client:
    if TCP in p:
        if not p[TCP].flags & 0x04 and b"HTTP/1.1 302" not in raw(p[TCP].payload):
            fail.append(f"unexpected TCP packet toward the client: {p.summary()}")
    elif DNS in p:
        if p[DNS].qr != 1:
            fail.append(f"unexpected DNS packet toward the client: {p.summary()}")
    else:
        fail.append(f"unexpected packet toward the client: {p.summary()}")
if summary["injected"] != len(to_client) + injected_to_server:
    fail.append(f"injected {summary['injected']} != {len(to_client)} + {injected_to_server} seen")
if not to_client:
    fail.append("no injected packet reached the client side")
if fail:
    print("\n".join("FAIL: " + f for f in fail))
    sys.exit(1)
print(f"ok: {len(inp)} in, {len(to_server)} forwarded, {len(to_client)} injected toward the "
      f"client, {len(events)} events")
PY
