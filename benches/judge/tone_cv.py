"""5-fold cross-validation of TF-IDF logistic-regression variants on all 4,404 rows of
tone-news-bdci (the figures quoted in docs/BENCHMARKS.md, "2026-12-03 round"): how far
bag-of-n-grams models get on this data, whatever their features.

usage: python tone_cv.py [DATA_DIR]   (default ../shared/data; needs scikit-learn, jieba)
Variants: character 1-3 / 1-4-grams of the one-line text, C 4 or 16, a separate title
vectoriser, jieba words, words and characters together; then the one-line model with
per-class biases tuned for macro-F1 on one half and applied to the other (nested).
Takes several minutes on one core.
"""
import sys

import jieba
import numpy as np
from scipy.sparse import hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold

jieba.setLogLevel(60)
DATA = sys.argv[1] if len(sys.argv) > 1 else "../shared/data"
CLASSES = ["negative", "neutral", "positive"]
rows = []
with open(f"{DATA}/tone-news-bdci/news_tone.tsv", encoding="utf-8") as f:
    next(f)
    for line in f:
        p = line.rstrip("\n").split("\t")
        rows.append((p[2], p[3], p[1]))
y = np.array([CLASSES.index(r[2]) for r in rows])
TITLES = [r[0] for r in rows]
ONE_LINE = [t + " " + b for t, b, _ in rows]
WORDS = [" ".join(jieba.lcut(t)) + " | " + " ".join(jieba.lcut(b)) for t, b, _ in rows]
FOLDS = StratifiedKFold(5, shuffle=True, random_state=0)


def vectoriser(kind, ngrams):
    if kind == "word":
        return TfidfVectorizer(token_pattern=r"[^ ]+", ngram_range=ngrams, sublinear_tf=True), WORDS
    data = TITLES if kind == "title" else ONE_LINE
    return TfidfVectorizer(analyzer="char", ngram_range=ngrams, sublinear_tf=True), data


def run(name, feats, c=4.0):
    probs = np.zeros((len(y), 3))
    for tr, te in FOLDS.split(ONE_LINE, y):
        train_m, test_m = [], []
        for kind, ngrams in feats:
            v, data = vectoriser(kind, ngrams)
            train_m.append(v.fit_transform([data[i] for i in tr]))
            test_m.append(v.transform([data[i] for i in te]))
        m = LogisticRegression(C=c, max_iter=3000, class_weight="balanced")
        m.fit(hstack(train_m).tocsr(), y[tr])
        probs[te] = m.predict_proba(hstack(test_m).tocsr())
    f = f1_score(y, probs.argmax(1), average=None)
    print(f"{name:32s} macro {f.mean():.3f} neg {f[0]:.3f} neu {f[1]:.3f} pos {f[2]:.3f}", flush=True)
    return probs


def tuned_biases(logp, idx):
    grid = np.arange(-1.5, 1.51, 0.1)
    best, best_f = (0.0, 0.0), -1.0
    for a in grid:
        for c in grid:
            f = f1_score(y[idx], (logp[idx] + np.array([a, 0, c])).argmax(1), average="macro")
            if f > best_f:
                best, best_f = (a, c), f
    return best


one_line = run("char 1-3", [("char", (1, 3))])
run("char 1-3, C 16", [("char", (1, 3))], c=16.0)
run("char 1-4", [("char", (1, 4))])
run("char 1-3 + title", [("char", (1, 3)), ("title", (1, 3))])
run("jieba words 1-2", [("word", (1, 2))])
run("char 1-3 + words 1-2", [("char", (1, 3)), ("word", (1, 2))])
logp = np.log(one_line + 1e-9)
perm = np.random.RandomState(1).permutation(len(y))
half = len(y) // 2
pred = np.zeros(len(y), int)
for fit, apply in [(perm[:half], perm[half:]), (perm[half:], perm[:half])]:
    a, c = tuned_biases(logp, fit)
    pred[apply] = (logp[apply] + np.array([a, 0, c])).argmax(1)
f = f1_score(y, pred, average=None)
print(f"{'char 1-3, biases tuned (nested)':32s} macro {f.mean():.3f} neg {f[0]:.3f} neu {f[1]:.3f} pos {f[2]:.3f}")
