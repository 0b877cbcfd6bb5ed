//! Chinese text: charset decoding, normalisation, segmentation (jieba), Chinese dates
//! and times, SimHash fingerprints.
//!
//! (API contract; bodies to be written.)

pub mod charset {
    /// Text decoded from bytes, with the name of the encoding that was used
    /// (lower-case: "utf-8", "gbk", "gb18030", "big5", "windows-1252", ...).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Decoded {
        pub text: String,
        pub encoding: &'static str,
    }

    /// Decodes an HTML page: charset from the HTTP `Content-Type`, else BOM, else
    /// `<meta charset>` / `<meta http-equiv>`, else detection. GB2312 and GBK labels are
    /// decoded as GB18030 (a superset) but reported as "gbk".
    pub fn decode_html(bytes: &[u8], content_type: Option<&str>) -> Decoded {
        let _ = (bytes, content_type);
        todo!()
    }

    /// Decodes an XML document (a feed): HTTP header, BOM, `<?xml encoding=…?>`, detection.
    /// The returned text has its XML declaration's encoding rewritten to UTF-8 (or removed)
    /// so that an XML parser reading the UTF-8 bytes does not decode it twice.
    pub fn decode_xml(bytes: &[u8], content_type: Option<&str>) -> Decoded {
        let _ = (bytes, content_type);
        todo!()
    }
}

pub mod dates {
    use chrono::{DateTime, FixedOffset, Utc};
    use chrono_tz::Tz;

    /// Parses one date-time written in any supported form: ISO 8601 / RFC 3339,
    /// RFC 2822, "2026年11月21日 14:05", "2026-11-21 14:05:09", "2026/11/22", "2026.11.22",
    /// "发布时间：2026-11-21", relative forms ("3小时前", "刚刚", "昨天 10:20", "5分钟前")
    /// relative to `now`. A time without zone is read in `tz`. Dates without a time are
    /// midnight in `tz`. Returns `None` when nothing plausible is found.
    pub fn parse_datetime(s: &str, tz: Tz, now: DateTime<Utc>) -> Option<DateTime<FixedOffset>> {
        let _ = (s, tz, now);
        todo!()
    }

    /// Every date-time found in free text, with the byte offset where it starts.
    pub fn find_datetimes(text: &str, tz: Tz, now: DateTime<Utc>) -> Vec<(usize, DateTime<FixedOffset>)> {
        let _ = (text, tz, now);
        todo!()
    }
}

pub mod segment {
    /// Words of `text` by jieba (HMM on), punctuation and whitespace included as they come.
    pub fn words(text: &str) -> Vec<&str> {
        let _ = text;
        todo!()
    }

    /// Tokens for a search index or a query: jieba's search mode, lower-cased, with
    /// whitespace and punctuation dropped. Latin runs stay whole words.
    pub fn index_tokens(text: &str) -> Vec<String> {
        let _ = text;
        todo!()
    }
}

pub mod simhash {
    /// Two texts whose fingerprints differ in at most this many bits are near-duplicates.
    pub const NEAR_DUPLICATE_BITS: u32 = 3;

    /// 64-bit weighted SimHash over segmented words (stop words and punctuation dropped).
    pub fn simhash(text: &str) -> u64 {
        let _ = text;
        todo!()
    }

    pub fn hamming(a: u64, b: u64) -> u32 {
        (a ^ b).count_ones()
    }
}

pub mod normalize {
    /// Full-width ASCII to half-width, NBSP and ideographic spaces to spaces, runs of
    /// blanks collapsed within a line, lines trimmed, empty lines dropped.
    pub fn normalize(text: &str) -> String {
        let _ = text;
        todo!()
    }
}
