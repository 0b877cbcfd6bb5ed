//! The polite fetcher and the source kinds.
