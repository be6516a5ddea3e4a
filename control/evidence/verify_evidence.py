#!/usr/bin/env python3
"""Standalone verifier for cordon evidence ledgers and export bundles (cordon-evidence/1).

Needs only Python 3 and the `openssl` command (or the `cryptography` package). It checks
what `cordonctl evidence verify` checks: the canonical layout of every record, the SHA-256
hash chain, the Ed25519 signature of every checkpoint, and the SHA-256 of every kept packet.

usage: verify_evidence.py PATH [--pubkey PEM] [--fingerprint HEX] [--allow-open]
  PATH           a ledger directory (ledger-NNNNNN.jsonl ...) or an export bundle (bundle.json)
  --pubkey PEM   the operator's Ed25519 public key (default: PATH/pubkey.pem)
  --fingerprint  the key's pin, SHA-256 of its DER public key, obtained out of band
exit: 0 intact and sealed, 1 tampered (first bad record named), 2 error,
      3 intact but not closed cleanly (records after the last checkpoint are unsigned)
"""
import argparse
import atexit
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

FORMAT = "cordon-evidence/1"
ZERO = "0" * 64
HEADER = re.compile(rb'\{"seq":(0|[1-9][0-9]{0,19}),"time":"([0-9TZ:.\-]{1,40})",'
                    rb'"type":"(genesis|open|event|checkpoint)","prev":"([0-9a-f]{64})",')
REDACTED = re.compile(rb'"body_sha256":"([0-9a-f]{64})"\}')
SEGMENT = re.compile(r"ledger-([0-9]{6})\.jsonl")
PACKETS = re.compile(r"packets-[0-9]{6}\.pcap")
REASONS = {"count", "time", "close", "rotate", "request"}


class Bad(Exception):
    def __init__(self, seq, where, reason):
        super().__init__(reason)
        self.seq, self.where, self.reason = seq, where, reason


class Error(Exception):
    pass


def no_dup(pairs):
    d = {}
    for k, v in pairs:
        if k in d:
            raise ValueError("duplicate key " + k)
        d[k] = v
    return d


def sha256(b):
    return hashlib.sha256(b).hexdigest()


def record_hash(seq, time, typ, prev, body_sha):
    return sha256(f"{FORMAT}\n{seq}\n{time}\n{typ}\n{prev}\n{body_sha}\n".encode())


class Key:
    def __init__(self, path):
        der = None
        for args in (["-pubin"], ["-pubout"]):
            p = subprocess.run(["openssl", "pkey", *args, "-in", path, "-outform", "DER"],
                               capture_output=True)
            if p.returncode == 0:
                der = p.stdout
                break
        if der is None:
            raise Error(f"{path}: not a PEM key openssl can read")
        self.der = der
        self.fingerprint = sha256(der)
        self.tmp = tempfile.mkdtemp()
        atexit.register(shutil.rmtree, self.tmp, True)
        self.der_path = os.path.join(self.tmp, "key.der")
        with open(self.der_path, "wb") as f:
            f.write(der)
        try:
            from cryptography.hazmat.primitives.serialization import load_der_public_key
            self.crypto = load_der_public_key(der)
        except Exception:  # no cryptography package: use the openssl command
            self.crypto = None

    def verify(self, msg, sig_hex):
        try:
            sig = bytes.fromhex(sig_hex)
        except ValueError:
            return False
        if self.crypto is not None:
            try:
                self.crypto.verify(sig, msg)
                return True
            except Exception:
                return False
        m, s = os.path.join(self.tmp, "msg"), os.path.join(self.tmp, "sig")
        with open(m, "wb") as f:
            f.write(msg)
        with open(s, "wb") as f:
            f.write(sig)
        p = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-keyform", "DER",
                            "-inkey", self.der_path, "-rawin", "-in", m, "-sigfile", s],
                           capture_output=True)
        return p.returncode == 0


def parse_line(line):
    m = HEADER.match(line)
    if not m:
        raise ValueError("not in canonical layout")
    seq, time, typ, prev = int(m[1]), m[2].decode(), m[3].decode(), m[4].decode()
    rest = line[m.end():]
    if rest.startswith(b'"body":') and rest.endswith(b"}"):
        raw = rest[7:-1]
        if raw[:1] != b"{" or raw[-1:] != b"}":
            raise ValueError("body is not an object")
        body = json.loads(raw, object_pairs_hook=no_dup)
        json.loads(line, object_pairs_hook=no_dup)
        return seq, time, typ, prev, body, sha256(raw)
    r = REDACTED.fullmatch(rest)
    if r and typ == "event":
        return seq, time, typ, prev, None, r[1].decode()
    raise ValueError("needs an object 'body' (or, redacted events only, 'body_sha256')")


class Verifier:
    def __init__(self, path, key):
        self.path, self.key = path, key
        self.bundle = os.path.exists(os.path.join(path, "bundle.json"))
        self.expected = None
        self.head = None
        self.prev_where = None
        self.ledger = None
        self.records = self.checkpoints = self.unsealed = self.packets = 0
        self.last_type = self.last_reason = None
        self.bundle_packets = {}

    def files(self):
        if self.bundle:
            with open(os.path.join(self.path, "bundle.json"), encoding="utf-8") as f:
                manifest = json.load(f)
            self.bundle_packets = {str(k): v for k, v in manifest.get("packets", {}).items()}
            return [("records.jsonl", True)]
        idx = sorted(int(m[1]) for m in map(SEGMENT.fullmatch, os.listdir(self.path)) if m)
        if not idx:
            raise Bad(0, "ledger-000001.jsonl", "missing: the directory holds no ledger segments")
        return [(f"ledger-{i:06d}.jsonl", i == idx[-1]) for i in range(1, idx[-1] + 1)]

    def run(self):
        for name, last in self.files():
            full = os.path.join(self.path, name)
            if not os.path.exists(full):
                raise Bad(self.expected or 0, name, "segment file is missing (records were deleted)")
            with open(full, "rb") as f:
                data = f.read()
            lines = data.split(b"\n")
            rotated = False
            for n, line in enumerate(lines[:-1], 1):
                where = f"{name}:{n}"
                if rotated:
                    raise Bad(self.expected, where, "record after the segment's rotate checkpoint")
                try:
                    rec = parse_line(line)
                except ValueError as e:
                    raise Bad(self.expected, where, f"malformed record: {e}")
                self.check(rec, where)
                rotated = not self.bundle and rec[2] == "checkpoint" and self.last_reason == "rotate"
            if lines[-1]:
                raise Bad(self.expected, f"{name}:{len(lines)}",
                          "record is cut short (no end of line): the ledger was truncated mid-record")
            if not last and not rotated:
                raise Bad(self.expected, name, "segment does not end with its rotate checkpoint: "
                          "records were removed from its end")
        if self.records == 0:
            raise Bad(0, "records.jsonl" if self.bundle else "ledger-000001.jsonl", "no records")

    def check(self, rec, where):
        seq, time, typ, prev, body, body_sha = rec
        if self.expected is None:
            if self.bundle:
                if typ not in ("checkpoint", "genesis"):
                    raise Bad(seq, where, "a bundle must start with a checkpoint or the genesis record")
                self.expected, self.head = seq, prev
            else:
                self.expected, self.head = 0, ZERO
        if seq != self.expected:
            raise Bad(self.expected, where, f"seq {seq} found where seq {self.expected} was expected: "
                      f"record {self.expected} is missing, or records are out of order")
        if prev != self.head:
            raise Bad(max(seq - 1, 0), self.prev_where or where,
                      f"record {seq - 1} does not hash to the prev stored in record {seq} ({where}): "
                      f"record {seq - 1} was altered (or that prev was)")
        if seq == 0 or typ == "genesis":
            if typ != "genesis" or seq != 0 or prev != ZERO:
                raise Bad(seq, where, "bad genesis record")
            if set(body) != {"format", "ledger", "key"} or body["format"] != FORMAT:
                raise Bad(seq, where, "malformed genesis body")
            if body["key"] != self.key.fingerprint:
                raise Bad(seq, where, f"the ledger was created for key {body['key']}, not the key "
                          f"being used to verify ({self.key.fingerprint})")
            self.ledger = body["ledger"]
        elif typ == "event":
            self.check_event(seq, body, where)
        elif typ == "checkpoint":
            if set(body) != {"ledger", "reason", "key", "sig"} or body["reason"] not in REASONS:
                raise Bad(seq, where, "malformed checkpoint body")
            if self.ledger is not None and body["ledger"] != self.ledger:
                raise Bad(seq, where, "checkpoint of another ledger")
            if body["key"] != self.key.fingerprint:
                raise Bad(seq, where, f"checkpoint names signing key {body['key']}, not "
                          f"{self.key.fingerprint}")
            msg = (f"{FORMAT} checkpoint\n{body['ledger']}\n{seq}\n{time}\n{prev}\n"
                   f"{body['reason']}\n").encode()
            if not self.key.verify(msg, body["sig"]):
                raise Bad(seq, where, "checkpoint signature does not verify: the checkpoint was "
                          "altered or signed by another key")
            self.ledger = body["ledger"]
            self.checkpoints += 1
            self.last_reason = body["reason"]
        elif typ == "open":
            if not isinstance(body.get("clean"), bool) or (
                    self.ledger is not None and body.get("ledger") != self.ledger):
                raise Bad(seq, where, "malformed open record (or one from another ledger)")
        self.head = record_hash(seq, time, typ, prev, body_sha)
        self.prev_where = where
        self.expected += 1
        self.records += 1
        self.unsealed = 0 if typ == "checkpoint" else self.unsealed + 1
        self.last_type, self.last_seq = typ, seq

    def check_event(self, seq, body, where):
        if body is None:
            if not self.bundle:
                raise Bad(seq, where, "redacted record inside a ledger")
            return
        if not isinstance(body.get("event"), dict) or not set(body) <= {"event", "packet"}:
            raise Bad(seq, where, "malformed event body")
        pk = body.get("packet")
        if pk is None:
            return
        if (not isinstance(pk, dict) or set(pk) != {"file", "offset", "len", "sha256"}
                or not PACKETS.fullmatch(str(pk["file"]))):
            raise Bad(seq, where, "malformed packet reference")
        name, offset = pk["file"], pk["offset"]
        if self.bundle:
            if str(seq) not in self.bundle_packets:
                raise Bad(seq, where, "its packet is not in the bundle")
            name, offset = "packets.pcap", self.bundle_packets[str(seq)]
        try:
            with open(os.path.join(self.path, name), "rb") as f:
                f.seek(offset)
                hdr = f.read(16)
                data = f.read(pk["len"])
        except OSError:
            raise Bad(seq, where, f"packet file {name} is missing or unreadable")
        if len(hdr) != 16 or int.from_bytes(hdr[8:12], "little") != pk["len"] \
                or len(data) != pk["len"] or sha256(data) != pk["sha256"]:
            raise Bad(seq, where, f"packet {name} at offset {offset}: bytes do not match the record's SHA-256")
        self.packets += 1


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("path")
    ap.add_argument("--pubkey")
    ap.add_argument("--fingerprint")
    ap.add_argument("--allow-open", action="store_true")
    a = ap.parse_args()
    try:
        key = Key(a.pubkey or os.path.join(a.path, "pubkey.pem"))
        if a.fingerprint and a.fingerprint.lower().removeprefix("sha256:") != key.fingerprint:
            print(f"key {key.fingerprint} is not the pinned key {a.fingerprint}", file=sys.stderr)
            return 1
        v = Verifier(a.path, key)
        v.run()
    except Bad as b:
        print(f"{a.path}: BROKEN: first bad record is seq {b.seq} ({b.where}): {b.reason}",
              file=sys.stderr)
        return 1
    except (Error, OSError, ValueError) as e:
        print(f"{a.path}: cannot verify: {e}", file=sys.stderr)
        return 2
    sealed = v.last_type == "checkpoint" and (v.bundle or v.last_reason == "close")
    what = "bundle" if v.bundle else "ledger"
    if sealed:
        print(f"{what} {a.path}: OK: {v.records} records, {v.checkpoints} signed checkpoints, "
              f"{v.packets} packets; key sha256:{key.fingerprint}")
        return 0
    print(f"{what} {a.path}: NOT CLOSED CLEANLY: chain intact through seq {v.last_seq}, but "
          f"{v.unsealed} record(s) after the last checkpoint are not covered by a signature",
          file=sys.stdout if a.allow_open else sys.stderr)
    return 0 if a.allow_open else 3


if __name__ == "__main__":
    sys.exit(main())
