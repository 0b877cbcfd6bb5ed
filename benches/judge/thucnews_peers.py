"""THUCNews headlines, Python TF-IDF baselines: trained on dev.txt, scored on test.txt
(the same split as yuqing's examples/thucnews_eval.rs). Run by scripts/thucnews-eval.sh.

  - tfidf-char: TF-IDF character 1-3-grams (sublinear tf) + LogisticRegression (C=16);
  - tfidf-word: TF-IDF jieba words, 1-2-grams (sublinear tf) + LogisticRegression (C=16).
C = 16 for both, never tuned on test (3-fold CV on dev for the char model, with
--cv: accuracy 0.812 at C=1, 0.831 at C=4, still rising; larger C suits 10 classes
of short headlines).

usage: python thucnews_peers.py DIR
"""
import logging
import os
import sys
import time

import jieba
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import cross_val_score

jieba.setLogLevel(logging.WARNING)


def read(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\r\n")
            if line.strip():
                t, l = line.rsplit("\t", 1)
                rows.append((t, int(l)))
    return rows


def main():
    d = sys.argv[1]
    dev, test = read(os.path.join(d, "dev.txt")), read(os.path.join(d, "test.txt"))
    y, gold = [l for _, l in dev], [l for _, l in test]
    cv = "--cv" in sys.argv
    for name, vec in (
        ("tfidf-char", TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True)),
        (
            "tfidf-word",
            TfidfVectorizer(
                tokenizer=lambda s: [w for w in jieba.lcut(s) if w.strip()],
                token_pattern=None,
                lowercase=False,
                ngram_range=(1, 2),
                sublinear_tf=True,
            ),
        ),
    ):
        t0 = time.perf_counter()
        x = vec.fit_transform([t for t, _ in dev])
        if cv:
            for c in (1, 4, 16, 64):
                s = cross_val_score(LogisticRegression(C=c, max_iter=3000), x, y, cv=3).mean()
                print(f"{name} C={c}: 3-fold CV accuracy on dev {s:.4f}")
        m = LogisticRegression(C=16, max_iter=3000).fit(x, y)
        p = m.predict(vec.transform([t for t, _ in test]))
        print(
            f"{name} accuracy {accuracy_score(gold, p):.4f}  macro-F1 {f1_score(gold, p, average='macro'):.4f}"
            f"  ({time.perf_counter() - t0:.1f} s to train and score)"
        )
        sys.stdout.flush()


if __name__ == "__main__":
    main()
