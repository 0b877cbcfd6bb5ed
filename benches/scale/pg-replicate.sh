#!/usr/bin/env bash
# Multiplies the items of a PostgreSQL scale database (loaded by sqlite-to-postgres.sh)
# in place: every item is copied COPIES more times under new URLs (same text, times,
# judgement, full-text column and event), then the table is vacuumed and analysed.
#
#   benches/scale/pg-replicate.sh DATABASE COPIES
#
# For a quick million-item PostgreSQL store on a slow machine, where `bench-fill` of a
# million items takes hours: 250,000 filled items and COPIES=3 give 1,000,000 rows with
# the same term frequencies (a term in a third of the items is still in a third), which
# is what search counts and pages depend on. Events, cases and reposts are those of the
# filled items only: figures that depend on them (event pages, grouping) are not
# comparable with a store filled to a million. Say so wherever a figure comes from it.
set -euo pipefail
db=${1:?database name}
copies=${2:?copies to add per item}
PSQL=(psql -h 127.0.0.1 -U postgres -d "$db" -v ON_ERROR_STOP=1 -q)
cols=$("${PSQL[@]}" -tAc "SELECT string_agg(column_name, ',' ORDER BY ordinal_position)
    FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'items'
    AND column_name NOT IN ('id', 'url', 'canonical_url')")
start=$(date +%s)
"${PSQL[@]}" -c "SET session_replication_role = replica" -c "
    INSERT INTO items (url, canonical_url, $cols)
    SELECT i.url || '#copy' || k, i.canonical_url || '#copy' || k, $(sed 's/\([a-z_]*\)/i.\1/g' <<<"$cols")
    FROM items i CROSS JOIN generate_series(1, $copies) AS k ORDER BY k, i.id"
echo "copied: $(( $(date +%s) - start )) s, items: $("${PSQL[@]}" -tAc "SELECT COUNT(*) FROM items")"
start=$(date +%s)
"${PSQL[@]}" -c "VACUUM ANALYZE items"
echo "vacuum: $(( $(date +%s) - start )) s"
