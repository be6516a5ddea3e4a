#!/usr/bin/python3
"""`cordonctl evidence` end to end, with a key from `openssl genpkey -algorithm ed25519`.

Exit codes: verify 0 intact and closed, 1 tampered (first bad record named), 2 error,
3 intact but not closed cleanly; export 0, 1 (no such case / broken ledger), 2 error.
The standalone verify_evidence.py must agree with cordonctl on every case.

usage: evidence_cli_test.py CORDONCTL WRITE_TOOL VERIFY_EVIDENCE_PY
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

CORDONCTL, WRITE_TOOL, PYVERIFY = sys.argv[1:4]
failures = []


def run(cmd, stdin=None):
    p = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def expect(what, cmd, rc, out_has=(), err_has=()):
    got, out, err = run(cmd)
    problems = []
    if got != rc:
        problems.append(f"exit {got}, want {rc}")
    problems += [f"stdout lacks {s!r}" for s in out_has if s not in out]
    problems += [f"stderr lacks {s!r}" for s in err_has if s not in err]
    if problems:
        failures.append(f"{what}: {'; '.join(problems)}\n  cmd: {cmd}\n  stdout: {out!r}\n"
                        f"  stderr: {err!r}")
    return out, err


def both(what, path, rc, err_has=(), extra=()):
    """cordonctl and the standalone script give the same verdict."""
    expect(f"cordonctl {what}", [CORDONCTL, "evidence", "verify", path, *extra], rc,
           err_has=err_has)
    expect(f"verify_evidence.py {what}", ["/usr/bin/python3", PYVERIFY, path, *extra], rc,
           err_has=err_has)


def event(i, ref):
    return json.dumps({"timestamp": "2026-11-23T20:00:00.000000Z", "event_type": "block",
                       "action": "reset", "app_proto": "tls", "proto": "TCP",
                       "src_ip": "198.51.100.7", "src_port": 40000 + i,
                       "dest_ip": "203.0.113.10", "dest_port": 443,
                       "host": f"www{i}.example.com",
                       "rule": {"pattern": "example.com", "list": "court", "id": "r-1",
                                "ref": ref}}, separators=(",", ":"))


def write_ledger(d, key, n=12, extra=()):
    events = "".join(event(i, "court-2026-17" if i % 2 else "case-99") + "\n" for i in range(n))
    rc, out, err = run([WRITE_TOOL, d, key, "--every", "5", "--packets", *extra], stdin=events)
    assert rc == 0, err


def lines(path):
    with open(path, "rb") as f:
        return f.read().split(b"\n")[:-1]


def put_lines(path, ls):
    with open(path, "wb") as f:
        f.write(b"".join(l + b"\n" for l in ls))


with tempfile.TemporaryDirectory() as t:
    key = os.path.join(t, "evidence.key")
    subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", key], check=True)
    other = os.path.join(t, "other.key")
    subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", other], check=True)
    pub = os.path.join(t, "evidence.pub")
    subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-out", pub], check=True)
    der = subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-outform", "DER"],
                         check=True, capture_output=True).stdout
    fingerprint = hashlib.sha256(der).hexdigest()

    good = os.path.join(t, "ledger")
    write_ledger(good, key)
    seg = os.path.join(good, "ledger-000001.jsonl")

    both("intact", good, 0)
    expect("verify prints OK", [CORDONCTL, "evidence", "verify", good], 0,
           out_has=["OK", "closed cleanly", fingerprint, "not pinned"])
    expect("verify pinned", [CORDONCTL, "evidence", "verify", good, "--pubkey", pub], 0,
           out_has=["(pinned)"])
    expect("fingerprint", [CORDONCTL, "evidence", "fingerprint", pub], 0, out_has=[fingerprint])
    expect("python pins the fingerprint",
           ["/usr/bin/python3", PYVERIFY, good, "--pubkey", pub, "--fingerprint", fingerprint], 0)
    both("wrong key", good, 1, err_has=["first bad record is seq 0"], extra=("--pubkey", other))

    # Tampering on a copy each time.
    def tampered(name, edit):
        d = os.path.join(t, name)
        shutil.copytree(good, d)
        edit(os.path.join(d, "ledger-000001.jsonl"), d)
        return d

    def edit_byte(p, _):
        ls = lines(p)
        ls[3] = ls[3].replace(b"www2.", b"www3.")
        put_lines(p, ls)

    def delete(p, _):
        ls = lines(p)
        del ls[7]
        put_lines(p, ls)

    def swap(p, _):
        ls = lines(p)
        ls[2], ls[3] = ls[3], ls[2]
        put_lines(p, ls)

    def cut_mid(p, _):
        data = open(p, "rb").read()
        open(p, "wb").write(data[:-40])

    def cut_tail(p, _):
        put_lines(p, lines(p)[:-2])

    def packet(p, d):
        pc = os.path.join(d, "packets-000001.pcap")
        data = bytearray(open(pc, "rb").read())
        data[24 + 16 + 3] ^= 1
        open(pc, "wb").write(bytes(data))

    both("edited byte", tampered("edit", edit_byte), 1,
         err_has=["BROKEN", "first bad record is seq 3", "ledger-000001.jsonl:4"])
    both("deleted record", tampered("delete", delete), 1,
         err_has=["first bad record is seq 7", "missing"])
    both("swapped records", tampered("swap", swap), 1,
         err_has=["first bad record is seq 2", "out of order"])
    both("cut mid-record", tampered("cutmid", cut_mid), 1, err_has=["cut short"])
    both("cut whole records", tampered("cuttail", cut_tail), 3, err_has=["NOT CLOSED CLEANLY"])
    both("cut whole records, allowed open", os.path.join(t, "cuttail"), 0,
         extra=("--allow-open",))
    both("packet edited", tampered("packet", packet), 1,
         err_has=["first bad record is seq 1", "packet"])

    crashed = os.path.join(t, "crashed")
    write_ledger(crashed, key, n=7, extra=("--crash",))
    both("crashed writer", crashed, 3, err_has=["NOT CLOSED CLEANLY"])

    expect("no such dir", [CORDONCTL, "evidence", "verify", os.path.join(t, "nope")], 2,
           err_has=["not a directory"])
    bad_pem = os.path.join(t, "bad.pem")
    open(bad_pem, "w").write("-----BEGIN PUBLIC KEY-----\nxx\n-----END PUBLIC KEY-----\n")
    expect("bad pem", [CORDONCTL, "evidence", "verify", good, "--pubkey", bad_pem], 2,
           err_has=["not a PEM public key"])
    expect("missing key", [CORDONCTL, "evidence", "verify", good, "--pubkey", bad_pem + "x"], 2,
           err_has=["cannot read key"])
    expect("write tool: bad key", [WRITE_TOOL, os.path.join(t, "w"), bad_pem], 1)
    expect("usage", [CORDONCTL, "evidence"], 2, err_has=["usage"])
    expect("unknown sub", [CORDONCTL, "evidence", "frobnicate"], 2, err_has=["unknown"])
    expect("help", [CORDONCTL, "evidence", "--help"], 0, out_has=["export"])

    # Export one case; the bundle verifies with both tools, pinned to the real key.
    bundle = os.path.join(t, "bundle")
    expect("export", [CORDONCTL, "evidence", "export", good, "--ref", "court-2026-17",
                      "-o", bundle], 0, out_has=["exported 6 event(s)", "sealed"])
    both("bundle", bundle, 0, extra=("--pubkey", pub))
    expect("bundle says so", [CORDONCTL, "evidence", "verify", bundle], 0,
           out_has=["bundle", "redacted events (other cases): "])
    expect("bundle's own script", ["/usr/bin/python3", os.path.join(bundle, "verify_evidence.py"),
                                   bundle, "--fingerprint", fingerprint], 0)
    recs = open(os.path.join(bundle, "records.jsonl")).read()
    if "case-99" in recs or "court-2026-17" not in recs:
        failures.append("bundle discloses other cases or lacks its own")
    bl = lines(os.path.join(bundle, "records.jsonl"))
    mine = next(i for i, l in enumerate(bl) if b"court-2026-17" in l)
    bl[mine] = bl[mine].replace(b"www", b"WWW")
    put_lines(os.path.join(bundle, "records.jsonl"), bl)
    both("tampered bundle", bundle, 1, err_has=["BROKEN"])

    cfg = os.path.join(t, "cordon.yaml")
    open(cfg, "w").write(f"evidence: {{dir: {good}, key: {key}}}\n")
    expect("export via config", [CORDONCTL, "evidence", "export", "--config", cfg, "--ref",
                                 "case-99", "-o", os.path.join(t, "bundle2")], 0,
           out_has=["exported 6 event(s)"])
    expect("export: no such case", [CORDONCTL, "evidence", "export", good, "--ref", "nope",
                                    "-o", os.path.join(t, "bundle3")], 1,
           err_has=["no event with rule.ref 'nope'"])
    expect("export: broken ledger", [CORDONCTL, "evidence", "export", os.path.join(t, "swap"),
                                     "--ref", "case-99", "-o", os.path.join(t, "bundle4")], 1,
           err_has=["does not verify"])
    expect("export: missing args", [CORDONCTL, "evidence", "export", good], 2)

if failures:
    print("\n\n".join(failures))
    sys.exit(1)
print("ok")
