//! The web UI and JSON API (axum).
