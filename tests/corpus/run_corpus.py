#!/usr/bin/python3
"""Accuracy of cordond on real captures (nDPI's test pcaps, see ../shared/corpus/README.md).

For every capture listed in the corpus's expected.tsv (capture, l4, endpoint_a, endpoint_b,
proto, name): compile each name listed for it into an `=name` rule (an HTTP Host that is an IP
literal into the URL rule `http://IP/`), replay the capture through
`cordond --rules R --replay IN --write OUT --events EV`, and check that
  - every listed flow produced an event naming it whose endpoints match (recall), and
  - no event names a flow that is not listed (false positives),
  - the replay itself succeeded (replay errors).
Goals: recall >= 99% for DNS, HTTP and TLS, >= 95% for QUIC, zero false positives, no replay
errors. Exits 0 when they are met, 1 when not, 77 when the corpus folder is absent (CTest
SKIP_RETURN_CODE).

Usage: run_corpus.py --cordond BIN --corpus DIR [--jobs N] [--verbose]
"""

import argparse
import collections
import concurrent.futures
import ipaddress
import json
import os
import re
import struct
import subprocess
import sys
import tempfile
import time

SKIP = 77
GOALS = {"dns": 0.99, "http": 0.99, "tls": 0.99, "quic": 0.95}

# Listed flows cordon is right not to report, each with the reason. Keyed by
# (capture, proto, name, endpoint_a, endpoint_b) as in expected.tsv. Only nDPI mistakes or
# flows outside what cordon enforces by design belong here; a cordon bug gets fixed instead.
EXCLUDED = {
    ("dns.pcap", "dns", "www.l.google.com", "192.168.170.20:53", "192.168.170.8:32795"):
        "the capture holds only the server's response for this name (its query is not in "
        "it); nDPI names the flow from the answer, cordon inspects queries",
    # nDPI keeps at most 79 characters of a name (its host_server_name buffer is 80 bytes)
    # and, when a name is longer, the last 79; it also prints '*' and '=' as '_'. The names
    # below are therefore not the ones on the wire.
    ("dns-exf.pcap", "dns",
     "4sicn03_2qaa3rlc3qudhh0aavjycxwakjehelu5klueow0zjxulgage-.4s2fgaaaa__-.test.txt",
     "192.168.2.225:45290", "192.168.2.134:53"):
        "packet 1's QNAME is 'H4sICN03*2QAA3Rlc3QudHh0AAvJyCxWAKJEheLU5KLUEoW0zJxULgAge-."
        "4S2FgAAAA==-.test.txt' (80 characters: labels of 58, 12, 4 and 3 bytes); nDPI cut the "
        "leading 'H' and turned '*' and '=' into '_'",
    ("dns_exfiltration.pcap", "dns",
     "e1aa8f8fdb1bbe8d5e04952141f7d4f82c7e3b06dcc8b87fad7a.19e4d098dc8c618f8d81cfeb02",
     "192.168.220.56:56373", "192.168.203.167:53"):
        "packet 1's QNAME is the 155-character dnscat name 'dnscat.546b03f5...fed739."
        "5a03b5b1e1aa8f8f...fad7a.19e4d098dc8c618f8d81cfeb02'; nDPI kept its last 79 "
        "characters, which no query of the capture carries (a rule for the whole name "
        "blocks packet 1)",
    ("dns_ambiguous_names.pcap", "dns", "_.teams.microsoft.com", "10.200.2.11:42790",
     "8.8.8.8:53"):
        "packet 11's QNAME starts with the one-byte label 0x2a, i.e. '*.teams.microsoft.com' "
        "(a literal asterisk, which Google answers NXDOMAIN in packet 12); nDPI prints '*' "
        "as '_' (a teams.microsoft.com rule blocks the query)",
    ("dns_invert_query.pcapng", "dns", "216.58.202.4", "173.147.108.174:18427",
     "244.187.95.1:53"):
        "packet 1 is an inverse query (OPCODE 1, RFC 1035 section 6.4, obsoleted by RFC 3425): "
        "QDCOUNT 0 and one answer record whose owner is '216.58.202.4'; there is no question "
        "to look up (the server answers NOTIMP in packet 2) and nDPI named the flow after the "
        "record",
}

# Whole captures whose labels do not measure accuracy, with the reason. They are still
# replayed (a replay error counts); their flows and events are not scored.
CAPTURES_EXCLUDED = {
    "fuzz-2006-06-26-2594.pcap":
        "Wireshark fuzz-test output: randomly mutated DNS packets; nDPI labels each flow with "
        "whatever (mutated) name it parsed from some packet of it (e.g. 'cybercity.qk', "
        "'1.0.0.527.in-addr.arpa'), so neither its names nor its flow list are ground truth",
    "fuzz-2006-09-29-28586.pcap":
        "Wireshark fuzz-test output as well: randomly mutated bytes, so no flow is a real "
        "exchange. E.g. the SYN of :2602 (packet 33) goes to 172.21.3.13, its request (packet "
        "36) is 'POST .servlets/mms' (the '/' mutated); :2604 and :2606 start with 6 bytes "
        "02 04 05 b4 .. .. (a mutated MSS option, packets 62 and 87) at the sequence number "
        "of their GET; :53136's request line ends 'HTTP/d.1' (packet 107); nDPI even names "
        "one flow '%s'",
}

# Events for flows nDPI does not list, that are nevertheless right, with the reason. Keyed
# by (capture, proto, name, client "ip:port", server "ip:port").
EXTRA_OK = {
    # nDPI's QUIC CRYPTO reassembler handles only in-order fragments (quic.c __reassemble:
    # "only in-order fragments ... no out-of-order"); these three flows of this capture of
    # shuffled CRYPTO frames carry whole ClientHellos (cordon decrypted and reassembled
    # them) that nDPI gave up on, so it lists no name for them.
    ("quic_frags_ch_out_of_order_same_packet_craziness.pcapng", "quic",
     "pagead2.googlesyndication.com", "168.144.64.5:49324", "35.194.157.47:443"):
        "nDPI reassembly gave up (out-of-order CRYPTO frames)",
    ("quic_frags_ch_out_of_order_same_packet_craziness.pcapng", "quic",
     "www.googleadservices.com", "168.144.64.5:61209", "35.194.157.47:443"):
        "nDPI reassembly gave up (out-of-order CRYPTO frames)",
    ("quic_frags_ch_out_of_order_same_packet_craziness.pcapng", "quic",
     "googleads.g.doubleclick.net", "168.144.64.5:55561", "35.194.157.47:443"):
        "nDPI reassembly gave up (out-of-order CRYPTO frames)",
    # The corpus keeps only flows nDPI names with "Confidence: DPI"; nDPI's own result for
    # simple-dnscrypt.pcap names these three with the same Hostname/SNI but "Confidence: DPI
    # (cache)" (the DNScrypt sub-protocol came from its cache). Packets 45, 48 and 51 are
    # their ClientHellos, each with server_name simplednscrypt.org.
    ("simple-dnscrypt.pcap", "tls", "simplednscrypt.org", "192.168.43.167:50253",
     "134.119.26.24:443"): "ClientHello in packet 45 names it; nDPI: DPI (cache)",
    ("simple-dnscrypt.pcap", "tls", "simplednscrypt.org", "192.168.43.167:50259",
     "134.119.26.24:443"): "ClientHello in packet 48 names it; nDPI: DPI (cache)",
    ("simple-dnscrypt.pcap", "tls", "simplednscrypt.org", "192.168.43.167:50258",
     "134.119.26.24:443"): "ClientHello in packet 51 names it; nDPI: DPI (cache)",
    # nDPI's result for teams.pcap names both flows (Hostname/SNI as here) with "Confidence:
    # DPI (partial)", which the corpus leaves out; packets 1026 and 1088 are their
    # ClientHellos with exactly these server_names.
    ("teams.pcap", "tls", "api.microsoftstream.com", "192.168.1.6:60562",
     "104.40.187.151:443"): "ClientHello in packet 1026 names it; nDPI: DPI (partial)",
    ("teams.pcap", "tls", "euno-1.api.microsoftstream.com", "192.168.1.6:60563",
     "52.169.186.119:443"): "ClientHello in packet 1088 names it; nDPI: DPI (partial)",
    # Packet 5 is "POST /fwlink/?LinkID=252669&clcid=0x409 HTTP/1.1" with "Host:
    # go.microsoft.com" at the client's ISN+1, i.e. the start of the stream. nDPI names this
    # flow only "HTTP, Confidence: Match by port" with no host: the first client segment it
    # saw (packet 3) is an out-of-order piece of the UTF-16 body, and it does not reassemble.
    ("soap.pcap", "http", "go.microsoft.com", "192.168.2.100:50100", "23.2.213.165:80"):
        "request in packet 5 names it; nDPI gave up on the out-of-order first segment",
    # Packet 4 is "CONNECT apache.org:443 HTTP/1.1 ... Host: apache.org:443" to the proxy at
    # :8080; nDPI's result names the flow HTTP_Connect with Hostname apache.org, a protocol
    # the corpus does not list. Blocking a CONNECT to a listed name is what an operator wants.
    ("http_connect.pcap", "http", "apache.org", "192.168.1.103:1714", "192.168.1.146:8080"):
        "CONNECT in packet 4 names it; nDPI: HTTP_Connect",
}


# Names that are not host names cordon can have a rule for, with the reason. These flows are
# excluded from recall (and counted as excluded).
NAME_RE = re.compile(r"^[a-z0-9_*]([a-z0-9_.-]*[a-z0-9_])?$")


def ip_literal(name):
    try:
        return ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return None


def rule_for(fl):
    """The rule that names this flow's host: `=name`, or for an HTTP Host that is an IP literal
    the URL rule `http://IP/` (a Host is not always the destination: behind NAT or a proxy it
    differs, e.g. WebattackSQLinj.pcap sends Host 205.174.165.68 to 192.168.10.50, so IP rules
    would not measure Host extraction). None when no rule can name it (unlistable_reason)."""
    if unlistable_reason(fl):
        return None
    ip = ip_literal(fl["name"])
    if ip is not None:
        return "http://%s/" % (("[%s]" if ip.version == 6 else "%s") % ip)
    return "=" + fl["name"]


def unlistable_reason(fl):
    name = fl["name"]
    if ip_literal(name) is not None:
        if fl["proto"] == "http":
            return None  # scored with a URL rule, see rule_for
        return ("the %s name is an IP literal (a TLS server_name must not be one, RFC 6066 "
                "section 3); cordon's name rules take host names (`=1.2.3.4` is rejected) and "
                "an IP/CIDR rule enforces on the address, not the name" % fl["proto"])
    if not NAME_RE.match(name) or ".." in name:
        return ("nDPI printed bytes that are not host-name characters (it renders them as '?' "
                "or prints a format string); the name on the wire differs, so the rule cannot "
                "name it")
    return None


# ---- captures in other link types, rewritten as Ethernet (cordon sees Ethernet frames) ----

DLT_NULL, DLT_EN10MB, DLT_PPP, DLT_RAW, DLT_RAW_BSD, DLT_LOOP = 0, 1, 9, 101, 12, 108
DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_IPV4, DLT_IPV6 = 113, 276, 228, 229


def to_ethernet(linktype, data):
    """An IP packet of link type `linktype` as an Ethernet II frame; None if not IP."""
    if linktype == DLT_EN10MB:
        return data
    ip = None
    if linktype in (DLT_NULL, DLT_LOOP) and len(data) >= 4:
        ip = data[4:]
    elif linktype in (DLT_RAW, DLT_RAW_BSD, DLT_IPV4, DLT_IPV6, 14):
        ip = data
    elif linktype == DLT_PPP and len(data) >= 2:
        off = 2 if data[:2] == b"\xff\x03" else 0
        proto = struct.unpack(">H", data[off:off + 2])[0] if len(data) >= off + 2 else 0
        ip = data[off + 2:] if proto in (0x0021, 0x0057) else None
    elif linktype == DLT_LINUX_SLL and len(data) >= 16:
        proto = struct.unpack(">H", data[14:16])[0]
        ip = data[16:] if proto in (0x0800, 0x86DD) else None
    elif linktype == DLT_LINUX_SLL2 and len(data) >= 20:
        proto = struct.unpack(">H", data[0:2])[0]
        ip = data[20:] if proto in (0x0800, 0x86DD) else None
    if not ip:
        return None
    ver = ip[0] >> 4
    if ver not in (4, 6):
        return None
    ethertype = 0x0800 if ver == 4 else 0x86DD
    return b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + \
        struct.pack(">H", ethertype) + ip


def read_packets(path):
    """Yields (linktype, ts_sec, ts_usec, bytes) from a pcap or pcapng file."""
    with open(path, "rb") as f:
        buf = f.read()
    magic = buf[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1",
                 b"\xa1\xb2\x3c\x4d"):
        e = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
        nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
        linktype = struct.unpack(e + "I", buf[20:24])[0] & 0x0fffffff
        pos = 24
        while pos + 16 <= len(buf):
            sec, frac, incl, _ = struct.unpack(e + "IIII", buf[pos:pos + 16])
            pos += 16
            yield linktype, sec, frac // 1000 if nano else frac, buf[pos:pos + incl]
            pos += incl
        return
    # pcapng (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng): SHB, IDB, EPB/SPB.
    pos, e, ifaces = 0, "<", []
    while pos + 12 <= len(buf):
        btype = struct.unpack(e + "I", buf[pos:pos + 4])[0]
        if btype == 0x0A0D0D0A:
            e = "<" if buf[pos + 8:pos + 12] == b"\x4d\x3c\x2b\x1a" else ">"
            ifaces = []
        blen = struct.unpack(e + "I", buf[pos + 4:pos + 8])[0]
        if blen < 12:
            break
        body = buf[pos + 8:pos + blen - 4]
        if btype == 1:
            linktype = struct.unpack(e + "H", body[0:2])[0]
            tsres = 1e-6
            opos = 8
            while opos + 4 <= len(body):
                code, olen = struct.unpack(e + "HH", body[opos:opos + 4])
                if code == 0:
                    break
                if code == 9 and olen >= 1:
                    v = body[opos + 4]
                    tsres = 2.0 ** -(v & 0x7f) if v & 0x80 else 10.0 ** -v
                opos += 4 + (olen + 3) // 4 * 4
            ifaces.append((linktype, tsres))
        elif btype == 6 and ifaces:
            iface, hi, lo, incl = struct.unpack(e + "IIII", body[0:16])
            lt, tsres = ifaces[iface] if iface < len(ifaces) else ifaces[0]
            ts = ((hi << 32) | lo) * tsres
            yield lt, int(ts), int(round((ts - int(ts)) * 1e6)) % 1000000, body[20:20 + incl]
        elif btype == 3 and ifaces:
            olen = struct.unpack(e + "I", body[0:4])[0]
            yield ifaces[0][0], 0, 0, body[4:4 + min(olen, len(body) - 4)]
        pos += blen


def csum(data):
    if len(data) % 2:
        data += b"\x00"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xffff) + (total >> 16)
    return total


def fix_checksums(frame):
    """Recomputes TCP/UDP checksums of an Ethernet frame, as they are on the wire. Captures
    taken on the sending host hold offloaded (unfinished) checksums, which cordon rightly
    refuses to inspect (a segment the receiver discards must not decide anything)."""
    pos, ethertype = 12, struct.unpack(">H", frame[12:14])[0] if len(frame) >= 14 else 0
    while ethertype in (0x8100, 0x88A8) and len(frame) >= pos + 6:
        pos += 4
        ethertype = struct.unpack(">H", frame[pos:pos + 2])[0]
    ip = pos + 2
    if ethertype == 0x0800 and len(frame) >= ip + 20:
        ihl = (frame[ip] & 0x0f) * 4
        total = struct.unpack(">H", frame[ip + 2:ip + 4])[0]
        frag = struct.unpack(">H", frame[ip + 6:ip + 8])[0]
        proto = frame[ip + 9]
        if frag & 0x3fff or ihl < 20 or total < ihl or len(frame) < ip + total:
            return frame
        l4, l4len = ip + ihl, total - ihl
        pseudo = frame[ip + 12:ip + 20] + struct.pack(">BBH", 0, proto, l4len)
    elif ethertype == 0x86DD and len(frame) >= ip + 40:
        plen = struct.unpack(">H", frame[ip + 4:ip + 6])[0]
        proto = frame[ip + 6]
        if len(frame) < ip + 40 + plen:
            return frame
        l4, l4len = ip + 40, plen
        pseudo = frame[ip + 8:ip + 40] + struct.pack(">IxxxB", l4len, proto)
    else:
        return frame
    if proto == 6 and l4len >= 20:
        off = l4 + 16
    elif proto == 17 and l4len >= 8:
        if ethertype == 0x0800 and frame[l4 + 6:l4 + 8] == b"\x00\x00":
            return frame  # IPv4 UDP without a checksum
        off = l4 + 6
    else:
        return frame
    seg = bytearray(frame[l4:l4 + l4len])
    seg[off - l4:off - l4 + 2] = b"\x00\x00"
    c = 0xffff - csum(pseudo + bytes(seg))
    if proto == 17 and c == 0:
        c = 0xffff
    return frame[:off] + struct.pack(">H", c) + frame[off + 2:]


def linktypes(path):
    seen = set()
    for lt, _, _, _ in read_packets(path):
        seen.add(lt)
    return seen


def ethernet_copy(src, dst):
    """Writes `src` as a microsecond pcap of Ethernet frames with wire checksums (see
    fix_checksums); frames of other link types are rewritten as Ethernet, non-IP ones
    dropped. Packet order, timestamps and IP packets are otherwise unchanged."""
    with open(dst, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 262144, DLT_EN10MB))
        for lt, sec, usec, data in read_packets(src):
            frame = to_ethernet(lt, data)
            if frame is not None:
                frame = fix_checksums(frame)
                out.write(struct.pack("<IIII", sec, usec, len(frame), len(frame)) + frame)


def ip_candidates(text):
    """The addresses an nDPI-printed IP may be. nDPI sometimes prints an IPv6 address with two
    '::' (e.g. '2600:1901::7a0b::'), which is ambiguous; every expansion is a candidate."""
    try:
        return frozenset([ipaddress.ip_address(text)])
    except ValueError:
        pass
    parts = text.split("::")
    groups = [[g for g in p.split(":") if g] for p in parts]
    fixed = sum(len(g) for g in groups)
    gaps = len(parts) - 1
    out = set()

    def fill(i, left, acc):
        if i == gaps:
            if left == 0:
                out.add(ipaddress.ip_address(":".join(acc + groups[-1])))
            return
        for z in range(1, left - (gaps - i - 1) + 1):
            fill(i + 1, left - z, acc + groups[i] + ["0"] * z)

    if gaps >= 1 and fixed < 8:
        fill(0, 8 - fixed, [])
    if not out:
        raise ValueError("cannot read address %r" % text)
    return frozenset(out)


def norm_endpoint(ep):
    """'1.2.3.4:80' or '[2001:db8::1]:80' -> (candidate addresses, port)."""
    if ep.startswith("["):
        host, _, port = ep[1:].partition("]:")
    else:
        host, _, port = ep.rpartition(":")
    return (ip_candidates(host), int(port))


def fmt_endpoint(ep):
    ip, port = ep
    return ("[%s]:%d" if ip.version == 6 else "%s:%d") % (ip, port)


def load_expected(path):
    by_capture = collections.OrderedDict()
    with open(path, encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        if header[:6] != ["capture", "l4", "endpoint_a", "endpoint_b", "proto", "name"]:
            raise SystemExit("%s: unexpected header %r" % (path, header))
        for line in f:
            if not line.strip():
                continue
            capture, l4, a, b, proto, name = line.rstrip("\n").split("\t")[:6]
            by_capture.setdefault(capture, []).append(
                {"l4": l4, "a": a, "b": b, "proto": proto, "name": name.lower().rstrip("."),
                 "eps": (norm_endpoint(a), norm_endpoint(b))})
    return by_capture


def run_capture(cordond, corpus, capture, flows, workdir):
    """Replays one capture; returns (capture, events, error or None, seconds)."""
    base = os.path.join(workdir, capture.replace("/", "_"))
    rules = base + ".list"
    lines = sorted({rule_for(fl) for fl in flows if rule_for(fl)})
    with open(rules, "w", encoding="utf-8") as f:
        f.write("# names nDPI reports for %s\n" % capture)
        for line in lines:
            f.write(line + "\n")
    events_path = base + ".events.jsonl"
    replay_in = os.path.join(corpus, capture)
    try:
        ethernet_copy(replay_in, base + ".eth.pcap")
        replay_in = base + ".eth.pcap"
    except (OSError, struct.error, IndexError) as e:
        return capture, [], "cannot read capture: %s" % e, 0.0
    cmd = [cordond, "--rules", rules, "--replay", replay_in,
           "--write", base + ".out.pcap", "--events", events_path]
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        return capture, [], "timeout", time.monotonic() - t0
    dt = time.monotonic() - t0
    if p.returncode != 0:
        return capture, [], "exit %d: %s" % (p.returncode, p.stderr.strip()[-300:]), dt
    try:
        json.loads(p.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return capture, [], "no JSON summary on stdout: %r" % p.stdout[-200:], dt
    events = []
    with open(events_path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                events.append(json.loads(line))
    for path in (base + ".out.pcap", events_path, rules, base + ".eth.pcap"):
        try:
            os.unlink(path)
        except OSError:
            pass
    return capture, events, None, dt


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cordond", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--only", action="append", help="run only this capture (repeatable)")
    ap.add_argument("--verbose", "-v", action="store_true")
    args = ap.parse_args()

    expected_path = os.path.join(args.corpus, "expected.tsv")
    if not os.path.isfile(expected_path):
        print("SKIP: corpus not found (%s absent); see ../shared/corpus/README.md" % expected_path)
        return SKIP
    if not os.access(args.cordond, os.X_OK):
        print("cordond not executable: %s" % args.cordond)
        return 1
    by_capture = load_expected(expected_path)
    if args.only:
        by_capture = collections.OrderedDict((c, by_capture[c]) for c in args.only)

    t0 = time.monotonic()
    results = {}
    with tempfile.TemporaryDirectory(prefix="cordon-corpus-") as work:
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as ex:
            futs = [ex.submit(run_capture, args.cordond, args.corpus, c, fl, work)
                    for c, fl in by_capture.items()]
            for fut in concurrent.futures.as_completed(futs):
                capture, events, err, dt = fut.result()
                results[capture] = (events, err, dt)

    total = collections.Counter()
    found = collections.Counter()
    excluded = collections.Counter()
    misses, fps, extra_ok, errors = [], [], [], []
    for capture, flows in by_capture.items():
        events, err, _ = results[capture]
        if err:
            errors.append((capture, err))
        if capture in CAPTURES_EXCLUDED:
            for fl in flows:
                excluded[fl["proto"]] += 1
            continue
        used = set()
        for fl in flows:
            key = (capture, fl["proto"], fl["name"], fl["a"], fl["b"])
            if key in EXCLUDED or unlistable_reason(fl):
                excluded[fl["proto"]] += 1
                # Events for an excluded flow are not false positives.
                for i, ev in enumerate(events):
                    if ev_matches(ev, fl):
                        used.add(i)
                continue
            total[fl["proto"]] += 1
            hit = [i for i, ev in enumerate(events) if ev_matches(ev, fl)]
            if hit:
                found[fl["proto"]] += 1
                used.update(hit)
            else:
                misses.append(key)
        names = {fl["name"] for fl in flows}
        for i, ev in enumerate(events):
            if i in used:
                continue
            host = ev.get("host", "")
            # Another event for a listed flow (a second query, a retransmission) is fine.
            if any(ev_matches_name_eps(ev, fl) for fl in flows):
                continue
            cl = fmt_endpoint((ipaddress.ip_address(ev["src_ip"]), ev.get("src_port", 0)))
            sv = fmt_endpoint((ipaddress.ip_address(ev["dest_ip"]), ev.get("dest_port", 0)))
            k = (capture, ev.get("app_proto"), host, cl, sv)
            if host in names and k in EXTRA_OK:
                extra_ok.append(k)
                continue
            fps.append(k)

    ok = True
    print("cordon accuracy on %d captures in %s (%.1f s)" % (
        len(by_capture), args.corpus, time.monotonic() - t0))
    print("%-5s %8s %8s %8s %9s  goal" % ("proto", "listed", "found", "recall", "excluded"))
    for proto in ("dns", "http", "tls", "quic"):
        n = total[proto]
        r = found[proto] / n if n else 1.0
        good = r >= GOALS[proto]
        ok &= good
        print("%-5s %8d %8d %7.2f%% %9d  >= %.0f%% %s" % (
            proto, n, found[proto], 100 * r, excluded[proto], 100 * GOALS[proto],
            "ok" if good else "NOT MET"))
    print("false positives: %d (goal 0)%s" % (len(fps), "" if not fps else " NOT MET"))
    print("replay errors:   %d (goal 0)%s" % (len(errors), "" if not errors else " NOT MET"))
    ok &= not fps and not errors
    for k in misses:
        print("MISS  %s %s %s %s<->%s" % (k[0], k[1], k[2], k[3], k[4]))
    for k in fps:
        print("FP    %s %s %s %s->%s" % k)
    for capture, err in errors:
        print("ERROR %s: %s" % (capture, err))
    if args.verbose:
        for k in extra_ok:
            print("EXTRA %s %s %s %s->%s (allowed: %s)" % (k + (EXTRA_OK[k],)))
        for k, why in EXCLUDED.items():
            print("EXCL  %s %s %s %s<->%s: %s" % (k + (why,)))
        for c, why in CAPTURES_EXCLUDED.items():
            print("EXCL  %s (whole capture): %s" % (c, why))
        slow = sorted(((dt, c) for c, (_, _, dt) in results.items()), reverse=True)[:5]
        print("slowest: " + ", ".join("%s %.1fs" % (c, dt) for dt, c in slow))
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


def ev_eps(ev):
    try:
        return ((ipaddress.ip_address(ev["src_ip"]), int(ev.get("src_port", 0))),
                (ipaddress.ip_address(ev["dest_ip"]), int(ev.get("dest_port", 0))))
    except (KeyError, ValueError):
        return None


def ep_match(ep, cand):
    return ep[1] == cand[1] and ep[0] in cand[0]


def eps_match(ev, fl):
    e = ev_eps(ev)
    if e is None:
        return False
    a, b = fl["eps"]
    return (ep_match(e[0], a) and ep_match(e[1], b)) or (ep_match(e[0], b) and ep_match(e[1], a))


def ev_matches(ev, fl):
    return ev_matches_name_eps(ev, fl)


def ev_matches_name_eps(ev, fl):
    return ev.get("host", "").rstrip(".") == fl["name"] and eps_match(ev, fl)


if __name__ == "__main__":
    sys.exit(main())
