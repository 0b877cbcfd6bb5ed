#!/usr/bin/env bash
# The three UI pages under wrk (100 connections) on an existing store, without the
# collector: for side-by-side runs of two binaries on the same store in the same hour.
#
#   benches/scale/pages.sh BIN DATA_DIR [SECONDS]      # e.g. 8
#   DB_URL=postgres://postgres@127.0.0.1:5432/yuqing_scale benches/scale/pages.sh BIN DATA_DIR
#
# The store needs the user `bench` (password bench-password-1, as run.sh adds it).
# Prints req/s, p50 and p99 per page and serve's RSS after the load.
set -euo pipefail
BIN=${1:?binary}; DATA=${2:?data folder}; DUR=${3:-8}; PORT=${PORT:-18091}
args=(--data "$DATA")
[ -n "${DB_URL:-}" ] && args+=(--database-url "$DB_URL")
"$BIN" "${args[@]}" serve --no-collect --listen 127.0.0.1:$PORT >/dev/null 2>&1 &
serve=$!
trap 'kill $serve 2>/dev/null || true' EXIT
for _ in $(seq 1 60); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.5; done
jar=$(mktemp)
page=$(curl -fs -c "$jar" "http://127.0.0.1:$PORT/login")
csrf=$(printf '%s' "$page" | sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' | head -n1)
curl -fs -b "$jar" -c "$jar" -o /dev/null --data-urlencode "username=bench" --data-urlencode "password=bench-password-1" \
    --data-urlencode "csrf=$csrf" --data-urlencode "next=/" "http://127.0.0.1:$PORT/login"
session=$(awk '$6 == "yuqing_session" {print $7}' "$jar"); rm -f "$jar"
[ -n "$session" ] || { echo "login failed"; exit 1; }
id=$("$BIN" "${args[@]}" search --json --limit 1 补贴 | sed -n 's/.*"id":\([0-9]*\).*/\1/p' | head -n1)
for path in "/" "/items/${id:-1}" "/search?q=%E8%A1%A5%E8%B4%B4"; do
    r=$(wrk -t2 -c100 -d"${DUR}s" --latency -H "Cookie: yuqing_session=$session" "http://127.0.0.1:$PORT$path")
    echo "$path: $(awk '/Requests\/sec/ {print $2}' <<<"$r") req/s, p50 $(awk '$1 == "50%" {print $2}' <<<"$r"), p99 $(awk '$1 == "99%" {print $2}' <<<"$r") $(grep -E 'Non-2xx|Socket errors' <<<"$r" | tr '\n' ' ')"
done
echo "serve RSS: $(ps -o rss= -p $serve) KB"
