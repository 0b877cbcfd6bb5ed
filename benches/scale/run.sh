#!/usr/bin/env bash
# Scale benchmarks of issue 7 on one store per backend: fill with synthetic items
# (`yuqing bench-fill`), then search latency (`yuqing bench-search`), the UI's stream and
# item pages under wrk (100 connections, 30 s) while serve collects a local site that keeps
# publishing (site.py, RATE articles a second), resident memory of `serve`, disk per item
# and the time to rebuild the index.
#
#   benches/scale/run.sh [ITEMS]          # default 1000000, SQLite then PostgreSQL
#   BACKENDS=sqlite benches/scale/run.sh 200000
#   FILL=no benches/scale/run.sh          # reuse the stores of an earlier run
#   RUNS=200 PG_RUNS=40                   # bench-search runs per query (the defaults)
#   REINDEX=no                            # skip the timed rebuild of the index at the end
#   PG_FILL=copy benches/scale/run.sh     # PostgreSQL loaded from the SQLite store just
#                                         # filled (sqlite-to-postgres.sh): the same items,
#                                         # in minutes rather than hours
#
# Needs wrk (Debian `wrk`), curl, python3, and for PostgreSQL the server on 127.0.0.1:5432
# (trust auth). Everything stays under target/scale/. Prints one block per backend.
set -euo pipefail
cd "$(dirname "$0")/../.."
ITEMS=${1:-1000000}
BACKENDS=${BACKENDS:-sqlite postgres}
FILL=${FILL:-yes}
PG_FILL=${PG_FILL:-pipeline}
BIN=${BIN:-target/release/yuqing}
[ "$BIN" = target/release/yuqing ] && cargo build --release -p yuqing
W=${SCALE_DIR:-target/scale}
mkdir -p "$W"
PORT=${PORT:-18088}

for b in $BACKENDS; do
    data="$W/$b"
    args=(--data "$data")
    if [ "$b" = postgres ]; then
        db=yuqing_scale
        args+=(--database-url "postgres://postgres@127.0.0.1:5432/$db")
    fi
    echo "== $b"
    if [ "$FILL" = yes ]; then
        rm -rf "$data"
        if [ "$b" = postgres ] && [ "$PG_FILL" = copy ]; then
            BIN="$BIN" benches/scale/sqlite-to-postgres.sh "$W/sqlite" "$db" | grep -v " rows$"
        else
            if [ "$b" = postgres ]; then
                dropdb -h 127.0.0.1 -U postgres --if-exists --force "$db"
                createdb -h 127.0.0.1 -U postgres -E UTF8 -T template0 "$db"
            fi
            /usr/bin/time -f "fill: %e s wall, peak RSS %M KB" "$BIN" "${args[@]}" bench-fill --items "$ITEMS" 2>&1 | grep -v "^bench-fill: [0-9]*/"
        fi
        printf 'bench-password-1\n' | "$BIN" "${args[@]}" user add bench --role office >/dev/null
    fi
    # Fewer runs where one query may take a second (PostgreSQL counts every hit).
    runs=${RUNS:-200}
    [ "$b" = postgres ] && runs=${PG_RUNS:-40}
    "$BIN" "${args[@]}" bench-search --runs "$runs" | tee "$W/search-$b.txt"
    # Disk per item (the item count from the search report's first line).
    items=$(sed -n '1s/.*, \([0-9]*\) items,.*/\1/p' "$W/search-$b.txt")
    if [ "$b" = postgres ]; then
        bytes=$(psql -h 127.0.0.1 -U postgres -d "$db" -tAc "SELECT pg_database_size('$db')")
    else
        bytes=$(du -sb "$data" | cut -f1)
    fi
    echo "disk: $bytes bytes for $items items, $((bytes / (items > 0 ? items : 1))) bytes per item"

    # The item page under wrk: the newest stored hit of 补贴 (a story with its reposts).
    id=$("$BIN" "${args[@]}" search --json --limit 1 补贴 | sed -n 's/.*"id":\([0-9]*\).*/\1/p' | head -n1)
    # serve under wrk while it collects: a local site (site.py) publishes RATE articles a
    # second (default 20) on feeds spread over loopback hosts, and serve fetches, extracts,
    # judges, stores and indexes them meanwhile, as an office's desk would.
    python3 benches/scale/site.py --config "$W/site-$b.toml" --rate "${RATE:-20}" >"$W/site-$b.log" 2>&1 &
    site=$!
    for _ in $(seq 1 50); do grep -q ready "$W/site-$b.log" && break; sleep 0.2; done
    "$BIN" "${args[@]}" --config "$W/site-$b.toml" serve --listen 127.0.0.1:$PORT >"$W/serve-$b.log" 2>&1 &
    serve=$!
    for _ in $(seq 1 120); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.5; done
    jar="$W/cookies-$b.txt"; rm -f "$jar"
    page=$(curl -fs -c "$jar" "http://127.0.0.1:$PORT/login")
    csrf=$(printf '%s' "$page" | sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' | head -n1)
    curl -fs -b "$jar" -c "$jar" -o /dev/null --data-urlencode "username=bench" --data-urlencode "password=bench-password-1" \
        --data-urlencode "csrf=$csrf" --data-urlencode "next=/" "http://127.0.0.1:$PORT/login"
    session=$(awk '$6 == "yuqing_session" {print $7}' "$jar")
    [ -n "$session" ] || { echo "login failed"; kill $serve $site; exit 1; }
    sleep 20  # the first polls: the collector is busy before wrk starts
    for path in "/" "/items/${id:-1}" "/search?q=%E8%A1%A5%E8%B4%B4"; do
        echo "wrk $path"
        wrk -t2 -c100 -d30s --latency -H "Cookie: yuqing_session=$session" "http://127.0.0.1:$PORT$path" \
            | grep -E "Latency|50%|99%|Requests/sec|Non-2xx|Socket errors|requests in"
    done
    echo "serve RSS after the load: $(ps -o rss= -p $serve) KB ($(grep -E '^Rss(Anon|File|Shmem):' /proc/$serve/status | tr -s ' \t' ' ' | tr '\n' ';'))"
    kill $site; wait $site 2>/dev/null || true
    grep "^site:" "$W/site-$b.log" | tail -n 12 | sed 's/^/ingest beside wrk: /'
    kill $serve; wait $serve 2>/dev/null || true
    if [ "${REINDEX:-yes}" = yes ]; then
        /usr/bin/time -f "reindex: %e s wall, peak RSS %M KB" "$BIN" "${args[@]}" reindex 2>&1 | tail -n 2
    fi
done
