//! Chinese text for the monitoring pipeline: charset decoding, normalisation,
//! segmentation (jieba), Chinese dates and times, SimHash fingerprints.
//!
//! Trade-offs:
//! - Decoding trusts labels (HTTP header, BOM, `<meta>`, XML declaration) before
//!   detection, as browsers do, but overrides a legacy label when the bytes are
//!   plainly UTF-8: old Chinese CMS templates keep `charset=gb2312` after a migration.
//! - Dates are found by a handful of regexes compiled once, not by a grammar: the
//!   forms Chinese pages use are few and stable, and an unrecognised form yields
//!   `None` rather than a guess. Implausible dates (before 1995, after tomorrow) are
//!   dropped, since a wrong publication time misleads the duty office more than a
//!   missing one.
//! - Segmentation uses jieba's default dictionary, loaded once per process (a few
//!   hundred milliseconds on first use).
//! - SimHash is weighted by term frequency over jieba words with a fixed hash (FNV-1a),
//!   so stored fingerprints stay comparable across builds.

pub mod charset;
pub mod dates;
pub mod normalize;
pub mod segment;
pub mod simhash;
