#!/usr/bin/env python3
"""Writes the seed corpora in tests/fuzz/corpus/{dns,tls,http,quic,rules}/.

TLS seeds are the byte fixtures of the unit tests (tests/unit/inspect/tls_fixtures.h: the
RFC 8448 section 3 ClientHello and the loopback captures), read from that header so there is
one copy of the bytes; DNS and HTTP seeds are small messages built here; rule-list seeds are
the unit tests' sample lists (tests/unit/rules/data, rules/sample.list), each behind the byte
that picks its format in rules_fuzz.cc. Run from anywhere:
    python3 tests/fuzz/make_corpus.py
"""

import pathlib
import re
import struct

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "fuzz" / "corpus"


def fixture_arrays(header):
    text = header.read_text()
    arrays = {}
    for m in re.finditer(r"inline constexpr uint8_t (\w+)\[\] = \{(.*?)\};", text, re.S):
        arrays[m.group(1)] = bytes(int(h, 16) for h in re.findall(r"0x([0-9a-f]{2})", m.group(2)))
    return arrays


def hex_strings(header):
    """name -> bytes for every `inline constexpr const char* kName = "hex" "hex";`."""
    text = header.read_text()
    out = {}
    for m in re.finditer(r"inline constexpr const char\* (\w+) =\s*((?:\"[0-9a-f]*\"\s*)+);", text):
        out[m.group(1)] = bytes.fromhex("".join(re.findall(r'"([0-9a-f]*)"', m.group(2))))
    return out


def record(msg, version=0x0301):
    return struct.pack(">BHH", 0x16, version, len(msg)) + msg


def records(msg, size):
    return b"".join(record(msg[i:i + size], 0x0303) for i in range(0, len(msg), size))


def dns_query(labels, qtype=1, flags=0x0100, qid=0x1234):
    name = b"".join(bytes([len(l)]) + l for l in labels) + b"\x00"
    return struct.pack(">HHHHHH", qid, flags, 1, 0, 0, 0) + name + struct.pack(">HH", qtype, 1)


def write(kind, name, data):
    d = OUT / kind
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data)


def main():
    fx = fixture_arrays(ROOT / "tests" / "unit" / "inspect" / "tls_fixtures.h")
    rfc = fx["kRfc8448ClientHello"]
    write("tls", "rfc8448-one-record", record(rfc))
    write("tls", "rfc8448-records-of-50", records(rfc, 50))
    write("tls", "rfc8448-message", rfc)
    write("tls", "openssl-sni", fx["kOpensslSniRecord"])
    write("tls", "curl-sni", fx["kCurlSniRecord"])
    write("tls", "openssl-no-sni", fx["kOpensslNoSniRecord"])

    write("dns", "www-example-com-a", dns_query([b"www", b"Example", b"COM"]))
    write("dns", "escaped-label", dns_query([b"a.b", b"\xff\\", b"com"], qtype=28))
    # "www" then a pointer to offset 0, where the id 0x0161 reads as the label "a".
    hdr = struct.pack(">HHHHHH", 0x0161, 0, 1, 0, 0, 0)
    write("dns", "pointer", hdr + b"\x03www\xc0\x00" + struct.pack(">HH", 1, 1))
    q = dns_query([b"tcp", b"example"], qtype=65)
    write("dns", "tcp-two-frames", struct.pack(">H", len(q)) + q + struct.pack(">H", len(q)) + q)

    qx = hex_strings(ROOT / "tests" / "unit" / "inspect" / "quic_fixtures.h")
    write("quic", "rfc9001-client-initial", qx["kRfc9001ProtectedPacket"])
    write("quic", "rfc9001-crypto-frame", qx["kRfc9001CryptoFrame"] + bytes(40))
    # Frames: PADDING, PING, ACK, CRYPTO, CONNECTION_CLOSE (tests/unit/inspect/quic_initial_test.cc).
    write("quic", "frames", bytes.fromhex("0000010205000102000103050000000000000600"
                                          "03aabbcc1c00000178"))
    sni = b"www.google.com"
    write("quic", "chlo", b"CHLO\x02\x00\x00\x00SNI\x00" + struct.pack("<I", len(sni)) +
          b"VER\x00" + struct.pack("<I", len(sni) + 4) + sni + b"Q043")

    write("http", "curl-get", b"GET /a/b?q=1 HTTP/1.1\r\nHost: www.example.com:18080\r\n"
          b"User-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n")
    write("http", "proxy-absolute-form", b"GET http://user@proxied.example:8080/x?y HTTP/1.1\r\n"
          b"Host: proxied.example:8080\r\nProxy-Connection: Keep-Alive\r\n\r\n")
    write("http", "connect", b"CONNECT tunnel.example:443 HTTP/1.1\r\nHost: tunnel.example:443\r\n\r\n")
    write("http", "post-body", b"POST /up HTTP/1.0\r\nhost: [2001:db8::1]:80\r\n"
          b"Content-Length: 3, 3\r\nX-Fold: a\r\n b\r\n\r\nabc")
    write("http", "chunked-bare-lf", b"PUT /c HTTP/1.1\nHost: c.example\n"
          b"Transfer-Encoding: gzip, chunked\n\n")

    # rules_fuzz: first byte % 7 = auto, list, hosts, rpz, adguard, csv, feed.
    data = ROOT / "tests" / "unit" / "rules" / "data"
    for name, fmt, path in [("sample", 1, ROOT / "rules" / "sample.list"),
                            ("hosts", 2, data / "hosts.txt"), ("rpz", 3, data / "zone.rpz"),
                            ("adguard", 4, data / "adguard.txt"), ("csv", 5, data / "registry.csv"),
                            ("feed-yaml", 6, data / "feed.yaml"), ("feed-jsonl", 6, data / "feed.jsonl"),
                            ("auto-rpz", 0, data / "zone.rpz")]:
        write("rules", name, bytes([fmt]) + path.read_bytes()[:3000])


if __name__ == "__main__":
    main()
