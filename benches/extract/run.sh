#!/usr/bin/env bash
# Extraction benchmark: yuqing against readability-lxml, trafilatura and GNE on the
# same pages, in one run, each tool one process over all pages, pinned to one core.
#
#   benches/extract/run.sh [DATASET] [--all] [--no-check] [--example]
#
# Each tool runs once untimed over one page, then three times over all pages; the
# fastest run counts (the machine may be shared). The load average is printed.
#
# --example runs the crate's `extract` example (the same JSON lines as `yuqing
# extract`, without the binary's start-up) in place of target/release/yuqing: for
# when the workspace binary does not build, or to see what the start-up costs.
#
# DATASET is laid out as magic-html's benchmark (index.tsv, SUBSET/base.json,
# SUBSET/htmls/ID.html.gz); default ../shared/data/extraction-magic-html. Only pages
# whose expected text is Chinese are used unless --all is given.
#
# Everything it makes stays under target/: the virtual environment (bench-venv), the
# decompressed pages (bench-pages) and each tool's output (bench-out).
set -euo pipefail

cd "$(dirname "$0")/../.."
DATASET=../shared/data/extraction-magic-html
EXTRA=()
CHECK=1
BIN=target/release/yuqing
for a in "$@"; do
    case "$a" in
        --all) EXTRA+=(--all) ;;
        --no-check) CHECK=0 ;;
        --example) BIN=target/release/examples/extract ;;
        -*) echo "unknown option $a" >&2; exit 2 ;;
        *) DATASET="$a" ;;
    esac
done

# Versions the issue measured; pip is upgraded first because older pips trip over
# readability-lxml's lxml[html-clean] extra.
PEERS=(readability-lxml==0.9 trafilatura==2.3.1 gne==0.4.3 lxml==6.1.3 lxml_html_clean==0.4.6)
VENV=target/bench-venv
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --upgrade pip
fi
"$VENV/bin/pip" install --quiet "${PEERS[@]}"

if [ "$BIN" = target/release/yuqing ]; then
    cargo build --release -p yuqing
else
    cargo build --release -p yuqing-extract --example extract
fi

"$VENV/bin/python" benches/extract/peers.py bench "$DATASET" "${EXTRA[@]}" \
    --pages target/bench-pages --yuqing "$BIN" --cpu 0

if [ "$CHECK" = 1 ]; then
    # The Python metric must give yuqing what the Rust evaluation gives it.
    ARGS=("$DATASET")
    [ ${#EXTRA[@]} -eq 0 ] && ARGS+=(--chinese)
    RUST=$(cargo run --quiet --release -p yuqing-extract --example eval -- "${ARGS[@]}" --worst 0 |
        awk '$1 == "all" { print $5 }')
    PY=$(cat target/bench-out/yuqing-f1.txt)
    if [ "$RUST" = "$PY" ]; then
        echo "check: the Python and Rust metrics agree on yuqing's F1 ($PY)"
    else
        echo "check FAILED: Python metric $PY, Rust evaluation $RUST" >&2
        exit 1
    fi
fi
