#!/usr/bin/env python3
"""Side-by-side extraction benchmark: yuqing against readability-lxml, trafilatura
and GNE on a data set laid out as magic-html's benchmark.

Driven by run.sh (which makes the virtual environment and the release build):

    peers.py bench DATASET [--all] [--pages DIR] [--yuqing BIN] [--cpu N]
    peers.py extract TOOL MANIFEST OUT        (one peer over every page, one process)

Every tool runs as its own process over all pages, pinned to one core, and is timed
from the outside (interpreter start-up and imports included, as `yuqing extract`'s
whole process is). Every tool's text is scored here by the same code: bag-of-tokens
F1 per page, averaged over pages; each CJK character one token, each run of ASCII
letters and digits one token (lower-cased), everything else dropped. This is the
metric of `yuqing_extract::eval`, written again in Python so that no tool is scored
by its own side; run.sh checks that both give yuqing the same figure.
"""

import argparse
import gzip
import json
import os
import platform
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

TOOLS = ["yuqing", "readability-lxml", "trafilatura", "gne"]


# --- the metric ---------------------------------------------------------------

def is_cjk(c):
    o = ord(c)
    return 0x3400 <= o <= 0x9FFF or 0xF900 <= o <= 0xFAFF


def tokens(text):
    out = []
    run = []
    for c in text:
        if c.isascii() and c.isalnum():
            run.append(c.lower())
            continue
        if run:
            out.append("".join(run))
            run = []
        if is_cjk(c):
            out.append(c)
    if run:
        out.append("".join(run))
    return out


def score(predicted, expected):
    p = Counter(tokens(predicted))
    g = Counter(tokens(expected))
    pt, gt = sum(p.values()), sum(g.values())
    if pt == 0 and gt == 0:
        return 1.0, 1.0, 1.0
    overlap = sum(min(n, g[t]) for t, n in p.items())
    prec = overlap / max(pt, 1)
    rec = overlap / max(gt, 1)
    f1 = 2 * prec * rec / (prec + rec) if prec + rec > 0 else 0.0
    return prec, rec, f1


# --- the pages ------------------------------------------------------------------

def prepare(dataset, pages_dir, include_all):
    """Decompresses the selected pages once into pages_dir; returns the manifest."""
    dataset = Path(dataset)
    pages_dir.mkdir(parents=True, exist_ok=True)
    truths = {}
    manifest = []
    lines = (dataset / "index.tsv").read_text(encoding="utf-8").splitlines()
    for line in lines[1:]:
        if not line.strip():
            continue
        cols = line.split("\t")
        subset, pid, url, chinese = cols[0], cols[1], cols[2], cols[3].lower() == "yes"
        if not include_all and not chinese:
            continue
        if subset not in truths:
            raw = json.loads((dataset / subset / "base.json").read_text(encoding="utf-8"))
            truths[subset] = {k: v.get("content") or "" for k, v in raw.items()}
        out = pages_dir / f"{subset}-{pid}.html"
        if not out.exists():
            gz = dataset / subset / "htmls" / f"{pid}.html.gz"
            data = gzip.decompress(gz.read_bytes()) if gz.exists() else (gz.with_suffix("")).read_bytes()
            out.write_bytes(data)
        manifest.append({"subset": subset, "id": pid, "url": url, "file": str(out),
                         "expected": truths[subset][pid]})
    return manifest


# --- the peers (run inside the `extract` subcommand, one process per peer) -------

CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.I)


def decode(data):
    """For GNE, which takes text: the declared charset, else UTF-8, else GB18030."""
    m = CHARSET.search(data[:4096])
    names = [m.group(1).decode("ascii", "ignore")] if m else []
    for name in names + ["utf-8", "gb18030"]:
        try:
            if name.lower() in ("gb2312", "gbk"):
                name = "gb18030"
            return data.decode(name)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("utf-8", "replace")


def make_peer(tool):
    if tool == "readability-lxml":
        import lxml.html
        from readability import Document

        def run(data):
            summary = Document(data).summary(html_partial=True)
            return lxml.html.fromstring(summary).text_content() if summary.strip() else ""
        return run
    if tool == "trafilatura":
        import trafilatura

        def run(data):
            return trafilatura.extract(data) or ""
        return run
    if tool == "gne":
        from gne import GeneralNewsExtractor
        extractor = GeneralNewsExtractor()

        def run(data):
            return extractor.extract(decode(data))["content"]
        return run
    raise SystemExit(f"unknown peer {tool}")


def extract_all(tool, manifest_path, out_path):
    import warnings
    warnings.filterwarnings("ignore")
    import logging
    logging.disable(logging.CRITICAL)
    manifest = json.loads(Path(manifest_path).read_text(encoding="utf-8"))
    run = make_peer(tool)
    with open(out_path, "w", encoding="utf-8") as out:
        for page in manifest:
            try:
                text = run(Path(page["file"]).read_bytes())
                line = {"file": page["file"], "content": text}
            except Exception as e:  # a peer failing on a page scores as empty text
                line = {"file": page["file"], "error": f"{type(e).__name__}: {e}"}
            out.write(json.dumps(line, ensure_ascii=False) + "\n")


# --- the benchmark -----------------------------------------------------------------

def timed(cmd, out_path):
    start = time.perf_counter()
    with open(out_path, "w", encoding="utf-8") as out:
        proc = subprocess.run(cmd, stdout=out, stderr=subprocess.DEVNULL)
    secs = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        print(f"warning: {cmd[0]} … exited with {proc.returncode}", file=sys.stderr)
    return secs


def results(out_path):
    got = {}
    for line in Path(out_path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            j = json.loads(line)
            got[j["file"]] = j.get("content") or ""
    return got


def machine():
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} vCPU {cpu}, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def bench(args):
    pages_dir = Path(args.pages)
    manifest = prepare(args.dataset, pages_dir, args.all)
    if not manifest:
        raise SystemExit("no pages selected")
    work = pages_dir.parent / "bench-out"
    work.mkdir(parents=True, exist_ok=True)
    manifest_path = work / "manifest.json"
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    pin = ["taskset", "-c", str(args.cpu)] if args.cpu >= 0 else []
    files = [p["file"] for p in manifest]
    rows = []
    for tool in args.tools:
        out = work / f"{tool}.jsonl"
        if tool == "yuqing":
            cmd = pin + [args.yuqing, "extract", *files]
        else:
            cmd = pin + [sys.executable, __file__, "extract", tool, str(manifest_path), str(out) + ".tmp"]
        print(f"running {tool} over {len(files)} pages …", file=sys.stderr, flush=True)
        # One untimed run over the first page first, for every tool alike, so that no
        # tool pays for reading its binary or its modules from disk into the page cache.
        if tool == "yuqing":
            timed(pin + [args.yuqing, "extract", files[0]], os.devnull)
        else:
            one = work / "warmup.json"
            one.write_text(json.dumps(manifest[:1], ensure_ascii=False), encoding="utf-8")
            timed(pin + [sys.executable, __file__, "extract", tool, str(one), os.devnull], os.devnull)
        # The machine is shared: the best of --repeat runs is the tool's own time.
        secs = min(timed(cmd, out if tool == "yuqing" else os.devnull) for _ in range(max(args.repeat, 1)))
        if tool != "yuqing":
            os.replace(str(out) + ".tmp", out)
        got = results(out)
        scores = [score(got.get(p["file"], ""), p["expected"]) for p in manifest]
        by_subset = {}
        for p, s in zip(manifest, scores):
            by_subset.setdefault(p["subset"], []).append(s[2])
        n = len(scores)
        rows.append({
            "tool": tool,
            "f1": sum(s[2] for s in scores) / n,
            "p": sum(s[0] for s in scores) / n,
            "r": sum(s[1] for s in scores) / n,
            "good": sum(s[2] >= 0.9 for s in scores) / n,
            "subsets": {k: sum(v) / len(v) for k, v in by_subset.items()},
            "secs": secs,
            "pps": n / secs,
        })
    yq = next((r for r in rows if r["tool"] == "yuqing"), None)
    subsets = list(dict.fromkeys(p["subset"] for p in manifest))
    counts = ", ".join(f"{s} {sum(p['subset'] == s for p in manifest)}" for s in subsets)
    print(f"\n{len(manifest)} pages ({counts}), {time.strftime('%Y-%m-%d %H:%M')}, {machine()}; "
          f"one process per tool, pinned to CPU {args.cpu}, best of {max(args.repeat, 1)} runs; "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}\n")
    head = ["tool", "F1", "P", "R", "F1≥0.9"] + [f"F1 {s}" for s in subsets] + ["time (s)", "pages/s", "yuqing ×"]
    print("| " + " | ".join(head) + " |")
    print("|" + " --- |" * len(head))
    for r in rows:
        ratio = f"{yq['pps'] / r['pps']:.1f}" if yq and r is not yq else "—"
        cells = [r["tool"], f"{r['f1']:.3f}", f"{r['p']:.3f}", f"{r['r']:.3f}", f"{r['good']:.2f}"]
        cells += [f"{r['subsets'].get(s, 0):.3f}" for s in subsets]
        cells += [f"{r['secs']:.2f}", f"{r['pps']:.1f}", ratio]
        print("| " + " | ".join(cells) + " |")
    if yq:
        (work / "yuqing-f1.txt").write_text(f"{yq['f1']:.3f}\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("bench")
    b.add_argument("dataset")
    b.add_argument("--all", action="store_true", help="every page, not only those whose expected text is Chinese")
    b.add_argument("--pages", default="target/bench-pages")
    b.add_argument("--yuqing", default="target/release/yuqing")
    b.add_argument("--cpu", type=int, default=0, help="core to pin every tool to; -1 for none")
    b.add_argument("--tools", nargs="+", default=TOOLS, choices=TOOLS)
    b.add_argument("--repeat", type=int, default=3, help="timed runs per tool; the fastest counts")
    e = sub.add_parser("extract")
    e.add_argument("tool")
    e.add_argument("manifest")
    e.add_argument("out")
    args = ap.parse_args()
    if args.cmd == "bench":
        bench(args)
    else:
        extract_all(args.tool, args.manifest, args.out)


if __name__ == "__main__":
    main()
