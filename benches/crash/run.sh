#!/usr/bin/env bash
# Crash test of `yuqing serve` (issue 7): SIGKILL at random moments, N times per backend,
# with the checks of crash.py after every restart. One command:
#
#   benches/crash/run.sh [KILLS]          # default 100, SQLite then PostgreSQL
#   BACKENDS=sqlite benches/crash/run.sh 20
#
# Needs python3 (standard library only), sqlite3 and, for PostgreSQL, the server on
# 127.0.0.1:5432 with trust auth plus psql/createdb/dropdb. Results: target/crash/BACKEND/
# result.json (every kill with its checks) and serve.log; a summary line per backend.
set -euo pipefail
cd "$(dirname "$0")/../.."
KILLS=${1:-100}
BACKENDS=${BACKENDS:-sqlite postgres}
cargo build --release -p yuqing
status=0
for b in $BACKENDS; do
    work=target/crash/$b
    rm -rf "$work" && mkdir -p "$work"
    echo "== crash test on $b, $KILLS kills"
    python3 benches/crash/crash.py --backend "$b" --kills "$KILLS" --bin target/release/yuqing --work "$work" \
        | tee "$work/summary.txt" || status=1
done
exit $status
