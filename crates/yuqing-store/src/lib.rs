//! Storage (SQLite via sqlx) and the search index (tantivy).
