#!/usr/bin/env bash
# Refreshes the real-client fixtures pcaps/real_*/ (input.pcap, expect.yaml, README.md): each
# capture is made by a real client from Debian 12 talking to real servers across a veth pair
# between two throwaway network namespaces, then trimmed to the packets that matter.
#
#   [client ns] cap0 198.51.100.7 ==veth== 203.0.113.10 cap1 [server ns: nginx (HTTP, HTTPS),
#                                                             dnsmasq, gtlsserver (QUIC)]
#
# Addresses (RFC 5737) and MACs (RFC 7042) are the documentation ones the generated cases use;
# they are set on the interfaces, so the captured bytes are exactly what the kernels sent (no
# rewriting, checksums as computed with every offload off). tcpdump listens on the client end.
#
# Run by hand, as root, to refresh the fixtures (CI only replays them):
#   sudo bash scripts/capture_real_clients.sh [OUT_DIR]       (default: pcaps/)
# Needs ip, ethtool, tcpdump (installed with apt-get if missing), nginx, dnsmasq, curl,
# openssl, chromium, gtlsclient, gtlsserver, dig and /usr/bin/python3 with scapy and
# cryptography (scripts/setup.sh installs them). Everything is torn down on exit.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$(realpath -m "${1:-$root/pcaps}")
[ "$(id -u)" -eq 0 ] || { echo "run as root" >&2; exit 1; }
command -v tcpdump >/dev/null || { apt-get update -qq && apt-get install -y -qq tcpdump; }

id=$$
cns=cordon-rcc-$id
sns=cordon-rcs-$id
cli0=rcc0$((id % 10000))
srv0=rcs0$((id % 10000))
client=198.51.100.7
server=203.0.113.10
client_mac=00:00:5e:00:53:01
server_mac=00:00:5e:00:53:02
work=$(mktemp -d)

cleanup() {
  set +e
  disown -a  # no "Killed" job reports for the servers killed below
  for ns in "$cns" "$sns"; do
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
  done
  rm -rf "/etc/netns/$cns"
  [ -n "${KEEP_WORK:-}" ] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM  # run the cleanup on a signal too

in_cli() { ip netns exec "$cns" "$@"; }
in_srv() { ip netns exec "$sns" "$@"; }

# --- network: one veth pair, offloads off on both ends (real checksums, no GSO/GRO merging),
# IPv6 off (no router solicitations or MLD in the captures).
ip netns add "$cns"
ip netns add "$sns"
ip link add "$cli0" address "$client_mac" type veth peer name "$srv0" address "$server_mac"
ip link set "$cli0" netns "$cns"
ip link set "$srv0" netns "$sns"
for ns in "$cns" "$sns"; do
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
  ip netns exec "$ns" ip link set lo up
done
in_cli ip addr add "$client/32" dev "$cli0"
in_cli ip link set "$cli0" up
in_cli ip route add "$server/32" dev "$cli0" src "$client"
in_cli ethtool -K "$cli0" tx off rx off tso off gso off gro off >/dev/null
in_srv ip addr add "$server/32" dev "$srv0"
in_srv ip link set "$srv0" up
in_srv ip route add "$client/32" dev "$srv0" src "$server"
in_srv ethtool -K "$srv0" tx off rx off tso off gso off gro off >/dev/null

# The client namespace's /etc/hosts (ip netns exec bind-mounts /etc/netns/NAME/*), for
# gtlsclient, which takes a name and resolves it itself (it sends that name as SNI).
mkdir -p "/etc/netns/$cns"
echo "$server gtlsclient.blocked.test ffdhe.gtlsclient.blocked.test" >"/etc/netns/$cns/hosts"

# --- servers: nginx (HTTP, HTTPS) with a self-signed certificate for the test names, dnsmasq
# answering every test name, ngtcp2's gtlsserver (HTTP/3) on UDP 443.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=blocked.test \
  -addext "subjectAltName=DNS:blocked.test,DNS:*.blocked.test,DNS:*.gtlsclient.blocked.test" \
  -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
mkdir -p "$work/www" "$work/nginx"
echo "hello from the server" >"$work/www/index.html"
cat >"$work/nginx.conf" <<EOF
daemon off;
worker_processes 1;
user root;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path $work/nginx;
  proxy_temp_path $work/nginx;
  fastcgi_temp_path $work/nginx;
  uwsgi_temp_path $work/nginx;
  scgi_temp_path $work/nginx;
  server {
    listen $server:80;
    listen $server:443 ssl;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_certificate $work/cert.pem;
    ssl_certificate_key $work/key.pem;
    root $work/www;
  }
}
EOF
ip netns exec "$sns" nginx -c "$work/nginx.conf" -p "$work/nginx" &
ip netns exec "$sns" dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts \
  --listen-address="$server" --bind-interfaces --user=root --pid-file="$work/dnsmasq.pid" \
  --address=/blocked.test/"$server" 2>"$work/dnsmasq.err" &
ip netns exec "$sns" gtlsserver -q -d "$work/www" "$server" 443 "$work/key.pem" "$work/cert.pem" \
  >"$work/gtlsserver.log" 2>&1 &
up=0
for _ in $(seq 1 50); do
  if in_cli curl -s -m 1 -o /dev/null "http://$server/" &&
    in_cli dig +short +tries=1 +time=1 "@$server" ready.blocked.test | grep -q .; then
    up=1
    break
  fi
  sleep 0.2
done
[ "$up" -eq 1 ] || { echo "servers did not come up" >&2; exit 1; }
sleep 0.5  # let the readiness connections' last packets (FIN, TIME_WAIT ACK) pass

made=$(date -u +%Y-%m-%dT%H:%M:%SZ)
versions=$(dpkg-query -W -f='${Package} ${Version}\n' curl libcurl4 openssl libssl3 chromium \
  ngtcp2-client ngtcp2-server libngtcp2-9 libngtcp2-crypto-gnutls2 libgnutls30 bind9-dnsutils \
  nginx nginx-light dnsmasq-base tcpdump linux-image-amd64 python3-scapy 2>/dev/null || true)
versions+=$'\n'"kernel $(uname -r)"

# capture NAME KIND PORT LABEL CLIENT-ARGV...: one client run under tcpdump on the client end, then
# trimmed into $out/real_NAME/ by the helper below.
capture() {
  local name=$1 kind=$2 port=$3 label=$4
  shift 4
  local raw=$work/$name.pcap tp rc=0
  # ip netns exec execs tcpdump, so $! is tcpdump itself; SIGTERM (a background job ignores
  # SIGINT) makes it flush and exit.
  ip netns exec "$cns" tcpdump -i "$cli0" -n -U -s 0 -Z root -w "$raw" \
    2>"$work/$name.tcpdump" &
  tp=$!
  for _ in $(seq 1 50); do
    grep -q "listening on" "$work/$name.tcpdump" 2>/dev/null && break
    sleep 0.1
  done
  in_cli "$@" </dev/null >"$work/$name.out" 2>&1 || rc=$?
  sleep 1
  kill -TERM "$tp"
  wait "$tp" || true
  echo "== real_$name: client exited $rc; $(tail -1 "$work/$name.tcpdump")"
  /usr/bin/python3 "$work/trim.py" --raw "$raw" --case "$out/real_$name" --kind "$kind" \
    --label "$label" --note "${note:-}" --work "$work" --port "$port" --client "$client" \
    --server "$server" --made "$made" --command "$(printf '%q ' "$@")" --versions "$versions" --exit "$rc"
}

cat >"$work/trim.py" <<'PYEOF'
"""Trims one raw capture to the flows and packets that matter and writes input.pcap,
expect.yaml (expectations from ARCHITECTURE.md's default actions and the packets themselves:
the packet that completes the ClientHello / request / query is the trigger) and README.md."""
import argparse
import struct
import sys
from pathlib import Path

import yaml
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.l2 import Ether
from scapy.packet import raw
from scapy.utils import RawPcapReader

AFTER = 3  # packets of a flow kept after its trigger (all dropped by cordond)
RULE = "blocked.test"
NOTICE = "http://notice.example/blocked"
GROUPS = {0x11EC: "X25519MLKEM768", 0x6399: "X25519Kyber768Draft00", 0x001D: "x25519",
          0x0017: "secp256r1", 0x0018: "secp384r1", 0x0019: "secp521r1", 0x0100: "ffdhe2048",
          0x0101: "ffdhe3072", 0x0102: "ffdhe4096", 0x0103: "ffdhe6144", 0x0104: "ffdhe8192"}


def fail(msg):
    sys.exit(f"trim: {msg}")


# ------------------------------------------------------------------ TLS ClientHello

def client_hello_info(hs):
    """Offsets (in the handshake message) of the interesting parts of a ClientHello."""
    if hs[0] != 1:
        fail(f"handshake type {hs[0]} is not a ClientHello")
    n = 4 + int.from_bytes(hs[1:4], "big")
    off = 4 + 2 + 32
    off += 1 + hs[off]
    off += 2 + int.from_bytes(hs[off:off + 2], "big")
    off += 1 + hs[off]
    end = off + 2 + int.from_bytes(hs[off:off + 2], "big")
    off += 2
    info = {"len": n, "exts": [], "sni": None, "shares": [], "ech": False}
    while off + 4 <= end:
        t, ln = struct.unpack("!HH", hs[off:off + 4])
        body = hs[off + 4:off + 4 + ln]
        info["exts"].append((t, off, ln))
        if t == 0:
            nl = int.from_bytes(body[3:5], "big")
            info["sni"] = body[5:5 + nl].decode()
            info["sni_off"] = off
        elif t == 51:
            k = 2
            while k + 4 <= len(body):
                g, kl = struct.unpack("!HH", body[k:k + 4])
                info["shares"].append((g, kl))
                k += 4 + kl
        elif t == 0xFE0D:
            info["ech"] = True
        off += 4 + ln
    return info


def group_name(g):
    if g & 0x0F0F == 0x0A0A and g >> 8 == g & 0xFF:
        return f"GREASE 0x{g:04x}"  # RFC 8701
    return GROUPS.get(g, f"0x{g:04x}")


def share_text(info):
    return ", ".join(f"{group_name(g)} ({kl} byte{'s' if kl != 1 else ''})"
                     for g, kl in info["shares"])


# ------------------------------------------------------------------ QUIC v1 Initials (RFC 9001)

def expand_label(secret, label, length):
    full = b"tls13 " + label.encode()
    info = struct.pack("!HB", length, len(full)) + full + b"\x00"
    return HKDFExpand(hashes.SHA256(), length, info).derive(secret)


def client_initial_keys(dcid):
    h = hmac.HMAC(bytes.fromhex("38762cf7f55934b34d179ae6a4c80cadccbb7f0a"), hashes.SHA256())
    h.update(dcid)
    sec = expand_label(h.finalize(), "client in", 32)
    return (expand_label(sec, "quic key", 16), expand_label(sec, "quic iv", 12),
            expand_label(sec, "quic hp", 16))


def varint(b, off):
    n = 1 << (b[off] >> 6)
    v = b[off] & 0x3F
    for k in range(1, n):
        v = (v << 8) | b[off + k]
    return v, off + n


def quic_crypto_frames(dgram, keys_for):
    """(dcid, [(crypto offset, data)], [packet descriptions]) of a client datagram."""
    frames, desc, off, dcid = [], [], 0, None
    while off < len(dgram) and dgram[off] & 0x80:
        b0 = dgram[off]
        ver = int.from_bytes(dgram[off + 1:off + 5], "big")
        if ver != 1:
            fail(f"QUIC version {ver:#x} (only v1 is decoded here)")
        p = off + 5
        dcid_ = dgram[p + 1:p + 1 + dgram[p]]
        p += 1 + dgram[p]
        p += 1 + dgram[p]
        ptype = (b0 >> 4) & 3
        if ptype != 0:
            desc.append(f"long header type {ptype}")
            break
        tl, p = varint(dgram, p)
        p += tl
        length, p = varint(dgram, p)
        dcid = dcid or dcid_
        key, iv, hp = keys_for(dcid)
        sample = dgram[p + 4:p + 20]
        enc = Cipher(algorithms.AES(hp), modes.ECB()).encryptor()
        mask = enc.update(sample) + enc.finalize()
        first = b0 ^ (mask[0] & 0x0F)
        pnl = (first & 3) + 1
        pn_bytes = bytes(x ^ y for x, y in zip(dgram[p:p + pnl], mask[1:1 + pnl]))
        header = bytes([first]) + dgram[off + 1:p] + pn_bytes
        pn = int.from_bytes(pn_bytes, "big")
        nonce = bytes(x ^ y for x, y in zip(iv, pn.to_bytes(12, "big")))
        plain = AESGCM(key).decrypt(nonce, bytes(dgram[p + pnl:p + length]), header)
        k, kinds = 0, []
        while k < len(plain):
            t, k = varint(plain, k)
            if t == 0:
                if not kinds or kinds[-1] != "PADDING":
                    kinds.append("PADDING")
            elif t == 1:
                kinds.append("PING")
            elif t == 6:
                co, k = varint(plain, k)
                cl, k = varint(plain, k)
                frames.append((co, plain[k:k + cl]))
                kinds.append(f"CRYPTO[{co}..{co + cl})")
                k += cl
            else:
                kinds.append(f"frame {t:#x}")
                break
        desc.append(f"Initial pn {pn}, {length} bytes: {', '.join(kinds)}")
        off = p + length
    return dcid, frames, desc


# ------------------------------------------------------------------ packets and flows

def load(path, client, server):
    pkts = []
    for data, meta in RawPcapReader(str(path)):
        e = Ether(data)
        if IP not in e or {e[IP].src, e[IP].dst} != {client, server}:
            continue
        l4 = TCP if TCP in e else UDP if UDP in e else None
        if l4 is None:
            continue
        q = Ether(data)
        for layer in (IP, l4):
            q[layer].chksum = None
        if raw(q) != data:
            fail("a packet's checksums are not right (offloads on?): " + e.summary())
        up = e[IP].src == client
        cport, sport = (e[l4].sport, e[l4].dport) if up else (e[l4].dport, e[l4].sport)
        if l4 is TCP:
            ln = e[IP].len - e[IP].ihl * 4 - e[TCP].dataofs * 4
            pl = raw(e[TCP])[e[TCP].dataofs * 4:][:ln]
        else:
            pl = raw(e[UDP])[8:e[UDP].len]
        pkts.append({"data": data, "ts": (meta.sec, meta.usec), "e": e, "up": up, "pl": pl,
                     "flow": (l4.__name__, cport, sport), "note": ""})
    return pkts


def flows(pkts, proto, port):
    seen = {}
    for i, p in enumerate(pkts):
        if p["flow"][0] == proto and p["flow"][2] == port:
            seen.setdefault(p["flow"], []).append(i)
    return seen


def tcp_stream(pkts, idx):
    """Client payload segments of a TCP flow in order: [(packet index, stream offset, bytes)],
    up to the first one out of sequence (the trigger search fails if that is too early)."""
    segs, isn, nxt = [], None, None
    for i in idx:
        p = pkts[i]
        t = p["e"][TCP]
        if not p["up"]:
            continue
        if t.flags & 0x02:
            isn = t.seq
            nxt = 0
            continue
        if not p["pl"]:
            continue
        rel = (t.seq - isn - 1) & 0xFFFFFFFF
        if rel != nxt:  # a retransmission or a loss: the in-order prefix is enough here
            break
        segs.append((i, rel, p["pl"]))
        nxt = rel + len(p["pl"])
    return segs


def tls_trigger(pkts, idx):
    segs = tcp_stream(pkts, idx)
    stream, recs, hs = b"", [], b""
    for i, off, pl in segs:
        stream += pl
        # handshake bytes available so far, record by record
        hs, recs, k = b"", [], 0
        while k + 5 <= len(stream) and stream[k] == 0x16:
            ln = int.from_bytes(stream[k + 3:k + 5], "big")
            body = stream[k + 5:k + 5 + ln]
            recs.append((k + 5, len(hs), len(body)))
            hs += body
            if len(body) < ln:
                break
            k += 5 + ln
        if len(hs) >= 4 and len(hs) >= 4 + int.from_bytes(hs[1:4], "big"):
            break
    else:
        fail("no complete ClientHello from the client")
    info = client_hello_info(hs)

    def stream_off(h):  # handshake offset -> TCP stream offset
        for so, ho, ln in recs:
            if ho <= h < ho + ln:
                return so + h - ho
        return None

    def seg_of(h):
        so = stream_off(h)
        return next(j for j, (i, off, pl) in enumerate(segs) if off <= so < off + len(pl))

    used = [s for s in segs if s[1] < stream_off(info["len"] - 1) + 1]
    for j, (i, off, pl) in enumerate(used):
        lo = max(0, off - 5)
        pkts[i]["note"] = (f"ClientHello segment {j + 1} of {len(used)}: stream bytes "
                           f"{off}..{off + len(pl) - 1}")
    if info["sni"] is not None:
        pkts[used[seg_of(info["sni_off"])][0]]["note"] += f"; SNI {info['sni']} here"
    info["segments"] = [(i, len(pl)) for i, _, pl in used]
    info["record_len"] = sum(5 + ln for _, _, ln in recs)
    info["records"] = len(recs)
    return used[-1][0], info


def quic_trigger(pkts, idx):
    keys = {}

    def keys_for(dcid):
        if dcid not in keys:
            keys[dcid] = client_initial_keys(dcid)
        return keys[dcid]

    buf, have, first_dcid, used = {}, 0, None, []
    for i in idx:
        p = pkts[i]
        if not p["up"]:
            p["note"] = "server: " + ", ".join(describe_long(p["pl"]))
            continue
        dcid, frames, desc = quic_crypto_frames(p["pl"], keys_for)
        first_dcid = first_dcid or dcid
        p["note"] = "; ".join(desc)
        used.append(i)
        for co, data in frames:
            for k, b in enumerate(data):
                buf[co + k] = b
        while have in buf:
            have += 1
        hs = bytes(buf[k] for k in range(have))
        if have >= 4 and have >= 4 + int.from_bytes(hs[1:4], "big"):
            info = client_hello_info(hs)
            info["segments"] = [(j, len(pkts[j]["pl"])) for j in used]
            info["dcid"] = first_dcid.hex()
            sni_dg = None
            for j in used:
                _, fr, _ = quic_crypto_frames(pkts[j]["pl"], keys_for)
                if any(co <= info.get("sni_off", -1) < co + len(d) for co, d in fr):
                    sni_dg = j
            if sni_dg is not None:
                pkts[sni_dg]["note"] += f"; SNI {info['sni']} in this datagram"
            return i, info
    fail("no complete ClientHello in the client's Initials")


def describe_long(dg):
    out, off = [], 0
    names = ["Initial", "0-RTT", "Handshake", "Retry"]
    while off < len(dg) and dg[off] & 0x80:
        t = (dg[off] >> 4) & 3
        p = off + 5
        p += 1 + dg[p]
        p += 1 + dg[p]
        if t == 0:
            tl, p = varint(dg, p)
            p += tl
        if t == 3:
            out.append("Retry")
            break
        length, p = varint(dg, p)
        out.append(f"{names[t]} ({length} bytes)")
        off = p + length
    if off < len(dg):
        out.append(f"{len(dg) - off} bytes {'1-RTT' if dg[off] & 0x40 else 'padding'}")
    return out


def http_trigger(pkts, idx):
    segs = tcp_stream(pkts, idx)
    stream = b""
    for i, off, pl in segs:
        stream += pl
        if b"\r\n\r\n" in stream:
            head = stream.split(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")
            method, target, _ = head[0].split(" ")
            host = next(h.split(":", 1)[1].strip() for h in head[1:]
                        if h.lower().startswith("host:"))
            pkts[i]["note"] = f"HTTP request: {head[0]}, Host {host}"
            return i, {"host": host, "url": f"http://{host}{target}", "line": head[0]}
    fail("no complete HTTP request")


def dns_query_info(msg):
    qid, flags = struct.unpack("!HH", msg[:4])
    k, labels = 12, []
    while msg[k]:
        labels.append(msg[k + 1:k + 1 + msg[k]].decode())
        k += 1 + msg[k]
    q = msg[12:k + 5]
    return {"id": qid, "rd": bool(flags & 0x0100), "question": q.hex(),
            "host": ".".join(labels).lower(), "qtype": int.from_bytes(msg[k + 1:k + 3], "big")}


def dns_trigger(pkts, idx, proto):
    if proto == "UDP":
        i = next(j for j in idx if pkts[j]["up"])
        info = dns_query_info(pkts[i]["pl"])
        pkts[i]["note"] = f"DNS query id {info['id']:#06x} {info['host']} type {info['qtype']}"
        return i, info
    stream = b""
    for i, off, pl in tcp_stream(pkts, idx):
        stream += pl
        if len(stream) >= 2 and len(stream) >= 2 + int.from_bytes(stream[:2], "big"):
            info = dns_query_info(stream[2:])
            pkts[i]["note"] = (f"DNS query (length-prefixed) id {info['id']:#06x} {info['host']} "
                               f"type {info['qtype']}")
            return i, info
    fail("no complete DNS query over TCP")


# ------------------------------------------------------------------ writing the case

def write_pcap(path, pkts):
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1)]
    for p in pkts:
        out.append(struct.pack("<IIII", p["ts"][0], p["ts"][1], len(p["data"]), len(p["data"])))
        out.append(p["data"])
    Path(path).write_bytes(b"".join(out))


def flow_yaml(d):
    return yaml.safe_dump(d, default_flow_style=True, width=10000, sort_keys=False).strip()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--note", default="")
    ap.add_argument("--work", default="")
    for a in ("raw", "case", "kind", "label", "client", "server", "made", "command", "versions", "exit"):
        ap.add_argument("--" + a, required=True)
    ap.add_argument("--port", type=int, required=True)
    args = ap.parse_args()
    name = Path(args.case).name
    pkts = load(args.raw, args.client, args.server)
    if args.kind == "dns":
        picked = [(proto, idx) for proto in ("UDP", "TCP")
                  for idx in list(flows(pkts, proto, args.port).values())[:1]]
    else:
        proto = "UDP" if args.kind == "quic" else "TCP"
        fl = flows(pkts, proto, args.port)
        if not fl:
            fail(f"no {proto} flow to port {args.port} in the capture")
        picked = [(proto, next(iter(fl.values())))]
        if len(fl) > 1:
            print(f"trim: {len(fl)} flows to port {args.port}; keeping the first", file=sys.stderr)

    keep, status, injects, events, details = set(), {}, {}, [], []
    for proto, idx in picked:
        if args.kind == "tls":
            trig, info = tls_trigger(pkts, idx)
        elif args.kind == "quic":
            trig, info = quic_trigger(pkts, idx)
        elif args.kind == "http":
            trig, info = http_trigger(pkts, idx)
        else:
            trig, info = dns_trigger(pkts, idx, proto)
        pos = idx.index(trig)
        kept = idx[:pos + 1 + AFTER]
        keep.update(kept)
        for i in kept:
            status[i] = "fwd" if i < trig else "drop"
            if args.kind == "dns" and proto == "UDP" and i > trig and not pkts[i]["up"]:
                # ARCHITECTURE.md, DNS: "answer NXDOMAIN from the appliance; drop the query" -
                # the query, not a flow (TLS and QUIC say "the flow"). Inline, the resolver never
                # sees the query; this answer exists only because nothing was in the path.
                status[i] = "fwd"
                pkts[i]["note"] = ("the resolver's own answer (only in this capture: inline, the "
                                   "query never reaches it); not part of the drop")
        _, cport, sport = pkts[trig]["flow"]
        ev = {"event_type": "block", "action": None, "app_proto": None, "proto": proto,
              "src_ip": args.client, "src_port": cport, "dest_ip": args.server,
              "dest_port": sport}
        if args.kind == "tls":
            ev.update(action="reset", app_proto="tls", host=info["sni"])
            injects[trig] = [{"inject": "rst", "to": "client", "flags": "RA"},
                             {"inject": "rst", "to": "server", "flags": "RA"}]
        elif args.kind == "quic":
            ev.update(action="drop", app_proto="quic", host=info["sni"])
        elif args.kind == "http":
            ev.update(event_type="redirect", action="redirect", app_proto="http",
                      host=info["host"], url=info["url"])
            injects[trig] = [{"inject": "http_redirect", "to": "client", "status": 302,
                              "location": NOTICE},
                             {"inject": "rst", "to": "server", "flags": "RA"}]
        else:
            ev.update(action="nxdomain", app_proto="dns", host=info["host"])
            dns = {"inject": "dns", "to": "client"}
            if proto == "TCP":
                dns["transport"] = "tcp"
            dns.update(id=info["id"], question=info["question"], rd=info["rd"], rcode=3,
                       answers=[])
            injects[trig] = [dns] + ([{"inject": "rst", "to": "server", "flags": "RA"}]
                                     if proto == "TCP" else [])
        ev["rule"] = {"pattern": RULE}
        events.append((trig, ev))
        details.append((proto, trig, info))

    order = sorted(keep)
    for i in order:  # QUIC packets after the trigger: their long headers
        p = pkts[i]
        if args.kind == "quic" and not p["note"]:
            p["note"] = ("client: " if p["up"] else "server: ") + ", ".join(describe_long(p["pl"]))
    new = {old: k for k, old in enumerate(order)}
    output, nfwd, ninj = [], 0, 0
    for old in order:
        if status[old] == "fwd":
            output.append({"input": new[old]})
            nfwd += 1
        for inj in injects.get(old, []):
            item = {"inject": inj["inject"], "to": inj["to"], "trigger": new[old]}
            item.update({k: v for k, v in inj.items() if k not in ("inject", "to")})
            output.append(item)
            ninj += 1
    summary = {"packets_in": len(order), "packets_out": nfwd,
               "dropped": len(order) - nfwd, "injected": ninj,
               "blocked_flows": len(events), "events": len(events)}

    case = Path(args.case)
    case.mkdir(parents=True, exist_ok=True)
    write_pcap(case / "input.pcap", [pkts[i] for i in order])

    # ---- description of what the capture proves
    lines = []
    for proto, trig, info in details:
        if args.kind in ("tls", "quic"):
            segs = info["segments"]
            unit = "TCP segments" if args.kind == "tls" else "QUIC Initial datagrams"
            unit1 = "TCP segment" if args.kind == "tls" else "QUIC Initial datagram"
            where = " and ".join(f"#{new[i]}" for i, _ in segs)
            what = (f"a {info['len']}-byte ClientHello for {info['sni']} "
                    f"(key shares: {share_text(info)}{'; ECH extension' if info['ech'] else ''})"
                    f" in {len(segs)} {unit if len(segs) > 1 else unit1} ({where})")
            lines.append(what)
        elif args.kind == "http":
            lines.append(f"the request `{info['line']}` for Host {info['host']} (#{new[trig]})")
        else:
            lines.append(f"a DNS/{proto} query for {info['host']} (#{new[trig]})")
    desc = f"Real capture ({args.label}): " + "; ".join(lines) + "; the name is blocked."

    exp = ["# Captured by scripts/capture_real_clients.sh; checked by tests/pcap/run_case.py.",
           "# Packet indexes are 0-based positions in input.pcap. Expectations follow",
           "# ARCHITECTURE.md's default actions: the packet completing the ClientHello / request /",
           "# query is the trigger; it and every later packet of its flow are dropped.",
           yaml.safe_dump({"description": desc}, width=100, sort_keys=False).rstrip(),
           f"rules: |\n  {RULE}"]
    if args.kind == "http":
        exp.append("config:\n  actions:\n    http: " +
                   flow_yaml({"mode": "redirect", "location": NOTICE}))
    exp.append("summary: " + flow_yaml(summary))
    exp.append(yaml.safe_dump({"events": [ev for _, ev in events]}, sort_keys=False,
                              width=100).rstrip())
    exp.append("output:")
    for item in output:
        exp.append("- " + flow_yaml(item))
    (case / "expect.yaml").write_text("\n".join(exp) + "\n", encoding="utf-8")

    # ---- README
    rows = []
    triggers = {trig for _, trig, _ in details}
    t0 = pkts[order[0]]["ts"]
    for old in order:
        p = pkts[old]
        dt = (p["ts"][0] - t0[0]) * 1e3 + (p["ts"][1] - t0[1]) / 1e3
        e = p["e"]
        l4 = e[TCP] if TCP in e else e[UDP]
        fl = f" {e[TCP].flags}" if TCP in e else ""
        summ = (f"{e[IP].src}:{l4.sport} > {e[IP].dst}:{l4.dport} {p['flow'][0]}{fl}, "
                f"{len(p['pl'])} bytes payload")
        exp_s = "forwarded unchanged" if status[old] == "fwd" else "dropped"
        if old in triggers:
            exp_s = "dropped (trigger)" + ("; inject " + ", ".join(
                f"{i['inject']} to {i['to']}" for i in injects[old]) if old in injects else "")
        note = f" — {p['note']}" if p["note"] else ""
        rows.append(f"| {new[old]} | +{dt:.3f} ms | {summ}{note} | {exp_s} |")
    readme = [f"# {name}", "", desc, "",
              "## How it was made", "",
              f"By `scripts/capture_real_clients.sh` on {args.made} (as root): a veth pair between "
              "two throwaway network namespaces, every offload off on both ends (`ethtool -K IF "
              "tx off rx off tso off gso off gro off`), IPv6 off; the client namespace has "
              f"{args.client} (MAC 00:00:5e:00:53:01), the server namespace {args.server} (MAC "
              "00:00:5e:00:53:02) running nginx (HTTP on 80, HTTPS on 443 with a self-signed "
              "certificate for blocked.test and *.blocked.test), dnsmasq (every *.blocked.test "
              f"name -> {args.server}) and ngtcp2's `gtlsserver` (HTTP/3, UDP 443). `tcpdump -i "
              "cap0 -U -s 0 -w RAW` ran on the client end while the client ran once in the client "
              "namespace:", "",
              "```", args.command.replace(args.work, "$WORK").strip() if args.work else
              args.command.strip(), "```", "",
              *([args.note, ""] if args.note else []),
              f"The client exited {args.exit}. The raw capture was then trimmed (addresses, bytes "
              "and timestamps untouched; checksums verified): only the "
              + ("first query flow of each transport" if args.kind == "dns" else
                 "first flow to the server port") +
              f" was kept, up to its trigger and {AFTER} packets after it. Package versions "
              "(`dpkg-query -W`):", "",
              "```", args.versions.strip(), "```", "",
              "## What is in it", "",
              "| # | time | packet | expected |", "|---|---|---|---|", *rows, "",
              f"Rule list (`--rules`): `{RULE}`"
              + (f"; config `actions.http: {{mode: redirect, location: {NOTICE}}}`."
                 if args.kind == "http" else "; default actions (no config)."),
              "`expect.yaml` holds the exact expected summary, events and output sequence; "
              f"`tests/pcap/run_case.py` checks them (`ctest -R pcap.{name}`). Refresh with "
              "`sudo bash scripts/capture_real_clients.sh` (new captures differ in ports, "
              "sequence numbers, keys and times; the expectations are re-derived)."]
    (case / "README.md").write_text("\n".join(readme) + "\n", encoding="utf-8")
    size = (case / "input.pcap").stat().st_size
    print(f"   {name}: {len(order)} packets, {size} bytes; " + "; ".join(lines))


if __name__ == "__main__":
    main()
PYEOF

chrome=(env HOME="$work/chrome-home" timeout -k 2 15 /usr/bin/chromium --headless --no-sandbox
  --disable-gpu --no-first-run --no-default-browser-check --disable-background-networking
  --disable-component-update --disable-sync --ignore-certificate-errors
  --user-data-dir="$work/chrome-profile" --timeout=5000 --dump-dom)
fresh_chrome() { rm -rf "$work/chrome-home" "$work/chrome-profile"; }

# --- TLS over TCP
note="curl 7.88.1 with OpenSSL 3.0: one key share (x25519), the ClientHello fits one segment."
capture curl_https tls 443 "curl, TLS 1.3" curl -sS -k --tlsv1.3 --http1.1 \
  --resolve "curl.blocked.test:443:$server" -o /dev/null https://curl.blocked.test/
# OpenSSL 3.0 (Debian 12) has no ML-KEM: offer X25519MLKEM768 only where s_client knows it.
if openssl list -kem-algorithms 2>/dev/null | grep -qi mlkem; then
  groups=(-groups X25519MLKEM768:X25519)
  note="s_client offered X25519MLKEM768:X25519."
else
  groups=()
  note="Debian 12's OpenSSL 3.0 has no ML-KEM (\`openssl list -kem-algorithms\` lists none; \
\`-groups X25519MLKEM768:X25519\` is an error), so s_client ran with its default groups."
fi
capture openssl tls 443 "openssl s_client" openssl s_client -connect "$server:443" \
  -servername openssl.blocked.test "${groups[@]}"
fresh_chrome
note="Chromium opened a second (spare) connection to the same server; only the first, which \
carries the ClientHello, is kept. Chromium permutes its extensions, so where the SNI falls \
(first or second segment) changes from capture to capture."
capture chromium tls 443 "headless Chromium, TLS over TCP" "${chrome[@]}" --disable-quic \
  --host-resolver-rules="MAP chromium.blocked.test $server, MAP * ~NOTFOUND" \
  https://chromium.blocked.test/

# --- QUIC
fresh_chrome
note="QUIC v1; Chromium spreads its CRYPTO data over several frames in each Initial (out of \
order, with PING and PADDING between them)."
capture chromium_quic quic 443 "headless Chromium, QUIC" "${chrome[@]}" --enable-quic \
  --origin-to-force-quic-on=quic.chromium.blocked.test:443 \
  --host-resolver-rules="MAP quic.chromium.blocked.test $server, MAP * ~NOTFOUND" \
  https://quic.chromium.blocked.test/
note="gtlsclient 0.12 sends the name it connects to as SNI (resolved by the namespace's \
/etc/hosts, /etc/netns/NS/hosts). GnuTLS 3.7.9 (Debian 12) has no post-quantum group \
(\`--groups\` takes GnuTLS priority group names; none is hybrid/ML-KEM), so with its default \
groups the ClientHello fits one Initial; see real_gtlsclient_ffdhe for a two-Initial hello."
capture gtlsclient quic 443 "ngtcp2 gtlsclient, QUIC" timeout -k 1 6 gtlsclient -q \
  --timeout=2s --exit-on-all-streams-close gtlsclient.blocked.test 443 \
  https://gtlsclient.blocked.test/index.html
note="GnuTLS 3.7.9 has no post-quantum group; putting ffdhe8192 first makes GnuTLS send a \
1024-byte key share, which pushes the ClientHello over two Initials as a PQ key share would."
capture gtlsclient_ffdhe quic 443 "ngtcp2 gtlsclient, ffdhe8192 first, QUIC" timeout -k 1 6 \
  gtlsclient -q --timeout=2s --exit-on-all-streams-close \
  --groups=-GROUP-ALL:+GROUP-FFDHE8192:+GROUP-X25519 ffdhe.gtlsclient.blocked.test 443 \
  https://ffdhe.gtlsclient.blocked.test/index.html

# --- HTTP and DNS
note="The case configures \`actions.http\` redirect, so the request gets the 302 notice."
capture curl_http http 80 "curl, plain HTTP" curl -sS \
  --resolve "www.blocked.test:80:$server" -o /dev/null http://www.blocked.test/film.mp4
note="dig (BIND 9.18) sends EDNS with a cookie. DNS over UDP: only the query is dropped \
(ARCHITECTURE.md: \"answer NXDOMAIN from the appliance; drop the query\"), so the resolver's \
own answer, present here because nothing was in the path, is forwarded. DNS over TCP: the \
answer goes back on the connection and the server side is reset."
capture dig dns 53 "dig, UDP and TCP" sh -c "dig +tries=1 +time=2 @$server udp.dig.blocked.test A &&
  dig +tcp +tries=1 +time=2 @$server tcp.dig.blocked.test A"
echo "written under $out"
