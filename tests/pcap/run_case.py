#!/usr/bin/env python3
"""Runs one pcap regression case through `cordond --replay` and checks the outcome.

Usage: /usr/bin/python3 run_case.py --cordond BIN --case pcaps/<case> [--keep]

The case folder holds input.pcap and expect.yaml (written by scripts/gen_pcaps.py):

  description: text
  rules:   inline list text (written to TMP/rules.list, list name "rules") or {path: P}
           (relative to the case folder); passed with --rules
  lists:   {NAME: text} optional lists written to TMP/NAME.list for the config to reference
  config:  optional mapping written to TMP/config.yaml, passed with --config
  args:    optional extra cordond arguments, e.g. [--mode, mirror]
  summary: subset of the JSON summary; values must be equal (dicts compared recursively)
  events:  the expected events, in order; each a subset of the event's fields; no extra events
  output:  the exact output packet sequence; each item is
             {input: i}   input packet i (0-based), byte-identical
             {inject: rst|http_redirect|http_page|dns, to: client|server, trigger: i, ...}
           An item may add `frags: [i, j, ...]`: the trigger is then the IP datagram those
           input fragments reassemble to (RFC 791 / RFC 8200 section 4.5), not packet i alone.
           Injected packets are checked against the trigger packet per the spec (addresses,
           ports, VLAN tags, TCP seq/ack, DNS id/question/flags) and their IPv4/TCP/UDP
           checksums and length fields are verified.

Exit status 0 when everything matches; 1 with one line per mismatch otherwise.
"""

import argparse
import ipaddress
import json
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.inet6 import IPv6, IPv6ExtHdrFragment
from scapy.layers.l2 import Ether
from scapy.packet import raw

TCP_FLAGS = {"F": 0x01, "S": 0x02, "R": 0x04, "P": 0x08, "A": 0x10, "U": 0x20}
VLAN_TPIDS = (0x8100, 0x88A8, 0x9100)
DNS_TYPES = {"A": 1, "AAAA": 28}


def read_pcap(path):
    """Frames of a classic pcap file (either byte order, micro- or nanosecond magic)."""
    data = Path(path).read_bytes()
    if len(data) < 24:
        raise ValueError(f"{path}: not a pcap file ({len(data)} bytes)")
    magic = struct.unpack("<I", data[:4])[0]
    if magic in (0xA1B2C3D4, 0xA1B23C4D):
        end = "<"
    elif magic in (0xD4C3B2A1, 0x4D3CB2A1):
        end = ">"
    else:
        raise ValueError(f"{path}: not a classic pcap file (magic {magic:#x})")
    frames, off = [], 24
    while off + 16 <= len(data):
        _, _, caplen, _ = struct.unpack(end + "IIII", data[off:off + 16])
        frames.append(data[off + 16:off + 16 + caplen])
        off += 16 + caplen
    return frames


def subset_diff(expected, actual, where):
    """Mismatches of the expected (sub)mapping against the actual one."""
    out = []
    for k, v in expected.items():
        if k not in actual:
            out.append(f"{where}{k}: missing (expected {v!r})")
        elif isinstance(v, dict) and isinstance(actual[k], dict):
            out += subset_diff(v, actual[k], f"{where}{k}.")
        elif actual[k] != v:
            out.append(f"{where}{k}: expected {v!r}, got {actual[k]!r}")
    return out


def l3_offset(frame):
    off = 12
    etype = struct.unpack("!H", frame[off:off + 2])[0]
    while etype in VLAN_TPIDS:
        off += 4
        etype = struct.unpack("!H", frame[off:off + 2])[0]
    return off + 2


def tcp_payload_len(p):
    """TCP payload length from the IP length fields (not the frame, which may be padded)."""
    t = p[TCP]
    if IP in p:
        return p[IP].len - p[IP].ihl * 4 - t.dataofs * 4
    ext = len(raw(p[IPv6].payload)) - len(raw(t))
    return p[IPv6].plen - ext - t.dataofs * 4


def l4_payload(p):
    """The TCP or UDP payload bytes, bounded by the IP/UDP lengths."""
    if TCP in p:
        n = tcp_payload_len(p)
        return raw(p[TCP])[p[TCP].dataofs * 4:][:n]
    return raw(p[UDP])[8:p[UDP].len]


def check_checksums(out):
    """Recomputes the IPv4 header and TCP/UDP checksums and the length fields of an injected
    frame; returns a list of problems."""
    problems = []
    p = Ether(out)
    l3 = l3_offset(out)
    if IP in p:
        if p[IP].len != len(out) - l3:
            problems.append(f"IPv4 total length {p[IP].len} != {len(out) - l3} bytes on the wire")
    elif IPv6 in p:
        if p[IPv6].plen != len(out) - l3 - 40:
            problems.append(f"IPv6 payload length {p[IPv6].plen} != {len(out) - l3 - 40}")
    else:
        return ["not an IP packet"]
    if UDP in p and p[UDP].len != len(raw(p[UDP])):
        problems.append(f"UDP length {p[UDP].len} != {len(raw(p[UDP]))}")
    q = Ether(out)
    for layer in (IP, TCP, UDP):
        if layer in q:
            q[layer].chksum = None
    fixed = raw(q)
    if fixed != out:
        f = Ether(fixed)
        for layer in (IP, TCP, UDP):
            if layer in p and layer in f and p[layer].chksum != f[layer].chksum:
                problems.append(f"bad {layer.__name__} checksum {p[layer].chksum:#06x} "
                                f"(correct: {f[layer].chksum:#06x})")
        if not problems:
            problems.append("frame changes when its checksums are recomputed")
    return problems


def check_common(item, trig_b, out_b):
    """Direction, L2 (MACs, VLAN tags), IP addresses and ports of an injected packet."""
    errs = []
    to = item["to"]
    trig, out = Ether(trig_b), Ether(out_b)
    l3 = l3_offset(trig_b)
    want_l2 = trig_b[6:12] + trig_b[0:6] + trig_b[12:l3] if to == "client" else trig_b[:l3]
    if out_b[:l3] != want_l2:
        errs.append(f"L2 header {out_b[:l3].hex()} != {want_l2.hex()} (MACs "
                    f"{'swapped' if to == 'client' else 'as in the trigger'}, same VLAN tags)")
    ipl = IP if IP in trig else IPv6
    if ipl not in out:
        return errs + [f"not {ipl.__name__} like the trigger: {out.summary()}"]
    ts, td = trig[ipl].src, trig[ipl].dst
    want = (td, ts) if to == "client" else (ts, td)
    if (out[ipl].src, out[ipl].dst) != want:
        errs.append(f"addresses {out[ipl].src} > {out[ipl].dst}, expected {want[0]} > {want[1]}")
    l4 = TCP if TCP in trig else UDP
    if l4 not in out:
        return errs + [f"not {l4.__name__} like the trigger: {out.summary()}"]
    tp = (trig[l4].sport, trig[l4].dport)
    want_p = tp[::-1] if to == "client" else tp
    if (out[l4].sport, out[l4].dport) != want_p:
        errs.append(f"ports {out[l4].sport} > {out[l4].dport}, expected {want_p[0]} > {want_p[1]}")
    return errs + check_checksums(out_b)


def reassemble(frames):
    """The unfragmented frame that IPv4 or IPv6 fragments (no overlaps, no extension headers
    before the IPv6 Fragment header) rebuild to; L2 from the offset-0 fragment."""
    pieces, first = [], None
    for f in frames:
        p = Ether(f)
        l3 = l3_offset(f)
        if IP in p:
            ihl = p[IP].ihl * 4
            off = p[IP].frag * 8
            pieces.append((off, f[l3 + ihl:l3 + p[IP].len]))
            if off == 0:
                first = (f[:l3], bytearray(f[l3:l3 + ihl]), 4)
        else:
            fh = p[IPv6ExtHdrFragment]
            off = fh.offset * 8
            data = f[l3 + 48:l3 + 40 + p[IPv6].plen]
            pieces.append((off, data))
            if off == 0:
                first = (f[:l3], bytearray(f[l3:l3 + 40]), 6, fh.nh)
    data = b"".join(d for _, d in sorted(pieces, key=lambda x: x[0]))
    l2, hdr, ver = first[0], first[1], first[2]
    if ver == 4:
        hdr[2:4] = struct.pack("!H", len(hdr) + len(data))
        hdr[6:8] = struct.pack("!H", struct.unpack("!H", bytes(hdr[6:8]))[0] & 0x4000)
        hdr[10:12] = b"\0\0"
        s = sum(struct.unpack(f"!{len(hdr) // 2}H", bytes(hdr)))
        while s >> 16:
            s = (s & 0xFFFF) + (s >> 16)
        hdr[10:12] = struct.pack("!H", ~s & 0xFFFF)
    else:
        hdr[4:6] = struct.pack("!H", len(data))
        hdr[6] = first[3]
    return bytes(l2) + bytes(hdr) + data


def expected_seq_ack(trig, to):
    """RFC 9293 / RFC 5961 section 3.2: toward the client, seq = the client's RCV.NXT (the
    trigger's ack), ack = trigger seq + payload; toward the server (which never saw the
    trigger), seq = the trigger's seq (the server's RCV.NXT), ack = the trigger's ack."""
    t = trig[TCP]
    if to == "client":
        # RFC 9293 section 3.4: SYN and FIN occupy a sequence number each (SEG.LEN counts them).
        syn_fin = (1 if t.flags & TCP_FLAGS["S"] else 0) + (1 if t.flags & TCP_FLAGS["F"] else 0)
        return t.ack, (t.seq + tcp_payload_len(trig) + syn_fin) & 0xFFFFFFFF
    return t.seq, t.ack


def check_tcp_seq(item, trig, out, flags_want=None):
    errs = []
    seq, ack = expected_seq_ack(trig, item["to"])
    if out[TCP].seq != seq:
        errs.append(f"TCP seq {out[TCP].seq} != {seq}")
    if out[TCP].flags & TCP_FLAGS["A"] and out[TCP].ack != ack:
        errs.append(f"TCP ack {out[TCP].ack} != {ack}")
    if flags_want is not None and int(out[TCP].flags) != flags_want:
        errs.append(f"TCP flags {out[TCP].flags} != {item.get('flags')}")
    return errs


def check_rst(item, trig, out):
    want = sum(TCP_FLAGS[f] for f in item.get("flags", "R"))
    errs = check_tcp_seq(item, trig, out, want)
    if tcp_payload_len(out):
        errs.append(f"RST carries {tcp_payload_len(out)} payload bytes")
    return errs


def check_http(item, trig, out):
    errs = check_tcp_seq(item, trig, out)
    if item["to"] != "client":
        errs.append("an HTTP response is only ever injected toward the client")
    if not out[TCP].flags & TCP_FLAGS["A"]:
        errs.append("HTTP response without ACK")
    body = l4_payload(out)
    head, _, content = body.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(item["status"])
    if not lines[0].startswith(f"HTTP/1.1 {status} "):
        errs.append(f"status line {lines[0]!r}, expected HTTP/1.1 {status}")
    fields = {}
    for ln in lines[1:]:
        k, _, v = ln.partition(":")
        fields[k.strip().lower()] = v.strip()
    if "location" in item and fields.get("location") != item["location"]:
        errs.append(f"Location {fields.get('location')!r} != {item['location']!r}")
    if "content-length" in fields and int(fields["content-length"]) != len(content):
        errs.append(f"Content-Length {fields['content-length']} != body {len(content)} bytes")
    if "contains" in item and item["contains"].encode() not in content:
        errs.append(f"body does not contain {item['contains']!r}")
    return errs


def read_name(msg, off):
    """Skips a (possibly compressed) name; returns the offset after it."""
    for _ in range(128):
        n = msg[off]
        if n == 0:
            return off + 1
        if n & 0xC0 == 0xC0:
            return off + 2
        off += 1 + n
    raise ValueError("name too long")


def check_dns(item, trig, out):
    errs = []
    if item["to"] != "client":
        return ["a DNS answer is only ever injected toward the client"]
    pl = l4_payload(out)
    if item.get("transport", "udp") == "tcp":
        if TCP not in out:
            return ["DNS over TCP answer is not TCP"]
        errs += check_tcp_seq(item, trig, out)
        if len(pl) < 2 or struct.unpack("!H", pl[:2])[0] != len(pl) - 2:
            return errs + [f"TCP DNS length prefix does not match the {len(pl) - 2}-byte message"]
        msg = pl[2:]
    else:
        if UDP not in out:
            return ["DNS answer is not UDP"]
        msg = pl
    if len(msg) < 12:
        return errs + [f"DNS message of {len(msg)} bytes"]
    qid, flags, qd, an, _, _ = struct.unpack("!HHHHHH", msg[:12])
    if qid != item["id"]:
        errs.append(f"DNS id {qid:#06x} != query id {item['id']:#06x}")
    if not flags & 0x8000:
        errs.append("QR not set")
    if (flags >> 11) & 0xF != 0:
        errs.append(f"opcode {(flags >> 11) & 0xF} != 0 (QUERY)")
    if bool(flags & 0x0100) != item["rd"]:
        errs.append(f"RD {int(bool(flags & 0x0100))} not copied from the query ({int(item['rd'])})")
    if not flags & 0x0080:
        errs.append("RA not set")
    if flags & 0xF != item["rcode"]:
        errs.append(f"RCODE {flags & 0xF} != {item['rcode']}")
    question = bytes.fromhex(item["question"])
    if qd != 1 or msg[12:12 + len(question)] != question:
        errs.append(f"question not echoed: qdcount {qd}, {msg[12:12 + len(question)].hex()} "
                    f"!= {question.hex()}")
    answers = item.get("answers", [])
    if an != len(answers):
        return errs + [f"ANCOUNT {an} != {len(answers)}"]
    off = 12 + len(question)
    for k, a in enumerate(answers):
        try:
            off = read_name(msg, off)
            rtype, rclass, ttl, rdlen = struct.unpack("!HHIH", msg[off:off + 10])
            rdata = msg[off + 10:off + 10 + rdlen]
            off += 10 + rdlen
        except (IndexError, struct.error, ValueError):
            return errs + [f"answer {k} truncated"]
        if rtype != DNS_TYPES[a["type"]] or rclass != 1:
            errs.append(f"answer {k}: type {rtype} class {rclass}, expected {a['type']} IN")
        if "ttl" in a and ttl != a["ttl"]:
            errs.append(f"answer {k}: TTL {ttl} != {a['ttl']}")
        got = str(ipaddress.ip_address(rdata)) if len(rdata) in (4, 16) else rdata.hex()
        if got != str(ipaddress.ip_address(a["addr"])):
            errs.append(f"answer {k}: address {got} != {a['addr']}")
    return errs


CHECKS = {"rst": check_rst, "http_redirect": check_http, "http_page": check_http,
          "dns": check_dns}


def describe(frame):
    try:
        return Ether(frame).summary()
    except Exception:  # noqa: BLE001 - malformed on purpose
        return f"{len(frame)}-byte frame"


def check_output(expected, inputs, outputs):
    errs = []
    for k, item in enumerate(expected):
        if k >= len(outputs):
            errs.append(f"output[{k}]: missing, expected {item}")
            continue
        out = outputs[k]
        if "input" in item:
            i = item["input"]
            if out != inputs[i]:
                other = [j for j, f in enumerate(inputs) if f == out]
                hint = f" (it is input packet {other[0]})" if other else f": {describe(out)}"
                errs.append(f"output[{k}]: expected input packet {i} unchanged, got a different "
                            f"packet{hint}")
            continue
        trig_b = inputs[item["trigger"]]
        if "frags" in item:
            trig_b = reassemble([inputs[i] for i in item["frags"]])
        where = f"output[{k}] ({item['inject']} to {item['to']} for input {item['trigger']})"
        try:
            problems = check_common(item, trig_b, out)
            problems += CHECKS[item["inject"]](item, Ether(trig_b), Ether(out))
        except Exception as e:  # noqa: BLE001 - report, do not crash
            problems = [f"cannot check {describe(out)}: {e!r}"]
        errs += [f"{where}: {p}" for p in problems]
    for k in range(len(expected), len(outputs)):
        errs.append(f"output[{k}]: unexpected extra packet {describe(outputs[k])}")
    return errs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cordond", required=True)
    ap.add_argument("--case", required=True, type=Path)
    ap.add_argument("--keep", action="store_true", help="keep the temp dir and print it")
    args = ap.parse_args()
    case = args.case.resolve()
    for need in ("expect.yaml", "input.pcap"):
        if not (case / need).is_file():
            print(f"FAIL {case.name}: {case / need} is missing (run scripts/gen_pcaps.py)")
            return 1
    exp = yaml.safe_load((case / "expect.yaml").read_text(encoding="utf-8"))
    tmp = Path(tempfile.mkdtemp(prefix=f"cordon-pcap-{case.name}-"))
    try:
        cmd = [args.cordond]
        for name, text in (exp.get("lists") or {}).items():
            (tmp / f"{name}.list").write_text(text, encoding="utf-8")
        if exp.get("config"):
            (tmp / "config.yaml").write_text(yaml.safe_dump(exp["config"], sort_keys=False),
                                             encoding="utf-8")
            cmd += ["--config", str(tmp / "config.yaml")]
        rules = exp.get("rules")
        if isinstance(rules, str):
            (tmp / "rules.list").write_text(rules, encoding="utf-8")
            cmd += ["--rules", str(tmp / "rules.list")]
        elif isinstance(rules, dict):
            cmd += ["--rules", str((case / rules["path"]).resolve())]
        cmd += [str(a) for a in exp.get("args") or []]
        cmd += ["--replay", str(case / "input.pcap"), "--write", str(tmp / "out.pcap"),
                "--events", str(tmp / "events.jsonl")]
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=60, encoding="utf-8",
                             errors="replace")
        if res.returncode != 0:
            print(f"FAIL {case.name}: cordond exited {res.returncode}\n  cmd: {' '.join(cmd)}\n"
                  f"{res.stderr}")
            return 1
        errs = []
        lines = [ln for ln in res.stdout.splitlines() if ln.startswith("{")]
        try:
            summary = json.loads(lines[-1])
        except (IndexError, json.JSONDecodeError):
            summary = {}
            errs.append(f"no JSON summary on stdout: {res.stdout!r}")
        errs += subset_diff(exp.get("summary") or {}, summary, "summary.")
        ev_path = tmp / "events.jsonl"
        ev_text = ev_path.read_text(encoding="utf-8") if ev_path.exists() else ""
        events = [json.loads(ln) for ln in ev_text.splitlines() if ln]
        want_events = exp.get("events") or []
        for k, ev in enumerate(want_events):
            if k >= len(events):
                errs.append(f"event[{k}]: missing, expected {ev}")
                continue
            errs += subset_diff(ev, events[k], f"event[{k}].")
        for k in range(len(want_events), len(events)):
            errs.append(f"event[{k}]: unexpected extra event {json.dumps(events[k])}")
        inputs = read_pcap(case / "input.pcap")
        if not (tmp / "out.pcap").exists():
            errs.append("cordond wrote no output pcap")
        outputs = read_pcap(tmp / "out.pcap") if (tmp / "out.pcap").exists() else []
        errs += check_output(exp.get("output") or [], inputs, outputs)
        if errs:
            print(f"FAIL {case.name}: {exp.get('description', '')}")
            print(f"  cmd: {' '.join(cmd)}")
            print(f"  summary: {json.dumps(summary)}")
            for e in errs:
                print(f"  - {e}")
            return 1
        print(f"ok {case.name}: {len(inputs)} in, {len(outputs)} out, {len(events)} events")
        return 0
    finally:
        if args.keep:
            print(f"kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
