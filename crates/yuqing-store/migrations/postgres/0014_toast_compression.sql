-- Raw pages are stored zstd-compressed by yuqing; PostgreSQL's TOAST compressed them
-- again with pglz, which gains nothing on compressed data and was about a fifth of the
-- server's CPU during ingest (perf, BENCHMARKS.md). EXTERNAL: kept out of line as they
-- are, uncompressed. Applies to rows written from now on.
ALTER TABLE raw_pages ALTER COLUMN body SET STORAGE EXTERNAL;
-- An item's text and its full-text vector: lz4 where the server was built with it
-- (several times faster than pglz; the same database size in the measurement), the
-- server's default otherwise.
DO $$
BEGIN
    ALTER TABLE items ALTER COLUMN content SET COMPRESSION lz4;
    ALTER TABLE items ALTER COLUMN search_tsv SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'lz4 is not available on this server: items keep the default compression';
END $$;
