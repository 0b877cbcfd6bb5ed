#!/usr/bin/env bash
# Multi-class text classification, side by side, on THUCNews headlines (10 classes):
# yuqing's tone trainer in multi-class mode (crates/yuqing-judge/examples/thucnews_eval.rs)
# and Python TF-IDF logistic regressions (benches/judge/thucnews_peers.py), all trained
# on dev.txt and scored on test.txt (the shared copy has no train file).
#
#   scripts/thucnews-eval.sh          # DATA_DIR=... to point elsewhere (default ../shared/data)
set -euo pipefail
cd "$(dirname "$0")/.."
DATA_DIR="${DATA_DIR:-../shared/data}"
D="$DATA_DIR/topic-thucnews-titles"
VENV=target/tone-venv
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install -q scikit-learn==1.9.1 numpy==2.4.6 scipy==1.17.1 jieba==0.42.1
cargo build --release -q -p yuqing-judge --example thucnews_eval
target/release/examples/thucnews_eval --data-dir "$D"
"$VENV/bin/python" benches/judge/thucnews_peers.py "$D" "$@"
