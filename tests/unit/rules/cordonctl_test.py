#!/usr/bin/python3
"""cordonctl end to end: exit codes (0 blocked, 1 passes, 2 error) and what it prints.

usage: cordonctl_test.py PATH/TO/cordonctl
"""
import os
import subprocess
import sys
import tempfile

CORDONCTL = sys.argv[1]
failures = []


def run(*args):
    p = subprocess.run([CORDONCTL, *args], capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout, p.stderr


def expect(what, args, rc, stdout_has=(), stderr_has=(), stdout_lacks=()):
    got_rc, out, err = run(*args)
    problems = []
    if got_rc != rc:
        problems.append(f"exit {got_rc}, want {rc}")
    problems += [f"stdout lacks {s!r}" for s in stdout_has if s not in out]
    problems += [f"stderr lacks {s!r}" for s in stderr_has if s not in err]
    problems += [f"stdout has {s!r}" for s in stdout_lacks if s in out]
    if problems:
        failures.append(f"{what}: {'; '.join(problems)}\n  args: {args}\n  stdout: {out!r}\n"
                        f"  stderr: {err!r}")


with tempfile.TemporaryDirectory() as d:
    def write(name, text):
        path = os.path.join(d, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    court = write("court-2026-17.list",
                  "# court order 2026-17\n"
                  "example.com\n"
                  "@@ok.example.com\n"
                  "http://files.test/pirate\n"
                  "203.0.113.0/24\n"
                  "url-re:/stream/[0-9]+$\n")
    watch = write("watch.list", "=casino.test\n")
    bad = write("bad.list", "good.com\nbad..com\n10.0.0.0/33\nre:(\n")
    config = write("cordon.yaml",
                   "rules:\n"
                   "  - {name: court, path: court-2026-17.list, action: block}\n"
                   "  - {name: watch, path: watch.list, action: monitor}\n")
    bad_config = write("bad.yaml", "rules:\n  - {name: x, path: bad.list, colour: red}\n")

    # check: blocked -> 0, with the deciding rule, list, id, file:line and action
    expect("blocked name", ["check", "--rules", court, "www.Example.COM."], 0,
           stdout_has=["rule:   example.com", "list:   court-2026-17", "id:     court-2026-17:2",
                       f"source: {court}:2", "action: block"])
    expect("label boundary", ["check", "--rules", court, "notexample.com"], 1,
           stdout_has=["action: pass (no rule matched)"], stdout_lacks=["rule:"])
    expect("exception", ["check", "--rules", court, "ok.example.com"], 1,
           stdout_has=["rule:   @@ok.example.com", "action: pass (exception)"])
    expect("url prefix", ["check", "--rules", court, "http://files.test/pirate/x.mkv"], 0,
           stdout_has=["rule:   http://files.test/pirate", "id:     court-2026-17:4"])
    expect("url prefix https", ["check", "--rules", court, "https://FILES.test:443/pirate"], 0,
           stdout_has=["rule:   http://files.test/pirate"])
    expect("url other path", ["check", "--rules", court, "http://files.test/legal"], 1)
    expect("url prefix not for names", ["check", "--rules", court, "files.test"], 1)
    expect("url-re", ["check", "--rules", court, "http://tv.test/stream/12"], 0,
           stdout_has=["rule:   url-re:/stream/[0-9]+$"])
    expect("ip", ["check", "--rules", court, "203.0.113.9"], 0,
           stdout_has=["rule:   203.0.113.0/24"])
    expect("ip miss", ["check", "--rules", court, "198.51.100.1"], 1)
    expect("repeated --rules", ["check", "--rules", court, "--rules", watch, "casino.test"], 0,
           stdout_has=["list:   watch", "action: block"])
    expect("-r short form", ["check", "-r", court, "-r", watch, "www.casino.test"], 1)
    # --config: list names and actions from the config
    expect("config monitor", ["check", "--config", config, "casino.test"], 1,
           stdout_has=["list:   watch (monitor)", "action: monitor"])
    expect("config block", ["check", "--config", config, "example.com"], 0,
           stdout_has=["list:   court (block)", "id:     court:2"])
    expect("bad config", ["check", "--config", bad_config, "example.com"], 2,
           stderr_has=["colour"])

    # errors -> 2
    expect("bad list", ["check", "--rules", bad, "good.com"], 2,
           stderr_has=[f"{bad}:2: invalid domain name 'bad..com'",
                       f"{bad}:3: invalid CIDR prefix length",
                       f"{bad}:4: Hyperscan rejected regex: "])
    expect("missing list", ["check", "--rules", os.path.join(d, "nope.list"), "a.com"], 2,
           stderr_has=[os.path.join(d, "nope.list") + ": No such file or directory"])
    expect("no rules", ["check", "example.com"], 2)
    expect("no query", ["check", "--rules", court], 2)
    expect("two queries", ["check", "--rules", court, "a.com", "b.com"], 2)
    expect("config and rules", ["check", "--config", config, "--rules", court, "a.com"], 2)
    expect("bad name", ["check", "--rules", court, "bad..name"], 2, stderr_has=["bad..name"])
    expect("unknown option", ["check", "--frobnicate", "--rules", court, "a.com"], 2)

    # compile
    expect("compile ok", ["compile", court, watch], 0,
           stdout_has=["2 lists, 6 rules", "domain 2", "exact 1", "url-prefix 1", "url-re 1",
                       "ip 1", "1 exception"])
    expect("compile errors", ["compile", court, bad], 2,
           stderr_has=[f"{bad}:2: invalid domain name 'bad..com'", f"{bad}:4: "])
    expect("compile nothing", ["compile"], 2)
    # check --names: one tab-separated decision per line, matched as the dataplane matches.
    names = write("names.txt", "www.Example.COM.\n# audit 2026-11\n\nnotexample.com\n"
                  "  http://files.test/pirate/x.mkv  \n203.0.113.9\nbad..name\n"
                  "ok.example.com\ncasino.test\r\n")
    rc, out, err = run("check", "--config", config, "--names", names)
    want = ["www.Example.COM.\tblock\tcourt:2\tcourt\texample.com",
            "notexample.com\tpass",
            "http://files.test/pirate/x.mkv\tblock\tcourt:4\tcourt\thttp://files.test/pirate",
            "203.0.113.9\tblock\tcourt:5\tcourt\t203.0.113.0/24",
            "bad..name\tinvalid\tinvalid host name 'bad..name'",
            "ok.example.com\texception\tcourt:3\tcourt\t@@ok.example.com",
            "casino.test\tmonitor\twatch:1\twatch\t=casino.test"]
    if rc != 0 or out.splitlines() != want:
        failures.append(f"check --names: exit {rc}\n  got:  {out.splitlines()}\n  want: {want}"
                        f"\n  stderr: {err!r}")
    p = subprocess.run([CORDONCTL, "check", "-r", court, "--names", "-"], input="notexample.com\n",
                       capture_output=True, text=True, timeout=30)
    if p.returncode != 1 or p.stdout != "notexample.com\tpass\n":
        failures.append(f"check --names - (stdin, nothing blocked): exit {p.returncode}, "
                        f"stdout {p.stdout!r}")
    expect("check --names unreadable", ["check", "-r", court, "--names", os.path.join(d, "nope")],
           2, stderr_has=["cannot read", "No such file or directory"])
    expect("check --names and a query", ["check", "-r", court, "--names", names, "a.com"], 2,
           stderr_has=["--names takes the queries from a file"])

    # compile -o: a snapshot file that check --snapshot loads without the lists
    snap = os.path.join(d, "x.snap")
    expect("compile -o", ["compile", court, watch, "-o", snap], 0, stdout_has=[f"wrote {snap}"])
    expect("check snapshot", ["check", "--snapshot", snap, "www.example.com"], 0,
           stdout_has=["rule:   example.com", "id:     court-2026-17:2", "action: block"])
    expect("check snapshot exception", ["check", "-s", snap, "ok.example.com"], 1,
           stdout_has=["rule:   @@ok.example.com", "other matching rules:",
                       "lost: the exception '@@ok.example.com' wins over every rule"])
    with open(snap, "rb") as f:
        blob = bytearray(f.read())
    truncated = os.path.join(d, "truncated.snap")
    with open(truncated, "wb") as f:
        f.write(blob[: len(blob) // 2])
    expect("truncated snapshot", ["check", "-s", truncated, "a.com"], 2,
           stderr_has=[f"{truncated}: truncated snapshot"])
    blob[-5] ^= 0xFF
    corrupt = os.path.join(d, "corrupt.snap")
    with open(corrupt, "wb") as f:
        f.write(blob)
    expect("corrupted snapshot", ["check", "-s", corrupt, "a.com"], 2,
           stderr_has=[f"{corrupt}: checksum mismatch"])
    expect("not a snapshot", ["check", "-s", court, "a.com"], 2, stderr_has=["bad magic"])
    expect("compile bad -o dir", ["compile", court, "-o", os.path.join(d, "nodir", "x.snap")], 2,
           stderr_has=["cannot write"])

    # formats: detected by content, or --format
    hosts = write("blocklist.hosts", "127.0.0.1 localhost\n0.0.0.0 ads.test tracker.test\n"
                  "192.0.2.9 sink.test\n")
    expect("hosts detected", ["compile", hosts], 0, stdout_has=["exact 3", "blocklist: hosts"])
    expect("hosts exact", ["check", "-r", hosts, "www.ads.test"], 1)
    expect("hosts sinkhole", ["check", "-r", hosts, "sink.test"], 0,
           stdout_has=["sinkhole a:    192.0.2.9", "action: block (sinkhole)"])
    rpz = write("policy.rpz", "$ORIGIN rpz.test.\n$TTL 60\nnx.test CNAME .\n*.nx.test CNAME .\n"
                "ok.nx.test CNAME rpz-passthru.\nd.test CNAME rpz-drop.\n")
    expect("rpz nxdomain", ["check", "-r", rpz, "a.nx.test"], 0,
           stdout_has=["rule:   *.nx.test", "action: block (nxdomain)"])
    expect("rpz passthru", ["check", "-r", rpz, "ok.nx.test"], 1,
           stdout_has=["action: pass (exception)", "lost: the exception"])
    expect("rpz drop", ["check", "-r", rpz, "d.test"], 0, stdout_has=["action: block (drop)"])
    expect("format override", ["check", "--format", "list", "-r", rpz, "nx.test"], 2,
           stderr_has=[f"{rpz}:1: "])
    expect("unknown format", ["compile", "--format", "xml", court], 2, stderr_has=["--format"])
    adg = write("filter.txt", "! AdGuard\n||ads.test^\n@@||ok.ads.test^\n||x.test^$third-party\n")
    expect("adguard warning", ["compile", adg], 0,
           stderr_has=[f"warning: {adg}:4: unsupported AdGuard syntax"])
    feed = write("orders.jsonl",
                 '{"id": "r-1", "pattern": "film.test", "reference": "Order 17", '
                 '"valid_from": "2026-01-01", "valid_until": "2027-01-01"}\n')
    expect("feed ref", ["check", "--at", "2026-06-01", "-r", feed, "film.test"], 0,
           stdout_has=["id:     r-1", "ref:    Order 17", "action: block"])
    expect("feed inactive", ["check", "--at", "2027-06-01", "-r", feed, "film.test"], 1,
           stdout_has=["lost: inactive: valid from 2026-01-01T00:00:00Z until 2027-01-01"])
    expect("feed boundary", ["compile", "--at", "2026-06-01", feed], 0,
           stdout_has=["valid until 2027-01-01T00:00:00Z"])
    lax = write("lax.list", "good.test\nbad..test\n")
    expect("no-strict", ["compile", "--no-strict", lax], 0,
           stderr_has=[f"warning: {lax}:2: invalid domain name 'bad..test' (skipped"])
    expect("strict default", ["compile", lax], 2, stderr_has=[f"{lax}:2: invalid domain name"])
    expect("compile empty list", ["compile", write("empty.list", "")], 0,
           stdout_has=["1 list, 0 rules"])

    # help and unknown commands
    expect("help", ["--help"], 0, stdout_has=["check", "compile"])
    expect("check help", ["check", "--help"], 0, stdout_has=["--rules", "--config", "exit status"])
    expect("compile help", ["compile", "--help"], 0, stdout_has=["LIST"])
    expect("no command", [], 2)
    for cmd in ["frob"]:  # status, stats, ... exist now (daemon_commands.cc)
        expect(f"unknown {cmd}", [cmd], 2, stderr_has=["unknown command"])

if failures:
    print("\n".join(failures))
    sys.exit(1)
print("cordonctl: all checks passed")
