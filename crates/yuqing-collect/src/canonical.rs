//! Canonical URLs: one spelling per article, so that the same article reached from a
//! feed, a list page and a shared link is recognised as known.

use sha2::{Digest, Sha256};
use url::Url;

/// Query parameters that only say where a click came from. Matched case-insensitively;
/// `utm_*` is matched by prefix. Kept conservative: a parameter that may select
/// content (`id`, `page`, `source`, `scene` ...) is never dropped.
const TRACKING_PARAMS: &[&str] = &[
    "spm",
    "from",
    "fromsource",
    "share_token",
    "shareid",
    "share_source",
    "share_medium",
    "share_plat",
    "share_tag",
    "share_from",
    "fbclid",
    "gclid",
    "dclid",
    "msclkid",
    "yclid",
    "igshid",
    "mc_cid",
    "mc_eid",
    "_hsenc",
    "_hsmi",
    "wfr",
    "isappinstalled",
    "wxshare_count",
    "vd_source",
    "tt_from",
];

fn is_tracking(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    key.starts_with("utm_") || TRACKING_PARAMS.contains(&key.as_str())
}

/// The canonical form of `url`: lower-case host without a trailing dot, no user
/// information, no fragment, no default port, tracking parameters removed, the
/// remaining query parameters kept in order and spelled as they were, and no
/// trailing `?`.
pub fn canonical_url(url: &Url) -> String {
    let mut u = url.clone();
    u.set_fragment(None);
    // Both only fail for URLs that cannot have credentials (no host), where there are none.
    let _ = u.set_username("");
    let _ = u.set_password(None);
    if let Some(host) = u.host_str() {
        let lowered = host.to_lowercase();
        let trimmed = lowered.strip_suffix('.').unwrap_or(&lowered).to_owned();
        if trimmed != host && !trimmed.is_empty() {
            // Fails only for an invalid host, in which case the original spelling stays.
            let _ = u.set_host(Some(&trimmed));
        }
    }
    // `Url` already drops the scheme's default port when parsing; this covers URLs
    // built with `set_port`.
    if u.port().is_some() && u.port() == default_port(u.scheme()) {
        let _ = u.set_port(None);
    }
    // Filter the raw query string rather than re-encoding it through form_urlencoded,
    // which would re-spell the kept parameters (`%20` → `+`, ...).
    let kept: Vec<String> = u
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|pair| !pair.is_empty())
        .filter(|pair| {
            let key = pair.split('=').next().unwrap_or("");
            !is_tracking(key)
        })
        .map(str::to_owned)
        .collect();
    if kept.is_empty() {
        u.set_query(None);
    } else {
        u.set_query(Some(&kept.join("&")));
    }
    u.to_string()
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        "ftp" => Some(21),
        _ => None,
    }
}

/// A short stable key for a canonical URL: hex of the first 16 bytes of its SHA-256.
pub fn url_fingerprint(canonical: &str) -> String {
    let digest = Sha256::digest(canonical.as_bytes());
    hex::encode(&digest[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> String {
        canonical_url(&Url::parse(s).unwrap())
    }

    #[test]
    fn host_port_fragment() {
        assert_eq!(c("HTTP://News.Example.COM:80/a/b.html#top"), "http://news.example.com/a/b.html");
        assert_eq!(c("https://example.com:443/x"), "https://example.com/x");
        assert_eq!(c("https://example.com:8443/x"), "https://example.com:8443/x");
        assert_eq!(c("https://example.com./x"), "https://example.com/x");
        assert_eq!(c("https://user:pw@example.com/x"), "https://example.com/x");
        assert_eq!(c("http://example.com"), "http://example.com/");
    }

    #[test]
    fn tracking_params_removed_others_kept_in_order() {
        assert_eq!(
            c("http://example.com/a?id=3&utm_source=wx&spm=1.2.3&page=2&from=timeline&UTM_Medium=x"),
            "http://example.com/a?id=3&page=2"
        );
        assert_eq!(c("http://example.com/a?b=2&a=1"), "http://example.com/a?b=2&a=1");
        assert_eq!(
            c("http://example.com/a?fbclid=1&gclid=2&share_token=3&shareid=4&fromsource=5&wfr=spider"),
            "http://example.com/a"
        );
        assert_eq!(c("http://example.com/a?"), "http://example.com/a");
        assert_eq!(c("http://example.com/a?&&x=1&&"), "http://example.com/a?x=1");
        // Kept parameters keep their spelling.
        assert_eq!(
            c("http://example.com/s?q=%E8%B4%A2%E6%94%BF%20x&utm_campaign=y"),
            "http://example.com/s?q=%E8%B4%A2%E6%94%BF%20x"
        );
        // A parameter that merely starts like a tracking one is kept.
        assert_eq!(c("http://example.com/a?fromdate=2024&spmx=1"), "http://example.com/a?fromdate=2024&spmx=1");
    }

    #[test]
    fn chinese_host_and_path() {
        assert_eq!(c("http://财政.中国/新闻/1.html"), "http://xn--5bvu10g.xn--fiqs8s/%E6%96%B0%E9%97%BB/1.html");
    }

    #[test]
    fn fingerprint_is_32_hex_and_stable() {
        let f = url_fingerprint("http://example.com/a");
        assert_eq!(f.len(), 32);
        assert!(f.chars().all(|ch| ch.is_ascii_hexdigit()));
        assert_eq!(f, url_fingerprint("http://example.com/a"));
        assert_ne!(f, url_fingerprint("http://example.com/b"));
    }
}
