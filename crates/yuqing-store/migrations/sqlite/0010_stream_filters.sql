-- The stream filtered by level or tone without a search text ("major-sensitive, newest
-- first" is the desk's most used view): without these, every such page scanned the items
-- (118 ms p50 at 100,000 items on SQLite, growing with the store).
CREATE INDEX items_level_sort ON items (level, sort_at DESC, id DESC);
CREATE INDEX items_tone_sort ON items (tone, sort_at DESC, id DESC);
