#!/usr/bin/env bash
# End to end with real clients and servers: network namespaces "client" and "server" joined
# only through cordond, inline on two veth pairs (DPDK net_af_packet), two workers.
#
#   [client ns] cli0 ==veth== cli1 [cordond port "outside"]
#   [cordond port "inside"] srv1 ==veth== srv0 [server ns: nginx (HTTP, HTTPS), dnsmasq,
#                                               gtlsserver (HTTP/3 over QUIC, UDP 443)]
#
# Checks, from the client: HTTPS to a blocked name is reset within 1 s and an allowed one
# loads; openssl s_client to a blocked name gets no certificate; HTTP to a blocked name gets
# the 302 notice; dig over UDP and TCP gets NXDOMAIN for a blocked name and an answer for an
# allowed one; headless Chromium (a real browser ClientHello: GREASE, ECH GREASE, an
# X25519MLKEM768 key share across two TCP segments) loads an allowed HTTPS name and gets a
# reset for a blocked one; ngtcp2's gtlsclient gets a page over QUIC from an allowed name
# and nothing from a blocked one (the Initial is dropped); a 20 MB download arrives intact;
# the event log has TLS (curl and Chromium), HTTP, DNS and QUIC events naming only blocked
# names. Everything is torn down even on failure.
# Usage: netns_test.sh CORDOND   (root; needs ip, ethtool, nginx, dnsmasq, curl, dig, openssl,
# chromium, gtlsclient and gtlsserver: scripts/setup.sh installs them)
set -euo pipefail
cordond=$1
id=$$
cns=cordon-cli-$id
sns=cordon-srv-$id
cli0=ccl0$((id % 10000))
cli1=ccl1$((id % 10000))
srv0=csr0$((id % 10000))
srv1=csr1$((id % 10000))
work=$(mktemp -d)
cordond_pid=
fails=0

cleanup() {
  set +e
  [ -n "$cordond_pid" ] && kill "$cordond_pid" 2>/dev/null && wait "$cordond_pid" 2>/dev/null
  for ns in "$cns" "$sns"; do
    # Every process left in the namespace (nginx, dnsmasq, clients) goes with it.
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
  done
  rm -rf "/etc/netns/$cns"
  ip link del "$cli1" 2>/dev/null
  ip link del "$srv1" 2>/dev/null
  if [ "$fails" -ne 0 ] || [ -n "${KEEP_LOGS:-}" ]; then
    echo "--- cordond stderr"; cat "$work/cordond.err" 2>/dev/null
    echo "--- events"; cat "$work/events.jsonl" 2>/dev/null
  fi
  rm -rf "$work"
}
trap cleanup EXIT

check() {  # check DESCRIPTION COMMAND...: runs the command, records the outcome
  local what=$1
  shift
  if "$@"; then
    echo "ok   - $what"
  else
    echo "FAIL - $what"
    fails=$((fails + 1))
  fi
}

in_cli() { ip netns exec "$cns" "$@"; }
in_srv() { ip netns exec "$sns" "$@"; }

# The client namespace's /etc/hosts (ip netns exec bind-mounts /etc/netns/NAME/*): for
# clients that take a name and resolve it themselves (gtlsclient).
mkdir -p "/etc/netns/$cns"
echo "10.203.0.2 allowed.test blocked.test www.blocked.test" >"/etc/netns/$cns/hosts"

# --- network: two namespaces, two veth pairs, offloads off on every end (else af_packet
# hands out packets with partial checksums and GRO-merged frames).
ip netns add "$cns"
ip netns add "$sns"
ip link add "$cli0" type veth peer name "$cli1"
ip link add "$srv0" type veth peer name "$srv1"
ip link set "$cli0" netns "$cns"
ip link set "$srv0" netns "$sns"
in_cli ip addr add 10.203.0.1/24 dev "$cli0"
in_srv ip addr add 10.203.0.2/24 dev "$srv0"
for dev in "$cli1" "$srv1"; do
  ip link set "$dev" up
  ethtool -K "$dev" tx off rx off tso off gso off gro off >/dev/null 2>&1 || true
  sysctl -qw "net.ipv6.conf.$dev.disable_ipv6=1" || true
done
in_cli ip link set lo up
in_cli ip link set "$cli0" up
in_cli ethtool -K "$cli0" tx off rx off tso off gso off gro off >/dev/null 2>&1 || true
in_srv ip link set lo up
in_srv ip link set "$srv0" up
in_srv ethtool -K "$srv0" tx off rx off tso off gso off gro off >/dev/null 2>&1 || true

# --- server: nginx with one certificate for several names, plain HTTP, a 20 MB file; dnsmasq;
# gtlsserver (HTTP/3).
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=allowed.test \
  -addext "subjectAltName=DNS:allowed.test,DNS:blocked.test,DNS:www.blocked.test" \
  -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
mkdir -p "$work/www" "$work/nginx"
echo "hello from the server" >"$work/www/index.html"
head -c $((20 * 1024 * 1024)) /dev/urandom >"$work/www/big.bin"
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
    listen 10.203.0.2:80;
    listen 10.203.0.2:443 ssl;
    ssl_certificate $work/cert.pem;
    ssl_certificate_key $work/key.pem;
    root $work/www;
  }
}
EOF
in_srv nginx -c "$work/nginx.conf" -p "$work/nginx" &
in_srv dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts \
  --listen-address=10.203.0.2 --bind-interfaces --user=root --pid-file="$work/dnsmasq.pid" \
  --address=/allowed.test/10.203.0.2 --address=/blocked.test/10.203.0.2 \
  --address=/other.test/10.203.0.2 2>"$work/dnsmasq.err" &
# ngtcp2's example HTTP/3 server on UDP 443, same certificate and files.
in_srv gtlsserver -q -d "$work/www" 10.203.0.2 443 "$work/key.pem" "$work/cert.pem" \
  >"$work/gtlsserver.log" 2>&1 &

# --- cordond inline between the two veth ends, two workers.
cat >"$work/rules.list" <<EOF
# e2e blacklist
blocked.test
EOF
cat >"$work/config.yaml" <<EOF
dataplane:
  mode: inline
  workers: 2
  eal: [--no-huge, -m, "512"]
  ports:
    - {name: outside, dev: "net_af_packet_c$id,iface=$cli1"}
    - {name: inside, dev: "net_af_packet_s$id,iface=$srv1"}
rules:
  - {name: e2e, path: $work/rules.list, action: block}
actions:
  http: {mode: redirect, location: "http://notice.test/blocked"}
control: {socket: $work/cordon.sock, metrics: "127.0.0.1:0"}
EOF
"$cordond" --config "$work/config.yaml" --events "$work/events.jsonl" >"$work/summary.json" \
  2>"$work/cordond.err" &
cordond_pid=$!

# Ready when an allowed HTTP request crosses the bridge (ports up, servers listening).
ready=0
for _ in $(seq 1 100); do
  if in_cli curl -s -m 1 -o /dev/null http://10.203.0.2/; then ready=1; break; fi
  kill -0 "$cordond_pid" 2>/dev/null || break
  sleep 0.2
done
if [ "$ready" -ne 1 ]; then
  fails=1
  echo "FAIL - the bridge never carried an HTTP request"
  exit 1
fi
echo "ok   - bridge up"

resolve=(--resolve blocked.test:443:10.203.0.2 --resolve allowed.test:443:10.203.0.2
  --resolve blocked.test:80:10.203.0.2 --resolve allowed.test:80:10.203.0.2)

# HTTPS, blocked: the ClientHello is dropped and curl sees a reset, fast.
https_blocked() {
  local start end rc=0
  start=$(date +%s%N)
  in_cli curl -sSk -m 5 "${resolve[@]}" https://blocked.test/ -o /dev/null 2>"$work/curl.err" ||
    rc=$?
  end=$(date +%s%N)
  local ms=$(((end - start) / 1000000))
  echo "     curl https://blocked.test/: exit $rc after ${ms} ms: $(head -c 200 "$work/curl.err")"
  # 35: TLS connect error (reset during the handshake), 56: receive failure (reset).
  [[ $rc == 35 || $rc == 56 ]] && [ "$ms" -lt 1000 ]
}
check "HTTPS to a blocked name is reset within 1 s" https_blocked

https_allowed() {
  [ "$(in_cli curl -sk -m 5 "${resolve[@]}" https://allowed.test/)" = "hello from the server" ]
}
check "HTTPS to an allowed name loads" https_allowed

sclient_blocked() {
  local out
  out=$(echo | in_cli timeout 5 openssl s_client -connect 10.203.0.2:443 \
    -servername www.blocked.test 2>&1 || true)
  ! grep -q "BEGIN CERTIFICATE" <<<"$out"
}
check "openssl s_client to a blocked name gets no certificate" sclient_blocked

sclient_allowed() {
  echo | in_cli timeout 5 openssl s_client -connect 10.203.0.2:443 -servername allowed.test \
    2>/dev/null | grep -q "BEGIN CERTIFICATE"
}
check "openssl s_client to an allowed name gets the certificate" sclient_allowed

http_blocked() {
  local head
  head=$(in_cli curl -s -m 5 -D - -o /dev/null "${resolve[@]}" http://blocked.test/page || true)
  grep -q "^HTTP/1.1 302" <<<"$head" &&
    grep -qi "^location: http://notice.test/blocked" <<<"$head"
}
check "HTTP to a blocked name gets the 302 notice" http_blocked

dns_status() {  # dns_status NAME [+tcp] -> prints the rcode
  in_cli dig +tries=1 +time=3 "$@" @10.203.0.2 | sed -n 's/.*status: \([A-Z]*\).*/\1/p'
}
check "dig (UDP) for a blocked name: NXDOMAIN" test "$(dns_status www.blocked.test)" = NXDOMAIN
check "dig (TCP) for a blocked name: NXDOMAIN" \
  test "$(dns_status blocked.test +tcp)" = NXDOMAIN
check "dig (UDP) for an allowed name resolves" \
  test "$(in_cli dig +short +tries=1 +time=3 allowed.test @10.203.0.2)" = 10.203.0.2
check "dig (TCP) for an allowed name resolves" \
  test "$(in_cli dig +short +tcp +tries=1 +time=3 other.test @10.203.0.2)" = 10.203.0.2

# Headless Chromium: a real browser ClientHello (GREASE, ECH GREASE, an X25519MLKEM768 key
# share that makes the hello span two TCP segments). The two names map to the server; every
# other name (the browser's own background requests) fails to resolve.
chrome_map="MAP blocked.test 10.203.0.2, MAP allowed.test 10.203.0.2, MAP * ~NOTFOUND"
chrome() {  # chrome URL -> the page's DOM in $work/chrome.dom, the browser's log in chrome.err
  local dir start end rc=0
  dir=$(mktemp -d "$work/chrome.XXXX")
  start=$(date +%s%N)
  in_cli env HOME="$dir" timeout -k 2 12 /usr/bin/chromium --headless --no-sandbox \
    --disable-gpu --no-first-run --no-default-browser-check --disable-background-networking \
    --disable-component-update --disable-sync --ignore-certificate-errors \
    --user-data-dir="$dir" --timeout=8000 --dump-dom \
    --host-resolver-rules="$chrome_map" "$1" >"$work/chrome.dom" 2>"$work/chrome.err" || rc=$?
  end=$(date +%s%N)
  echo "     chromium $1: exit $rc after $(((end - start) / 1000000)) ms" \
    "$(grep -o "Page load failed: .*" "$work/chrome.err" | head -1)"
}
chrome_allowed() {
  chrome https://allowed.test/
  grep -q "hello from the server" "$work/chrome.dom"
}
check "Chromium loads an allowed HTTPS name" chrome_allowed
chrome_blocked() {  # no content, and the browser saw the connection reset
  chrome https://blocked.test/
  ! grep -q "hello from the server" "$work/chrome.dom" &&
    grep -q "net::ERR_CONNECTION_RESET" "$work/chrome.err"
}
check "Chromium gets no content from a blocked HTTPS name" chrome_blocked

# QUIC: ngtcp2's example HTTP/3 client and server. gtlsclient 0.12 sends "localhost" as SNI
# when given an address (--sni is ignored), so it gets the name, resolved by the namespace's
# hosts file. A blocked SNI is dropped: the client never completes the handshake and gives up
# after its idle timeout (about 3 s; it still exits 0, so the check is on the page).
quic() {  # quic NAME -> the client's exit status; the page lands in $work/quic/index.html
  rm -rf "$work/quic"
  mkdir -p "$work/quic"
  in_cli timeout -k 1 6 gtlsclient -q --timeout=2s --exit-on-all-streams-close \
    --download="$work/quic" "$1" 443 "https://$1/index.html" >"$work/quic.out" 2>&1
}
quic_allowed() {
  quic allowed.test && [ "$(cat "$work/quic/index.html" 2>/dev/null)" = "hello from the server" ]
}
check "QUIC (HTTP/3) to an allowed name loads" quic_allowed
quic_blocked() {
  local start end rc=0
  start=$(date +%s%N)
  quic www.blocked.test || rc=$?
  end=$(date +%s%N)
  echo "     gtlsclient www.blocked.test: exit $rc after $(((end - start) / 1000000)) ms:" \
    "$(head -c 200 "$work/quic.out")"
  [ ! -e "$work/quic/index.html" ] && [ "$rc" -ne 124 ] && [ "$rc" -ne 137 ]
}
check "QUIC (HTTP/3) to a blocked name gets nothing (handshake dropped)" quic_blocked

download() {
  in_cli curl -s -m 60 -o "$work/got.bin" http://10.203.0.2/big.bin &&
    [ "$(sha256sum <"$work/got.bin")" = "$(sha256sum <"$work/www/big.bin")" ]
}
check "a 20 MB download through the bridge arrives intact" download

# Stop cordond cleanly and check its own account of what happened.
kill "$cordond_pid"
wait "$cordond_pid" || { echo "FAIL - cordond exited non-zero"; fails=$((fails + 1)); }
cordond_pid=
events_ok() {
  /usr/bin/python3 - "$work/events.jsonl" "$work/summary.json" <<'EOF'
import json, sys
events = [json.loads(l) for l in open(sys.argv[1])]
summary = json.loads(open(sys.argv[2]).read())
kinds = {(e["app_proto"], e["action"]) for e in events}
want = {("tls", "reset"), ("http", "redirect"), ("dns", "nxdomain"), ("quic", "drop")}
missing = want - kinds
hosts = {e.get("host", "") for e in events}
bad = [h for h in hosts if not (h == "blocked.test" or h.endswith(".blocked.test"))]
# Only Chromium sends ECH (GREASE): its blocked ClientHello was read and reset.
chromium = any(e["app_proto"] == "tls" and e.get("ech") and e.get("host") == "blocked.test"
               for e in events)
quic = any(e["app_proto"] == "quic" and e.get("host") == "www.blocked.test" for e in events)
print("     events:", len(events), sorted(kinds), "chromium (ech) tls reset:", chromium,
      "quic drop:", quic, "summary workers:", summary.get("workers"))
if missing: print("     missing:", sorted(missing))
if bad: print("     names that are not blocked:", bad)
sys.exit(1 if missing or bad or not chromium or not quic or summary.get("workers") != 2 else 0)
EOF
}
check "events name only blocked names, for TLS (curl, Chromium), HTTP, DNS, QUIC; two workers" \
  events_ok

echo "$fails check(s) failed"
[ "$fails" -eq 0 ]
