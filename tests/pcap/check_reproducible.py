#!/usr/bin/env python3
"""Regenerates every pcap case and rules/sample.list into a temp dir with
scripts/gen_pcaps.py --out and checks the result is byte-identical to the committed files.

Usage: /usr/bin/python3 check_reproducible.py --root REPO
"""

import argparse
import filecmp
import subprocess
import sys
import tempfile
from pathlib import Path


def tree(d):
    """Files under d, without the real-client captures pcaps/real_*/ (made by
    scripts/capture_real_clients.sh, not by the generator)."""
    return {p.relative_to(d) for p in d.rglob("*")
            if p.is_file() and not p.relative_to(d).parts[0].startswith("real_")}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", required=True, type=Path)
    args = ap.parse_args()
    root = args.root.resolve()
    with tempfile.TemporaryDirectory(prefix="cordon-gen-") as tmp:
        out = Path(tmp) / "pcaps"
        rules = Path(tmp) / "sample.list"
        subprocess.run([sys.executable, str(root / "scripts" / "gen_pcaps.py"), "--out", str(out),
                        "--rules-out", str(rules)], check=True, stderr=subprocess.DEVNULL)
        committed, fresh = tree(root / "pcaps"), tree(out)
        errs = [f"pcaps/{p}: committed but not generated" for p in sorted(committed - fresh)]
        errs += [f"pcaps/{p}: generated but not committed" for p in sorted(fresh - committed)]
        errs += [f"pcaps/{p}: differs from a fresh generation" for p in sorted(committed & fresh)
                 if not filecmp.cmp(root / "pcaps" / p, out / p, shallow=False)]
        if not filecmp.cmp(root / "rules" / "sample.list", rules, shallow=False):
            errs.append("rules/sample.list: differs from a fresh generation")
    if errs:
        print("\n".join("FAIL: " + e for e in errs))
        print("re-run: /usr/bin/python3 scripts/gen_pcaps.py (and commit the result)")
        return 1
    print(f"ok: {len(committed)} files under pcaps/ and rules/sample.list reproduce byte for byte")
    return 0


if __name__ == "__main__":
    sys.exit(main())
