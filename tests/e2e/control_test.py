#!/usr/bin/python3
"""cordond's control plane on live DPDK vdev ports under continuous traffic.

Port "outside" is a net_pcap device replaying a capture of DNS queries endlessly
(infinite_rx); port "inside" is a net_null sink. While traffic flows, the test:
  - reads status, stats and hits through `cordonctl` (human and --json) and /metrics;
  - adds a rule to the list and reloads through `cordonctl reload` (zero loss: every packet
    received is forwarded or dropped by policy; the switch point is consistent: before it
    no event names the newly listed name, after it every query for it is answered NXDOMAIN);
  - breaks the list and reloads: rejected with file:line, old rules stay in force;
  - reloads with SIGHUP; reopens the event log on SIGUSR1 without a reload;
  - checks that a user without permission cannot use the control socket;
  - follows events over the socket.
Usage: control_test.py CORDOND CORDONCTL
"""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

from scapy.all import DNS, DNSQR, IP, UDP, Ether, wrpcap

CORDOND, CORDONCTL = sys.argv[1], sys.argv[2]
failures = []


def check(what, ok, detail=""):
    print(("ok   - " if ok else "FAIL - ") + what + (f"  ({detail})" if detail else ""))
    if not ok:
        failures.append(what)


def ctl(sock, *args, user=None):
    cmd = [CORDONCTL, "--socket", sock, *args]
    if user:
        cmd = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *cmd]

    return subprocess.run(cmd, capture_output=True, text=True, timeout=30)


def stats(sock):
    r = ctl(sock, "stats", "--json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def main():
    work = tempfile.mkdtemp(prefix="cordon-control-")
    # 256 DNS queries from 16 clients; each client asks 16 times: mostly allowed names, once
    # the always-blocked name and once the name that gets listed (few blocks keep the event
    # volume of a flood bounded). A client's queries all reach the same worker, so per
    # worker the listed and the always-blocked name alternate (even when a full event ring
    # sheds events, it sheds both alike).
    pkts = []
    for i in range(256):
        client, k = i // 16, i % 16
        name = {3: "always.blocked.test", 11: "late.test"}.get(k, f"allowed{k}.test")
        pkts.append(Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") /
                    IP(src=f"198.51.100.{10 + client}", dst="192.0.2.53") /
                    UDP(sport=20000 + i, dport=53) / DNS(id=i, rd=1, qd=DNSQR(qname=name)))
    wrpcap(f"{work}/queries.pcap", pkts)
    rules = f"{work}/rules.list"
    with open(rules, "w") as f:
        f.write("always.blocked.test\n")
    sock = f"{work}/cordon.sock"
    with open(f"{work}/config.yaml", "w") as f:
        f.write(f"""dataplane:
  mode: inline
  workers: 2
  eal: [--no-huge, -m, "512"]
  ports:
    - {{name: outside, dev: "net_pcap_ctl{os.getpid()},rx_pcap={work}/queries.pcap,tx_pcap=/dev/null,infinite_rx=1"}}
    - {{name: inside, dev: "net_null_ctl{os.getpid()},no-rx=1"}}
rules:
  - {{name: e2e, path: {rules}, action: block}}
control: {{socket: {sock}, metrics: "127.0.0.1:0"}}
events: {{max_bytes: 32M, keep: 20}}
""")
    err = open(f"{work}/cordond.err", "w+")
    d = subprocess.Popen([CORDOND, "--config", f"{work}/config.yaml", "--events",
                          f"{work}/events.jsonl"], stdout=subprocess.PIPE, stderr=err, text=True)
    try:
        port = None
        for _ in range(100):
            time.sleep(0.1)
            err.seek(0)
            m = re.search(r"metrics on port (\d+)", err.read())
            if m and os.path.exists(sock):
                port = int(m.group(1))
                break
            if d.poll() is not None:
                break
        check("cordond started with a control socket and metrics", port is not None)
        if port is None:
            return
        mode = os.stat(sock).st_mode & 0o777
        check("control socket has mode 0660", mode == 0o660, oct(mode))
        time.sleep(0.5)

        r = ctl(sock, "status")
        check("cordonctl status (human)", r.returncode == 0 and "rules: version 1" in r.stdout,
              r.stdout.strip().replace("\n", " | ")[:200])
        st = json.loads(ctl(sock, "status", "--json").stdout)
        check("status --json: version 1, one list, 2 workers",
              st["snapshot"]["version"] == 1 and len(st["lists"]) == 1 and st["workers"] == 2)
        s1 = stats(sock)
        check("stats: traffic is flowing on both workers' account",
              s1["total"].get("packets_in", 0) > 0 and len(s1["workers"]) == 2)

        follow = subprocess.Popen([CORDONCTL, "--socket", sock, "events", "--follow"],
                                  stdout=subprocess.PIPE, text=True)
        metrics = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read()
        metrics = metrics.decode()
        check("/metrics serves Prometheus text with counters, ports, snapshot and reloads",
              all(k in metrics for k in ["cordon_packets_in_total{worker=\"0\"}",
                                         "cordon_port_packets_total{port=\"outside\",dir=\"rx\"}",
                                         "cordon_snapshot_version 1",
                                         "cordon_reloads_total{result=\"ok\"}",
                                         "cordon_enforcements_total{app_proto=\"dns\"",
                                         "cordon_worker_busy_ratio"]))

        # Read the first 200 followed lines (whole JSON objects), then hang up.
        followed = []
        deadline = time.monotonic() + 10
        while len(followed) < 200 and time.monotonic() < deadline:
            line = follow.stdout.readline()
            if not line:
                break
            followed.append(line)
        follow.kill()
        follow.wait()
        check("events --follow streams whole event lines",
              len(followed) == 200 and all(json.loads(l)["app_proto"] == "dns" for l in followed),
              f"{len(followed)} lines")

        # Garbage, an endless line, and a client that hangs up mid-command: each is answered
        # or dropped, and the daemon keeps serving.
        import socket as pysocket
        c1 = pysocket.socket(pysocket.AF_UNIX)
        c1.connect(sock)
        c1.sendall(b"\x00\xffgarbage\n")
        garbage = c1.recv(4096)
        c1.close()
        c2 = pysocket.socket(pysocket.AF_UNIX)
        c2.connect(sock)
        c2.sendall(b"x" * 100000)  # no newline, over the request cap
        c2.close()
        c3 = pysocket.socket(pysocket.AF_UNIX)
        c3.connect(sock)
        c3.sendall(b"sta")  # half a command, then gone
        c3.close()
        r = ctl(sock, "status", "--json")
        check("garbage gets an error; oversized and cut-off requests are dropped; still serving",
              b'"error"' in garbage and r.returncode == 0, garbage[:80])

        r = ctl(sock, "status", user="65534")  # nobody:nogroup
        check("a user without permission cannot use the socket",
              r.returncode == 2 and "not permitted" in r.stderr, r.stderr.strip())

        def status():
            return json.loads(ctl(sock, "status", "--json").stdout)

        def wait_for(pred, seconds=5.0):
            for _ in range(int(seconds * 10)):
                st = status()
                if pred(st):
                    return st
                time.sleep(0.1)
            return status()

        # Reload: list late.test too. The list file is watched, so the edit alone may already
        # trigger a reload; `cordonctl reload` then answers with that or a newer version.
        t_trigger = time.time()
        with open(rules, "w") as f:
            f.write("always.blocked.test\nlate.test\n")
        t0 = time.monotonic()
        r = ctl(sock, "reload", "--json")
        t_published = time.time()
        took = time.monotonic() - t0
        st = json.loads(r.stdout) if r.returncode == 0 else {}
        v_a = st.get("snapshot", {}).get("version", 0)
        check("cordonctl reload publishes the new list (version >= 2, 2 rules)",
              v_a >= 2 and st["snapshot"]["rules"] == 2,
              f"{took:.3f} s, version {v_a}, rc {r.returncode} {r.stderr.strip()}")
        time.sleep(1.5)  # let the file watcher settle on this state
        v_a = status()["snapshot"]["version"]

        # A broken list is rejected; the running rules stay in force.
        with open(rules, "w") as f:
            f.write("always.blocked.test\nlate.test\nbad..name\n")
        r = ctl(sock, "reload")
        check("a broken list is rejected with file:line, exit 1",
              r.returncode == 1 and f"{rules}:3" in r.stdout, r.stdout.strip()[-200:])
        time.sleep(1.5)  # the watcher sees the bad file too: also rejected
        st = status()
        check("the running rules stay in force after a rejected reload",
              st["snapshot"]["version"] == v_a and not st["last_reload"]["ok"],
              f"version {st['snapshot']['version']} (was {v_a})")

        # The list file fixed: picked up with no command and no signal.
        with open(rules, "w") as f:
            f.write("always.blocked.test\nlate.test\n# reviewed\n")
        st = wait_for(lambda st: st["snapshot"]["version"] > v_a and st["last_reload"]["ok"])
        check("a changed list file is reloaded", st["snapshot"]["version"] == v_a + 1,
              f"version {st['snapshot']['version']}")
        time.sleep(1.5)

        # SIGHUP reloads even without a change.
        v_c = status()["snapshot"]["version"]
        d.send_signal(signal.SIGHUP)
        st = wait_for(lambda st: st["snapshot"]["version"] == v_c + 1)
        check("SIGHUP reloads", st["snapshot"]["version"] == v_c + 1,
              f"version {st['snapshot']['version']} (was {v_c})")
        final_version = st["snapshot"]["version"]

        # logrotate: the log is moved away, then SIGUSR1 makes cordond reopen events.jsonl
        # without recompiling the rules (SIGHUP would do both).
        log_path = f"{work}/events.jsonl"
        moved = f"{work}/events.jsonl.moved"
        os.rename(log_path, moved)
        time.sleep(0.3)  # events still go to the moved file until the signal
        d.send_signal(signal.SIGUSR1)
        for _ in range(50):
            if os.path.exists(log_path) and os.path.getsize(log_path) > 0:
                break
            time.sleep(0.1)
        moved_size = os.path.getsize(moved)
        time.sleep(0.5)
        check("SIGUSR1 reopens the event log after an external rotation",
              os.path.exists(log_path) and os.path.getsize(log_path) > 0
              and os.path.getsize(moved) == moved_size,
              f"new log {os.path.getsize(log_path) if os.path.exists(log_path) else None} B, "
              f"moved log {moved_size} -> {os.path.getsize(moved)} B")
        check("SIGUSR1 does not reload the rules", status()["snapshot"]["version"] == final_version,
              f"version {status()['snapshot']['version']} (was {final_version})")
        hits = json.loads(ctl(sock, "hits", "--json").stdout)
        patterns = {h["pattern"] for h in hits["by_rule"]}
        check("hits per rule name both listed patterns",
              {"always.blocked.test", "late.test"} <= patterns, str(patterns))
        time.sleep(0.3)
    finally:
        d.send_signal(signal.SIGTERM)
        out, _ = d.communicate(timeout=30)
    check("cordond exits 0 on SIGTERM", d.returncode == 0, f"rc {d.returncode}")
    summary = json.loads(out.strip().splitlines()[-1])
    c = summary["counters"]
    lost = summary["packets_in"] - summary["packets_out"] - summary["dropped"]
    check("zero loss: every packet received was forwarded or dropped by policy",
          lost == 0 and summary["tx_dropped"] == 0 and summary["spread_overflow"] == 0,
          f"in {summary['packets_in']} out {summary['packets_out']} dropped "
          f"{summary['dropped']} tx_dropped {summary['tx_dropped']} "
          f"spread_overflow {summary['spread_overflow']}")
    check("the summary shows the last rule version", summary.get("rule_version") == final_version)
    # Switch point. Events carry the packet's receive time. late.test is never blocked before
    # the reload was triggered; once it is published, every late.test query is blocked: the
    # capture asks for late.test exactly as often as for always.blocked.test, so from then on
    # (until the SIGHUP reload, which keeps both) the two names are blocked equally often.
    def ts(stamp):
        t = time.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S")
        return time.mktime(t) - time.timezone + float("0." + stamp[20:26])

    # Streamed: a flood writes millions of events; only counts are kept.
    early_late = always_early = n_late = n_always = n_events = 0
    hosts = set()
    # The log rotated at 32 MB (events.jsonl.1, .2, ...) and was moved away once (.moved):
    # read every file oldest first (files are written one after the other, so by mtime; the
    # current one last even when a rotation left two files with the same mtime).
    current = f"{work}/events.jsonl"
    files = sorted((f"{work}/{p}" for p in os.listdir(work) if p.startswith("events.jsonl")),
                   key=lambda f: (f == current, os.path.getmtime(f)))
    rotated = [f for f in files if f.rsplit(".", 1)[1].isdigit()]
    sizes = [os.path.getsize(f) for f in files]
    check("the event log rotated by size (none over 32 MB)",
          len(rotated) >= 1 and max(sizes) <= 32 * 2**20, f"{len(rotated)} rotated, {sizes}")

    def lines():
        for name in files:
            with open(name) as fh:
                yield from fh

    if True:
        for line in lines():
            e = json.loads(line)
            n_events += 1
            host, t = e["host"], ts(e["timestamp"])
            hosts.add(host)
            if t < t_trigger:
                early_late += host == "late.test"
                always_early += host == "always.blocked.test"
            if t >= t_published + 0.05:
                n_late += host == "late.test"
                n_always += host == "always.blocked.test"
    check("no late.test block before the reload was triggered", early_late == 0,
          f"{early_late} early of {n_events} events")
    check("always.blocked.test was blocked before the reload", always_early > 0)
    check("after the switch every late.test query is blocked (as many as always.blocked.test)",
          n_always > 0 and abs(n_late - n_always) <= max(8, n_always // 20),
          f"late {n_late}, always {n_always}, events_dropped {c.get('events_dropped', 0)}")
    check("no other name was ever blocked", hosts == {"late.test", "always.blocked.test"},
          str(sorted(hosts)[:5]))
    check("queries were inspected", c.get("dns_queries", 0) > 0)
    err.seek(0)
    log = err.read()
    check("cordond logged the reloads and the rejection",
          "rules reloaded: version 2" in log and "reload rejected" in log, log[-300:])
    if failures:
        print(log)
    subprocess.run(["rm", "-rf", work])


main()
print(f"{len(failures)} check(s) failed")
sys.exit(1 if failures else 0)
