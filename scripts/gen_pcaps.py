#!/usr/bin/env python3
"""Generates cordon's pcap regression cases and the sample capture.

Usage: /usr/bin/python3 scripts/gen_pcaps.py [--out DIR] [--rules-out FILE] [--only CASE...]

Writes pcaps/<case>/{input.pcap, expect.yaml, README.md} for every case below, the mixed
capture pcaps/sample/ (used by tests/e2e/vdev_pcap_test.sh) and rules/sample.list.

Deterministic by construction: frames are built from fixed addresses, ports and initial
sequence numbers; "random" bytes (TLS randoms, key shares, bulk data) come from SHA-256 of
fixed seeds; packet i of a capture is stamped 2026-01-01T00:00:00Z + i ms; the pcap file is
written by hand (classic pcap, microseconds, LINKTYPE_ETHERNET) so scapy's writer version
cannot change a byte. tests/pcap/check_reproducible.py re-runs this script into a temp dir
and compares.

Each case declares, packet by packet, what cordond must do with it (forward unchanged,
drop, inject) — see Case below. The expectations follow docs ARCHITECTURE.md; the README of
each case says why.
"""

import argparse
import hashlib
import struct
import sys
from pathlib import Path

import yaml
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand
from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.inet6 import (IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment, IPv6ExtHdrHopByHop,
                                PadN)
from scapy.layers.l2 import Dot1AD, Dot1Q, Ether
from scapy.packet import Raw, raw

ROOT = Path(__file__).resolve().parent.parent
T0 = 1767225600  # 2026-01-01T00:00:00Z; packet i is stamped T0 + i ms

# RFC 7042 section 2.1.2 documentation MAC addresses; RFC 5737 / RFC 3849 addresses.
CLIENT_MAC = "00:00:5e:00:53:01"
GW_MAC = "00:00:5e:00:53:02"
CLIENT = "198.51.100.7"
CLIENT2 = "198.51.100.8"
CLIENT6 = "2001:db8:1::7"
RESOLVER = "192.0.2.53"
RESOLVER6 = "2001:db8:53::53"
TLS_SRV = "203.0.113.10"
TLS_SRV6 = "2001:db8:2::10"
HTTP_SRV = "203.0.113.20"
NOTICE_URL = "http://notice.example/blocked"

QTYPES = {"A": 1, "TXT": 16, "AAAA": 28, "MX": 15, "HTTPS": 65}


# ---------------------------------------------------------------- byte helpers

def u8(v):
    return struct.pack("!B", v)


def u16(v):
    return struct.pack("!H", v)


def u24(v):
    return struct.pack("!I", v)[1:]


def u32(v):
    return struct.pack("!I", v)


def vec8(b):
    return u8(len(b)) + b


def vec16(b):
    return u16(len(b)) + b


def prng(seed, n):
    """n deterministic pseudo-random bytes from a text seed (SHA-256 in counter mode)."""
    out = b""
    ctr = 0
    while len(out) < n:
        out += hashlib.sha256(f"{seed}:{ctr}".encode()).digest()
        ctr += 1
    return out[:n]


# ---------------------------------------------------------------- TLS (RFC 8446)

def tls_ext(ext_type, body):
    return u16(ext_type) + vec16(body)  # RFC 8446 section 4.2


def client_hello(sni, pq=False, seed=None):
    """A TLS 1.3 ClientHello handshake message (RFC 8446 section 4.1.2), shaped like a
    browser's. pq=True adds an X25519MLKEM768 (0x11ec) key share of 1216 bytes
    (draft-ietf-tls-ecdhe-mlkem), which pushes the message past one TCP segment."""
    seed = seed or f"ch:{sni}"
    exts = []
    if sni is not None:  # RFC 6066 section 3
        exts.append(tls_ext(0, vec16(u8(0) + vec16(sni.encode()))))
    exts.append(tls_ext(23, b""))  # extended_master_secret
    exts.append(tls_ext(0xFF01, b"\x00"))  # renegotiation_info
    groups = [0x11EC, 0x001D, 0x0017] if pq else [0x001D, 0x0017, 0x0018]
    exts.append(tls_ext(10, vec16(b"".join(u16(g) for g in groups))))
    exts.append(tls_ext(11, vec8(b"\x00")))  # ec_point_formats
    exts.append(tls_ext(16, vec16(vec8(b"h2") + vec8(b"http/1.1"))))  # ALPN
    sigs = [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601]
    exts.append(tls_ext(13, vec16(b"".join(u16(s) for s in sigs))))
    shares = b""
    if pq:
        shares += u16(0x11EC) + vec16(prng(seed + ":mlkem", 1216))
    shares += u16(0x001D) + vec16(prng(seed + ":x25519", 32))
    exts.append(tls_ext(51, vec16(shares)))  # key_share
    exts.append(tls_ext(45, vec8(b"\x01")))  # psk_key_exchange_modes
    exts.append(tls_ext(43, vec8(u16(0x0304) + u16(0x0303))))  # supported_versions
    suites = [0x1301, 0x1302, 0x1303, 0xC02B, 0xC02F, 0xC02C, 0xC030]
    body = (u16(0x0303) + prng(seed + ":random", 32) + vec8(prng(seed + ":sid", 32)) +
            vec16(b"".join(u16(s) for s in suites)) + vec8(b"\x00") + vec16(b"".join(exts)))
    return u8(1) + u24(len(body)) + body


def tls_records(handshake, splits=()):
    """Wraps a handshake message in TLSPlaintext records (RFC 8446 section 5.1), split into
    several records at the given offsets."""
    cuts = [0, *splits, len(handshake)]
    return b"".join(b"\x16\x03\x01" + vec16(handshake[a:b]) for a, b in zip(cuts, cuts[1:]))


def server_flight(seed, n=1200):
    """Stand-in for a ServerHello..Finished flight: a handshake record of opaque bytes."""
    return b"\x16\x03\x03" + vec16(prng(seed, n - 5))


# ---------------------------------------------------------------- DNS (RFC 1035)

def dns_name(name):
    return b"".join(vec8(label.encode()) for label in name.rstrip(".").split(".")) + b"\x00"


def dns_question(name, qtype):
    return dns_name(name) + u16(QTYPES[qtype]) + u16(1)  # class IN


def dns_query(qid, name, qtype="A", rd=True, edns=False):
    """A query (RFC 1035 section 4.1); edns adds an OPT record (RFC 6891)."""
    hdr = u16(qid) + u16(0x0100 if rd else 0) + u16(1) + u16(0) + u16(0) + u16(1 if edns else 0)
    opt = b"\x00" + u16(41) + u16(1232) + u32(0) + u16(0) if edns else b""
    return hdr + dns_question(name, qtype) + opt


def dns_response(qid, name, addr):
    """What a resolver would answer for an allowed A query."""
    hdr = u16(qid) + u16(0x8180) + u16(1) + u16(1) + u16(0) + u16(0)
    ans = u16(0xC00C) + u16(1) + u16(1) + u32(300) + u16(4) + bytes(map(int, addr.split(".")))
    return hdr + dns_question(name, "A") + ans


# ---------------------------------------------------------------- HTTP (RFC 9112)

def http_get(target, host, extra=b""):
    return (f"GET {target} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: curl/8.5.0\r\n"
            f"Accept: */*\r\n").encode() + extra + b"\r\n"


def http_ok(body):
    return (b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)


# ---------------------------------------------------------------- QUIC v1 Initial (RFC 9001)

QUIC_V1_SALT = bytes.fromhex("38762cf7f55934b34d179ae6a4c80cadccbb7f0a")  # RFC 9001 5.2


def hkdf_expand_label(secret, label, length):
    """RFC 8446 section 7.1 HKDF-Expand-Label with an empty context."""
    info = u16(length) + vec8(b"tls13 " + label) + vec8(b"")
    return HKDFExpand(hashes.SHA256(), length, info).derive(secret)


def quic_client_keys(dcid):
    """Client Initial key, IV and header-protection key (RFC 9001 section 5.2)."""
    h = hmac.HMAC(QUIC_V1_SALT, hashes.SHA256())
    h.update(dcid)
    client = hkdf_expand_label(h.finalize(), b"client in", 32)
    return (hkdf_expand_label(client, b"quic key", 16), hkdf_expand_label(client, b"quic iv", 12),
            hkdf_expand_label(client, b"quic hp", 16))


# RFC 9001 appendix A.1 test vector: the derivation above must reproduce it.
assert quic_client_keys(bytes.fromhex("8394c8f03e515708")) == (
    bytes.fromhex("1f369613dd76d5467730efcbe3b1a22d"), bytes.fromhex("fa044b2f42a3fd3b46fb255c"),
    bytes.fromhex("9f50449e04a0e810283a1e9933adedd2"))


def quic_varint(v):
    return u8(v) if v < 64 else u16(0x4000 | v) if v < 16384 else u32(0x80000000 | v)


def quic_client_initial(dcid, scid, pn, offset, crypto, size=1200):
    """A protected client Initial (RFC 9000 section 17.2.2) carrying one CRYPTO frame, padded
    with PADDING frames to a `size`-byte datagram (RFC 9000 section 14.1)."""
    key, iv, hp = quic_client_keys(dcid)
    pn_len = 4
    head = u8(0xC0 | (pn_len - 1)) + u32(1) + vec8(dcid) + vec8(scid) + quic_varint(0)
    frames = u8(0x06) + quic_varint(offset) + quic_varint(len(crypto)) + crypto
    room = size - len(head) - 2 - pn_len - 16
    assert len(frames) <= room, "CRYPTO data does not fit the Initial"
    frames += b"\x00" * (room - len(frames))
    header = head + u16(0x4000 | (pn_len + len(frames) + 16)) + u32(pn)
    nonce = bytes(a ^ b for a, b in zip(iv, bytes(8) + u32(pn)))  # RFC 9001 section 5.3
    ct = AESGCM(key).encrypt(nonce, frames, header)
    enc = Cipher(algorithms.AES(hp), modes.ECB()).encryptor()  # RFC 9001 section 5.4
    mask = enc.update(ct[4 - pn_len:20 - pn_len]) + enc.finalize()
    out = bytearray(header)
    out[0] ^= mask[0] & 0x0F
    for k in range(pn_len):
        out[len(header) - pn_len + k] ^= mask[1 + k]
    return bytes(out) + ct


# ---------------------------------------------------------------- frames

class Path2:
    """A client/server pair with its L2 framing: VLAN tags and IPv6 extension headers are
    applied to both directions."""

    def __init__(self, client, server, vlans=(), v6_ext=False):
        self.client, self.server, self.vlans, self.v6_ext = client, server, vlans, v6_ext

    def frame(self, from_client, l4):
        src, dst = (self.client, self.server) if from_client else (self.server, self.client)
        smac, dmac = (CLIENT_MAC, GW_MAC) if from_client else (GW_MAC, CLIENT_MAC)
        pkt = Ether(src=smac, dst=dmac)
        for tpid, vid in self.vlans:
            pkt = pkt / (Dot1AD(vlan=vid) if tpid == 0x88A8 else Dot1Q(vlan=vid))
        if ":" in src:
            l3 = IPv6(src=src, dst=dst, hlim=64)
            if self.v6_ext:  # RFC 8200 section 4.3 / 4.6, each padded to 8 octets
                l3 = (l3 / IPv6ExtHdrHopByHop(options=[PadN(optdata=b"\x00" * 4)]) /
                      IPv6ExtHdrDestOpt(options=[PadN(optdata=b"\x00" * 4)]))
        else:
            l3 = IP(src=src, dst=dst, ttl=64, id=0, flags="DF")
        return raw(pkt / l3 / l4)


class TcpFlow(Path2):
    """One TCP connection; tracks both sides' next sequence numbers (RFC 9293 section 3.4)."""

    def __init__(self, client, server, sport, dport, isn_c, isn_s, **kw):
        super().__init__(client, server, **kw)
        self.sport, self.dport = sport, dport
        self.cnext, self.snext = isn_c, isn_s

    def seg(self, from_client, flags, payload=b"", seq=None, chksum=None, options=None):
        nxt = self.cnext if from_client else self.snext
        s = nxt if seq is None else seq
        a = (self.snext if from_client else self.cnext) if "A" in flags else 0
        sp, dp = (self.sport, self.dport) if from_client else (self.dport, self.sport)
        t = TCP(sport=sp, dport=dp, seq=s, ack=a, flags=flags, window=64240,
                options=options or [])
        if chksum is not None:
            t.chksum = chksum
        f = self.frame(from_client, t / Raw(payload) if payload else t)
        if seq is None:
            step = len(payload) + ("S" in flags) + ("F" in flags)
            if from_client:
                self.cnext = (self.cnext + step) & 0xFFFFFFFF
            else:
                self.snext = (self.snext + step) & 0xFFFFFFFF
        return f

    def handshake(self):
        return [self.seg(True, "S", options=[("MSS", 1460)]),
                self.seg(False, "SA", options=[("MSS", 1460)]),
                self.seg(True, "A")]

    def c(self, payload, flags="PA", **kw):
        return self.seg(True, flags, payload, **kw)

    def s(self, payload, flags="PA", **kw):
        return self.seg(False, flags, payload, **kw)


def udp(path, sport, dport, payload, from_client=True):
    sp, dp = (sport, dport) if from_client else (dport, sport)
    return path.frame(from_client, UDP(sport=sp, dport=dp) / Raw(payload))


def chunks(data, size):
    return [data[i:i + size] for i in range(0, len(data), size)]


# ---------------------------------------------------------------- cases

class Case:
    """A capture plus what cordond must do with it, declared packet by packet:
    fwd() adds an input packet that must be written unchanged, drop() one that must not be
    written, rst()/inject() the packets cordond must inject at that point. Indexes are
    0-based positions in input.pcap."""

    def __init__(self, name, description, rules=None, config=None, lists=None, args=None,
                 mirror=False):
        self.name, self.description = name, description
        self.rules, self.config, self.lists = rules, config, lists
        self.args = args or (["--mode", "mirror"] if mirror else None)
        self.mirror = mirror
        self.frames, self.notes, self.output, self.events = [], [], [], []
        self.forwarded = self.dropped = 0
        self.summary_extra = {}
        self.why = ""

    def fwd(self, *frames):
        for f in frames:
            self.frames.append(f)
            self.notes.append("forwarded unchanged")
            self.forwarded += 1
            if not self.mirror:
                self.output.append({"input": len(self.frames) - 1})
        return len(self.frames) - 1

    def drop(self, frame, note="dropped (blocked)"):
        self.frames.append(frame)
        self.notes.append(note)
        self.dropped += 1
        return len(self.frames) - 1

    def inject(self, kind, to, trigger, **checks):
        self.output.append({"inject": kind, "to": to, "trigger": trigger, **checks})
        self.notes[trigger] += f"; inject {kind} to {to}"

    def rst(self, trigger, to=("client", "server"), **extra):
        # cordond sends RST+ACK; RFC 9293 section 3.10.7 accepts a RST by its sequence number
        # alone (RFC 5961 section 3.2: exactly RCV.NXT), the ACK bit is harmless.
        for t in to:
            self.inject("rst", t, trigger, flags="RA", **extra)

    def dns(self, trigger, query, rcode, answers=(), transport="udp", **extra):
        hdr = struct.unpack("!HH", query[:4])
        qend = 12
        while query[qend] != 0:
            qend += 1 + query[qend]
        qend += 5
        self.inject("dns", "client", trigger, transport=transport, id=hdr[0],
                    question=query[12:qend].hex(), rd=bool(hdr[1] & 0x0100), rcode=rcode,
                    answers=[dict(a) for a in answers], **extra)

    def event(self, **fields):
        self.events.append(fields)

    def expect(self):
        blocked = sum(1 for e in self.events if e["event_type"] in ("block", "redirect"))
        injected = sum(1 for o in self.output if "inject" in o)
        summary = {"packets_in": len(self.frames),
                   "packets_out": 0 if self.mirror else self.forwarded,
                   "dropped": self.dropped, "injected": injected, "blocked_flows": blocked,
                   "events": len(self.events)}
        summary.update(self.summary_extra)
        doc = {"description": self.description}
        if self.rules is not None:
            doc["rules"] = self.rules
        if self.lists:
            doc["lists"] = self.lists
        if self.config:
            doc["config"] = self.config
        if self.args:
            doc["args"] = self.args
        doc.update(summary=summary, events=self.events, output=self.output)
        return doc

    def readme(self):
        rows = []
        for i, f in enumerate(self.frames):
            s = describe(f)
            rows.append(f"| {i} | {s.replace('|', '/')} | {self.notes[i]} |")
        setup = []
        if self.rules is not None:
            if isinstance(self.rules, str):
                where, text = "", self.rules
            else:
                where, text = f" (`{self.rules['path']}`, relative to this folder)", SAMPLE_LIST
            setup.append(f"Rule list given with `--rules`{where}, blocking with the default "
                         "actions:\n\n```\n" + text + "```")
        for name, text in (self.lists or {}).items():
            setup.append(f"List `{name}.list` (referenced from the config):\n\n```\n{text}```")
        if self.config:
            setup.append("Config:\n\n```yaml\n" + yaml.safe_dump(self.config, sort_keys=False) +
                         "```")
        if self.args:
            setup.append("Extra arguments: `" + " ".join(self.args) + "`")
        return (f"# {self.name}\n\n{self.description}\n\n"
                "## How the capture was made\n\n"
                "`input.pcap` is written by `/usr/bin/python3 scripts/gen_pcaps.py` (run from the "
                "repository root); the script is deterministic (fixed addresses, ports, ISNs and "
                "seeds; packet i stamped 2026-01-01T00:00:00Z + i ms). Do not edit the files by "
                "hand: change the generator and re-run it. TCP flows have real handshakes and "
                "correct sequence numbers; checksums are correct unless said otherwise.\n\n"
                "| # | packet | expected |\n|---|---|---|\n" + "\n".join(rows) + "\n\n"
                "## Rules and configuration\n\n" + "\n\n".join(setup) + "\n\n"
                "## Expected outcome\n\n" + self.why.strip() + "\n\n"
                "`expect.yaml` holds the exact expected summary counters, events and output "
                "packet sequence; `tests/pcap/run_case.py` checks them "
                "(`ctest -R pcap." + self.name + "`).\n")


def describe(frame):
    """One line for a README table: scapy's summary plus what the payload is."""
    try:
        pkt = Ether(frame)
        s = pkt.summary().replace(" / Raw", "").replace(" / Padding", "")
    except Exception:  # noqa: BLE001 - malformed on purpose
        return f"{len(frame)}-byte frame"
    l4 = pkt[TCP] if TCP in pkt else pkt[UDP] if UDP in pkt else None
    if l4 is None or Raw not in pkt:
        return s
    data = pkt[Raw].load
    hint = f"{len(data)} bytes"
    try:
        if UDP in pkt and 53 in (l4.sport, l4.dport) and len(data) > 12:
            labels, off = [], 12
            while data[off]:
                labels.append(data[off + 1:off + 1 + data[off]].decode("latin-1"))
                off += 1 + data[off]
            qt = struct.unpack("!H", data[off + 1:off + 3])[0]
            kind = "DNS response" if data[2] & 0x80 else "DNS query"
            hint = f"{kind} id {data[0] << 8 | data[1]:#06x} {'.'.join(labels)} type {qt}"
        elif UDP in pkt and data[0] & 0xC0 == 0xC0 and data[1:5] == u32(1):
            hint = f"QUIC v1 long header, {len(data)} bytes"
        elif data[:3] in (b"\x16\x03\x01", b"\x16\x03\x03"):
            hint = f"TLS handshake record(s), {len(data)} bytes"
        elif data.split(b" ", 1)[0] in (b"GET", b"POST") or data.startswith(b"HTTP/1.1"):
            hint = "HTTP " + data.split(b"\r\n", 1)[0].decode("latin-1")
    except (IndexError, struct.error):
        pass
    return f"{s}: {hint}"


CASES = []


def case(fn):
    CASES.append(fn)
    return fn


def tls_block(c, flow, sni, **kw):
    """Handshake + a single-segment ClientHello for a blocked name: RSTs both ways."""
    for f in flow.handshake():
        c.fwd(f)
    i = c.drop(flow.c(tls_records(client_hello(sni, **kw))))
    c.rst(i)
    return i


def tls_allow(c, flow, sni):
    for f in flow.handshake():
        c.fwd(f)
    c.fwd(flow.c(tls_records(client_hello(sni))))
    c.fwd(flow.s(server_flight(f"sf:{sni}")))
    c.fwd(flow.c(b"", flags="A"))


def tls_event(flow, host, pattern, action="reset", **kw):
    ev = {"event_type": "block", "action": action, "app_proto": "tls", "proto": "TCP",
          "src_ip": flow.client, "src_port": flow.sport, "dest_ip": flow.server,
          "dest_port": flow.dport, "host": host, "rule": {"pattern": pattern, **kw}}
    return ev


def dns_event(src, sport, dst, host, pattern, action="nxdomain", proto="UDP",
              event_type="block"):
    return {"event_type": event_type, "action": action, "app_proto": "dns", "proto": proto,
            "src_ip": src, "src_port": sport, "dest_ip": dst, "dest_port": 53, "host": host,
            "rule": {"pattern": pattern}}


def http_event(flow, host, url, pattern, action="reset", event_type="block"):
    return {"event_type": event_type, "action": action, "app_proto": "http", "proto": "TCP",
            "src_ip": flow.client, "src_port": flow.sport, "dest_ip": flow.server,
            "dest_port": flow.dport, "host": host, "url": url, "rule": {"pattern": pattern}}


@case
def dns_udp_blocked():
    c = Case("dns_udp_blocked", "DNS/UDP A queries: a blocked name is answered NXDOMAIN by "
             "cordon, an allowed one passes with its answer; a retransmitted blocked query is "
             "answered again; a 0x20 mixed-case query is blocked and its question echoed as sent.",
             rules="blocked.example\n")
    p = Path2(CLIENT, RESOLVER)
    q1 = dns_query(0x1A01, "allowed.example", edns=True)
    c.fwd(udp(p, 53001, 53, q1))
    c.fwd(udp(p, 53001, 53, dns_response(0x1A01, "allowed.example", "203.0.113.80"), False))
    q2 = dns_query(0x1A02, "blocked.example")
    i = c.drop(udp(p, 53002, 53, q2))
    c.dns(i, q2, rcode=3)
    c.event(**dns_event(CLIENT, 53002, RESOLVER, "blocked.example", "blocked.example"))
    i = c.drop(udp(p, 53002, 53, q2), note="dropped (retransmitted blocked query)")
    c.dns(i, q2, rcode=3)
    c.event(**dns_event(CLIENT, 53002, RESOLVER, "blocked.example", "blocked.example"))
    q3 = dns_query(0x1A03, "wWw.BlOcKeD.eXaMpLe", edns=True)
    i = c.drop(udp(p, 53003, 53, q3))
    c.dns(i, q3, rcode=3)
    c.event(**dns_event(CLIENT, 53003, RESOLVER, "www.blocked.example", "blocked.example"))
    q4 = dns_query(0x1A04, "blocked.example")
    i = c.drop(p.frame(True, UDP(sport=53004, dport=53, chksum=0) / Raw(q4)))
    c.notes[i] = "dropped (blocked; UDP checksum 0 = none, RFC 768)"
    c.dns(i, q4, rcode=3)
    c.event(**dns_event(CLIENT, 53004, RESOLVER, "blocked.example", "blocked.example"))
    c.fwd(p.frame(True, UDP(sport=53005, dport=53, chksum=0xBAD0) /
                  Raw(dns_query(0x1A05, "blocked.example"))))
    c.notes[-1] = "forwarded unchanged (bad UDP checksum: the resolver discards it)"
    c.summary_extra = {"counters": {"bad_l4_checksum": 1}}
    c.why = """
Per ARCHITECTURE.md "Default actions", a DNS query for a listed name is answered NXDOMAIN
by the appliance and the query itself is dropped. The answer (RFC 1035 section 4.1.1) echoes
the id and the question section byte for byte (including the 0x20 mixed case, which
resolvers check, draft-vixie-dnsext-dns0x20), has QR=1, copies RD, sets RA, RCODE=3, no
answer records. The allowed query and its response pass unchanged. A retransmission is a
new query: it is answered and logged again. Names are case-folded before matching, so the
mixed-case name is blocked and logged as `www.blocked.example`. Over IPv4 a UDP checksum of
zero means "no checksum" (RFC 768), so that query is blocked like any other; a query with a
wrong checksum is one the resolver discards (RFC 1122 section 4.1.3.4): cordon forwards it
uninspected and counts it (`bad_l4_checksum`)."""
    return c


@case
def dns_udp_qtypes():
    c = Case("dns_udp_qtypes", "AAAA, HTTPS, TXT and MX queries for a blocked name (over IPv4 "
             "and IPv6 transport) are all answered NXDOMAIN.", rules="blocked.example\n")
    p4 = Path2(CLIENT, RESOLVER)
    p6 = Path2(CLIENT6, RESOLVER6)
    for k, (path, qt) in enumerate([(p4, "AAAA"), (p4, "HTTPS"), (p6, "TXT"), (p6, "AAAA"),
                                    (p4, "MX")]):
        q = dns_query(0x2B00 + k, "cdn.blocked.example", qt)
        i = c.drop(udp(path, 54000 + k, 53, q))
        c.dns(i, q, rcode=3)
        c.event(**dns_event(path.client, 54000 + k, path.server, "cdn.blocked.example",
                            "blocked.example"))
    c.why = """
The block applies to the name, whatever the query type (ARCHITECTURE.md: "DNS query (UDP or
TCP) ... answer NXDOMAIN"). NXDOMAIN (RFC 8020) says the name does not exist for every type,
so each answer has RCODE=3, the echoed id and question (with its QTYPE: AAAA=28, HTTPS=65
per RFC 9460, TXT=16, MX=15), QR=1, RD copied, RA=1. Over IPv6 the answer is an IPv6/UDP
datagram with a valid checksum (RFC 8200 section 8.1: mandatory)."""
    return c


@case
def dns_sinkhole():
    cfg = {"actions": {"dns": {"mode": "sinkhole", "a": "192.0.2.1", "aaaa": "2001:db8::1"}}}
    c = Case("dns_sinkhole", "actions.dns sinkhole: A and AAAA queries for a blocked name get "
             "the sinkhole address; a TXT query gets NOERROR without answers.",
             rules="blocked.example\n", config=cfg)
    p = Path2(CLIENT, RESOLVER)
    for k, (qt, ans) in enumerate([("A", [{"type": "A", "addr": "192.0.2.1", "ttl": 60}]),
                                   ("AAAA", [{"type": "AAAA", "addr": "2001:db8::1", "ttl": 60}]),
                                   ("TXT", [])]):
        q = dns_query(0x3C00 + k, "blocked.example", qt)
        i = c.drop(udp(p, 55000 + k, 53, q))
        c.dns(i, q, rcode=0, answers=ans)
        c.event(**dns_event(CLIENT, 55000 + k, RESOLVER, "blocked.example", "blocked.example",
                            action="sinkhole", event_type="redirect"))
    c.why = """
With `dns: {mode: sinkhole, a: ..., aaaa: ...}` (ARCHITECTURE.md "Default actions":
"sinkhole A/AAAA") the blocked A query is answered NOERROR with one A record 192.0.2.1, the
AAAA query with one AAAA record 2001:db8::1 (RFC 3596), both with the default TTL 60 and the
name compressed to a pointer at the question (RFC 1035 section 4.1.4). A TXT query for the
name has no sinkhole data: NOERROR with no answer (NODATA, RFC 2308 section 2.2), as RPZ
local-data policies do. The event is `redirect`/`sinkhole` (event schema)."""
    return c


@case
def dns_refused():
    c = Case("dns_refused", "actions.dns refused: a blocked query is answered REFUSED; an "
             "allowed query passes.", rules="blocked.example\n",
             config={"actions": {"dns": {"mode": "refused"}}})
    p = Path2(CLIENT, RESOLVER)
    q = dns_query(0x4D01, "www.blocked.example", rd=False)
    i = c.drop(udp(p, 56001, 53, q))
    c.dns(i, q, rcode=5)
    c.event(**dns_event(CLIENT, 56001, RESOLVER, "www.blocked.example", "blocked.example",
                        action="refused"))
    q2 = dns_query(0x4D02, "allowed.example")
    c.fwd(udp(p, 56002, 53, q2))
    c.why = """
REFUSED is RCODE 5 (RFC 1035 section 4.1.1). The query was sent with RD=0, which the answer
must copy (RD=0), with QR=1 and RA=1. The allowed query passes unchanged."""
    return c


@case
def dns_rpz_policies():
    zone = """; an RPZ zone (draft-vixie-dnsop-dns-rpz section 3), as BIND or Unbound load it
$ORIGIN rpz.cordon.test.
$TTL 300
@ IN SOA localhost. hostmaster.localhost. 1 3600 600 86400 300
@ IN NS localhost.
nx.example CNAME .
nodata.example CNAME *.
drop.example CNAME rpz-drop.
sink.example A 192.0.2.99
sink.example AAAA 2001:db8::99
pass.nx.example CNAME rpz-passthru.
*.wild.example CNAME .
"""
    c = Case("dns_rpz_policies", "An RPZ zone as the rule list: each QNAME trigger's policy "
             "decides the answer (NXDOMAIN, NODATA, drop, local data), passthru is an exception.",
             rules=zone)
    p = Path2(CLIENT, RESOLVER)
    q = dns_query(0x5A01, "nx.example")
    i = c.drop(udp(p, 57001, 53, q))
    c.dns(i, q, rcode=3)
    c.event(**dns_event(CLIENT, 57001, RESOLVER, "nx.example", "=nx.example"))
    q = dns_query(0x5A02, "nodata.example", "AAAA")
    i = c.drop(udp(p, 57002, 53, q))
    c.dns(i, q, rcode=0)
    c.event(**dns_event(CLIENT, 57002, RESOLVER, "nodata.example", "=nodata.example",
                        action="nodata"))
    q = dns_query(0x5A03, "drop.example")
    c.drop(udp(p, 57003, 53, q))
    c.event(**dns_event(CLIENT, 57003, RESOLVER, "drop.example", "=drop.example", action="drop"))
    for k, (qt, ans) in enumerate([("A", [{"type": "A", "addr": "192.0.2.99", "ttl": 60}]),
                                   ("AAAA", [{"type": "AAAA", "addr": "2001:db8::99",
                                              "ttl": 60}]),
                                   ("TXT", [])]):
        q = dns_query(0x5A10 + k, "sink.example", qt)
        i = c.drop(udp(p, 57010 + k, 53, q))
        c.dns(i, q, rcode=0, answers=ans)
        c.event(**dns_event(CLIENT, 57010 + k, RESOLVER, "sink.example", "=sink.example",
                            action="sinkhole", event_type="redirect"))
    c.fwd(udp(p, 57020, 53, dns_query(0x5A20, "pass.nx.example")))
    q = dns_query(0x5A21, "a.wild.example")
    i = c.drop(udp(p, 57021, 53, q))
    c.dns(i, q, rcode=3)
    c.event(**dns_event(CLIENT, 57021, RESOLVER, "a.wild.example", "*.wild.example"))
    c.fwd(udp(p, 57022, 53, dns_query(0x5A22, "wild.example")))
    c.why = """
The list is an RPZ zone file (format detected from its content). Triggers are QNAMEs
relative to the zone origin, so `nx.example.rpz.cordon.test.` triggers on `nx.example`
(draft-vixie-dnsop-dns-rpz section 4.1). The policy comes from the record (section 4.2):
`CNAME .` answers NXDOMAIN (RCODE 3); `CNAME *.` answers NODATA: NOERROR without records
(RFC 2308 section 2.2), event action `nodata`; `CNAME rpz-drop.` drops the query with no
answer; A/AAAA local data answer A and AAAA queries with that address (TTL from the config's
default, 60) and other types with NODATA, as a sinkhole; `CNAME rpz-passthru.` is an
exception, so `pass.nx.example` passes; the wildcard owner `*.wild.example` matches names
below `wild.example` but not the name itself (section 4.1). Answers echo the id and question,
QR=1, RD copied, RA=1."""
    return c


@case
def dns_odd_labels():
    c = Case("dns_odd_labels", "Names whose first label holds bytes no host name may hold (DNS "
             "tunnel style) are judged by their parent domain's suffix rules.",
             rules="tunnel.example\n=exact.example\n")
    p = Path2(CLIENT, RESOLVER)
    for k, label in enumerate(["a+b/c=\x01", "nul\x00byte", "sp ace"]):
        q = dns_query(0x6B00 + k, label + ".tunnel.example", "TXT")
        i = c.drop(udp(p, 58000 + k, 53, q))
        c.dns(i, q, rcode=3)
        ev = dns_event(CLIENT, 58000 + k, RESOLVER, "", "tunnel.example")
        del ev["host"]  # the presentation of odd bytes is cordon's choice, not the contract's
        c.event(**ev)
    c.fwd(udp(p, 58010, 53, dns_query(0x6B10, "x y.exact.example", "TXT")))
    c.fwd(udp(p, 58011, 53, dns_query(0x6B11, "clean.other.example", "TXT")))
    c.why = """
A DNS label may hold any octet (RFC 2181 section 11); tunnels and exfiltration tools put
base32/64, '=' padding, spaces or binary there. Such a name can never equal a host-name rule,
but it is still a subdomain of its parent: `tunnel.example` (the name and every subdomain,
ARCHITECTURE.md) covers it, so each query is answered NXDOMAIN (RCODE 3) with the id and
question echoed. `=exact.example` names exactly one name, so `x y.exact.example` passes, as
does an unrelated clean name."""
    return c


@case
def dns_tcp_split():
    c = Case("dns_tcp_split", "DNS over TCP (RFC 7766): an allowed query, then on the same "
             "connection a blocked query whose 2-byte length prefix and message are split over "
             "three segments.", rules="blocked.example\n")
    f = TcpFlow(CLIENT, RESOLVER, 41000, 53, 0x10000000, 0x20000000)
    for x in f.handshake():
        c.fwd(x)
    q1 = dns_query(0x5E01, "allowed.example")
    c.fwd(f.c(vec16(q1)))
    c.fwd(f.s(vec16(dns_response(0x5E01, "allowed.example", "203.0.113.80"))))
    q2 = dns_query(0x5E02, "media.blocked.example", "AAAA")
    m = vec16(q2)
    c.fwd(f.c(m[:2]))
    c.fwd(f.c(m[2:12]))
    i = c.drop(f.c(m[12:]))
    c.dns(i, q2, rcode=3, transport="tcp")
    c.rst(i, to=("server",))
    c.event(**dns_event(CLIENT, 41000, RESOLVER, "media.blocked.example", "blocked.example",
                        proto="TCP"))
    c.why = """
DNS over TCP frames each message with a 2-byte length (RFC 1035 section 4.2.2, RFC 7766).
The first, allowed query and its answer pass. The second query only becomes readable when
the third segment arrives: that segment is the trigger. cordon drops it, answers the client
over the same connection with an NXDOMAIN message (length-prefixed; TCP seq = the trigger's
ack, ack = trigger seq + its payload length, so the client accepts it in order), and resets
the server side (seq = the trigger's seq = the server's RCV.NXT, RFC 5961 section 3.2).
The first two segments of the query were forwarded before the name was known."""
    return c


@case
def tls_single_segment():
    c = Case("tls_single_segment", "TLS 1.3 ClientHello in one segment: a blocked SNI is reset "
             "both ways; an allowed one passes with the server's flight.",
             rules="blocked.example\n")
    tls_allow(c, TcpFlow(CLIENT, TLS_SRV, 42001, 443, 0x11000000, 0x21000000), "allowed.example")
    f = TcpFlow(CLIENT, TLS_SRV, 42002, 443, 0x11100000, 0x21100000)
    tls_block(c, f, "blocked.example")
    c.event(**tls_event(f, "blocked.example", "blocked.example"))
    c.why = """
Default TLS action (ARCHITECTURE.md): drop the ClientHello and the rest of the flow; RST to
client and server. The RST toward the client comes from the server's address/port with
seq = the ClientHello's ack (the client's RCV.NXT) and ack = ClientHello seq + length; the RST
toward the server looks like the client's, with seq = the ClientHello's seq (the server never
got the ClientHello, so this is its RCV.NXT) and ack = the ClientHello's ack. RFC 9293
section 3.10.7.4 / RFC 5961 section 3.2: a RST whose seq equals RCV.NXT resets the connection
(anything else only draws a challenge ACK). cordond sets RST+ACK; the ACK bit does not change
acceptability."""
    return c


@case
def tls_split_pq():
    c = Case("tls_split_pq", "A post-quantum sized ClientHello (X25519MLKEM768 key share, 1216 "
             "bytes) spans two TCP segments; the SNI is blocked.", rules="blocked.example\n")
    f = TcpFlow(CLIENT, TLS_SRV, 42101, 443, 0x12000000, 0x22000000)
    for x in f.handshake():
        c.fwd(x)
    rec = tls_records(client_hello("pq.blocked.example", pq=True))
    assert len(rec) > 1460
    c.fwd(f.c(rec[:1460], flags="A"))
    i = c.drop(f.c(rec[1460:]))
    c.rst(i)
    c.event(**tls_event(f, "pq.blocked.example", "blocked.example"))
    c.why = f"""
Browsers offering X25519MLKEM768 send ClientHellos of ~1.8 KB ({len(rec)} bytes here), more
than one MSS (1460). cordon must reassemble the first flight (ARCHITECTURE.md: "bounded
reassembly of the first flight when it spans packets"). The first segment is forwarded (the
name is not known yet); the second completes the ClientHello and is the trigger: dropped,
RST to both ends computed from it."""
    return c


@case
def tls_out_of_order():
    c = Case("tls_out_of_order", "A two-segment ClientHello whose second segment arrives "
             "first.", rules="blocked.example\n")
    f = TcpFlow(CLIENT, TLS_SRV, 42201, 443, 0x13000000, 0x23000000)
    for x in f.handshake():
        c.fwd(x)
    rec = tls_records(client_hello("ooo.blocked.example", pq=True))
    base = f.cnext
    c.fwd(f.c(rec[1000:], seq=(base + 1000) & 0xFFFFFFFF))
    i = c.drop(f.c(rec[:1000], flags="A", seq=base))
    f.cnext = base + len(rec)
    c.rst(i)
    c.event(**tls_event(f, "ooo.blocked.example", "blocked.example"))
    c.why = """
TCP delivers in order to the server whatever order the segments take on the wire; cordon
must do the same before parsing (RFC 9293 section 3.10.7.4 queues out-of-order segments).
The late second half is forwarded while the hole is open (nothing is known yet); when the
first half arrives the ClientHello is complete, the SNI is blocked, and that segment is the
trigger: dropped, RSTs built from it. The server never received the bytes at the trigger's
seq, so RST seq = trigger seq is exactly its RCV.NXT."""
    return c


@case
def tls_tiny_segments():
    c = Case("tls_tiny_segments", "A ClientHello sent in 10-byte TCP segments.",
             rules="blocked.example\n")
    f = TcpFlow(CLIENT, TLS_SRV, 42301, 443, 0x14000000, 0x24000000)
    for x in f.handshake():
        c.fwd(x)
    parts = chunks(tls_records(client_hello("tiny.blocked.example")), 10)
    for p in parts[:-1]:
        c.fwd(f.c(p))
    i = c.drop(f.c(parts[-1]))
    c.rst(i)
    c.event(**tls_event(f, "tiny.blocked.example", "blocked.example"))
    c.why = f"""
An evasion trick (and what some middlebox-probing tools do): the ClientHello is cut into
{len(parts)} segments of 10 bytes. Reassembly must still see the whole message; the last
segment completes it and is the trigger (dropped, RSTs both ways). All earlier segments were
forwarded before the name was known."""
    return c


@case
def tls_multi_record():
    c = Case("tls_multi_record", "A ClientHello fragmented across two TLS records (RFC 8446 "
             "section 5.1), the SNI cut in the middle: once both records in one segment, once "
             "one record per segment.", rules="blocked.example\n")
    f = TcpFlow(CLIENT, TLS_SRV, 42401, 443, 0x15000000, 0x25000000)
    hs = client_hello("rec.blocked.example")
    cut = hs.find(b"rec.blocked") + 5
    for x in f.handshake():
        c.fwd(x)
    i = c.drop(f.c(tls_records(hs, [cut])))
    c.rst(i)
    c.event(**tls_event(f, "rec.blocked.example", "blocked.example"))
    g = TcpFlow(CLIENT, TLS_SRV, 42402, 443, 0x15100000, 0x25100000)
    hs2 = client_hello("rec2.blocked.example")
    cut2 = hs2.find(b"rec2.blocked") + 6
    r1 = tls_records(hs2[:cut2])
    r2 = tls_records(hs2[cut2:])
    for x in g.handshake():
        c.fwd(x)
    c.fwd(g.c(r1))
    i = c.drop(g.c(r2))
    c.rst(i)
    c.event(**tls_event(g, "rec2.blocked.example", "blocked.example"))
    c.why = """
RFC 8446 section 5.1: handshake messages may be fragmented across several records; a
ClientHello split this way is legal and is an evasion technique against parsers that only
read the first record. The SNI bytes straddle the record boundary. In the first connection
both records travel in one segment (the trigger); in the second each record is its own
segment and the second one is the trigger. Both are blocked with RSTs both ways."""
    return c


@case
def tls_retransmission():
    c = Case("tls_retransmission", "Retransmissions: the first half of a split blocked "
             "ClientHello is sent twice before the second half; after the block the client "
             "retransmits the last segment. An allowed ClientHello retransmitted passes twice.",
             rules="blocked.example\n")
    f = TcpFlow(CLIENT, TLS_SRV, 42501, 443, 0x16000000, 0x26000000)
    for x in f.handshake():
        c.fwd(x)
    rec = tls_records(client_hello("rtx.blocked.example", pq=True))
    base = f.cnext
    c.fwd(f.c(rec[:1460], flags="A"))
    c.fwd(f.c(rec[:1460], flags="A", seq=base))
    second = f.c(rec[1460:])
    i = c.drop(second)
    c.rst(i)
    c.event(**tls_event(f, "rtx.blocked.example", "blocked.example"))
    c.drop(f.c(rec[1460:], seq=(base + 1460) & 0xFFFFFFFF),
           note="dropped (retransmission inside the blocked flow)")
    g = TcpFlow(CLIENT, TLS_SRV, 42502, 443, 0x16100000, 0x26100000)
    for x in g.handshake():
        c.fwd(x)
    ch = tls_records(client_hello("allowed.example"))
    base = g.cnext
    c.fwd(g.c(ch))
    c.fwd(g.c(ch, seq=base))
    c.fwd(g.s(server_flight("sf:rtx")))
    c.why = """
A retransmitted segment carries the same seq and bytes (RFC 9293 section 3.10.7.4 treats it
as a duplicate). The duplicate first half must neither confuse reassembly nor trigger
anything: it is forwarded like the original. The second half completes the ClientHello and
is the trigger. The client's later retransmission of that segment belongs to a blocked flow
and is dropped without a second event (ARCHITECTURE.md: packets of a blocked flow are not
written). The allowed connection's duplicate ClientHello passes unchanged."""
    return c


@case
def tls_any_port():
    c = Case("tls_any_port", "TLS on non-standard ports (8443, 25) is recognised by content "
             "and blocked.", rules="blocked.example\n")
    f = TcpFlow(CLIENT, TLS_SRV, 42601, 8443, 0x17000000, 0x27000000)
    tls_block(c, f, "alt.blocked.example")
    c.event(**tls_event(f, "alt.blocked.example", "blocked.example"))
    g = TcpFlow(CLIENT, TLS_SRV, 42602, 25, 0x17100000, 0x27100000)
    tls_block(c, g, "mail.blocked.example")
    c.event(**tls_event(g, "mail.blocked.example", "blocked.example"))
    c.why = """
ARCHITECTURE.md data flow: candidates are found "by content, any port". A ClientHello is
recognised by its record and handshake headers, not by port 443, so both connections are
blocked with RSTs both ways and logged with their real destination ports."""
    return c


@case
def tls_bad_checksum_decoy():
    c = Case("tls_bad_checksum_decoy", "A decoy ClientHello (allowed SNI) with a bad TCP "
             "checksum precedes the real one (blocked SNI) at the same sequence number.",
             rules="blocked.example\n")
    f = TcpFlow(CLIENT, TLS_SRV, 42701, 443, 0x18000000, 0x28000000)
    for x in f.handshake():
        c.fwd(x)
    base = f.cnext
    decoy = tls_records(client_hello("allowed.example"))
    real = tls_records(client_hello("blocked.example"))
    assert len(decoy) == len(real)
    c.fwd(f.c(decoy, seq=base, chksum=0xDEAD))
    c.notes[-1] = "forwarded unchanged (bad TCP checksum: the server discards it)"
    i = c.drop(f.c(real))
    c.rst(i)
    c.event(**tls_event(f, "blocked.example", "blocked.example"))
    c.summary_extra = {"counters": {"bad_l4_checksum": 1}}
    c.why = """
A classic DPI evasion: the endpoint discards a segment with a wrong checksum (RFC 9293
section 3.1), a careless middlebox does not. If cordon inspected the decoy it would pass the
flow on "allowed.example" and never look at the real ClientHello. cordon must not inspect a
segment with a bad checksum (it forwards it unchanged: the server drops it anyway) and must
block on the real one that follows at the same seq."""
    return c


@case
def tls_allowed_and_label_boundary():
    c = Case("tls_allowed_and_label_boundary", "Suffix rules match at label boundaries only: "
             "notblocked.example and blocked.example.test pass, blocked.example and "
             "sub.blocked.example are blocked.", rules="blocked.example\n")
    for k, name in enumerate(["notblocked.example", "blocked.example.test"]):
        tls_allow(c, TcpFlow(CLIENT, TLS_SRV, 42800 + k, 443, 0x19000000 + k * 0x100000,
                             0x29000000 + k * 0x100000), name)
    for k, name in enumerate(["blocked.example", "sub.blocked.example"]):
        f = TcpFlow(CLIENT, TLS_SRV, 42810 + k, 443, 0x19800000 + k * 0x100000,
                    0x29800000 + k * 0x100000)
        tls_block(c, f, name)
        c.event(**tls_event(f, name, "blocked.example"))
    c.why = """
ARCHITECTURE.md rule lists: `example.com` matches "the name and every subdomain (label
boundary: notexample.com is not matched)". So `notblocked.example` (a different label) and
`blocked.example.test` (a different domain) pass with their whole exchange, while
`blocked.example` and `sub.blocked.example` are reset."""
    return c


@case
def tls_drop_only():
    c = Case("tls_drop_only", "actions.tls drop: a blocked ClientHello and everything after it "
             "is dropped silently, no RST.", rules="blocked.example\n",
             config={"actions": {"tls": "drop"}})
    f = TcpFlow(CLIENT, TLS_SRV, 42901, 443, 0x1A000000, 0x2A000000)
    for x in f.handshake():
        c.fwd(x)
    ch = tls_records(client_hello("blocked.example"))
    base = f.cnext
    c.drop(f.c(ch), note="dropped (blocked, trigger)")
    c.drop(f.c(ch, seq=base), note="dropped (client retransmission)")
    c.drop(f.seg(False, "A"), note="dropped (server packet of the blocked flow)")
    c.event(**tls_event(f, "blocked.example", "blocked.example", action="drop"))
    c.why = """
`actions: {tls: drop}` is the "drop only" alternative (ARCHITECTURE.md "Default actions"):
no packet is injected; the ClientHello and every later packet of the flow, in both
directions, is not written. The event records action `drop`."""
    return c


@case
def http_redirect():
    c = Case("http_redirect", "actions.http redirect: a request for a blocked host gets an "
             "HTTP 302 to the notice URL; the server side is reset.",
             rules="blocked.example\n",
             config={"actions": {"http": {"mode": "redirect", "location": NOTICE_URL}}})
    f = TcpFlow(CLIENT, HTTP_SRV, 43001, 80, 0x1B000000, 0x2B000000)
    for x in f.handshake():
        c.fwd(x)
    i = c.drop(f.c(http_get("/film.mp4", "www.blocked.example")))
    c.inject("http_redirect", "client", i, status=302, location=NOTICE_URL)
    c.rst(i, to=("server",))
    c.event(**http_event(f, "www.blocked.example", "http://www.blocked.example/film.mp4",
                         "blocked.example", action="redirect", event_type="redirect"))
    c.why = """
ARCHITECTURE.md default HTTP action: "HTTP 302 to redirect_url when configured, else RST;
RST to server". The 302 (RFC 9110 section 15.4.3) goes to the client as the server's next
bytes: seq = the request's ack, ack = request seq + length (RFC 9293), with
`Location: http://notice.example/blocked` exactly as configured (cordond also sets FIN and
`Connection: close`). The server gets a RST with seq = the request's seq (its RCV.NXT). The
event is `redirect`/`redirect` with the request URL."""
    return c


@case
def http_page():
    c = Case("http_page", "actions.http page: a request for a blocked host gets a 403 notice "
             "page; the server side is reset.", rules="blocked.example\n",
             config={"actions": {"http": "page"}})
    f = TcpFlow(CLIENT, HTTP_SRV, 43051, 80, 0x1B500000, 0x2B500000)
    for x in f.handshake():
        c.fwd(x)
    i = c.drop(f.c(http_get("/", "blocked.example")))
    c.inject("http_page", "client", i, status=403, contains="blocked.example")
    c.rst(i, to=("server",))
    c.event(**http_event(f, "blocked.example", "http://blocked.example/", "blocked.example",
                         action="page"))
    c.why = """
The "403 page" alternative of ARCHITECTURE.md: the client gets `HTTP/1.1 403 Forbidden` with
a short HTML notice naming the host, in sequence (seq = request ack, ack = request seq +
length), and the server a RST (seq = request seq). cordond logs the event as
`block`/`page`: the event schema's action list has no name for this alternative, and `page`
is the natural one (noted for the architecture document)."""
    return c


@case
def http_reset_default():
    c = Case("http_reset_default", "No config: a request for a blocked host is reset both "
             "ways.", rules="blocked.example\n")
    f = TcpFlow(CLIENT, HTTP_SRV, 43101, 80, 0x1C000000, 0x2C000000)
    for x in f.handshake():
        c.fwd(x)
    i = c.drop(f.c(http_get("/index.html", "blocked.example")))
    c.rst(i)
    c.event(**http_event(f, "blocked.example", "http://blocked.example/index.html",
                         "blocked.example"))
    c.why = """
Without `actions.http` there is no redirect URL, so the default is RST to the client and to
the server (ARCHITECTURE.md "Default actions"), seq numbers as for TLS (RFC 5961 section 3.2)."""
    return c


@case
def http_absolute_form():
    c = Case("http_absolute_form", "GET http://blocked.example/ with an innocent Host header "
             "is blocked on the absolute-form target.", rules="blocked.example\n")
    f = TcpFlow(CLIENT, HTTP_SRV, 43201, 80, 0x1D000000, 0x2D000000)
    for x in f.handshake():
        c.fwd(x)
    i = c.drop(f.c(http_get("http://blocked.example/watch?v=1", "innocent.example")))
    c.rst(i)
    c.event(**http_event(f, "blocked.example", "http://blocked.example/watch?v=1",
                         "blocked.example"))
    c.why = """
RFC 9112 section 3.2.2: when the request-target is in absolute-form, the server ignores the
Host header and uses the target's authority. A filter that only reads Host is evaded by a
request for `http://blocked.example/...` with `Host: innocent.example`; cordon must use the
target's host (and log it)."""
    return c


@case
def http_split_request():
    c = Case("http_split_request", "An HTTP request whose request line, header fields and "
             "final CRLF arrive in three segments.", rules="blocked.example\n")
    f = TcpFlow(CLIENT, HTTP_SRV, 43301, 80, 0x1E000000, 0x2E000000)
    for x in f.handshake():
        c.fwd(x)
    c.fwd(f.c(b"GET /a/b.html HTTP/1.1\r\n"))
    c.fwd(f.c(b"Host: blocked.example\r\nUser-Agent: split/1.0\r\n"))
    i = c.drop(f.c(b"\r\n"))
    c.rst(i)
    c.event(**http_event(f, "blocked.example", "http://blocked.example/a/b.html",
                         "blocked.example"))
    c.why = """
The request head is only complete at the empty line (RFC 9112 section 2.1); segment
boundaries carry no meaning in TCP. The first two segments are forwarded while the head is
incomplete; the segment with the final CRLF is the trigger (dropped, RST both ways)."""
    return c


@case
def http_keepalive():
    c = Case("http_keepalive", "Two requests on one persistent connection: a POST with a body "
             "(allowed) and then a GET under a blocked URL prefix.",
             rules="http://shared.example/blocked\n")
    f = TcpFlow(CLIENT, HTTP_SRV, 43401, 80, 0x1F000000, 0x2F000000)
    for x in f.handshake():
        c.fwd(x)
    body = b"name=value&padding=" + b"x" * 21
    c.fwd(f.c(b"POST /upload HTTP/1.1\r\nHost: shared.example\r\nContent-Length: " +
              str(len(body)).encode() + b"\r\n\r\n" + body))
    c.fwd(f.s(http_ok(b"ok\n")))
    i = c.drop(f.c(http_get("/blocked/file.bin", "shared.example")))
    c.rst(i)
    c.event(**http_event(f, "shared.example", "http://shared.example/blocked/file.bin",
                         "http://shared.example/blocked"))
    c.why = """
HTTP/1.1 connections are persistent by default (RFC 9112 section 9.3); every request on them
must be inspected. The body of the first request is skipped by its Content-Length (RFC 9112
section 6.3) so that it is not mistaken for a request head; `/upload` does not match the URL
rule and passes with its response. The second request matches
`http://shared.example/blocked` and is reset both ways; the RST toward the client uses the
trigger's ack, which already covers the server's response."""
    return c


@case
def http_host_case_port():
    c = Case("http_host_case_port", "`hOsT:  Blocked.Example:8080` (odd case, extra space, "
             "port) on port 8080 is blocked.", rules="blocked.example\n")
    f = TcpFlow(CLIENT, HTTP_SRV, 43501, 8080, 0x20000000, 0x30000000)
    for x in f.handshake():
        c.fwd(x)
    i = c.drop(f.c(b"GET /x HTTP/1.1\r\nhOsT:  Blocked.Example:8080\r\nAccept: */*\r\n\r\n"))
    c.rst(i)
    c.event(**http_event(f, "blocked.example", "http://blocked.example/x", "blocked.example"))
    c.why = """
Field names are case-insensitive (RFC 9110 section 5.1), optional whitespace surrounds the
value (section 5.6.3), the Host value may carry a port (section 7.2) and host names are
case-insensitive (RFC 3986 section 3.2.2). The normalised host `blocked.example` matches; the
request on port 8080 (found by content) is reset both ways."""
    return c


@case
def http_url_prefix():
    c = Case("http_url_prefix", "A `http://host/path` rule blocks requests under /pirated, "
             "including percent-encoded and dot-segment spellings, but not /other.",
             rules="http://videos.example/pirated\n")
    targets = [("/other/page.html", None), ("/pirated/x.mp4", "/pirated/x.mp4"),
               ("/%70irated/y.mp4", "/pirated/y.mp4"), ("/other/../pirated/z.mp4",
                                                       "/pirated/z.mp4")]
    for k, (target, norm) in enumerate(targets):
        f = TcpFlow(CLIENT, HTTP_SRV, 43601 + k, 80, 0x21000000 + k * 0x100000,
                    0x31000000 + k * 0x100000)
        for x in f.handshake():
            c.fwd(x)
        if norm is None:
            c.fwd(f.c(http_get(target, "videos.example")))
            c.fwd(f.s(http_ok(b"fine\n")))
            continue
        i = c.drop(f.c(http_get(target, "videos.example")))
        c.rst(i)
        c.event(**http_event(f, "videos.example", "http://videos.example" + norm,
                             "http://videos.example/pirated"))
    c.why = """
ARCHITECTURE.md: `http://example.com/path` blocks "HTTP requests to that host whose path
starts with /path", and URLs are "percent-decoded for unreserved characters and path
dot-segments resolved" before matching (RFC 3986 sections 6.2.2.2 and 5.2.4). So
`/pirated/x.mp4`, `/%70irated/y.mp4` (%70 = 'p') and `/other/../pirated/z.mp4` are all
blocked, and logged with the normalised URL; `/other/page.html` passes with its response."""
    return c


@case
def http_url_re():
    c = Case("http_url_re", "A `url-re:` rule over host/path?query blocks a numbered HLS "
             "playlist but not other paths.",
             rules="url-re:^stream\\.example/live/[0-9]+\\.m3u8(\\?|$)\n")
    for k, (target, blocked) in enumerate([("/live/abc.m3u8", False), ("/live/42.m3u8?tok=1",
                                                                        True)]):
        f = TcpFlow(CLIENT, HTTP_SRV, 43701 + k, 80, 0x22000000 + k * 0x100000,
                    0x32000000 + k * 0x100000)
        for x in f.handshake():
            c.fwd(x)
        if not blocked:
            c.fwd(f.c(http_get(target, "stream.example")))
            c.fwd(f.s(http_ok(b"#EXTM3U\n")))
            continue
        i = c.drop(f.c(http_get(target, "stream.example")))
        c.rst(i)
        c.event(**http_event(f, "stream.example", "http://stream.example" + target,
                             "url-re:^stream\\.example/live/[0-9]+\\.m3u8(\\?|$)"))
    c.why = """
ARCHITECTURE.md: `url-re:REGEX` is a Hyperscan regex over the normalised URL
`host/path?query`. `stream.example/live/42.m3u8?tok=1` matches, `stream.example/live/abc.m3u8`
does not. The event's `rule.pattern` is the rule as written in the list, prefix included."""
    return c


@case
def exception_rule():
    c = Case("exception_rule", "An `@@` exception for good.blocked.example wins over the "
             "blocked.example rule for TLS and DNS; other subdomains stay blocked.",
             rules="blocked.example\n@@good.blocked.example\n")
    tls_allow(c, TcpFlow(CLIENT, TLS_SRV, 44001, 443, 0x23000000, 0x33000000),
              "good.blocked.example")
    p = Path2(CLIENT, RESOLVER)
    q = dns_query(0x6F01, "good.blocked.example")
    c.fwd(udp(p, 44002, 53, q))
    f = TcpFlow(CLIENT, TLS_SRV, 44003, 443, 0x23100000, 0x33100000)
    tls_block(c, f, "bad.blocked.example")
    c.event(**tls_event(f, "bad.blocked.example", "blocked.example"))
    c.summary_extra = {"counters": {"exceptions": 2}}
    c.why = """
ARCHITECTURE.md: "`@@RULE` an exception: any rule above, prefixed, wins over blocks". The
TLS connection and the DNS query for good.blocked.example pass unchanged and are not logged
(an exception is not an enforcement decision); bad.blocked.example is still reset."""
    return c


@case
def blocked_flow_stays_blocked():
    c = Case("blocked_flow_stays_blocked", "After a TLS block, packets already in flight from "
             "the server and the client's retransmission, data and FIN are all dropped.",
             rules="blocked.example\n")
    f = TcpFlow(CLIENT, TLS_SRV, 44101, 443, 0x24000000, 0x34000000)
    for x in f.handshake():
        c.fwd(x)
    ch = tls_records(client_hello("blocked.example"))
    base = f.cnext
    i = c.drop(f.c(ch))
    c.rst(i)
    c.event(**tls_event(f, "blocked.example", "blocked.example"))
    c.drop(f.seg(False, "A"), note="dropped (server ACK in flight)")
    c.drop(f.s(server_flight("sf:late")), note="dropped (server data in flight)")
    c.drop(f.c(ch, seq=base), note="dropped (client retransmission)")
    c.drop(f.c(b"\x17\x03\x03\x00\x10" + prng("late", 16)), note="dropped (client data)")
    c.drop(f.seg(True, "FA"), note="dropped (client FIN)")
    c.drop(f.seg(False, "R", seq=f.snext), note="dropped (server RST)")
    c.why = """
ARCHITECTURE.md replay contract: "Packets of a blocked flow, from the triggering packet on,
in both directions, are not written". The server's packets already in flight, the client's
retransmission, later data, FIN and even a RST from the server are dropped; only the first
decision is logged and injected."""
    return c


@case
def vlan_qinq():
    c = Case("vlan_qinq", "DNS over 802.1Q (VLAN 100) and TLS over QinQ (802.1ad S-tag 10, "
             "C-tag 20) are blocked; injected packets carry the same tags.",
             rules="blocked.example\n")
    p = Path2(CLIENT, RESOLVER, vlans=[(0x8100, 100)])
    q = dns_query(0x7A01, "blocked.example")
    i = c.drop(udp(p, 45001, 53, q))
    c.dns(i, q, rcode=3)
    c.event(**dns_event(CLIENT, 45001, RESOLVER, "blocked.example", "blocked.example"))
    f = TcpFlow(CLIENT, TLS_SRV, 45002, 443, 0x25000000, 0x35000000,
                vlans=[(0x88A8, 10), (0x8100, 20)])
    tls_block(c, f, "qinq.blocked.example")
    c.event(**tls_event(f, "qinq.blocked.example", "blocked.example"))
    g = TcpFlow(CLIENT, TLS_SRV, 45003, 443, 0x25100000, 0x35100000, vlans=[(0x8100, 100)])
    tls_allow(c, g, "allowed.example")
    c.why = """
ISP access networks tag subscriber traffic (IEEE 802.1Q, 802.1ad QinQ). cordon must parse
through the tags (ARCHITECTURE.md: "parse L2-L4 (VLAN/QinQ/...)") and inject on the same
VLANs, or the answers never reach the subscriber: every injected packet must carry the
trigger's tag stack (runner compares the bytes between the MACs and the IP header). The
allowed tagged flow passes unchanged."""
    return c


@case
def ipv6_ext_headers():
    c = Case("ipv6_ext_headers", "TLS over IPv6 where every packet carries a hop-by-hop and a "
             "destination-options header before TCP.", rules="blocked.example\n")
    f = TcpFlow(CLIENT6, TLS_SRV6, 46001, 443, 0x26000000, 0x36000000, v6_ext=True)
    tls_block(c, f, "v6.blocked.example")
    c.event(**tls_event(f, "v6.blocked.example", "blocked.example"))
    g = TcpFlow(CLIENT6, TLS_SRV6, 46002, 443, 0x26100000, 0x36100000, v6_ext=True)
    tls_allow(c, g, "allowed.example")
    c.why = """
RFC 8200 section 4: extension headers sit between the IPv6 header and TCP; a parser that
assumes next-header 6 right after the fixed header misses the ClientHello. cordon walks them
(hop-by-hop 0, destination options 60). The RSTs are plain IPv6/TCP (no extension headers
are needed) with the addresses swapped toward the client and a valid checksum over the IPv6
pseudo-header (RFC 8200 section 8.1)."""
    return c


@case
def ip_rule_reset():
    c = Case("ip_rule_reset", "actions.ip reset: a SYN to a listed network gets a RST the "
             "client in SYN-SENT accepts; a listed server's established flow is reset both ways.",
             rules="203.0.113.64/26\n", config={"actions": {"ip": "reset"}})
    f = TcpFlow(CLIENT, "203.0.113.70", 47101, 443, 0x28000000, 0x38000000)
    i = c.drop(f.seg(True, "S", options=[("MSS", 1460)]))
    c.rst(i, to=("client",))
    c.event(event_type="block", action="reset", app_proto="ip", proto="TCP", src_ip=CLIENT,
            src_port=47101, dest_ip="203.0.113.70", dest_port=443,
            rule={"pattern": "203.0.113.64/26"})
    c.why = """
ARCHITECTURE.md lists `reset` as the alternative action for IP rules. The trigger is the
client's SYN (ISN 0x28000000). It is dropped, so no connection exists at the server and no
RST goes there. Toward the client the RST must be acceptable in SYN-SENT (RFC 9293 section
3.10.7.3): ACK set with SEG.ACK = ISS + 1, since the SYN occupies one sequence number
(section 3.4); the client then reports "connection refused" at once instead of waiting for
SYN retransmission timeouts."""
    return c


@case
def ip_rule_drop():
    c = Case("ip_rule_drop", "CIDR rules (IPv4 and IPv6): packets to the listed networks are "
             "dropped without injection; other destinations pass.",
             rules="203.0.113.64/26\n2001:db8:bad::/48\n")
    f = TcpFlow(CLIENT, "203.0.113.70", 47001, 443, 0x27000000, 0x37000000)
    syn = f.seg(True, "S", options=[("MSS", 1460)])
    c.drop(syn)
    c.drop(syn, note="dropped (SYN retransmission, same blocked flow)")
    c.event(event_type="block", action="drop", app_proto="ip", proto="TCP", src_ip=CLIENT,
            src_port=47001, dest_ip="203.0.113.70", dest_port=443,
            rule={"pattern": "203.0.113.64/26"})
    p = Path2(CLIENT, "203.0.113.100")
    c.drop(udp(p, 47002, 443, prng("quic-ish", 1200)))
    c.event(event_type="block", action="drop", app_proto="ip", proto="UDP", src_ip=CLIENT,
            src_port=47002, dest_ip="203.0.113.100", dest_port=443,
            rule={"pattern": "203.0.113.64/26"})
    c.drop(Path2(CLIENT, "203.0.113.65").frame(True, ICMP(id=7, seq=1) / Raw(b"ping")))
    c.event(event_type="block", action="drop", app_proto="ip", src_ip=CLIENT,
            dest_ip="203.0.113.65", rule={"pattern": "203.0.113.64/26"})
    g = TcpFlow(CLIENT6, "2001:db8:bad::80", 47003, 80, 0x27100000, 0x37100000)
    c.drop(g.seg(True, "S", options=[("MSS", 1440)]))
    c.event(event_type="block", action="drop", app_proto="ip", proto="TCP", src_ip=CLIENT6,
            dest_ip="2001:db8:bad::80", dest_port=80, rule={"pattern": "2001:db8:bad::/48"})
    h = TcpFlow(CLIENT, "203.0.113.10", 47004, 443, 0x27200000, 0x37200000)
    for x in h.handshake():
        c.fwd(x)
    c.why = """
ARCHITECTURE.md: an IP/CIDR rule matches the destination and its default action is drop
(no injection). The TCP connection attempt to 203.0.113.70 (inside 203.0.113.64/26) is
dropped, including its SYN retransmission, with one event for the flow; a UDP datagram to
203.0.113.100 and an ICMP echo to 203.0.113.65 are dropped too (app_proto `ip`), as is a SYN
to 2001:db8:bad::80. A handshake with 203.0.113.10 (outside the rule) passes."""
    return c


@case
def monitor_list():
    c = Case("monitor_list", "A list marked `monitor` in the config: matching DNS and TLS "
             "traffic passes and is recorded; a block list given with --rules still blocks.",
             rules="blocked.example\n", lists={"watch": "watched.example\n"},
             config={"rules": [{"name": "watch", "path": "watch.list", "action": "monitor"}]})
    p = Path2(CLIENT, RESOLVER)
    q = dns_query(0x8B01, "www.watched.example")
    c.fwd(udp(p, 48001, 53, q))
    c.event(event_type="monitor", action="pass", app_proto="dns", proto="UDP", src_ip=CLIENT,
            src_port=48001, dest_ip=RESOLVER, dest_port=53, host="www.watched.example",
            rule={"pattern": "watched.example", "list": "watch"})
    f = TcpFlow(CLIENT, TLS_SRV, 48002, 443, 0x28000000, 0x38000000)
    tls_allow(c, f, "watched.example")
    c.event(event_type="monitor", action="pass", app_proto="tls", proto="TCP", src_ip=CLIENT,
            src_port=48002, dest_ip=TLS_SRV, dest_port=443, host="watched.example",
            rule={"pattern": "watched.example", "list": "watch"})
    g = TcpFlow(CLIENT, TLS_SRV, 48003, 443, 0x28100000, 0x38100000)
    tls_block(c, g, "blocked.example")
    c.event(**tls_event(g, "blocked.example", "blocked.example", list="rules"))
    c.summary_extra = {"counters": {"monitored": 2}}
    c.why = """
ARCHITECTURE.md "Default actions": for a list marked `monitor`, "pass, but record the event"
— event_type `monitor`, action `pass`, and the rule's list name. Nothing is injected and the
packets are forwarded unchanged. The block list passed with `--rules` keeps its default
action on blocked.example (RST both ways)."""
    return c


@case
def mirror_mode():
    c = Case("mirror_mode", "--mode mirror: cordon sees a copy of the traffic, forwards "
             "nothing, and writes only its injected packets.", rules="blocked.example\n",
             mirror=True)
    p = Path2(CLIENT, RESOLVER)
    q = dns_query(0x9C01, "blocked.example")
    i = c.drop(udp(p, 49001, 53, q), note="not written (blocked query)")
    c.dns(i, q, rcode=3)
    c.event(**dns_event(CLIENT, 49001, RESOLVER, "blocked.example", "blocked.example"))
    c.fwd(udp(p, 49002, 53, dns_query(0x9C02, "allowed.example")))
    f = TcpFlow(CLIENT, TLS_SRV, 49003, 443, 0x29000000, 0x39000000)
    tls_block(c, f, "blocked.example")
    c.event(**tls_event(f, "blocked.example", "blocked.example"))
    tls_allow(c, TcpFlow(CLIENT, TLS_SRV, 49004, 443, 0x29100000, 0x39100000),
              "allowed.example")
    for k in range(len(c.notes)):
        c.notes[k] = c.notes[k].replace("forwarded unchanged", "not written (mirror)")
    c.why = """
ARCHITECTURE.md: "Mirror replay (`--mode mirror`) forwards nothing: OUT holds only injected
packets". The original traffic went on without cordon, so the output holds exactly the
NXDOMAIN answer and the two RSTs, in decision order. `packets_out` is 0; `dropped` counts the
packets whose verdict was drop (the blocked query and ClientHello)."""
    return c


@case
def mirror_inject_copies():
    c = Case("mirror_inject_copies", "dataplane.inject_copies: 2 in mirror mode: every injected "
             "packet (DNS answer, RSTs) is written twice, back to back.",
             rules="blocked.example\n", config={"dataplane": {"inject_copies": 2}}, mirror=True)
    p = Path2(CLIENT, RESOLVER)
    q = dns_query(0x9D01, "blocked.example")
    i = c.drop(udp(p, 49101, 53, q), note="not written (blocked query)")
    c.dns(i, q, rcode=3)
    c.dns(i, q, rcode=3)
    c.event(**dns_event(CLIENT, 49101, RESOLVER, "blocked.example", "blocked.example"))
    f = TcpFlow(CLIENT, TLS_SRV, 49103, 443, 0x29200000, 0x39200000)
    for fr in f.handshake():
        c.fwd(fr)
    i = c.drop(f.c(tls_records(client_hello("blocked.example"))))
    c.rst(i, to=("client", "client", "server", "server"))
    c.event(**tls_event(f, "blocked.example", "blocked.example"))
    c.fwd(udp(p, 49102, 53, dns_query(0x9D02, "allowed.example")))
    for k in range(len(c.notes)):
        c.notes[k] = c.notes[k].replace("forwarded unchanged", "not written (mirror)")
    c.why = """
ISSUE 4 item 1: in mirror mode cordon races the real server's answer, so each injected packet
can be sent several times (`dataplane.inject_copies`, 1..4). With 2, the output holds the
NXDOMAIN answer twice, then the client-bound RST twice and the server-bound RST twice, each
copy byte-identical to the first; `injected` counts every copy. Allowed traffic is still not
written (mirror mode forwards nothing)."""
    return c


@case
def malformed_packets():
    c = Case("malformed_packets", "Truncated and inconsistent headers, absurd lengths and "
             "garbage, several carrying a blocked name: all pass unchanged, no event, no crash.",
             rules="blocked.example\n")
    good_dns = udp(Path2(CLIENT, RESOLVER), 50001, 53, dns_query(0xAD01, "blocked.example"))
    ch = tls_records(client_hello("blocked.example"))
    f = TcpFlow(CLIENT, TLS_SRV, 50002, 443, 0x2A000000, 0x3A000000)
    tls_seg = f.c(ch)
    ip_at = 14
    frames = []

    def put(note, frame):
        frames.append((note, frame))

    put("10-byte frame (truncated Ethernet header)", good_dns[:10])
    put("Ethernet header only, ethertype IPv4", good_dns[:14])
    put("IPv4 header cut at 12 bytes", good_dns[:ip_at + 12])
    b = bytearray(good_dns)
    b[ip_at] = 0x43  # IHL 3
    put("IPv4 IHL = 3 (< 5)", bytes(b))
    b = bytearray(good_dns)
    b[ip_at + 2:ip_at + 4] = u16(9000)
    put("IPv4 total length 9000 beyond the frame (DNS query for blocked.example)", bytes(b))
    b = bytearray(good_dns)
    b[ip_at + 2:ip_at + 4] = u16(10)
    put("IPv4 total length 10 (< IHL)", bytes(b))
    b = bytearray(tls_seg)
    b[ip_at + 20 + 12] = 0x40  # data offset 16 bytes (< 20)
    put("TCP data offset 4 words (< 5), ClientHello for blocked.example", bytes(b))
    t = Path2(CLIENT, TLS_SRV).frame(True, TCP(sport=50003, dport=443, flags="PA", seq=1, ack=1,
                                               dataofs=15) / Raw(b"\x16\x03\x01"))
    put("TCP data offset 15 words beyond the segment", t)
    cut = Ether(tls_seg[:ip_at + 20 + 10])
    cut[IP].len, cut[IP].chksum = 30, None  # consistent IPv4 header, 10 bytes of TCP
    put("TCP header cut at 10 bytes", raw(cut))
    b = bytearray(good_dns)
    b[ip_at + 20 + 4:ip_at + 20 + 6] = u16(4)
    put("UDP length 4 (< 8)", bytes(b))
    b = bytearray(good_dns)
    b[ip_at + 20 + 4:ip_at + 20 + 6] = u16(4000)
    put("UDP length 4000 beyond the IP payload", bytes(b))
    put("IPv6 payload length beyond the frame",
        raw(Ether(src=CLIENT_MAC, dst=GW_MAC) / IPv6(src=CLIENT6, dst=RESOLVER6, plen=4000) /
            UDP(sport=50004, dport=53) / Raw(dns_query(0xAD02, "blocked.example"))))
    hbh = IPv6ExtHdrHopByHop(options=[PadN(optdata=b"\x00" * 4)])
    chain = hbh
    for _ in range(9):
        chain = chain / IPv6ExtHdrDestOpt(options=[PadN(optdata=b"\x00" * 4)])
    put("IPv6 with 10 extension headers (beyond kMaxIpv6ExtHeaders)",
        raw(Ether(src=CLIENT_MAC, dst=GW_MAC) / IPv6(src=CLIENT6, dst=RESOLVER6) / chain /
            UDP(sport=50005, dport=53) / Raw(dns_query(0xAD03, "blocked.example"))))
    put("IPv6 extension header cut short",
        raw(Ether(src=CLIENT_MAC, dst=GW_MAC) / IPv6(src=CLIENT6, dst=RESOLVER6, nh=0, plen=4) /
            Raw(b"\x11\x08\x00\x00")))
    tags = Ether(src=CLIENT_MAC, dst=GW_MAC)
    for v in range(5):
        tags = tags / Dot1Q(vlan=v + 1)
    put("five stacked VLAN tags", raw(tags / IP(src=CLIENT, dst=RESOLVER) /
                                      UDP(sport=50006, dport=53) /
                                      Raw(dns_query(0xAD04, "blocked.example"))))
    put("VLAN tag cut short", raw(Ether(src=CLIENT_MAC, dst=GW_MAC, type=0x8100)) + b"\x00")
    put("non-IP garbage (ethertype 0x88b5, local experimental)",
        raw(Ether(src=CLIENT_MAC, dst=GW_MAC, type=0x88B5)) + prng("garbage", 60))
    put("IPv4 fragment (MF) of a DNS query for blocked.example",
        raw(Ether(src=CLIENT_MAC, dst=GW_MAC) / IP(src=CLIENT, dst=RESOLVER, id=77, flags="MF") /
            UDP(sport=50007, dport=53, len=8 + 33) / Raw(dns_query(0xAD05, "blocked.example"))))
    q = dns_query(0xAD06, "blocked.example")
    put("DNS query whose question is cut off",
        udp(Path2(CLIENT, RESOLVER), 50008, 53, q[:20]))
    bad = bytearray(q)
    bad[12] = 0xC0  # a compression pointer in a question, pointing at itself
    bad[13] = 0x0C
    put("DNS query with a self-referencing compression pointer",
        udp(Path2(CLIENT, RESOLVER), 50009, 53, bytes(bad)))
    g = TcpFlow(CLIENT, TLS_SRV, 50010, 443, 0x2A100000, 0x3A100000)
    hs = bytearray(client_hello("blocked.example"))
    hs[1:4] = u24(len(hs) - 4 + 7)  # handshake length beyond the record, then garbage
    bogus = b"\x16\x03\x01" + vec16(bytes(hs))
    put("TLS record whose ClientHello length overruns it (mid-stream, no handshake)",
        g.c(bogus))
    put("random garbage TCP payload to port 443",
        TcpFlow(CLIENT, TLS_SRV, 50011, 443, 1, 1).c(prng("tcp-garbage", 300)))
    put("random garbage UDP payload to port 53",
        udp(Path2(CLIENT, RESOLVER), 50012, 53, prng("udp-garbage", 100)))
    for note, fr in frames:
        c.fwd(fr)
        c.notes[-1] = "forwarded unchanged (" + note + ")"
    c.summary_extra = {"malformed": 16, "counters": {
        "malformed_l2": 2, "malformed_vlan_depth": 1, "malformed_ipv4": 5, "malformed_ipv6": 1,
        "malformed_ipv6_ext": 2, "malformed_tcp": 3, "malformed_udp": 2, "non_ip": 1,
        "ip_fragments": 1, "dns_malformed": 2}}
    c.why = """
ARCHITECTURE.md "Bad input and faults": "Malformed packets never crash a worker and never
block by mistake; they pass unless a policy says otherwise, and are counted by reason." Every
frame here is forwarded byte for byte and no event is written, although several carry a
blocked name: a length field that cannot be trusted means the name cannot be trusted either.
IP fragments are passed without L4 inspection. The summary's `malformed` counter is the
number of frames whose L2-L4 headers are malformed (16 here), and each is counted by reason
(`counters.malformed_*`); the non-IP frame, the fragment and the two broken DNS messages are
counted under `non_ip`, `ip_fragments` and `dns_malformed` instead."""
    return c


@case
def quic_initial():
    c = Case("quic_initial", "QUIC v1 client Initials: an allowed SNI passes; a blocked SNI in "
             "one Initial drops the flow; a post-quantum ClientHello split over two Initial "
             "datagrams is dropped at the second.", rules="blocked.example\n")
    p = Path2(CLIENT, TLS_SRV)
    dcid, scid = prng("q-dcid-a", 8), prng("q-scid-a", 8)
    c.fwd(udp(p, 60001, 443,
              quic_client_initial(dcid, scid, 0, 0, client_hello("allowed.example"))))
    c.fwd(udp(p, 60001, 443, b"\xc0" + u32(1) + vec8(scid) + vec8(prng("q-srv", 8)) +
              prng("q-server-initial", 1150), from_client=False))
    dcid, scid = prng("q-dcid-b", 8), prng("q-scid-b", 8)
    i = c.drop(udp(p, 60002, 443, quic_client_initial(dcid, scid, 0, 0,
                                                client_hello("video.blocked.example"))))
    c.notes[i] = "dropped (blocked, trigger)"
    c.drop(udp(p, 60002, 443, quic_client_initial(dcid, scid, 1, 0,
                                            client_hello("video.blocked.example"))),
           note="dropped (client Initial retransmission of the blocked flow)")
    c.event(event_type="block", action="drop", app_proto="quic", proto="UDP", src_ip=CLIENT,
            src_port=60002, dest_ip=TLS_SRV, dest_port=443, host="video.blocked.example",
            rule={"pattern": "blocked.example"})
    dcid, scid = prng("q-dcid-c", 8), prng("q-scid-c", 8)
    ch = client_hello("pq.blocked.example", pq=True)
    c.fwd(udp(p, 60003, 443, quic_client_initial(dcid, scid, 0, 0, ch[:1000])))
    c.drop(udp(p, 60003, 443, quic_client_initial(dcid, scid, 1, 1000, ch[1000:])),
           note="dropped (blocked, trigger: completes the ClientHello)")
    c.event(event_type="block", action="drop", app_proto="quic", proto="UDP", src_ip=CLIENT,
            src_port=60003, dest_ip=TLS_SRV, dest_port=443, host="pq.blocked.example",
            rule={"pattern": "blocked.example"})
    c.why = """
ARCHITECTURE.md "Default actions": a QUIC Initial whose SNI matches drops the flow (clients
fall back to TCP, where the SNI is enforced); nothing is injected. The Initials are real QUIC
v1 packets: AEAD_AES_128_GCM payload protection and header protection with the Initial keys
derived from the client's Destination Connection ID (RFC 9001 section 5; the generator checks
its key derivation against the RFC 9001 appendix A vector), each padded to 1200 bytes (RFC 9000
section 14.1). The allowed connection's Initial and the server's reply pass unchanged. The
blocked connection's Initial and its retransmission are dropped, with one event. A ClientHello
with an X25519MLKEM768 key share does not fit one Initial: its CRYPTO stream spans two
datagrams (offsets 0 and 1000); the first is forwarded before the name is known, the second
completes it and is dropped."""
    return c


@case
def tls_seq_wrap():
    c = Case("tls_seq_wrap", "A two-segment ClientHello whose sequence numbers wrap past 2^32 "
             "between the segments.", rules="blocked.example\n")
    f = TcpFlow(CLIENT, TLS_SRV, 61001, 443, 0xFFFFFD00, 0x7FFFFFF0)
    for x in f.handshake():
        c.fwd(x)
    rec = tls_records(client_hello("wrap.blocked.example", pq=True))
    assert f.cnext + 1460 > 0xFFFFFFFF
    c.fwd(f.c(rec[:1460], flags="A"))
    i = c.drop(f.c(rec[1460:]))
    c.rst(i)
    c.event(**tls_event(f, "wrap.blocked.example", "blocked.example"))
    c.why = """
TCP sequence numbers are modulo 2^32 (RFC 9293 section 3.4). The client's ISN 0xfffffd00 puts
the wrap inside the first segment of the ClientHello, so the second segment's seq is small.
Reassembly must use modular arithmetic; the ClientHello is blocked as usual, and the RST
toward the client acknowledges the wrapped sequence number."""
    return c


@case
def ipv4_options():
    c = Case("ipv4_options", "IPv4 packets with header options (IHL 6, Router Alert) carrying "
             "a blocked ClientHello.", rules="blocked.example\n")
    f = TcpFlow(CLIENT, TLS_SRV, 61101, 443, 0x31000000, 0x41000000)
    ra = b"\x94\x04\x00\x00"  # RFC 2113 Router Alert, 4 bytes

    def with_options(frame):
        pkt = Ether(frame)
        pkt[IP].options = ra
        pkt[IP].ihl, pkt[IP].len, pkt[IP].chksum = None, None, None
        return raw(Ether(raw(pkt)))

    for x in f.handshake():
        c.fwd(with_options(x))
    i = c.drop(with_options(f.c(tls_records(client_hello("opts.blocked.example")))))
    c.rst(i)
    c.event(**tls_event(f, "opts.blocked.example", "blocked.example"))
    c.why = """
RFC 791 section 3.1: the TCP header starts IHL*4 bytes into the IPv4 header, not 20. Here
IHL is 6 (a Router Alert option, RFC 2113). cordon must find the ClientHello behind the
options and block it. The injected RSTs need no options (IHL 5); their checksums and lengths
are verified."""
    return c


@case
def tcp_port_reuse_after_block():
    c = Case("tcp_port_reuse_after_block", "After a blocked connection is reset, the client "
             "opens a new connection on the same 4-tuple (new ISN) to an allowed name on the "
             "same server address.", rules="blocked.example\n")
    f = TcpFlow(CLIENT, TLS_SRV, 61201, 443, 0x32000000, 0x42000000)
    tls_block(c, f, "blocked.example")
    c.event(**tls_event(f, "blocked.example", "blocked.example"))
    g = TcpFlow(CLIENT, TLS_SRV, 61201, 443, 0x52000000, 0x62000000)
    tls_allow(c, g, "allowed.example")
    c.why = """
Shared hosting and CDNs serve blocked and allowed names from one address, and clients (or a
CGNAT in front of them) may reuse a source port once the previous connection is gone — the
RSTs cordon itself sent closed it (RFC 9293 section 3.10.7.4). A SYN with a new ISN starts a
new connection (RFC 9293 section 3.10.7.3); ARCHITECTURE.md only keeps "packets of a blocked
flow" off the wire, and this is another flow. The new connection to allowed.example must be
inspected afresh and pass, not be blackholed by the old verdict until it ages out."""
    return c


@case
def name_normalisation():
    c = Case("name_normalisation", "Names are normalised before matching: an upper-case SNI "
             "with a trailing dot, an HTTP Host with a trailing dot, and an IDN rule matched by "
             "its punycode form in DNS and TLS.", rules="blocked.example\nbücher.example\n")
    f = TcpFlow(CLIENT, TLS_SRV, 61301, 443, 0x33000000, 0x43000000)
    tls_block(c, f, "WWW.BLOCKED.EXAMPLE.")
    c.event(**tls_event(f, "www.blocked.example", "blocked.example"))
    h = TcpFlow(CLIENT, HTTP_SRV, 61302, 80, 0x33100000, 0x43100000)
    for x in h.handshake():
        c.fwd(x)
    i = c.drop(h.c(http_get("/", "blocked.example.")))
    c.rst(i)
    c.event(**http_event(h, "blocked.example", "http://blocked.example/", "blocked.example"))
    q = dns_query(0xBE01, "shop.xn--bcher-kva.example")
    i = c.drop(udp(Path2(CLIENT, RESOLVER), 61303, 53, q))
    c.dns(i, q, rcode=3)
    ev = dns_event(CLIENT, 61303, RESOLVER, "shop.xn--bcher-kva.example", "")
    ev["rule"] = {"list": "rules"}  # the pattern's encoding is event_utf8_pattern's subject
    c.event(**ev)
    g = TcpFlow(CLIENT, TLS_SRV, 61304, 443, 0x33200000, 0x43200000)
    tls_block(c, g, "xn--bcher-kva.example")
    c.event(**tls_event(g, "xn--bcher-kva.example", "", list="rules"))
    del c.events[-1]["rule"]["pattern"]
    c.why = """
ARCHITECTURE.md: "Names are normalised before matching and before compiling: ASCII case
folded, one trailing dot removed, IDNs to punycode". `WWW.BLOCKED.EXAMPLE.` (SNI) and
`blocked.example.` (Host, RFC 3986 section 3.2.2 allows the absolute form) match
`blocked.example`. The rule `bücher.example` compiles to `xn--bcher-kva.example` (RFC 5891),
which is what DNS and SNI carry on the wire, so both are blocked. Events carry the normalised
name. (How the UTF-8 rule text appears in `rule.pattern` is checked by event_utf8_pattern.)"""
    return c


@case
def event_utf8_pattern():
    c = Case("event_utf8_pattern", "An IDN rule written in UTF-8 (bücher.example) blocks a DNS "
             "query; the event's rule.pattern must be that text, correctly encoded in JSON.",
             rules="bücher.example\n")
    q = dns_query(0xBF01, "xn--bcher-kva.example")
    i = c.drop(udp(Path2(CLIENT, RESOLVER), 61601, 53, q))
    c.dns(i, q, rcode=3)
    c.event(**dns_event(CLIENT, 61601, RESOLVER, "xn--bcher-kva.example", "bücher.example"))
    c.why = """
The event log is JSON lines (ARCHITECTURE.md "Event log"); JSON text is Unicode (RFC 8259
section 8.1: UTF-8) and a `\\u00XX` escape stands for the code point U+00XX, not for a byte
(section 7). The rule `bücher.example` is UTF-8 in the list (c3 bc for "ü"), so the event
must read `"pattern":"bücher.example"` (raw UTF-8, or `\\u00fc`). Escaping each UTF-8 byte
as `\\u00c3\\u00bc` makes every JSON parser read "bÃ¼cher.example": the evidence of which
rule blocked the query names a rule that does not exist. The query itself is blocked with
NXDOMAIN as usual (the rule compiles to xn--bcher-kva.example)."""
    return c


@case
def http_pipelined():
    c = Case("http_pipelined", "Two pipelined requests in one segment, the second for a "
             "blocked URL.", rules="http://shared.example/blocked\n")
    f = TcpFlow(CLIENT, HTTP_SRV, 61401, 80, 0x34000000, 0x44000000)
    for x in f.handshake():
        c.fwd(x)
    i = c.drop(f.c(http_get("/ok.html", "shared.example") +
                   http_get("/blocked/x.bin", "shared.example")))
    c.rst(i)
    c.event(**http_event(f, "shared.example", "http://shared.example/blocked/x.bin",
                         "http://shared.example/blocked"))
    c.why = """
RFC 9112 section 9.3.2: a client may pipeline requests. Both requests travel in one segment;
the second one matches the URL rule, so the segment (the trigger) is dropped and the
connection reset both ways. Forwarding the segment would deliver the blocked request."""
    return c


@case
def tls_midstream():
    c = Case("tls_midstream", "A ClientHello on a connection whose handshake cordon never saw "
             "(flow already open when the appliance started, or asymmetric routing).",
             rules="blocked.example\n")
    f = TcpFlow(CLIENT, TLS_SRV, 61501, 443, 0x35000000, 0x45000000)
    f.handshake()  # happened before capture started: not in the file
    i = c.drop(f.c(tls_records(client_hello("mid.blocked.example"))))
    c.rst(i)
    c.event(**tls_event(f, "mid.blocked.example", "blocked.example"))
    c.drop(f.s(server_flight("sf:mid")), note="dropped (server packet of the blocked flow)")
    g = TcpFlow(CLIENT, TLS_SRV, 61502, 443, 0x35100000, 0x45100000)
    g.handshake()
    c.fwd(g.c(tls_records(client_hello("allowed.example"))))
    c.fwd(g.s(server_flight("sf:mid2")))
    c.why = """
An appliance restarted under load, or placed where the SYN took another path, sees
connections from the middle. ARCHITECTURE.md's data flow finds candidates "by content": a
segment that starts with a ClientHello is inspected without a SYN having been seen, and a
blocked one is reset both ways (seq numbers from the trigger, as always); the server's reply
then belongs to the blocked flow. An allowed mid-stream ClientHello passes."""
    return c


# ---------------------------------------------------------------- the sample capture

SAMPLE_LIST = """\
# cordon sample blacklist (written by scripts/gen_pcaps.py; used by pcaps/sample and
# tests/e2e/vdev_pcap_test.sh). Syntax: docs ARCHITECTURE.md "Rule lists".

# suffix: the name and every subdomain (not notpirate.example)
pirate.example
# exact name only (www.exact.example is not blocked)
=exact.example
# every subdomain, not the name itself
*.cdn.test
# HTTP URL prefix: requests to this host whose path starts with /leaked
http://files.example/leaked
# Hyperscan regex over the normalised host name
re:^stream[0-9]+\\.tv\\.example$
# Hyperscan regex over host/path?query
url-re:^video\\.example/watch\\?v=bad
# destination network: dropped, no injection
203.0.113.128/25
2001:db8:dead::/48
# exception: wins over pirate.example
@@press.pirate.example
"""



# ---------------------------------------------------------------- IP fragments

def dns_query_padded(qid, name, size):
    """A query padded to about `size` bytes with an EDNS(0) OPT record (RFC 6891) carrying a
    Padding option (RFC 7830), as privacy-minded client resolvers pad their queries."""
    hdr = u16(qid) + u16(0x0100) + u16(1) + u16(0) + u16(0) + u16(1)
    body = hdr + dns_question(name, "A")
    pad = max(0, size - len(body) - 15)
    opt = b"\x00" + u16(41) + u16(4096) + u32(0) + vec16(u16(12) + vec16(b"\x00" * pad))
    return body + opt


def ip_fragments(frame, sizes, ident):
    """Splits an unfragmented Ethernet/IPv4 or Ethernet/IPv6 frame into fragments the way a
    sender does (RFC 791 section 3.2; RFC 8200 section 4.5, Fragment header right after the
    IPv6 header): piece k carries sizes[k] bytes (multiples of 8), the last the rest."""
    pkt = Ether(frame)
    eth = Ether(src=pkt.src, dst=pkt.dst)
    if IP in pkt:
        ip = pkt[IP]
        payload = raw(ip.payload)[:ip.len - ip.ihl * 4]
    else:
        ip = pkt[IPv6]
        payload = raw(ip.payload)[:ip.plen]
    assert sum(sizes) < len(payload) and all(n % 8 == 0 for n in sizes)
    out, off = [], 0
    for size in [*sizes, None]:
        chunk = payload[off:off + size] if size else payload[off:]
        more = off + len(chunk) < len(payload)
        if IP in pkt:
            hdr = IP(src=ip.src, dst=ip.dst, ttl=ip.ttl, id=ident, proto=ip.proto,
                     flags="MF" if more else 0, frag=off // 8)
        else:
            hdr = (IPv6(src=ip.src, dst=ip.dst, hlim=ip.hlim) /
                   IPv6ExtHdrFragment(nh=ip.nh, offset=off // 8, m=int(more), id=ident))
        out.append(raw(eth / hdr / Raw(chunk)))
        off += len(chunk)
    return out


@case
def dns_udp_fragmented():
    c = Case("dns_udp_fragmented", "A padded DNS/UDP query for a blocked name in two IPv4 "
             "fragments: the first is forwarded, the one that completes the datagram is dropped "
             "and NXDOMAIN answered; a late copy of it is dropped too. An allowed fragmented "
             "query, pieces in reverse order, passes unchanged.", rules="blocked.example\n")
    p = Path2(CLIENT, RESOLVER)
    q = dns_query_padded(0xF401, "blocked.example", 1400)
    a, b = ip_fragments(udp(p, 55001, 53, q), [1000], 0x4F01)
    i0 = c.fwd(a)
    i1 = c.drop(b, note="dropped (completes the blocked query)")
    c.dns(i1, q, rcode=3, frags=[i0, i1])
    c.event(**dns_event(CLIENT, 55001, RESOLVER, "blocked.example", "blocked.example"))
    c.drop(b, note="dropped (late copy of a piece of the blocked datagram)")
    q2 = dns_query_padded(0xF402, "allowed.example", 1400)
    a2, b2 = ip_fragments(udp(p, 55002, 53, q2), [1000], 0x4F02)
    c.fwd(b2, a2)
    c.summary_extra = {"counters": {"ip_fragments": 5, "frag_reassembled": 2, "frag_blocked": 1,
                                    "frag_drop_rest": 1, "dns_queries": 2}}
    c.why = """
Fragments are forwarded as they arrive (inline, no added latency); the fragment that completes
a datagram is judged with the whole datagram, reassembled per RFC 791 section 3.2, and shares
its verdict (dataplane/flow/FRAGMENTS.md). The blocked query is answered NXDOMAIN like an
unfragmented one (ARCHITECTURE.md "Default actions"): the answer is an ordinary UDP datagram
from the resolver's address and port, echoing the id and question. Because the completing
piece is dropped, the resolver can never reassemble the query; a later copy of that piece
is dropped as well. The allowed query's pieces pass byte for byte, in the order they came."""
    return c


@case
def tls_fragmented_first_segment():
    c = Case("tls_fragmented_first_segment", "A ClientHello segment split into three IPv4 "
             "fragments, sent out of order: the fragment that completes it is dropped and both "
             "ends reset; an allowed fragmented ClientHello passes unchanged.",
             rules="blocked.example\n")
    f = TcpFlow(CLIENT, TLS_SRV, 44201, 443, 0x2B000000, 0x3B000000)
    for x in f.handshake():
        c.fwd(x)
    seg = f.c(tls_records(client_hello("frag.blocked.example")))
    p0, p1, p2 = ip_fragments(seg, [128, 128], 0x4F10)
    i2 = c.fwd(p2)
    i0 = c.fwd(p0)
    i1 = c.drop(p1, note="dropped (completes the ClientHello of a blocked name)")
    c.rst(i1, frags=[i0, i1, i2])
    c.event(**tls_event(f, "frag.blocked.example", "blocked.example"))
    c.drop(f.seg(False, "A"), note="dropped (server ACK of the blocked flow)")
    g = TcpFlow(CLIENT, TLS_SRV, 44202, 443, 0x2B100000, 0x3B100000)
    for x in g.handshake():
        c.fwd(x)
    for x in ip_fragments(g.c(tls_records(client_hello("allowed.example"))), [128], 0x4F11):
        c.fwd(x)
    c.fwd(g.s(server_flight("sf:frag-allowed")))
    c.summary_extra = {"counters": {"frag_reassembled": 2, "frag_blocked": 1,
                                    "tls_client_hellos": 2}}
    c.why = """
A first TCP segment fragmented at the IP layer (RFC 791 section 3.2; e.g. behind a tunnel with
a small MTU) is reassembled and inspected as if it had arrived whole. The pieces are forwarded
as they come; the one that completes the segment is dropped, the flow is blocked from then on,
and the RSTs carry the sequence numbers of the reassembled segment (RFC 9293 section 3.10.7.3,
RFC 5961 section 3.2), exactly as for an unfragmented ClientHello. Without the dropped piece
the server never sees the ClientHello."""
    return c


@case
def quic_fragmented():
    c = Case("quic_fragmented", "QUIC v1 client Initials in fragmented IPv4 datagrams: a "
             "blocked SNI drops the completing fragment and the flow; an allowed one passes.",
             rules="blocked.example\n")
    p = Path2(CLIENT, TLS_SRV)
    dcid, scid = prng("qf-dcid-a", 8), prng("qf-scid-a", 8)
    ini = quic_client_initial(dcid, scid, 0, 0, client_hello("video.blocked.example"), 1350)
    a, b = ip_fragments(udp(p, 60101, 443, ini), [800], 0x4F20)
    c.fwd(a)
    c.drop(b, note="dropped (completes the Initial of a blocked name)")
    c.event(event_type="block", action="drop", app_proto="quic", proto="UDP", src_ip=CLIENT,
            src_port=60101, dest_ip=TLS_SRV, dest_port=443, host="video.blocked.example",
            rule={"pattern": "blocked.example"})
    c.drop(udp(p, 60101, 443, quic_client_initial(dcid, scid, 1, 0,
                                                client_hello("video.blocked.example"), 1350)),
           note="dropped (unfragmented retransmission: the flow is blocked)")
    dcid, scid = prng("qf-dcid-b", 8), prng("qf-scid-b", 8)
    ini = quic_client_initial(dcid, scid, 0, 0, client_hello("allowed.example"), 1350)
    for x in ip_fragments(udp(p, 60102, 443, ini), [800], 0x4F21):
        c.fwd(x)
    c.summary_extra = {"counters": {"frag_reassembled": 2, "frag_blocked": 1,
                                    "quic_client_hellos": 2}}
    c.why = """
A QUIC Initial datagram larger than the path MTU arrives in IPv4 fragments (RFC 9000 section
14 forbids fragmentation only with IPv4 DF set; senders without PMTU knowledge still do it).
The datagram is reassembled and decrypted like an unfragmented one; a blocked SNI drops the
completing fragment and marks the flow blocked (ARCHITECTURE.md "Default actions": QUIC drop),
so the unfragmented retransmission is dropped too. Nothing is injected for QUIC."""
    return c


@case
def ipv6_fragments():
    c = Case("ipv6_fragments", "IPv6 Fragment headers: a fragmented DNS query for a blocked "
             "name is answered; a datagram whose fragments overlap is dropped from the "
             "overlapping piece on (RFC 5722).", rules="blocked.example\n")
    p = Path2(CLIENT6, RESOLVER6)
    q = dns_query_padded(0xF601, "v6.blocked.example", 1500)
    a, b = ip_fragments(udp(p, 56001, 53, q), [1232], 0x6F000001)
    i0 = c.fwd(a)
    i1 = c.drop(b, note="dropped (completes the blocked query)")
    c.dns(i1, q, rcode=3, frags=[i0, i1])
    c.event(**dns_event(CLIENT6, 56001, RESOLVER6, "v6.blocked.example", "blocked.example"))
    q2 = dns_query_padded(0xF602, "allowed.example", 1500)
    full = udp(p, 56002, 53, q2)
    a2, b2 = ip_fragments(full, [800], 0x6F000002)
    over = bytearray(ip_fragments(full, [400, 800], 0x6F000002)[1])  # bytes 400..1200, M=1
    over[-1] ^= 0xFF  # and not a copy: other bytes for the overlapping range
    c.fwd(a2)
    c.drop(bytes(over), note="dropped (overlaps the held piece: RFC 5722 discard)")
    c.drop(b2, note="dropped (rest of a discarded datagram)")
    c.summary_extra = {"counters": {"frag_reassembled": 1, "frag_overlap": 1,
                                    "frag_drop_rest": 1}}
    c.why = """
RFC 8200 section 4.5: the Fragment header follows the IPv6 header; reassembly keys on source,
destination and identification, and removes the Fragment header. The blocked query is answered
NXDOMAIN as an IPv6/UDP datagram with a valid checksum (RFC 8200 section 8.1). RFC 5722 section
4: a receiver MUST silently discard a datagram any of whose fragments overlap; cordon drops the
overlapping piece and the rest of that datagram (no legitimate datagram is lost), and never
judges the ambiguous bytes."""
    return c


def overlap_case(name, description, config, closed):
    c = Case(name, description, rules="blocked.example\n", config=config)
    p = Path2(CLIENT, RESOLVER)
    q = dns_query_padded(0xF701, "blocked.example", 1400)
    full = udp(p, 57001, 53, q)
    a, b = ip_fragments(full, [800], 0x4F30)
    over = bytearray(ip_fragments(full, [400, 800], 0x4F30)[1])
    over[-1] ^= 0xFF
    c.fwd(a)
    if closed:
        c.drop(bytes(over), note="dropped (overlap: not inspectable, dataplane.fail closed)")
        c.drop(b, note="dropped (rest of a datagram given up on, dataplane.fail closed)")
    else:
        c.fwd(bytes(over), b)
    counters = {"frag_overlap": 1, "frag_give_up_rest": 1}
    if closed:
        counters["fail_closed_frag"] = 2
    c.summary_extra = {"counters": counters}
    return c


@case
def overlapping_fragments():
    c = overlap_case("overlapping_fragments", "IPv4 fragments whose second piece overlaps the "
                     "first with other bytes: cordon gives up on the datagram and, failing open "
                     "(the default), forwards every piece uninspected.", None, False)
    c.why = """
RFC 791 leaves overlapping fragments to the receiver, and receivers differ (first-wins,
last-wins, or discarding the datagram as Linux does since 4.19): the bytes an endpoint would
see cannot be known, which is the classic inspection evasion. IPv4 identifications also wrap
within seconds at high rates, so unrelated datagrams can collide (RFC 4963 section 2). cordon
therefore neither guesses nor drops: it gives up on the datagram (counted `frag_overlap`,
`frag_give_up_rest`) and the pieces follow `dataplane.fail`, open by default (ARCHITECTURE.md
"Bad input and faults"). No event: nothing was judged."""
    return c


@case
def fail_closed():
    c = overlap_case("fail_closed", "dataplane.fail: closed: IPv4 fragments cordon cannot "
                     "inspect (an overlap made the datagram ambiguous) are dropped instead of "
                     "forwarded, and counted.", {"dataplane": {"fail": "closed"}}, True)
    c.why = """
ARCHITECTURE.md "Bad input and faults": exhaustion and uninspectable input degrade to
fail-open by default, "configurable". With `dataplane.fail: closed` the packets that could not
be inspected are dropped instead: here the overlapping piece and the rest of the datagram
(`fail_closed_frag` 2). The first piece was forwarded before the ambiguity showed; alone it is
useless to the receiver. The same setting drops packets when the flow table is full or the
reassembly buffers are spent (dataplane/flow/FRAGMENTS.md)."""
    return c


@case
def residual_blocking():
    cfg = {"actions": {"residual": {"seconds": 30}}}
    c = Case("residual_blocking", "actions.residual: after a TLS block, new connections from "
             "that client to the same server IP and port are refused with a RST for 30 s; "
             "another port and another client are inspected as usual.",
             rules="blocked.example\n", config=cfg)
    f = TcpFlow(CLIENT, TLS_SRV, 44301, 443, 0x2C000000, 0x3C000000)
    tls_block(c, f, "blocked.example")
    c.event(**tls_event(f, "blocked.example", "blocked.example"))
    g = TcpFlow(CLIENT, TLS_SRV, 44302, 443, 0x2C100000, 0x3C100000)
    i = c.drop(g.seg(True, "S", options=[("MSS", 1460)]),
               note="dropped (residual block: new connection to the blocked tuple)")
    c.rst(i, to=("client",))
    tls_allow(c, TcpFlow(CLIENT, TLS_SRV, 44303, 8443, 0x2C200000, 0x3C200000),
              "allowed.example")
    tls_allow(c, TcpFlow(CLIENT2, TLS_SRV, 44304, 443, 0x2C300000, 0x3C300000),
              "allowed.example")
    c.summary_extra = {"counters": {"residual_added": 1, "residual_dropped": 1}}
    c.why = """
Residual blocking (issue #4, off by default): once a connection is blocked, the (client IP,
server IP, server port, protocol) tuple stays blocked for the configured time, so a client
cannot retry past the block. A new SYN to the tuple is dropped without inspection and answered
with a RST toward the client that RFC 9293 section 3.10.7.1 prescribes for a segment without
ACK: seq 0, ACK = the SYN's sequence number + 1 (the SYN occupies one), so the client's
connect fails at once. No event is written for it (the block that caused it has one). The
same client to another port, and another client to the same port, are inspected normally."""
    return c

@case
def sample():
    c = Case("sample", "A small mixed capture (DNS, TLS, HTTP, bulk data) against "
             "rules/sample.list: some flows blocked, most allowed. Also the input of "
             "tests/e2e/vdev_pcap_test.sh.", rules={"path": "../../rules/sample.list"})
    p = Path2(CLIENT, RESOLVER)
    p6 = Path2(CLIENT6, RESOLVER6)

    def dns_pass(path, sport, qid, name, addr="203.0.113.5"):
        c.fwd(udp(path, sport, 53, dns_query(qid, name)))
        c.fwd(udp(path, sport, 53, dns_response(qid, name, addr), False))

    def dns_block(path, sport, qid, name, qt, pattern):
        q = dns_query(qid, name, qt)
        i = c.drop(udp(path, sport, 53, q))
        c.dns(i, q, rcode=3)
        c.event(**dns_event(path.client, sport, path.server, name, pattern))

    dns_pass(p, 51001, 0xE001, "www.allowed.example")
    dns_block(p, 51002, 0xE002, "www.pirate.example", "A", "pirate.example")
    dns_pass(p, 51003, 0xE003, "press.pirate.example")
    c.summary_extra = {"counters": {"exceptions": 2}}
    dns_block(p6, 51004, 0xE004, "img.cdn.test", "AAAA", "*.cdn.test")
    dns_pass(p, 51005, 0xE005, "cdn.test")
    dns_pass(p, 51006, 0xE006, "www.exact.example")
    dns_block(p, 51007, 0xE007, "stream42.tv.example", "HTTPS", "re:^stream[0-9]+\\.tv\\.example$")

    # Allowed TLS with a bulk download.
    f = TcpFlow(CLIENT, TLS_SRV, 51101, 443, 0x30000000, 0x40000000)
    tls_allow(c, f, "www.allowed.example")
    for k in range(6):
        c.fwd(f.s(b"\x17\x03\x03" + vec16(prng(f"bulk{k}", 1395)), flags="A"))
    c.fwd(f.c(b"", flags="A"))
    c.fwd(f.seg(True, "FA"))
    c.fwd(f.seg(False, "FA"))
    c.fwd(f.seg(True, "A"))
    # Blocked TLS.
    g = TcpFlow(CLIENT, TLS_SRV, 51102, 443, 0x30100000, 0x40100000)
    tls_block(c, g, "exact.example")
    c.event(**tls_event(g, "exact.example", "=exact.example"))
    # Press exception over TLS passes.
    tls_allow(c, TcpFlow(CLIENT, TLS_SRV, 51103, 443, 0x30200000, 0x40200000),
              "press.pirate.example")
    # Blocked TLS over IPv6, split PQ ClientHello.
    h = TcpFlow(CLIENT6, TLS_SRV6, 51104, 443, 0x30300000, 0x40300000)
    for x in h.handshake():
        c.fwd(x)
    rec = tls_records(client_hello("video.pirate.example", pq=True))
    c.fwd(h.c(rec[:1440], flags="A"))
    i = c.drop(h.c(rec[1440:]))
    c.rst(i)
    c.event(**tls_event(h, "video.pirate.example", "pirate.example"))
    # HTTP: allowed download, URL-prefix block, url-re block, allowed other path.
    w = TcpFlow(CLIENT, HTTP_SRV, 51201, 80, 0x30400000, 0x40400000)
    for x in w.handshake():
        c.fwd(x)
    c.fwd(w.c(http_get("/public/readme.txt", "files.example")))
    body = prng("download", 4000)
    resp = http_ok(body)
    for part in chunks(resp, 1400):
        c.fwd(w.s(part, flags="A"))
    c.fwd(w.c(b"", flags="A"))
    i = c.drop(w.c(http_get("/leaked/album.zip", "files.example")))
    c.rst(i)
    c.event(**http_event(w, "files.example", "http://files.example/leaked/album.zip",
                         "http://files.example/leaked"))
    v = TcpFlow(CLIENT2, HTTP_SRV, 51202, 80, 0x30500000, 0x40500000)
    for x in v.handshake():
        c.fwd(x)
    i = c.drop(v.c(http_get("/watch?v=bad123", "video.example")))
    c.rst(i)
    c.event(**http_event(v, "video.example", "http://video.example/watch?v=bad123",
                         "url-re:^video\\.example/watch\\?v=bad"))
    u = TcpFlow(CLIENT2, HTTP_SRV, 51203, 80, 0x30600000, 0x40600000)
    for x in u.handshake():
        c.fwd(x)
    c.fwd(u.c(http_get("/watch?v=good1", "video.example")))
    c.fwd(u.s(http_ok(b"<html>ok</html>\n")))
    # IP rule: SYN to a blocked network is dropped.
    d = TcpFlow(CLIENT, "203.0.113.200", 51301, 443, 0x30700000, 0x40700000)
    c.drop(d.seg(True, "S", options=[("MSS", 1460)]))
    c.event(event_type="block", action="drop", app_proto="ip", proto="TCP", src_ip=CLIENT,
            src_port=51301, dest_ip="203.0.113.200", dest_port=443,
            rule={"pattern": "203.0.113.128/25"})
    c.fwd(udp(p, 51302, 123, prng("ntp", 48)))  # unrelated UDP (NTP-sized)
    c.why = """
A smoke test of everything at once, using the shipped sample list (`rules/sample.list`,
every rule syntax of ARCHITECTURE.md "Rule lists"):

- DNS: `www.pirate.example` (suffix), `img.cdn.test` AAAA over IPv6 (`*.cdn.test`) and
  `stream42.tv.example` HTTPS (`re:`) are answered NXDOMAIN; `www.allowed.example`,
  `press.pirate.example` (`@@` exception), `cdn.test` (not matched by `*.cdn.test`) and
  `www.exact.example` (not matched by `=exact.example`) pass with their answers.
- TLS: `exact.example` is reset; an allowed connection with bulk server data and a clean
  close passes; `press.pirate.example` passes (exception); a split post-quantum ClientHello
  for `video.pirate.example` over IPv6 is reset.
- HTTP: a download of `/public/readme.txt` passes, then `/leaked/album.zip` on the same
  connection is reset (URL prefix); `video.example/watch?v=bad123` is reset (`url-re:`),
  `/watch?v=good1` passes.
- A SYN to 203.0.113.200 (inside 203.0.113.128/25) is dropped without injection.

The e2e test (tests/e2e/vdev_pcap_test.sh) replays this capture live through DPDK net_pcap
ports and checks that every forwarded packet is unchanged, the blocked flows are gone and the
injected RSTs/answers reach the client side."""
    return c


# ---------------------------------------------------------------- output

def write_pcap(path, frames):
    """Classic pcap (magic a1b2c3d4, v2.4, microseconds, snaplen 65535, LINKTYPE_ETHERNET)."""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    for i, fr in enumerate(frames):
        out.append(struct.pack("<IIII", T0 + i // 1000, (i % 1000) * 1000, len(fr), len(fr)))
        out.append(fr)
    path.write_bytes(b"".join(out))


class _Dumper(yaml.SafeDumper):
    """Multi-line strings (rule lists) as block literals, so expect.yaml reads like the list."""


_Dumper.add_representer(str, lambda d, s: d.represent_scalar(
    "tag:yaml.org,2002:str", s, style="|" if "\n" in s else None))


def dump_yaml(doc):
    return yaml.dump(doc, Dumper=_Dumper, sort_keys=False, default_flow_style=None, width=100,
                     allow_unicode=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "pcaps", help="cases directory")
    ap.add_argument("--rules-out", type=Path, default=None,
                    help="where to write sample.list (default rules/sample.list, or "
                         "OUT/../sample.list when --out is given)")
    ap.add_argument("--only", nargs="*", help="generate only these cases")
    args = ap.parse_args()
    rules_out = args.rules_out or (ROOT / "rules" / "sample.list" if args.out == ROOT / "pcaps"
                                   else args.out.parent / "sample.list")
    rules_out.parent.mkdir(parents=True, exist_ok=True)
    rules_out.write_text(SAMPLE_LIST, encoding="utf-8")
    for fn in CASES:
        if args.only and fn.__name__ not in args.only:
            continue
        c = fn()
        assert c.name == fn.__name__
        d = args.out / c.name
        d.mkdir(parents=True, exist_ok=True)
        write_pcap(d / "input.pcap", c.frames)
        (d / "expect.yaml").write_text(
            "# Generated by scripts/gen_pcaps.py; do not edit. Checked by tests/pcap/run_case.py.\n"
            "# Packet indexes are 0-based positions in input.pcap.\n" + dump_yaml(c.expect()),
            encoding="utf-8")
        (d / "README.md").write_text(c.readme(), encoding="utf-8")
        print(f"{c.name}: {len(c.frames)} packets, {len(c.output)} expected out, "
              f"{len(c.events)} events", file=sys.stderr)


if __name__ == "__main__":
    main()
