//! The configuration model (INTERFACES.md "Configuration") and its validation.
//!
//! Loading never stops at the first problem: the TOML is parsed into a table, then each
//! section and each `[[sources]]` / `[[rules]]` / `[[alerts.*]]` entry is read on its own
//! and checked, so that `yuqing check-config` can print every problem at once.

use crate::{Category, Level, SourceKind, Tier, Tone};
use chrono_tz::Tz;
use ipnet::IpNet;
use serde::{de::DeserializeOwned, Deserialize, Deserializer};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;
use url::Url;

mod judging;
pub use judging::{
    CategoriesConfig, CategoryMode, CategorySetConfig, CombineCategories, LevelConfig, LevelPoints, Priority,
};

/// The built-in default configuration, used when no file is given.
pub const BUILTIN_TOML: &str = include_str!("default.toml");

/// One problem found in a configuration: where (the key path) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub key: String,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

/// Every problem found in one configuration file.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{} problem(s) in the configuration {origin}", problems.len())]
pub struct ConfigErrors {
    pub origin: String,
    pub problems: Vec<Problem>,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub org: OrgConfig,
    pub collect: CollectConfig,
    pub sources: Vec<SourceConfig>,
    pub rules: Vec<RuleConfig>,
    pub alerts: AlertsConfig,
    pub bulletin: BulletinConfig,
    pub store: StoreConfig,
    pub web: WebConfig,
    /// `[spikes]`: spike detection (突增) per watch rule and per category.
    pub spikes: SpikesConfig,
    /// `[cases.deadlines.<level>]`, read by `yuqing-cases` (which owns the flow's types).
    pub case_deadlines: Option<toml::Value>,
    /// `[categories]`: the key-content category rule sets that differ from the built-in ones.
    pub categories: CategoriesConfig,
    /// `[level]`: the points table of the level.
    pub level: LevelConfig,
    /// `[judge]`: the tone model, when an office has trained its own.
    pub judge: JudgeConfig,
    /// Problems that do not stop yuqing (e.g. no contact URL for the User-Agent).
    pub warnings: Vec<Problem>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgConfig {
    #[serde(default = "default_org_name")]
    pub name: String,
    #[serde(default = "default_tz", deserialize_with = "de_tz")]
    pub timezone: Tz,
}

impl Default for OrgConfig {
    fn default() -> Self {
        OrgConfig { name: default_org_name(), timezone: default_tz() }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectConfig {
    /// A URL (or mailto:) where site owners learn who collects and why; sent in the User-Agent.
    #[serde(default)]
    pub user_agent_contact: String,
    /// Networks the collector may reach besides public addresses (CIDRs).
    #[serde(default, deserialize_with = "de_nets")]
    pub allow_private: Vec<IpNet>,
    /// Minimum delay between two requests to the same host.
    #[serde(default = "d_2s", deserialize_with = "de_duration")]
    pub min_host_delay: Duration,
    #[serde(default = "d_10s", deserialize_with = "de_duration")]
    pub connect_timeout: Duration,
    /// Total time for one request, body included.
    #[serde(default = "d_30s", deserialize_with = "de_duration")]
    pub timeout: Duration,
    /// Cap on a page's body after decompression.
    #[serde(default = "default_max_body")]
    pub max_body_bytes: u64,
    #[serde(default = "default_max_redirects")]
    pub max_redirects: usize,
    /// Retries on 5xx and timeouts (never on 4xx).
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// Most new articles fetched from one source in one pass.
    #[serde(default = "default_max_articles")]
    pub max_articles_per_pass: usize,
    /// Share of a source's interval by which its polls are jittered (0..1).
    #[serde(default = "default_jitter")]
    pub jitter: f64,
    /// Sources collected at the same time (requests to one host are still one at a time).
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// How long a process holds a source it polls before another may take it over, when
    /// several processes share one PostgreSQL (renewed while the pass runs).
    #[serde(default = "d_60s", deserialize_with = "de_duration")]
    pub source_lease: Duration,
}

impl Default for CollectConfig {
    fn default() -> Self {
        empty_table_into().unwrap_or_else(|_| unreachable!("all collect keys have defaults"))
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    pub name: String,
    pub kind: SourceKind,
    pub url: Url,
    pub tier: Tier,
    #[serde(default = "d_30m", deserialize_with = "de_duration")]
    pub interval: Duration,
    #[serde(default = "default_weight")]
    pub weight: f64,
    #[serde(default = "yes")]
    pub enabled: bool,
    /// `page` only: CSS selector of the article links (or of elements containing them).
    #[serde(default)]
    pub selector: Option<String>,
    /// `page` only: regular expression an article URL must match.
    #[serde(default)]
    pub pattern: Option<String>,
    /// Overrides `collect.max_articles_per_pass` for this source.
    #[serde(default)]
    pub max_articles: Option<usize>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    pub name: String,
    pub query: String,
    #[serde(default)]
    pub category: Option<Category>,
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Weighs in the level of the items the rule matches (`[level.priorities]`).
    #[serde(default)]
    pub priority: Priority,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertsConfig {
    #[serde(default)]
    pub channels: Vec<ChannelConfig>,
    #[serde(default)]
    pub routes: Vec<RouteConfig>,
    /// `[alerts.escalation]`: when unacknowledged alerts escalate and where to; read by
    /// the `yuqing` binary with `yuqing-cases`' `EscalationPolicy` (which owns the rules).
    #[serde(default)]
    pub escalation: Option<toml::Value>,
    /// `quiet_hours = "22:00-07:00"` (local time): outside a sensitive period and with
    /// nobody on duty, alerts below major-sensitive wait until the next shift starts or
    /// the quiet hours end. Unset: alerts go out at any hour.
    #[serde(skip)]
    pub quiet_hours: Option<(chrono::NaiveTime, chrono::NaiveTime)>,
}

/// Parses quiet hours written as `"22:00-07:00"` (start and end local times, the end
/// may be the next morning); equal times mean none.
pub fn parse_quiet_hours(s: &str) -> Result<Option<(chrono::NaiveTime, chrono::NaiveTime)>, String> {
    let bad = || format!("`{s}` is not a span of local times like \"22:00-07:00\"");
    let (a, b) = s.split_once('-').ok_or_else(bad)?;
    let t = |x: &str| chrono::NaiveTime::parse_from_str(x.trim(), "%H:%M").map_err(|_| bad());
    let (start, end) = (t(a)?, t(b)?);
    Ok((start != end).then_some((start, end)))
}

/// Alert channel kinds (INTERFACES.md). Sending is not built yet; the keys are validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChannelKind {
    Email,
    Webhook,
    Wecom,
    Dingtalk,
    Feishu,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    None,
    Starttls,
    Tls,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelConfig {
    pub name: String,
    pub kind: ChannelKind,
    /// email: "host:port"
    #[serde(default)]
    pub smtp: Option<String>,
    #[serde(default)]
    pub tls: Option<SmtpTls>,
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Vec<String>,
    #[serde(default)]
    pub username: Option<String>,
    /// Name of the environment variable holding the SMTP password.
    #[serde(default)]
    pub password_env: Option<String>,
    /// webhook / wecom / dingtalk / feishu: the URL to post to.
    #[serde(default)]
    pub url: Option<Url>,
    /// dingtalk / feishu: name of the environment variable holding the signing secret.
    #[serde(default)]
    pub secret_env: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    pub channels: Vec<String>,
    /// `spikes = true`: the route carries spike alerts (突增) instead of item alerts,
    /// filtered by `rules` and `categories`; unset or false, it carries items as always.
    #[serde(default)]
    pub spikes: bool,
    #[serde(default)]
    pub tone: Option<Tone>,
    #[serde(default)]
    pub min_level: Option<Level>,
    #[serde(default)]
    pub rules: Vec<String>,
    #[serde(default)]
    pub categories: Vec<Category>,
    #[serde(default)]
    pub tiers: Vec<Tier>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BulletinConfig {
    #[serde(default = "default_bulletin_title")]
    pub title: String,
    #[serde(default)]
    pub compiled_by: String,
    #[serde(default)]
    pub recipients: Vec<String>,
    /// Whether the number line counts within the year ("2026年第3期") or runs on ("第N期").
    #[serde(default)]
    pub number_reset: NumberReset,
}

crate::named_enum! {
    /// How bulletin numbers count (`[bulletin] number_reset`). The running number is
    /// kept either way; this only chooses what the number line shows.
    #[derive(Default)]
    pub enum NumberReset {
        /// "第N期": one series that never restarts.
        #[default]
        Never => ("never", "不重置"),
        /// "2026年第3期": the count starts again at 1 every calendar year.
        Yearly => ("yearly", "每年重置"),
    }
}

impl Default for BulletinConfig {
    fn default() -> Self {
        BulletinConfig {
            title: default_bulletin_title(),
            compiled_by: String::new(),
            recipients: vec![],
            number_reset: NumberReset::Never,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// Database URL; empty means the embedded SQLite file in the data folder.
    #[serde(default)]
    pub url: String,
    /// How long raw pages are kept for re-extraction (items themselves are kept).
    #[serde(default = "d_180d", deserialize_with = "de_duration")]
    pub raw_retention: Duration,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig { url: String::new(), raw_retention: d_180d() }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebConfig {
    /// Address `yuqing serve` listens on unless `--listen` is given.
    #[serde(default = "default_listen")]
    pub listen: String,
    /// How long a login lasts.
    #[serde(default = "d_12h", deserialize_with = "de_duration")]
    pub session_ttl: Duration,
    /// Set the Secure flag on cookies (serve behind HTTPS).
    #[serde(default)]
    pub secure_cookies: bool,
    /// The address people reach this yuqing at, for links in alerts (e.g. https://yuqing.example.gov.cn/).
    #[serde(default)]
    pub public_url: Option<Url>,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig { listen: default_listen(), session_ttl: d_12h(), secure_cookies: false, public_url: None }
    }
}

/// `[judge]`: what judges the items besides the rules, category sets and level table.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JudgeConfig {
    /// A tone model file written by `yuqing train tone`, used instead of the built-in
    /// model by `serve`, `classify` and the rules page. A relative path is taken from
    /// the configuration file's folder ([`Config::resolve_paths`]).
    #[serde(default)]
    pub tone_model: Option<PathBuf>,
}

/// `[spikes]`: an hour whose count of new items for a watch rule or a category stands out
/// against the trailing baseline (mean + k·σ) is a spike, recorded once and alerted to
/// the routes with `spikes = true`. Hourly counts are kept by ingest whether or not
/// detection is enabled, so enabling it later finds its history.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpikesConfig {
    /// Whether `yuqing serve` checks for spikes.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// The trailing window the baseline is taken over (whole hours).
    #[serde(default = "d_7d", deserialize_with = "de_duration")]
    pub baseline: Duration,
    /// Standard deviations above the mean an hour must exceed.
    #[serde(default = "default_spike_k")]
    pub k: f64,
    /// An hour with fewer new items is never a spike.
    #[serde(default = "default_spike_min_count")]
    pub min_count: u32,
    /// No new spike for the same rule or category within this long of its last one.
    #[serde(default = "d_6h", deserialize_with = "de_duration")]
    pub cooldown: Duration,
    /// How long counting must have run before spikes are flagged (σ means little before).
    #[serde(default = "d_24h", deserialize_with = "de_duration")]
    pub min_history: Duration,
    /// Items published longer than this before they were found are not counted (a new
    /// source's back catalogue is not a surge).
    #[serde(default = "d_48h", deserialize_with = "de_duration")]
    pub max_item_age: Duration,
    /// How often `yuqing serve` checks the last complete hour and the current one.
    #[serde(default = "d_5m", deserialize_with = "de_duration")]
    pub check_interval: Duration,
}

impl Default for SpikesConfig {
    fn default() -> Self {
        empty_table_into().unwrap_or_else(|_| unreachable!("all spikes keys have defaults"))
    }
}

fn default_spike_k() -> f64 {
    3.0
}
fn default_spike_min_count() -> u32 {
    5
}
fn d_5m() -> Duration {
    Duration::from_secs(5 * 60)
}
fn d_6h() -> Duration {
    Duration::from_secs(6 * 3600)
}
fn d_24h() -> Duration {
    Duration::from_secs(24 * 3600)
}
fn d_48h() -> Duration {
    Duration::from_secs(48 * 3600)
}
fn d_7d() -> Duration {
    Duration::from_secs(7 * 86400)
}

fn yes() -> bool {
    true
}
fn default_org_name() -> String {
    "未命名单位".to_string()
}
fn default_tz() -> Tz {
    chrono_tz::Asia::Shanghai
}
fn default_bulletin_title() -> String {
    "网上舆情信息".to_string()
}
fn default_listen() -> String {
    "127.0.0.1:8080".to_string()
}
fn default_weight() -> f64 {
    f64::NAN // replaced by the tier's default weight after loading
}
fn default_max_body() -> u64 {
    10 * 1024 * 1024
}
fn default_max_redirects() -> usize {
    5
}
fn default_retries() -> u32 {
    2
}
fn default_max_articles() -> usize {
    50
}
fn default_jitter() -> f64 {
    0.1
}
fn default_concurrency() -> usize {
    4
}
fn d_2s() -> Duration {
    Duration::from_secs(2)
}
fn d_10s() -> Duration {
    Duration::from_secs(10)
}
fn d_30s() -> Duration {
    Duration::from_secs(30)
}

fn d_60s() -> Duration {
    Duration::from_secs(60)
}
fn d_30m() -> Duration {
    Duration::from_secs(30 * 60)
}
fn d_12h() -> Duration {
    Duration::from_secs(12 * 3600)
}
fn d_180d() -> Duration {
    Duration::from_secs(180 * 86400)
}

fn de_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let s = String::deserialize(d)?;
    humantime::parse_duration(&s)
        .map_err(|e| serde::de::Error::custom(format!("`{s}` is not a duration like \"10m\" or \"2h\" ({e})")))
}

fn de_tz<'de, D: Deserializer<'de>>(d: D) -> Result<Tz, D::Error> {
    let s = String::deserialize(d)?;
    s.parse::<Tz>()
        .map_err(|_| serde::de::Error::custom(format!("`{s}` is not an IANA time zone like \"Asia/Shanghai\"")))
}

fn de_nets<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<IpNet>, D::Error> {
    let v = Vec::<String>::deserialize(d)?;
    v.iter()
        .map(|s| {
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<std::net::IpAddr>().map(IpNet::from))
                .map_err(|_| serde::de::Error::custom(format!("`{s}` is not a CIDR like \"127.0.0.0/8\"")))
        })
        .collect()
}

fn empty_table_into<T: DeserializeOwned>() -> Result<T, toml::de::Error> {
    toml::Value::Table(toml::Table::new()).try_into()
}

/// Reads one section or entry, recording the problem instead of failing.
fn read<T: DeserializeOwned>(value: toml::Value, key: &str, problems: &mut Vec<Problem>) -> Option<T> {
    match value.try_into::<T>() {
        Ok(v) => Some(v),
        Err(e) => {
            problems.push(Problem { key: key.to_string(), message: clean_toml_error(&e.to_string()) });
            None
        }
    }
}

fn clean_toml_error(s: &str) -> String {
    s.trim().replace('\n', " ")
}

fn entry_label(section: &str, index: usize, value: &toml::Value) -> String {
    match value.get("name").and_then(|n| n.as_str()) {
        Some(name) => format!("{section}[{index}] ({name})"),
        None => format!("{section}[{index}]"),
    }
}

fn read_list<T: DeserializeOwned>(value: Option<toml::Value>, section: &str, problems: &mut Vec<Problem>) -> Vec<T> {
    let Some(value) = value else { return vec![] };
    let toml::Value::Array(entries) = value else {
        problems.push(Problem {
            key: section.to_string(),
            message: format!("must be a list of tables, written [[{section}]]"),
        });
        return vec![];
    };
    let mut out = vec![];
    for (i, e) in entries.into_iter().enumerate() {
        let label = entry_label(section, i, &e);
        if let Some(v) = read::<T>(e, &label, problems) {
            out.push(v);
        }
    }
    out
}

impl Config {
    /// The built-in default configuration (a catalogue of real sources and example rules).
    pub fn builtin() -> Config {
        match Config::parse(BUILTIN_TOML, "(built-in)", &|_| Ok(())) {
            Ok(c) => c,
            // Invariant: the built-in file is checked by a unit test.
            Err(e) => panic!("the built-in configuration is invalid: {:?}", e.problems),
        }
    }

    /// Makes the relative file paths of the configuration (today `[judge] tone_model`)
    /// relative to `base`, the folder of the configuration file, so that a
    /// configuration means the same files whatever folder yuqing is started from.
    pub fn resolve_paths(&mut self, base: &Path) {
        if let Some(p) = &mut self.judge.tone_model {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
    }

    /// Parses and validates a configuration. `check_query` validates a watch rule's
    /// query (the query language lives in `yuqing-judge`). All problems are returned.
    pub fn parse(
        text: &str,
        origin: &str,
        check_query: &dyn Fn(&str) -> Result<(), String>,
    ) -> Result<Config, ConfigErrors> {
        let mut problems = vec![];
        let mut table: toml::Table = match text.parse() {
            Ok(t) => t,
            Err(e) => {
                return Err(ConfigErrors {
                    origin: origin.to_string(),
                    problems: vec![Problem { key: "(syntax)".into(), message: clean_toml_error(&e.to_string()) }],
                })
            }
        };
        let known = [
            "org",
            "collect",
            "sources",
            "rules",
            "alerts",
            "bulletin",
            "store",
            "web",
            "cases",
            "spikes",
            "categories",
            "level",
            "judge",
        ];
        let mut unknown: Vec<String> = table.keys().filter(|k| !known.contains(&k.as_str())).cloned().collect();
        unknown.sort();
        for k in unknown {
            problems.push(Problem {
                key: k.clone(),
                message: format!("unknown key; the top-level sections are: {}", known.join(", ")),
            });
            table.remove(&k);
        }
        fn section<T: DeserializeOwned + Default>(t: &mut toml::Table, key: &str, p: &mut Vec<Problem>) -> T {
            match t.remove(key) {
                Some(v) => read(v, key, p).unwrap_or_default(),
                None => T::default(),
            }
        }
        let org: OrgConfig = section(&mut table, "org", &mut problems);
        let collect: CollectConfig = section(&mut table, "collect", &mut problems);
        let bulletin: BulletinConfig = section(&mut table, "bulletin", &mut problems);
        let store: StoreConfig = section(&mut table, "store", &mut problems);
        let web: WebConfig = section(&mut table, "web", &mut problems);
        let spikes: SpikesConfig = section(&mut table, "spikes", &mut problems);
        let level: LevelConfig = section(&mut table, "level", &mut problems);
        let judge: JudgeConfig = section(&mut table, "judge", &mut problems);
        let categories =
            table.remove("categories").map(|v| judging::read_categories(v, &mut problems)).unwrap_or_default();
        let mut sources: Vec<SourceConfig> = read_list(table.remove("sources"), "sources", &mut problems);
        let rules: Vec<RuleConfig> = read_list(table.remove("rules"), "rules", &mut problems);
        let mut alerts = AlertsConfig::default();
        if let Some(a) = table.remove("alerts") {
            match a {
                toml::Value::Table(mut at) => {
                    const KNOWN: [&str; 4] = ["channels", "routes", "escalation", "quiet_hours"];
                    let mut unknown: Vec<String> =
                        at.keys().filter(|k| !KNOWN.contains(&k.as_str())).cloned().collect();
                    unknown.sort();
                    for k in unknown {
                        problems.push(Problem {
                            key: format!("alerts.{k}"),
                            message: "unknown key; [alerts] has `channels`, `routes`, `escalation` and `quiet_hours`"
                                .into(),
                        });
                    }
                    alerts.channels = read_list(at.remove("channels"), "alerts.channels", &mut problems);
                    alerts.routes = read_list(at.remove("routes"), "alerts.routes", &mut problems);
                    alerts.escalation = at.remove("escalation");
                    match at.remove("quiet_hours") {
                        None => {}
                        Some(toml::Value::String(q)) => match parse_quiet_hours(&q) {
                            Ok(q) => alerts.quiet_hours = q,
                            Err(message) => problems.push(Problem { key: "alerts.quiet_hours".into(), message }),
                        },
                        Some(_) => problems.push(Problem {
                            key: "alerts.quiet_hours".into(),
                            message: "must be a string like \"22:00-07:00\"".into(),
                        }),
                    }
                }
                _ => problems.push(Problem { key: "alerts".into(), message: "must be a table".into() }),
            }
        }
        let mut case_deadlines = None;
        if let Some(c) = table.remove("cases") {
            match c {
                toml::Value::Table(mut ct) => {
                    let mut unknown: Vec<String> = ct.keys().filter(|k| *k != "deadlines").cloned().collect();
                    unknown.sort();
                    for k in unknown {
                        problems.push(Problem {
                            key: format!("cases.{k}"),
                            message: "unknown key; [cases] has `deadlines`".into(),
                        });
                    }
                    case_deadlines = ct.remove("deadlines");
                }
                _ => problems.push(Problem { key: "cases".into(), message: "must be a table".into() }),
            }
        }
        for s in &mut sources {
            if s.weight.is_nan() {
                s.weight = s.tier.default_weight();
            }
        }
        let mut cfg = Config {
            org,
            collect,
            sources,
            rules,
            alerts,
            bulletin,
            store,
            web,
            spikes,
            case_deadlines,
            categories,
            level,
            judge,
            warnings: vec![],
        };
        cfg.validate(&mut problems, check_query);
        if problems.is_empty() {
            Ok(cfg)
        } else {
            Err(ConfigErrors { origin: origin.to_string(), problems })
        }
    }

    fn validate(&mut self, problems: &mut Vec<Problem>, check_query: &dyn Fn(&str) -> Result<(), String>) {
        let mut p = |key: String, message: String| problems.push(Problem { key, message });
        let c = &self.collect;
        if c.user_agent_contact.trim().is_empty() {
            self.warnings.push(Problem {
                key: "collect.user_agent_contact".into(),
                message: "not set: site owners cannot see who collects their pages; set a URL or mailto: address"
                    .into(),
            });
        } else if Url::parse(c.user_agent_contact.trim()).is_err() {
            p(
                "collect.user_agent_contact".into(),
                format!("`{}` is not a URL (https://… or mailto:…)", c.user_agent_contact),
            );
        }
        if c.min_host_delay < Duration::from_millis(100) {
            p("collect.min_host_delay".into(), "must be at least 100ms: polite collection".into());
        }
        if c.timeout.is_zero() || c.connect_timeout.is_zero() {
            p("collect.timeout".into(), "timeouts must be above zero".into());
        }
        if c.max_body_bytes < 1024 || c.max_body_bytes > 512 * 1024 * 1024 {
            p("collect.max_body_bytes".into(), "must be between 1 KiB and 512 MiB".into());
        }
        if c.max_redirects > 20 {
            p("collect.max_redirects".into(), "must be at most 20".into());
        }
        if c.retries > 10 {
            p("collect.retries".into(), "must be at most 10".into());
        }
        if !(0.0..=0.5).contains(&c.jitter) {
            p("collect.jitter".into(), "must be between 0 and 0.5 (a share of the interval)".into());
        }
        if c.concurrency == 0 || c.concurrency > 64 {
            p("collect.concurrency".into(), "must be between 1 and 64".into());
        }
        if c.max_articles_per_pass == 0 {
            p("collect.max_articles_per_pass".into(), "must be at least 1".into());
        }

        let mut names = HashSet::new();
        for (i, s) in self.sources.iter().enumerate() {
            let key = format!("sources[{i}] ({})", s.name);
            if s.name.trim().is_empty() {
                p(key.clone(), "`name` must not be empty".into());
            }
            if !names.insert(s.name.clone()) {
                p(key.clone(), format!("the name `{}` is used by another source", s.name));
            }
            if !matches!(s.url.scheme(), "http" | "https") {
                p(key.clone(), format!("`url` must be http or https, not `{}`", s.url.scheme()));
            }
            if s.interval < Duration::from_secs(60) {
                p(key.clone(), "`interval` must be at least 1m: polite collection".into());
            }
            if !(s.weight.is_finite() && s.weight >= 0.0 && s.weight <= 10.0) {
                p(key.clone(), "`weight` must be between 0 and 10".into());
            }
            match s.kind {
                SourceKind::Feed => {
                    if s.selector.is_some() || s.pattern.is_some() {
                        p(key.clone(), "`selector` and `pattern` apply to kind = \"page\" only".into());
                    }
                }
                SourceKind::Page => {
                    if let Some(pat) = &s.pattern {
                        if let Err(e) = regex::Regex::new(pat) {
                            p(key.clone(), format!("`pattern` is not a valid regular expression: {e}"));
                        }
                    }
                    if let Some(sel) = &s.selector {
                        if sel.trim().is_empty() {
                            p(key.clone(), "`selector` must not be empty".into());
                        }
                    }
                }
            }
        }

        let mut rule_names = HashSet::new();
        for (i, r) in self.rules.iter().enumerate() {
            let key = format!("rules[{i}] ({})", r.name);
            if r.name.trim().is_empty() {
                p(key.clone(), "`name` must not be empty".into());
            }
            if !rule_names.insert(r.name.clone()) {
                p(key.clone(), format!("the name `{}` is used by another rule", r.name));
            }
            if let Err(e) = check_query(&r.query) {
                p(key.clone(), format!("`query` {e}"));
            }
        }

        let mut channel_names = HashSet::new();
        for (i, ch) in self.alerts.channels.iter().enumerate() {
            let key = format!("alerts.channels[{i}] ({})", ch.name);
            if !channel_names.insert(ch.name.clone()) {
                p(key.clone(), format!("the name `{}` is used by another channel", ch.name));
            }
            match ch.kind {
                ChannelKind::Email => {
                    if ch.smtp.as_deref().is_none_or(|s| !s.contains(':')) {
                        p(key.clone(), "kind = \"email\" needs `smtp = \"host:port\"`".into());
                    }
                    if ch.from.is_none() || ch.to.is_empty() {
                        p(key.clone(), "kind = \"email\" needs `from` and at least one `to`".into());
                    }
                    if ch.url.is_some() {
                        p(key.clone(), "`url` does not apply to kind = \"email\"".into());
                    }
                }
                ChannelKind::Webhook | ChannelKind::Wecom | ChannelKind::Dingtalk | ChannelKind::Feishu => {
                    if ch.url.is_none() {
                        p(key.clone(), "needs `url`, the address to post to".into());
                    }
                    if ch.smtp.is_some() || ch.tls.is_some() || ch.from.is_some() || !ch.to.is_empty() {
                        p(key.clone(), "`smtp`, `tls`, `from` and `to` apply to kind = \"email\" only".into());
                    }
                }
            }
            for env in [&ch.password_env, &ch.secret_env].into_iter().flatten() {
                if env.is_empty() || !env.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    p(key.clone(), format!("`{env}` is not an environment variable name"));
                }
            }
        }
        for (i, r) in self.alerts.routes.iter().enumerate() {
            let key = format!("alerts.routes[{i}]");
            if r.channels.is_empty() {
                p(key.clone(), "`channels` must name at least one channel".into());
            }
            for c in &r.channels {
                if !channel_names.contains(c) {
                    p(key.clone(), format!("channel `{c}` is not defined in [[alerts.channels]]"));
                }
            }
            for rn in &r.rules {
                if !rule_names.contains(rn) {
                    p(key.clone(), format!("rule `{rn}` is not defined in [[rules]]"));
                }
            }
            if r.spikes && (r.tone.is_some() || r.min_level.is_some() || !r.tiers.is_empty()) {
                p(
                    key.clone(),
                    "a route with `spikes = true` carries spikes, which have no tone, level or tier: \
                     filter it with `rules` and `categories` only"
                        .into(),
                );
            }
        }
        self.spikes.check(&mut p);
        let store_url = self.store.url.trim();
        if !store_url.is_empty() {
            match url::Url::parse(store_url) {
                Ok(u) if u.scheme() == "postgres" || u.scheme() == "postgresql" => {
                    if u.password().is_some() {
                        p(
                            "store.url".into(),
                            "holds a password: secrets are never written in the file; give the password in \
                             PGPASSWORD, or the whole URL in YUQING_DATABASE_URL (or --database-url)"
                                .into(),
                        );
                    }
                }
                _ => p(
                    "store.url".into(),
                    "must be empty (the embedded SQLite file in the data folder) or a postgres://host/database URL"
                        .into(),
                ),
            }
        }
        if self.web.listen.parse::<std::net::SocketAddr>().is_err() {
            p("web.listen".into(), format!("`{}` is not an address like 127.0.0.1:8080", self.web.listen));
        }
        judging::validate(&self.categories, &self.level, &mut p, check_query);
    }
}

impl SpikesConfig {
    fn check(&self, p: &mut impl FnMut(String, String)) {
        let hours = |d: Duration| d.as_secs() / 3600;
        let whole = |d: Duration| d.as_secs().is_multiple_of(3600);
        if !whole(self.baseline) || hours(self.baseline) < 24 || hours(self.baseline) > 90 * 24 {
            p("spikes.baseline".into(), "must be whole hours, from 24h to 90d".into());
        }
        if !(self.k.is_finite() && self.k > 0.0 && self.k <= 100.0) {
            p("spikes.k".into(), "must be a number above 0 and at most 100".into());
        }
        if self.min_count == 0 {
            p("spikes.min_count".into(), "must be at least 1".into());
        }
        if !whole(self.cooldown) || hours(self.cooldown) < 1 {
            p("spikes.cooldown".into(), "must be whole hours, at least 1h (counts are hourly)".into());
        }
        if !whole(self.min_history) || self.min_history > self.baseline {
            p("spikes.min_history".into(), "must be whole hours and no longer than `baseline`".into());
        }
        if self.max_item_age < Duration::from_secs(3600) {
            p("spikes.max_item_age".into(), "must be at least 1h".into());
        }
        if self.check_interval < Duration::from_secs(10) || self.check_interval > Duration::from_secs(3600) {
            p("spikes.check_interval".into(), "must be between 10s and 1h".into());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spikes_defaults_and_every_bad_value() {
        let c = Config::parse("", "t", &|_| Ok(())).expect("valid");
        assert!(c.spikes.enabled);
        assert_eq!(c.spikes.baseline, Duration::from_secs(7 * 86400));
        assert_eq!((c.spikes.k, c.spikes.min_count), (3.0, 5));
        assert_eq!(c.spikes.cooldown, Duration::from_secs(6 * 3600));
        let text = "[spikes]\nbaseline = \"90m\"\nk = 0.0\nmin_count = 0\ncooldown = \"30m\"\n\
                    min_history = \"30d\"\nmax_item_age = \"10m\"\ncheck_interval = \"2h\"\n\
                    [[alerts.channels]]\nname = \"h\"\nkind = \"webhook\"\nurl = \"https://h.example.org/\"\n\
                    [[alerts.routes]]\nchannels = [\"h\"]\nspikes = true\ntone = \"negative\"\n";
        let e = Config::parse(text, "t", &|_| Ok(())).expect_err("bad");
        let mut keys: Vec<&str> = e.problems.iter().map(|p| p.key.as_str()).collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "alerts.routes[0]",
                "spikes.baseline",
                "spikes.check_interval",
                "spikes.cooldown",
                "spikes.k",
                "spikes.max_item_age",
                "spikes.min_count",
                "spikes.min_history"
            ],
            "{:?}",
            e.problems
        );
        let e = Config::parse("[spikes]\nwindow = \"7d\"\n", "t", &|_| Ok(())).expect_err("unknown key");
        assert_eq!(e.problems[0].key, "spikes");
        assert!(e.problems[0].message.contains("window"), "{:?}", e.problems);
    }

    #[test]
    fn builtin_is_valid_and_has_every_tier() {
        let c = Config::builtin();
        assert!(c.sources.len() >= 20, "a real catalogue, got {}", c.sources.len());
        for t in Tier::ALL {
            if *t == Tier::Search {
                continue;
            }
            assert!(c.sources.iter().any(|s| s.tier == *t), "no source for tier {t}");
        }
        assert!(!c.rules.is_empty());
        assert_eq!(c.org.timezone, chrono_tz::Asia::Shanghai);
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let text = r#"
bogus = 1
[org]
name = "x"
timezone = "Mars/Olympus"
[collect]
speed = "fast"
[[sources]]
name = "a"
kind = "feed"
url = "https://example.org/rss"
tier = "local"
interval = "often"
[[sources]]
name = "a"
kind = "rss"
url = "https://example.org/rss2"
tier = "local"
[[sources]]
name = "b"
kind = "page"
url = "ftp://example.org/"
tier = "nowhere"
[[rules]]
name = "r"
query = "BAD"
category = "gossip"
"#;
        let err = Config::parse(text, "t.toml", &|q| {
            if q == "BAD" {
                Err("is bad".into())
            } else {
                Ok(())
            }
        })
        .expect_err("invalid");
        let all = err.problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("\n");
        for needle in ["bogus", "Mars/Olympus", "speed", "often", "rss", "nowhere", "gossip"] {
            assert!(all.contains(needle), "missing `{needle}` in:\n{all}");
        }
        assert!(err.problems.len() >= 7, "{all}");
    }

    #[test]
    fn semantic_checks() {
        let text = r#"
[[sources]]
name = "a"
kind = "page"
url = "ftp://example.org/"
tier = "local"
interval = "5s"
pattern = "("
[[rules]]
name = "r"
query = "x"
[[rules]]
name = "r"
query = "y"
[[alerts.channels]]
name = "m"
kind = "email"
[[alerts.routes]]
channels = ["nope"]
"#;
        let err = Config::parse(text, "t.toml", &|_| Ok(())).expect_err("invalid");
        let all = err.problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("\n");
        for needle in ["ftp", "interval", "pattern", "used by another rule", "smtp", "nope"] {
            assert!(all.contains(needle), "missing `{needle}` in:\n{all}");
        }
    }

    #[test]
    fn defaults_fill_in() {
        let c = Config::parse(
            "[[sources]]\nname='a'\nkind='feed'\nurl='https://example.org/rss'\ntier='central'\n",
            "t",
            &|_| Ok(()),
        )
        .expect("valid");
        assert_eq!(c.sources[0].interval, Duration::from_secs(1800));
        assert!((c.sources[0].weight - 0.9).abs() < 1e-9);
        assert_eq!(c.collect.max_redirects, 5);
        assert!(c.warnings.iter().any(|w| w.key == "collect.user_agent_contact"));
    }

    /// A stand-in for yuqing-judge's query check: `BAD` fails at character 3.
    fn check(q: &str) -> Result<(), String> {
        if q.contains("BAD") {
            Err("at character 3: `AND` has nothing after it".into())
        } else {
            Ok(())
        }
    }

    #[test]
    fn categories_and_level_default_to_the_built_in_judgement() {
        let c = Config::parse("", "t", &check).expect("valid");
        assert_eq!(c.categories.combine, CombineCategories::FillIn);
        assert!(c.categories.sets.is_empty());
        assert_eq!(c.level, LevelConfig::default());
        assert_eq!(c.level.tier_points(Tier::Local), 2);
        assert_eq!(c.level.category_points(Category::IncidentElsewhere), 0);
        assert_eq!(c.level.priority_points(Priority::Normal), 0);
        let c = Config::parse("[[rules]]\nname='r'\nquery='x'\n", "t", &check).expect("valid");
        assert_eq!(c.rules[0].priority, Priority::Normal);
    }

    #[test]
    fn categories_and_level_are_read_over_the_defaults() {
        let text = r#"
[[rules]]
name = "r"
query = "x"
priority = "critical"
[categories]
combine = "union"
[categories.livelihood]
query = "一卡通"
queries = ["补贴", "惠农"]
[categories.rumour]
mode = "replace"
queries = ["网传"]
[categories.policy]
enabled = false
[level]
important_at = 3
spread_at = 2
[level.points]
negative = 1
[level.tiers]
portal = 1
[level.priorities]
critical = 9
"#;
        let c = Config::parse(text, "t", &check).expect("valid");
        assert_eq!(c.rules[0].priority, Priority::Critical);
        assert_eq!(c.categories.combine, CombineCategories::Union);
        let l = &c.categories.sets[&Category::Livelihood];
        assert_eq!((l.enabled, l.mode), (true, CategoryMode::Extend));
        assert_eq!(l.own_queries().collect::<Vec<_>>(), ["一卡通", "补贴", "惠农"]);
        assert_eq!(c.categories.sets[&Category::Rumour].mode, CategoryMode::Replace);
        assert!(!c.categories.sets[&Category::Policy].enabled);
        assert_eq!(c.level.important_at, 3);
        assert_eq!(c.level.major_sensitive_at, 7, "a key left out keeps its default");
        assert_eq!(c.level.spread_at, 2);
        assert_eq!((c.level.points.negative, c.level.points.strongly_negative), (1, 3));
        assert_eq!((c.level.tier_points(Tier::Portal), c.level.tier_points(Tier::Local)), (1, 2));
        assert_eq!((c.level.priority_points(Priority::Critical), c.level.priority_points(Priority::High)), (9, 2));
    }

    #[test]
    fn categories_and_level_problems_are_all_reported() {
        let text = r#"
[[rules]]
name = "r"
query = "x"
priority = "urgent"
[categories]
combine = "both"
gossip = { query = "x" }
[categories.livelihood]
query = "BAD one"
queries = ["fine", "BAD two"]
colour = "red"
[categories.rumour]
mode = "replace"
[categories.policy]
mode = "swap"
[level]
important_at = 8
major_sensitive_at = 5
wide_spread_at = 1
strongly_negative_at = 0.5
[level.priorities]
high = 5
critical = 1
"#;
        let err = Config::parse(text, "t", &check).expect_err("invalid");
        let all = err.problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("\n");
        for needle in [
            "urgent",
            "categories.combine: `both` is not one of: fill-in, union",
            "categories.gossip: unknown key",
            "colour",
            "swap",
            "categories.rumour: mode = \"replace\" needs at least one query",
            "level.major_sensitive_at",
            "level.wide_spread_at",
            "level.strongly_negative_at",
            "level.priorities: must not fall",
        ] {
            assert!(all.contains(needle), "missing `{needle}` in:\n{all}");
        }
        let err = Config::parse("[level.tiers]\nmoon = 3\n", "t", &check).expect_err("unknown tier");
        assert_eq!(err.problems[0].key, "level");
        assert!(err.problems[0].message.contains("moon"), "{:?}", err.problems);
        let err = Config::parse("[level]\nimportant = 3\n", "t", &check).expect_err("unknown key");
        assert!(err.problems[0].message.contains("important_at"), "{:?}", err.problems);
        // With `colour` the whole livelihood table is refused (like a source with an
        // unknown key); the query positions are checked on a table that reads.
        let text = "[categories.livelihood]\nquery = 'BAD one'\nqueries = ['fine', 'BAD two']\n";
        let err = Config::parse(text, "t", &check).expect_err("invalid");
        let all: Vec<String> = err.problems.iter().map(|p| p.to_string()).collect();
        assert_eq!(
            all,
            [
                "categories.livelihood: `query` at character 3: `AND` has nothing after it",
                "categories.livelihood: `queries[1]` at character 3: `AND` has nothing after it",
            ]
        );
    }

    #[test]
    fn allow_private_takes_cidrs_and_addresses() {
        let c = Config::parse("[collect]\nallow_private = ['127.0.0.0/8', '::1']\n", "t", &|_| Ok(())).expect("valid");
        assert_eq!(c.collect.allow_private.len(), 2);
        let e = Config::parse("[collect]\nallow_private = ['localhost']\n", "t", &|_| Ok(())).expect_err("bad");
        assert!(e.problems[0].message.contains("CIDR"));
    }
}

#[cfg(test)]
mod example_tests {
    use super::*;

    const EXAMPLE: &str = include_str!("../../../yuqing.example.toml");

    /// The fields a section accepts, read from serde's own "expected one of" message,
    /// so that a field added to a struct is found without a list kept by hand.
    fn fields_of<T: DeserializeOwned>() -> Vec<String> {
        let mut t = toml::Table::new();
        t.insert("__no_such_key__".into(), toml::Value::Integer(0));
        let err = match toml::Value::Table(t).try_into::<T>() {
            Err(e) => e.to_string(),
            Ok(_) => return vec![],
        };
        let tail = err.split("expected one of").nth(1).or_else(|| err.split("expected").nth(1)).unwrap_or("");
        tail.split('`').skip(1).step_by(2).map(str::to_string).collect()
    }

    #[test]
    fn example_parses() {
        let c = Config::parse(EXAMPLE, "yuqing.example.toml", &|_| Ok(())).expect("the example is valid");
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        assert_eq!(c.sources.len(), 2);
        assert_eq!(c.alerts.routes.len(), 2);
        assert!(!c.alerts.routes[0].spikes && c.alerts.routes[1].spikes);
    }

    #[test]
    fn quiet_hours_and_the_escalation_table_are_read() {
        let t = |h, m| chrono::NaiveTime::from_hms_opt(h, m, 0).unwrap_or_default();
        assert_eq!(parse_quiet_hours("22:00-07:00"), Ok(Some((t(22, 0), t(7, 0)))));
        assert_eq!(parse_quiet_hours(" 12:30 - 13:30 "), Ok(Some((t(12, 30), t(13, 30)))));
        assert_eq!(parse_quiet_hours("08:00-08:00"), Ok(None));
        assert!(parse_quiet_hours("22:00").is_err());
        assert!(parse_quiet_hours("25:00-07:00").is_err());
        let c = Config::parse(EXAMPLE, "yuqing.example.toml", &|_| Ok(())).expect("the example is valid");
        assert!(c.alerts.escalation.as_ref().and_then(|e| e.get("ack_within")).is_some());
        let text = "[alerts]\nquiet_hours = \"22:00-7\"\nescalations = 1\n";
        let e = Config::parse(text, "t", &|_| Ok(())).expect_err("two problems");
        let keys: Vec<&str> = e.problems.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(keys, ["alerts.escalations", "alerts.quiet_hours"], "{:?}", e.problems);
        let c = Config::parse("[alerts]\nquiet_hours = \"22:00-07:00\"\n", "t", &|_| Ok(())).expect("valid");
        assert_eq!(c.alerts.quiet_hours, Some((t(22, 0), t(7, 0))));
    }

    #[test]
    fn example_documents_every_key() {
        let table: toml::Table = EXAMPLE.parse().expect("toml");
        let sections: Vec<(&str, Vec<String>, Option<&toml::Table>)> = vec![
            ("org", fields_of::<OrgConfig>(), table.get("org").and_then(|v| v.as_table())),
            ("collect", fields_of::<CollectConfig>(), table.get("collect").and_then(|v| v.as_table())),
            ("bulletin", fields_of::<BulletinConfig>(), table.get("bulletin").and_then(|v| v.as_table())),
            ("store", fields_of::<StoreConfig>(), table.get("store").and_then(|v| v.as_table())),
            ("web", fields_of::<WebConfig>(), table.get("web").and_then(|v| v.as_table())),
            ("spikes", fields_of::<SpikesConfig>(), table.get("spikes").and_then(|v| v.as_table())),
        ];
        let level = table.get("level").and_then(|v| v.as_table());
        let sections: Vec<(&str, Vec<String>, Option<&toml::Table>)> = sections
            .into_iter()
            .chain([
                ("level", fields_of::<LevelConfig>(), level),
                ("level.points", fields_of::<LevelPoints>(), level.and_then(|l| l.get("points")?.as_table())),
            ])
            .collect();
        for (name, fields, t) in sections {
            assert!(!fields.is_empty(), "could not read the fields of [{name}]");
            let t = t.unwrap_or_else(|| panic!("[{name}] missing from the example"));
            for f in fields {
                assert!(t.contains_key(&f), "[{name}] {f} is not in yuqing.example.toml");
            }
        }
        let lists: Vec<(&str, Vec<String>, Vec<&toml::Value>)> = vec![
            (
                "sources",
                fields_of::<SourceConfig>(),
                table["sources"].as_array().map(|a| a.iter().collect()).unwrap_or_default(),
            ),
            (
                "rules",
                fields_of::<RuleConfig>(),
                table["rules"].as_array().map(|a| a.iter().collect()).unwrap_or_default(),
            ),
            (
                "alerts.channels",
                fields_of::<ChannelConfig>(),
                table["alerts"]["channels"].as_array().map(|a| a.iter().collect()).unwrap_or_default(),
            ),
            (
                "alerts.routes",
                fields_of::<RouteConfig>(),
                table["alerts"]["routes"].as_array().map(|a| a.iter().collect()).unwrap_or_default(),
            ),
        ];
        // Every key of [categories.<id>] appears in some configured set.
        let sets: Vec<&toml::Value> = table["categories"]
            .as_table()
            .map(|t| t.iter().filter(|(k, _)| Category::from_id(k).is_some()).map(|(_, v)| v).collect())
            .unwrap_or_default();
        let lists: Vec<(&str, Vec<String>, Vec<&toml::Value>)> =
            lists.into_iter().chain([("categories.<id>", fields_of::<CategorySetConfig>(), sets)]).collect();
        assert!(table["categories"].get("combine").is_some(), "[categories] combine is not in yuqing.example.toml");
        // The points tables list every id, so that an admin sees what there is to set.
        let ids = |key: &str| -> Vec<String> {
            table["level"][key].as_table().map(|t| t.keys().cloned().collect()).unwrap_or_default()
        };
        for t in Tier::ALL {
            assert!(ids("tiers").contains(&t.id().to_string()), "[level.tiers] {t} is not in the example");
        }
        for c in Category::ALL {
            assert!(ids("categories").contains(&c.id().to_string()), "[level.categories] {c} is not in the example");
        }
        for p in Priority::ALL {
            assert!(ids("priorities").contains(&p.id().to_string()), "[level.priorities] {p} is not in the example");
        }
        for (name, fields, entries) in lists {
            assert!(!fields.is_empty(), "could not read the fields of [[{name}]]");
            for f in fields {
                assert!(entries.iter().any(|e| e.get(&f).is_some()), "[[{name}]] {f} is not in yuqing.example.toml");
            }
        }
    }
}
