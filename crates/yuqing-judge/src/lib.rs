//! Watch rules, categories, tone, level.
