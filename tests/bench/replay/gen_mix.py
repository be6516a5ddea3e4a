#!/usr/bin/python3
"""Deterministic ISP-like traffic mix for the cordon replay benchmark.

Writes into --out DIR:
  mix.pcap         classic pcap (Ethernet/IPv4): bulk TCP, DNS/UDP, TLS 1.3, HTTP/1.1
  rules.list       cordon list: one `=name` rule per listed name + unrelated filler rules
  ndpi-protos.txt  nDPI protos file: one `host:"name"@Blocked` line per listed name
  manifest.json    what was generated (packets, flows per kind, planted blocked flows)

Frames are packed with struct from per-direction templates; checksums (IPv4, TCP, UDP)
are computed incrementally (one's complement sum == value mod 0xffff), payload sums are
precomputed once per payload. Only the Python standard library is used.
"""
import argparse
import json
import os
import random
import struct
import sys
import time

SEED = 0xC0D0
MSS = 1448
BLOCKED_SHARE = 0.05          # share of name-bearing flows (DNS/TLS/HTTP) using listed names
N_NAMES = 4000                # host name pool
N_LISTED = 200                # of which on the block list
N_FILLER = 10000              # unrelated filler rules in rules.list
CONCURRENT = 1000             # flows interleaved at any time
# share of packets per kind; DNS/TLS/HTTP share the remaining 15 %
PKT_SHARE = {"bulk": 0.85, "dns": 0.04, "tls": 0.07, "http": 0.04}

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10

HDR_TCP = struct.Struct("!14sBBHHHBBH4s4sHHIIBBHHH")   # eth + ipv4 + tcp, 54 bytes
HDR_UDP = struct.Struct("!14sBBHHHBBH4s4sHHHH")        # eth + ipv4 + udp, 42 bytes
PCAP_REC = struct.Struct("<IIII")
# SYN / SYN-ACK options: MSS 1460, NOP, NOP, SACK permitted, NOP, window scale 7
MSS_OPT = b"\x02\x04\x05\xb4\x01\x01\x04\x02\x01\x03\x03\x07"
MSS_OPT_SUM = int.from_bytes(MSS_OPT, "big") % 0xFFFF


def osum(data):
    """One's complement 16-bit word sum of data, reduced mod 0xffff (odd length padded)."""
    if len(data) & 1:
        data += b"\0"
    return int.from_bytes(data, "big") % 0xFFFF


class Dir:
    """One direction of a flow: everything of the headers that does not change per packet."""
    __slots__ = ("eth", "src", "dst", "ttl", "ip_const", "pseudo", "ipid")

    def __init__(self, eth, src, dst, ttl, proto, ipid):
        self.eth, self.src, self.dst, self.ttl, self.ipid = eth, src, dst, ttl, ipid
        s = int.from_bytes(src, "big")
        d = int.from_bytes(dst, "big")
        words = (s >> 16) + (s & 0xFFFF) + (d >> 16) + (d & 0xFFFF)
        self.ip_const = 0x4500 + 0x4000 + ((ttl << 8) | proto) + words
        self.pseudo = words + proto


def tcp_frame(d, sport, dport, seq, ack, flags, win, payload, psum, opt=b"", optsum=0):
    tcp_len = 20 + len(opt) + len(payload)
    tl = 20 + tcp_len
    ipid = d.ipid = (d.ipid + 1) & 0xFFFF
    ipck = 0xFFFF - ((d.ip_const + tl + ipid) % 0xFFFF or 0xFFFF)
    off = ((5 + (len(opt) >> 2)) << 12) | flags
    s = (d.pseudo + tcp_len + sport + dport + (seq >> 16) + (seq & 0xFFFF) + (ack >> 16)
         + (ack & 0xFFFF) + off + win + optsum + psum)
    tck = 0xFFFF - (s % 0xFFFF or 0xFFFF)
    return HDR_TCP.pack(d.eth, 0x45, 0, tl, ipid, 0x4000, d.ttl, 6, ipck, d.src, d.dst,
                        sport, dport, seq, ack, off >> 8, flags, win, tck, 0) + opt + payload


def udp_frame(d, sport, dport, payload, psum):
    ulen = 8 + len(payload)
    tl = 20 + ulen
    ipid = d.ipid = (d.ipid + 1) & 0xFFFF
    ipck = 0xFFFF - ((d.ip_const + tl + ipid) % 0xFFFF or 0xFFFF)
    s = d.pseudo + ulen + sport + dport + ulen + psum
    uck = 0xFFFF - (s % 0xFFFF or 0xFFFF)
    if uck == 0:
        uck = 0xFFFF
    return HDR_UDP.pack(d.eth, 0x45, 0, tl, ipid, 0x4000, d.ttl, 17, ipck, d.src, d.dst,
                        sport, dport, ulen, uck) + payload


# ----------------------------------------------------------------------------- names

CONS = "bcdfghjklmnprstvwz"
VOW = "aeiou"
TLDS = ["com"] * 8 + ["net"] * 3 + ["org"] * 2 + ["io", "co.uk", "de", "fr", "ru", "tv",
                                                  "info", "xyz", "me", "cc", "to", "se"]
SUBS = ["www"] * 6 + ["", "", "", "cdn", "api", "img", "static", "m", "media", "video",
                      "s3", "edge", "dl", "assets", "login", "stream"]


def word(rng, syl):
    return "".join(rng.choice(CONS) + rng.choice(VOW) for _ in range(syl)) + (
        rng.choice(CONS) if rng.random() < 0.5 else "")


def make_names(rng):
    """N_NAMES distinct host names; the first N_LISTED are the listed ones. No listed name
    occurs inside another pool name (nDPI host matching is by substring), no filler rule
    is a label suffix of a pool name."""
    names, seen = [], set()
    while len(names) < N_NAMES:
        base = word(rng, rng.randint(2, 4))
        if rng.random() < 0.2:
            base += "-" + word(rng, 2)
        sub = rng.choice(SUBS)
        if sub in ("cdn", "edge", "img") and rng.random() < 0.5:
            sub += str(rng.randint(1, 20))
        name = (sub + "." if sub else "") + base + "." + rng.choice(TLDS)
        if name not in seen:
            seen.add(name)
            names.append(name)
    listed = names[:N_LISTED]
    others = names[N_LISTED:]
    blob = "\n".join(names)
    listed = [n for n in listed if blob.count(n) == 1]
    others = [n for n in others if not any(l in n for l in listed)]
    suffixes = set()
    for n in names:
        labels = n.split(".")
        for i in range(len(labels)):
            suffixes.add(".".join(labels[i:]))
    filler, fseen = [], set()
    while len(filler) < N_FILLER:
        f = word(rng, rng.randint(3, 5)) + rng.choice(["", "x", "q", "-" + word(rng, 2)]) + \
            "." + rng.choice(TLDS)
        if f not in suffixes and f not in fseen:
            fseen.add(f)
            filler.append(f)
    return listed, others, filler


# ----------------------------------------------------------------------------- payloads

def tls_client_hello(rng, sni):
    """A TLS 1.3 ClientHello as a browser sends it (Chrome-like extension set, padded)."""
    def ext(t, body):
        return struct.pack("!HH", t, len(body)) + body

    host = sni.encode()
    suites = [0x1301, 0x1302, 0x1303, 0xC02B, 0xC02F, 0xC02C, 0xC030, 0xCCA9, 0xCCA8,
              0xC013, 0xC014, 0x009C, 0x009D, 0x002F, 0x0035]
    grease = rng.choice([0x0A0A, 0x1A1A, 0x2A2A, 0x3A3A, 0x4A4A, 0x5A5A, 0x6A6A, 0x7A7A])
    sigalgs = [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601]
    exts = [
        ext(grease, b""),
        ext(0x0000, struct.pack("!HBH", len(host) + 3, 0, len(host)) + host),   # server_name
        ext(0x0017, b""),                                                      # ext. master secret
        ext(0xFF01, b"\x00"),                                                  # renegotiation_info
        ext(0x000A, struct.pack("!H4H", 8, grease, 0x001D, 0x0017, 0x0018)),   # supported_groups
        ext(0x000B, b"\x01\x00"),                                              # ec_point_formats
        ext(0x0023, b""),                                                      # session_ticket
        ext(0x0010, b"\x00\x0c\x02h2\x08http/1.1"),                            # ALPN
        ext(0x0005, b"\x01\x00\x00\x00\x00"),                                  # status_request
        ext(0x000D, struct.pack("!H", 2 * len(sigalgs)) + struct.pack("!%dH" % len(sigalgs), *sigalgs)),
        ext(0x0012, b""),                                                      # SCT
        ext(0x0033, struct.pack("!HHH", 36 + 5, grease, 1) + b"\x00" +        # key_share
            struct.pack("!HH", 0x001D, 32) + rng.randbytes(32)),               #  GREASE + x25519
        ext(0x002D, b"\x01\x01"),                                              # psk_key_exchange_modes
        ext(0x002B, b"\x06" + struct.pack("!3H", grease, 0x0304, 0x0303)),     # supported_versions
        ext(0x001B, b"\x02\x00\x02"),                                          # compress_certificate
        ext(0x4469, b"\x00\x03\x02h2"),                                        # application_settings
    ]
    body_head = (b"\x03\x03" + rng.randbytes(32) + b"\x20" + rng.randbytes(32) +
                 struct.pack("!H", 2 * (len(suites) + 1)) +
                 struct.pack("!%dH" % (len(suites) + 1), grease, *suites) + b"\x01\x00")
    ext_bytes = b"".join(exts)
    # BoringSSL pads the ClientHello body to 512 bytes; add a little variation (0-80 B)
    target = 508 + rng.randint(0, 80)
    cur = len(body_head) + 2 + len(ext_bytes) + 4
    if cur + 4 < target:
        ext_bytes += ext(0x0015, bytes(target - cur - 4))
    ext_bytes += ext(grease ^ 0x1010, b"\x00")
    body = body_head + struct.pack("!H", len(ext_bytes)) + ext_bytes
    hs = b"\x01" + len(body).to_bytes(3, "big") + body
    return b"\x16\x03\x01" + struct.pack("!H", len(hs)) + hs


def tls_server_flight(rng):
    sh_body = (b"\x03\x03" + rng.randbytes(32) + b"\x20" + rng.randbytes(32) + b"\x13\x01\x00" +
               struct.pack("!H", 6 + 40) +
               struct.pack("!HHH", 0x002B, 2, 0x0304) +
               struct.pack("!HHHH", 0x0033, 36, 0x001D, 32) + rng.randbytes(32))
    sh = b"\x02" + len(sh_body).to_bytes(3, "big") + sh_body
    out = b"\x16\x03\x03" + struct.pack("!H", len(sh)) + sh + b"\x14\x03\x03\x00\x01\x01"
    # encrypted extensions + certificate chain + verify + finished, as app-data records
    for size in (rng.randint(2500, 4200), rng.randint(250, 300), 53):
        out += tls_app(rng, size)
    return out


def tls_app(rng, size):
    return b"\x17\x03\x03" + struct.pack("!H", size) + rng.randbytes(size)


UAS = [b"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
       b"Chrome/120.0.0.0 Safari/537.36",
       b"Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
       b"Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 "
       b"(KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
       b"curl/7.88.1"]
PATHS = [b"/", b"/index.html", b"/favicon.ico", b"/img/logo.png", b"/api/v1/items?page=",
         b"/news/article-", b"/static/app.js?v=", b"/download/file-"]


def http_request(rng, host):
    path = rng.choice(PATHS)
    if path.endswith((b"=", b"-")):
        path += str(rng.randint(1, 99999)).encode()
    return (b"GET " + path + b" HTTP/1.1\r\nHost: " + host.encode() + b"\r\nUser-Agent: " +
            rng.choice(UAS) + b"\r\nAccept: */*\r\nAccept-Language: en-US,en;q=0.9\r\n"
            b"Accept-Encoding: gzip, deflate\r\nConnection: keep-alive\r\n\r\n")


def http_response(rng, body_pool):
    n = rng.randint(200, 7000)
    return (b"HTTP/1.1 200 OK\r\nServer: nginx\r\nDate: Mon, 23 Nov 2026 20:00:00 GMT\r\n"
            b"Content-Type: text/html; charset=utf-8\r\nContent-Length: " + str(n).encode() +
            b"\r\nConnection: keep-alive\r\nCache-Control: max-age=600\r\n\r\n" +
            body_pool[:n])


def dns_name(name):
    return b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0"


EDNS_OPT = b"\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00"


def dns_query(rng, qid, name, qtype):
    return struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 1) + dns_name(name) + \
        struct.pack("!HH", qtype, 1) + EDNS_OPT


def dns_response(rng, qid, name, qtype):
    rdata = rng.randbytes(4) if qtype == 1 else b"\x2a\x00" + rng.randbytes(14)
    ans = struct.pack("!HHHIH", 0xC00C, qtype, 1, rng.randint(30, 3600), len(rdata)) + rdata
    return struct.pack("!HHHHHH", qid, 0x8180, 1, 1, 0, 1) + dns_name(name) + \
        struct.pack("!HH", qtype, 1) + ans + EDNS_OPT


# ----------------------------------------------------------------------------- flows

class Gen:
    def __init__(self, rng):
        self.rng = rng
        # two routers facing each other on the tapped link
        self.eth_c2s = bytes.fromhex("020000000002020000000001") + b"\x08\x00"
        self.eth_s2c = bytes.fromhex("020000000001020000000002") + b"\x08\x00"
        self.subscribers = [bytes([100, 64 + rng.randrange(64), rng.randrange(256),
                                   rng.randrange(1, 255)]) for _ in range(20000)]
        self.next_port = [rng.randint(32768, 40000) for _ in self.subscribers]
        self.servers = []
        while len(self.servers) < 5000:
            a = rng.randint(1, 223)
            if a in (10, 100, 127, 169, 172, 192, 198, 203):
                continue
            self.servers.append(bytes([a, rng.randrange(256), rng.randrange(256),
                                       rng.randrange(1, 255)]))
        self.resolvers = [bytes([8, 8, 8, 8]), bytes([8, 8, 4, 4]), bytes([1, 1, 1, 1]),
                          bytes([9, 9, 9, 9]), bytes([185, 12, 64, 1])]
        # bulk payload pool: 1448-byte opaque chunks, first byte never TLS/ASCII-like
        self.chunks = []
        for _ in range(64):
            c = bytes([rng.randint(0x80, 0xFF)]) + rng.randbytes(MSS - 1)
            self.chunks.append((c, osum(c)))
        self.smalls = []
        for _ in range(64):
            c = bytes([rng.randint(0x80, 0xFF)]) + rng.randbytes(rng.randint(60, 600))
            self.smalls.append((c, osum(c)))
        words = [word(rng, 2).encode() for _ in range(400)]
        text = b"<!doctype html><html><head><title>page</title></head><body><p>"
        while len(text) < 8000:
            text += b" ".join(rng.choice(words) for _ in range(12)) + b".\n"
        self.body = text

    def endpoints(self, server, proto):
        rng = self.rng
        i = rng.randrange(len(self.subscribers))
        cip = self.subscribers[i]
        port = self.next_port[i]
        self.next_port[i] = port + 1 if port < 60999 else 32768
        c2s = Dir(self.eth_c2s, cip, server, 64, proto, rng.randrange(65536))
        s2c = Dir(self.eth_s2c, server, cip, rng.choice((52, 55, 57, 58, 118)), proto,
                  rng.randrange(65536))
        return c2s, s2c, port

    def segments(self, data):
        out = []
        for i in range(0, len(data), MSS):
            p = data[i:i + MSS]
            out.append((p, osum(p)))
        return out

    def tcp_flow(self, server, dport, messages):
        """messages: [(direction 0=c2s/1=s2c, [(payload, psum), ...]), ...]. Returns the
        packet descriptors (dir, flags, seq, ack, win, payload, psum, opt, optsum)."""
        rng = self.rng
        c2s, s2c, sport = self.endpoints(server, 6)
        seq = [rng.getrandbits(32), rng.getrandbits(32)]
        win = [rng.randint(500, 2048), rng.randint(500, 2048)]
        M = 0xFFFFFFFF
        P = [(0, SYN, seq[0], 0, 64240, b"", 0, MSS_OPT, MSS_OPT_SUM),
             (1, SYN | ACK, seq[1], (seq[0] + 1) & M, 65160, b"", 0, MSS_OPT, MSS_OPT_SUM)]
        seq[0] = (seq[0] + 1) & M
        seq[1] = (seq[1] + 1) & M
        P.append((0, ACK, seq[0], seq[1], win[0], b"", 0, b"", 0))
        for mi, (d, segs) in enumerate(messages):
            r = 1 - d
            n = len(segs)
            nxt_same = mi + 1 < len(messages) and messages[mi + 1][0] == d
            for i, (p, ps) in enumerate(segs):
                last = i == n - 1
                P.append((d, ACK | (PSH if last else 0), seq[d], seq[r], win[d], p, ps, b"", 0))
                seq[d] = (seq[d] + len(p)) & M
                if (i & 1 and not last) or (last and (nxt_same or mi + 1 == len(messages))):
                    P.append((r, ACK, seq[r], seq[d], win[r], b"", 0, b"", 0))
        P.append((0, FIN | ACK, seq[0], seq[1], win[0], b"", 0, b"", 0))
        seq[0] = (seq[0] + 1) & M
        P.append((1, FIN | ACK, seq[1], seq[0], win[1], b"", 0, b"", 0))
        seq[1] = (seq[1] + 1) & M
        P.append((0, ACK, seq[0], seq[1], win[0], b"", 0, b"", 0))
        return ("tcp", c2s, s2c, sport, dport, P)

    def bulk(self):
        rng = self.rng
        msgs = [(0, [rng.choice(self.smalls)])]
        n = int(10 ** rng.uniform(1.0, 2.8))          # 10 .. 630 segments down
        msgs.append((1, [rng.choice(self.chunks) for _ in range(n)]))
        if rng.random() < 0.35:                          # an upload too: data both ways
            m = int(10 ** rng.uniform(0.7, 2.2))
            msgs.append((0, [rng.choice(self.chunks) for _ in range(m)]))
            msgs.append((1, [rng.choice(self.smalls)]))
        port = rng.choice((5001, 9000, 8801)) if rng.random() < 0.2 else 20000 + rng.randrange(40000)
        return self.tcp_flow(rng.choice(self.servers), port, msgs)

    def tls(self, name):
        rng = self.rng
        msgs = [(0, self.segments(tls_client_hello(rng, name))),
                (1, self.segments(tls_server_flight(rng))),
                (0, self.segments(b"\x14\x03\x03\x00\x01\x01" + tls_app(rng, 53) +
                                  tls_app(rng, rng.randint(60, 500))))]
        for _ in range(rng.randint(1, 3)):
            msgs.append((1, self.segments(tls_app(rng, rng.randint(100, 4000)))))
            if rng.random() < 0.5:
                msgs.append((0, self.segments(tls_app(rng, rng.randint(40, 600)))))
        return self.tcp_flow(rng.choice(self.servers), 443, msgs)

    def http(self, name):
        rng = self.rng
        msgs = [(0, self.segments(http_request(rng, name))),
                (1, self.segments(http_response(rng, self.body)))]
        return self.tcp_flow(rng.choice(self.servers), 80, msgs)

    def dns(self, name):
        rng = self.rng
        c2s, s2c, sport = self.endpoints(rng.choice(self.resolvers), 17)
        qid = rng.randrange(65536)
        qtype = rng.choice((1, 1, 1, 28, 28))
        q = dns_query(rng, qid, name, qtype)
        a = dns_response(rng, qid, name, qtype)
        return ("udp", c2s, s2c, sport, 53, [(0, q, osum(q)), (1, a, osum(a))])


def frame(flow, pkt):
    kind, c2s, s2c, sport, dport = flow[0], flow[1], flow[2], flow[3], flow[4]
    if kind == "tcp":
        d, flags, seq, ack, win, p, ps, opt, optsum = pkt
        if d == 0:
            return tcp_frame(c2s, sport, dport, seq, ack, flags, win, p, ps, opt, optsum)
        return tcp_frame(s2c, dport, sport, seq, ack, flags, win, p, ps, opt, optsum)
    d, p, ps = pkt
    if d == 0:
        return udp_frame(c2s, sport, dport, p, ps)
    return udp_frame(s2c, dport, sport, p, ps)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("--packets", type=int, default=1_000_000, help="approximate packet count")
    ap.add_argument("--seed", type=int, default=SEED)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    t0 = time.perf_counter()
    rng = random.Random(args.seed)
    listed, others, filler = make_names(rng)
    g = Gen(rng)

    # mean packets per flow of each kind, measured on a sample (deterministic: own rng)
    srng = random.Random(args.seed + 1)
    sg = Gen(srng)
    mean = {"bulk": sum(len(sg.bulk()[5]) for _ in range(300)) / 300,
            "tls": sum(len(sg.tls("www.example.com")[5]) for _ in range(300)) / 300,
            "http": sum(len(sg.http("www.example.com")[5]) for _ in range(300)) / 300,
            "dns": 2.0}
    kinds = list(PKT_SHARE)
    weights = [PKT_SHARE[k] / mean[k] for k in kinds]
    cum, acc = [], 0.0
    for w in weights:
        acc += w
        cum.append(acc)

    flows = {k: 0 for k in kinds}
    blocked = {k: 0 for k in kinds}
    pkts_by_kind = {k: 0 for k in kinds}

    def new_flow():
        x = rng.random() * acc
        k = kinds[next(i for i, c in enumerate(cum) if x < c)]
        if k == "bulk":
            f = g.bulk()
        else:
            if rng.random() < BLOCKED_SHARE:
                name = rng.choice(listed)
                blocked[k] += 1
            else:
                name = rng.choice(others)
            f = getattr(g, k)(name)
        flows[k] += 1
        pkts_by_kind[k] += len(f[5])
        return [f, 0]

    target = args.packets
    committed = 0
    active = []
    while len(active) < CONCURRENT and committed < target:
        a = new_flow()
        committed += len(a[0][5])
        active.append(a)

    path = os.path.join(args.out, "mix.pcap")
    out = open(path, "wb")
    out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    buf = []
    npk = nbytes = 0
    ts = 1795464000 * 1_000_000                  # 2026-11-23 20:00:00 UTC, in us
    rrange = rng.randrange
    rec = PCAP_REC.pack
    while active:
        j = rrange(len(active))
        a = active[j]
        f, i = a
        fr = frame(f, f[5][i])
        ts += 2 + rrange(14)
        buf.append(rec(ts // 1_000_000, ts % 1_000_000, len(fr), len(fr)))
        buf.append(fr)
        npk += 1
        nbytes += len(fr)
        i += 1
        if i == len(f[5]):
            if committed < target:
                a = new_flow()
                committed += len(a[0][5])
                active[j] = a
            else:
                active[j] = active[-1]
                active.pop()
        else:
            a[1] = i
        if len(buf) >= 8192:
            out.write(b"".join(buf))
            buf.clear()
    out.write(b"".join(buf))
    out.close()

    with open(os.path.join(args.out, "rules.list"), "w") as fh:
        fh.write("# cordon replay benchmark list (generated by gen_mix.py, seed %d)\n" % args.seed)
        fh.write("# names planted in mix.pcap: exact rules\n")
        fh.writelines("=%s\n" % n for n in listed)
        fh.write("# unrelated filler, never seen in mix.pcap\n")
        fh.writelines("%s\n" % n for n in filler)
    with open(os.path.join(args.out, "ndpi-protos.txt"), "w") as fh:
        fh.write("# nDPI custom protocols: the names listed in rules.list (exact rules)\n")
        fh.writelines('host:"%s"@Blocked\n' % n for n in listed)
    manifest = {
        "seed": args.seed, "packets": npk, "frame_bytes": nbytes,
        "flows": flows, "packets_by_kind": pkts_by_kind, "blocked_flows": blocked,
        "blocked_flows_total": sum(blocked.values()),
        "name_flows_total": flows["dns"] + flows["tls"] + flows["http"],
        "listed_names": len(listed), "pool_names": len(listed) + len(others),
        "filler_rules": len(filler), "generate_seconds": round(time.perf_counter() - t0, 2),
    }
    with open(os.path.join(args.out, "manifest.json"), "w") as fh:
        json.dump(manifest, fh, indent=1)
        fh.write("\n")
    json.dump(manifest, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
