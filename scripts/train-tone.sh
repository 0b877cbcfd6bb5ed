#!/usr/bin/env bash
# Rebuilds the default tone model, crates/yuqing-judge/models/tone.bin, from the shared
# data, deterministically (single-threaded full-batch L-BFGS: same data, same bytes).
#
# Data used, from ../shared/data (relative to the repository root; override with
# DATA_DIR=...):
#   - sentiment-chnsenticorp/train.tsv   ChnSentiCorp train split, 9,600 reviews,
#                                        2-class (negative / positive only)
#   - tone-news-bdci/news_tone.tsv       CCF BDCI 2019 internet-news tone, 3-class,
#                                        minus the 20 % held out by id hash
#                                        (yuqing_judge::tone_model::is_held_out(id, 20)):
#                                        3,598 of its 4,404 rows
# Not used for training: ChnSentiCorp dev.tsv (used to choose the options) and
# test.tsv (reported only), and the held-out news rows (reported only).
#
# The options are TrainOptions::default() in crates/yuqing-judge/src/tone_model/mod.rs.
# The run also prints the evaluation (ChnSentiCorp dev/test, news held-out) and the
# classify throughput. Takes about a minute on one core.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA_DIR="${DATA_DIR:-../shared/data}"
# Options come from the code only, never from the environment.
for v in $(env | grep -o '^TONE_[A-Z0-9_]*' || true); do unset "$v"; done
cargo run --release -p yuqing-judge --example tone_eval -- \
  --data-dir "$DATA_DIR" --out crates/yuqing-judge/models/tone.bin
sha256sum crates/yuqing-judge/models/tone.bin
