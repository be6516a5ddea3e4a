#!/usr/bin/env python3
"""Checks that a Grafana dashboard only queries metrics cordond really exposes.

The names cordond serves at /metrics come from two places in the source:
  - dataplane/parse/counters.h: every X(name, help) of CORDON_COUNTERS becomes
    cordon_<name>_total{worker="N"};
  - control/metrics.cc: the literal "cordon_..." names of Telemetry::prometheus(), with the
    labels written next to them.
Every PromQL expression in the dashboard (panel targets, annotations, templating queries) is
tokenised; each metric name must be one of those, and each label it filters or groups on
must be a label cordond writes for one of the metrics in that expression (or a label
Prometheus adds: job, instance).

usage: deploy/check_dashboard.py [DASHBOARD.json] [--root REPO]
Exit 0 when everything checks, 1 when a name or label is unknown, 2 on bad input.
"""

import argparse
import json
import os
import re
import sys

TARGET_LABELS = {"job", "instance"}

KEYWORDS = {
    # aggregation operators and modifiers
    "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
    "bottomk", "topk", "quantile", "by", "without", "on", "ignoring", "group_left",
    "group_right", "bool", "offset", "and", "or", "unless", "atan2",
}


def emitted_metrics(root):
    """{metric name: set of label names} that cordond can emit."""
    metrics = {}
    counters_h = os.path.join(root, "dataplane", "parse", "counters.h")
    metrics_cc = os.path.join(root, "control", "metrics.cc")
    with open(counters_h, encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"#define\s+CORDON_COUNTERS\(X\)(.*?)\n\s*\n", text, re.S)
    if not m:
        raise ValueError(f"{counters_h}: CORDON_COUNTERS not found")
    names = re.findall(r"\bX\(\s*([a-z0-9_]+)\s*,", m.group(1))
    if not names:
        raise ValueError(f"{counters_h}: CORDON_COUNTERS has no X(name, help) entries")
    with open(metrics_cc, encoding="utf-8") as f:
        src = f.read()
    # The X-macro counters: `"cordon_" + kCounterNames[i] + "_total"` with {worker="N"}.
    if 'std::string("cordon_") + kCounterNames[i] + "_total"' not in src:
        raise ValueError(f"{metrics_cc}: the counter naming cordon_<name>_total has changed; "
                         "update check_dashboard.py")
    for n in names:
        metrics[f"cordon_{n}_total"] = {"worker"}
    # Literal names: head("cordon_x", "type", ...) declares one; histograms and summaries
    # also have _bucket/_sum/_count series.
    for name, kind in re.findall(r'head\(\s*"(cordon_[a-z0-9_]+)"\s*,\s*"([a-z]+)"', src):
        metrics.setdefault(name, set())
        if kind in ("histogram", "summary"):
            for suffix in ("_sum", "_count") + (("_bucket",) if kind == "histogram" else ()):
                metrics.setdefault(name + suffix, set())
    # Labels: statements writing a sample `"cordon_x{label=\"...` name them.
    for stmt in src.split(";"):
        for name in set(re.findall(r'"(cordon_[a-z0-9_]+)\{', stmt)):
            labels = set(re.findall(r'[{,]([a-z_][a-z0-9_]*)=\\"', stmt))
            metrics.setdefault(name, set()).update(labels)
    return metrics


def expressions(dash):
    """(where, PromQL) for every query in the dashboard."""
    out = []

    def walk(node, where):
        if isinstance(node, dict):
            for key in ("expr",):
                if isinstance(node.get(key), str) and node[key].strip():
                    out.append((where, node[key]))
            for k, v in node.items():
                title = node.get("title") or node.get("name")
                walk(v, f"{where}/{title}" if title and isinstance(v, (list, dict)) else where)
        elif isinstance(node, list):
            for v in node:
                walk(v, where)

    walk(dash.get("panels", []), "panels")
    walk(dash.get("annotations", {}), "annotations")
    for var in dash.get("templating", {}).get("list", []):
        q = var.get("query")
        if isinstance(q, dict):
            q = q.get("query")
        if var.get("type") != "query" or not isinstance(q, str):
            continue
        where = f"templating/{var.get('name')}"
        lv = re.fullmatch(r"\s*label_values\((.*)\)\s*", q, re.S)
        qr = re.fullmatch(r"\s*query_result\((.*)\)\s*", q, re.S)
        if lv:
            args = lv.group(1).rsplit(",", 1)
            if len(args) == 2:  # label_values(selector, label)
                out.append((where, f"group by ({args[1].strip()}) ({args[0]})"))
        elif qr:
            out.append((where, qr.group(1)))
        elif re.fullmatch(r"\s*metrics\(.*\)\s*", q):
            pass
        else:
            out.append((where, q))
    return out


def check_expr(expr, metrics):
    """Problems (strings) found in one PromQL expression."""
    problems = []
    e = re.sub(r"\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*", "VAR", expr)  # Grafana variables
    # Label matchers: name{a="x", b!~"y"}; remember which metric they belong to.
    used_labels = []
    selectors = []

    def matchers(m):
        body = m.group(2)
        body = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', body)
        labels = re.findall(r"([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)", body)
        selectors.append((m.group(1), labels))
        return f" {m.group(1) or ''} "

    e = re.sub(r"([A-Za-z_:][A-Za-z0-9_:]*)?\s*\{([^}]*)\}", matchers, e)
    e = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', " ", e)  # other strings
    e = re.sub(r"\[[^\]]*\]", " ", e)  # range and subquery selectors
    # Label lists of by/without/on/ignoring/group_left/group_right.
    for m in re.finditer(r"\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)", e):
        for lbl in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", m.group(2)):
            used_labels.append((m.group(1), lbl))
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    names = []
    for m in re.finditer(r"(?<![A-Za-z0-9_:.])([A-Za-z_:][A-Za-z0-9_:]*)", e):
        tok = m.group(1)
        rest = e[m.end():].lstrip()
        if rest.startswith("("):  # a function
            continue
        if tok in KEYWORDS or tok in ("VAR", "inf", "nan", "Inf", "NaN"):
            continue
        if re.fullmatch(r"\d+(ms|s|m|h|d|w|y)", tok):
            continue
        names.append(tok)
    for sel_name, labels in selectors:
        if sel_name:
            names.append(sel_name)
        else:
            # {__name__="..."} selectors
            problems.append("a selector without a metric name: write the name out")
    names = sorted(set(names))
    known_labels = set(TARGET_LABELS)
    for n in names:
        if n not in metrics:
            problems.append(f"unknown metric '{n}'")
        else:
            known_labels |= metrics[n]
    for sel_name, labels in selectors:
        allowed = TARGET_LABELS | metrics.get(sel_name, set())
        for lbl in labels:
            if lbl not in allowed and sel_name in metrics:
                problems.append(f"metric '{sel_name}' has no label '{lbl}'")
    for clause, lbl in used_labels:
        if lbl not in known_labels:
            problems.append(f"{clause} ({lbl}): no metric in this expression has label '{lbl}'")
    if not names:
        problems.append("no metric name found")
    return problems


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dashboard", nargs="?", default=os.path.join(here, "grafana-dashboard.json"))
    ap.add_argument("--root", default=os.path.dirname(here), help="the cordon source tree")
    ap.add_argument("-v", "--verbose", action="store_true", help="list the metrics used")
    a = ap.parse_args()
    try:
        metrics = emitted_metrics(a.root)
        with open(a.dashboard, encoding="utf-8") as f:
            dash = json.load(f)
    except (OSError, ValueError) as e:
        print(f"check_dashboard: {e}", file=sys.stderr)
        return 2
    exprs = expressions(dash)
    if not exprs:
        print(f"check_dashboard: {a.dashboard}: no PromQL queries found", file=sys.stderr)
        return 2
    bad = 0
    used = set()
    for where, expr in exprs:
        for p in check_expr(expr, metrics):
            print(f"{a.dashboard}: {where}: {p}\n    {expr}", file=sys.stderr)
            bad += 1
        used.update(n for n in metrics if re.search(rf"(?<![A-Za-z0-9_:]){n}(?![A-Za-z0-9_:])", expr))
    if a.verbose:
        for n in sorted(used):
            print(n)
    status = "FAILED" if bad else "ok"
    print(f"check_dashboard: {status}: {len(exprs)} queries, {len(used)} of {len(metrics)} "
          f"cordond metrics used" + (f", {bad} problem(s)" if bad else ""))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
