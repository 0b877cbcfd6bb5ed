#!/usr/bin/env bash
# Loads a filled SQLite store into a fresh PostgreSQL database, table by table with
# COPY, then builds PostgreSQL's full text (`yuqing reindex`, timed). For the scale
# benchmarks of issue 7: filling PostgreSQL through the whole pipeline runs at a few
# hundred items per second (every statement of an ingest is a round trip and ingests
# are serialised across processes), so a million items would take hours; loading the
# same synthetic store gives both backends the very same items, events and counts.
#
#   benches/scale/sqlite-to-postgres.sh SQLITE_DATA_DIR DATABASE
#
# Needs sqlite3 and psql (Debian `sqlite3`, `postgresql-client`) and the server on
# 127.0.0.1:5432 with trust auth for the user postgres. The database is dropped first.
set -euo pipefail
cd "$(dirname "$0")/../.."
src=${1:?SQLite data folder}
db=${2:?database name}
BIN=${BIN:-target/release/yuqing}
sqlite_db="$src/yuqing.db"
[ -f "$sqlite_db" ] || { echo "no store at $sqlite_db" >&2; exit 1; }
url="postgres://postgres@127.0.0.1:5432/$db"
PSQL=(psql -h 127.0.0.1 -U postgres -d "$db" -v ON_ERROR_STOP=1 -q)

dropdb -h 127.0.0.1 -U postgres --if-exists --force "$db"
createdb -h 127.0.0.1 -U postgres -E UTF8 -T template0 "$db"
# Opening the store creates the schema (migrations); the data folder is a scratch one.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
"$BIN" --data "$scratch" --database-url "$url" search --limit 1 x >/dev/null

start=$(date +%s)
tables=$(sqlite3 "$sqlite_db" "SELECT name FROM sqlite_master WHERE type = 'table'
    AND name NOT LIKE 'sqlite_%' AND name != '_sqlx_migrations' ORDER BY name")
# A fresh schema holds no rows (migrations seed none; case steps could not be
# truncated anyway: they are an append-only audit log).
for t in $tables; do
    pg_cols=$("${PSQL[@]}" -tAc "SELECT column_name FROM information_schema.columns
        WHERE table_schema = 'public' AND table_name = '$t'")
    [ -n "$pg_cols" ] || { echo "table $t is missing on PostgreSQL" >&2; exit 1; }
    cols=() sel=()
    while IFS='|' read -r cid name type rest; do
        grep -qx "$name" <<<"$pg_cols" || continue
        cols+=("$name")
        # Blobs as PostgreSQL's hex bytea text; everything else as it is.
        if [ "${type^^}" = BLOB ]; then sel+=("'\\x' || hex($name)"); else sel+=("$name"); fi
    done < <(sqlite3 "$sqlite_db" "PRAGMA table_info($t)")
    col_list=$(IFS=,; echo "${cols[*]}")
    sel_list=$(IFS=,; echo "${sel[*]}")
    # Foreign keys are checked by the source store already; replica mode skips their
    # triggers so that tables load in any order.
    sqlite3 -csv "$sqlite_db" "SELECT $sel_list FROM $t" \
        | "${PSQL[@]}" -c "SET session_replication_role = replica" -c "\\copy $t ($col_list) FROM STDIN WITH (FORMAT csv)"
    # Identity columns continue after the copied ids.
    if grep -qx id <<<"$pg_cols"; then
        "${PSQL[@]}" -tAc "SELECT setval(pg_get_serial_sequence('$t', 'id'), GREATEST((SELECT MAX(id) FROM $t), 1))" >/dev/null
    fi
    echo "$t: $("${PSQL[@]}" -tAc "SELECT COUNT(*) FROM $t") rows"
done
"${PSQL[@]}" -c "VACUUM ANALYZE"
echo "copy: $(( $(date +%s) - start )) s"
/usr/bin/time -f "reindex (PostgreSQL full text): %e s wall, peak RSS %M KB" "$BIN" --data "$scratch" --database-url "$url" reindex 2>&1 | tail -n 2
# The reindex rewrote every row: vacuum again, as autovacuum would on a live server, so
# that counts can use the visibility map (a million items: COUNT(*) 1.5 s before, 0.1 s
# after) and the planner knows the full-text statistics.
start=$(date +%s)
"${PSQL[@]}" -c "VACUUM ANALYZE items"
echo "vacuum after the reindex: $(( $(date +%s) - start )) s"
