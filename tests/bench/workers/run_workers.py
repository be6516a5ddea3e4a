#!/usr/bin/python3
"""Live worker throughput: cordond on DPDK vdev ports, 1 and 2 workers, inspection on and off.

Port "outside" is net_pcap replaying the ISP-like mix endlessly (infinite_rx) and writing to
/dev/null; port "inside" is a net_null sink. The rate is read from cordond's own control
socket (packets_in per worker, summed) between two samples after a warm-up, so start-up is
not counted. The I/O-only forwarder is the same binary with --no-inspect (receive,
timestamp, spread, transmit; no parsing), measured in the same run: the ratio
inspect/io-only is the cost of inspection, independent of this machine's speed.

On a 2-core machine, 2 workers plus the control thread share 2 CPUs: the 2-worker figures
show correctness of the spread more than scaling. The machine is shared; run REPS times and
report medians.

Usage: run_workers.py --bin BUILD/bin --mix MIX_DIR [--seconds 3] [--reps 3]
"""
import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time


def ctl_stats(ctl, sock):
    r = subprocess.run([ctl, "--socket", sock, "stats", "--json"], capture_output=True,
                       text=True, timeout=10)
    if r.returncode != 0:
        raise RuntimeError(r.stderr)
    return json.loads(r.stdout)


def run_once(args, workers, inspect, work):
    sock = f"{work}/w{workers}-{int(inspect)}.sock"
    cfg = f"{work}/w{workers}-{int(inspect)}.yaml"
    tag = f"{os.getpid()}w{workers}i{int(inspect)}"
    with open(cfg, "w") as f:
        f.write(f"""dataplane:
  mode: inline
  workers: {workers}
  eal: [--no-huge, -m, "1024"]
  ports:
    - {{name: outside, dev: "net_pcap_b{tag},rx_pcap={args.mix}/mix.pcap,tx_pcap=/dev/null,infinite_rx=1"}}
    - {{name: inside, dev: "net_null_b{tag},no-rx=1"}}
rules:
  - {{name: mix, path: {args.mix}/rules.list, action: block}}
control: {{socket: {sock}, metrics: ""}}
""")
    cmd = [f"{args.bin}/cordond", "--config", cfg]
    if not inspect:
        cmd.append("--no-inspect")
    d = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(200):
            if os.path.exists(sock):
                break
            if d.poll() is not None:
                raise RuntimeError(d.stderr.read())
            time.sleep(0.05)
        time.sleep(1.0)  # warm-up: the pcap is loaded, caches and flow tables filled
        s1, t1 = ctl_stats(f"{args.bin}/cordonctl", sock), time.monotonic()
        time.sleep(args.seconds)
        s2, t2 = ctl_stats(f"{args.bin}/cordonctl", sock), time.monotonic()
    finally:
        d.send_signal(signal.SIGTERM)
        out, err = d.communicate(timeout=60)
    if d.returncode != 0:
        raise RuntimeError(f"cordond exited {d.returncode}: {err}")
    dt = t2 - t1
    per_worker = [(w2["counters"].get("packets_in", 0) - w1["counters"].get("packets_in", 0)) / dt
                  for w1, w2 in zip(s1["workers"], s2["workers"])]
    if not inspect:
        # --no-inspect workers do not count packets: use the port's receive counter.
        rx = lambda s: sum(p["rx_packets"] for p in s["ports"])
        total = (rx(s2) - rx(s1)) / dt
    else:
        total = sum(per_worker)
    summary = json.loads(out.strip().splitlines()[-1])
    return total, per_worker, summary


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--mix", required=True)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--report")
    args = ap.parse_args()
    args.mix = os.path.abspath(args.mix)  # the config lives in a temp dir
    work = tempfile.mkdtemp(prefix="cordon-bench-workers-")
    results = {}
    lines = []
    for workers in (1, 2):
        for inspect in (False, True):
            rates = []
            for _ in range(args.reps):
                total, per_worker, summary = run_once(args, workers, inspect, work)
                rates.append(total)
                if inspect and summary.get("spread_overflow", 0):
                    print(f"warning: spread_overflow {summary['spread_overflow']}",
                          file=sys.stderr)
            results[(workers, inspect)] = statistics.median(rates)
            line = (f"workers={workers} {'inspect ' if inspect else 'io-only '} "
                    f"median {statistics.median(rates) / 1e6:.3f} Mpps "
                    f"({results[(workers, inspect)] / workers / 1e6:.3f} Mpps/worker) "
                    f"runs {[round(r / 1e6, 3) for r in rates]}")
            print(line, flush=True)
            lines.append(line)
    for workers in (1, 2):
        ratio = results[(workers, True)] / results[(workers, False)]
        line = f"workers={workers}: inspect / io-only = {ratio:.3f}"
        print(line)
        lines.append(line)
    line = (f"inspect 2 workers / 1 worker = "
            f"{results[(2, True)] / results[(1, True)]:.3f} (2 CPUs shared with control)")
    print(line)
    lines.append(line)
    if args.report:
        os.makedirs(os.path.dirname(args.report) or ".", exist_ok=True)
        with open(args.report, "w") as f:
            f.write("\n".join(lines) + "\n")
    subprocess.run(["rm", "-rf", work])


main()
