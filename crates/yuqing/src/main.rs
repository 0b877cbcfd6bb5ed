//! `yuqing`: the command line (INTERFACES.md). Each command is a thin shell over the
//! library crates; `serve` wires the collector, the pipeline and the web app together.

mod alerts;
mod bench;
mod bench_search;
mod bulletin;
mod corrections;
mod fill;
mod pipeline;
mod spikes;

use anyhow::{bail, Context, Result};
use chrono::{DateTime, NaiveDate, SecondsFormat, TimeZone, Utc};
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use pipeline::Pipeline;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use yuqing_collect::{Fetcher, FetcherConfig, PassOptions, Progress};
use yuqing_core::config::Config;
use yuqing_core::{Category, Level, Role, Tier, Tone};
use yuqing_store::{ItemFilter, ItemQuery, Store};

/// mimalloc rather than glibc's malloc: under wrk, glibc's malloc and free (with
/// `malloc_consolidate`) took about a quarter of `serve`'s CPU on the stream page, and its
/// per-thread arenas keep freed memory resident (`docs/BENCHMARKS.md`, Scale).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "yuqing", version, about = "yuqing (舆情): a Chinese-first public-opinion monitoring desk")]
struct Cli {
    /// Data folder: the embedded database, the search index, kept raw pages.
    #[arg(long, global = true, env = "YUQING_DATA", default_value = "./yuqing-data")]
    data: PathBuf,
    /// Configuration file (default: DATA/../yuqing.toml if present, else the built-in default).
    #[arg(long, global = true, env = "YUQING_CONFIG")]
    config: Option<PathBuf>,
    /// A PostgreSQL database shared by several yuqing processes (postgres://host/db);
    /// default: `[store] url` of the configuration, else the embedded SQLite file in DATA.
    #[arg(long, global = true, env = "YUQING_DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Collector, judge and the web UI/API in one process.
    Serve {
        /// Address to listen on (default: web.listen of the configuration, 127.0.0.1:8080).
        #[arg(long)]
        listen: Option<String>,
        /// Do not collect: only serve the UI and API.
        #[arg(long)]
        no_collect: bool,
        /// Do not serve the UI and API: only collect.
        #[arg(long)]
        no_web: bool,
    },
    /// One collection pass over all (or one) sources, then exit.
    Collect {
        /// Required: one pass, then exit (continuous collection is `yuqing serve`).
        #[arg(long)]
        once: bool,
        /// Only this source (its name in the configuration).
        #[arg(long)]
        source: Option<String>,
    },
    /// Extract title, published time and main text from saved pages; one JSON line each.
    Extract {
        /// The address the pages were fetched from (resolves links, helps the heuristics).
        #[arg(long)]
        url: Option<String>,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Judge texts read from stdin, one per line; one JSON line each.
    Classify,
    /// Full-text search of collected items, newest first.
    Search {
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        filter: FilterArgs,
        /// The query (words are all required; OR, -word and "phrases" work too); none lists all.
        query: Vec<String>,
    },
    /// Validate the configuration and print every problem at once.
    CheckConfig,
    /// Rebuild the search index from the store.
    Reindex,
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Developer benchmark: push saved pages (.html or .html.gz) through the whole
    /// pipeline (decode, extract, judge, store, index) into DATA, and report pages/s.
    #[command(hide = true)]
    BenchIngest {
        /// Watch rule that decides relevance (default: everything with a common word is relevant).
        #[arg(long, default_value = "的 OR 是 OR the OR a")]
        rule: String,
        /// Feed the pages this many times, each round under new URLs (the later rounds
        /// are stored as reposts of the first): a run of a few seconds rather than a
        /// fraction of one, for steadier figures.
        #[arg(long, default_value_t = 1)]
        rounds: usize,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Developer benchmark: fill the store with realistic synthetic items (Chinese text,
    /// sources of every tier, reposts and follow-ups, times over months) through the
    /// store's ingest, and report the time it took.
    #[command(hide = true)]
    BenchFill {
        #[arg(long, default_value_t = 100_000)]
        items: usize,
        /// Another seed gives other items (and other URLs: fills add up).
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The items' times span this many days, ending now.
        #[arg(long, default_value_t = 180)]
        days: u32,
        /// Do not keep a raw page with each item.
        #[arg(long)]
        no_raw: bool,
        /// Ingests waiting at once (default 64, one full transaction: the store writes those waiting together).
        #[arg(long)]
        concurrency: Option<usize>,
        /// Watch rule the items are judged under.
        #[arg(long, default_value = "县 OR 镇 OR 市")]
        rule: String,
    },
    /// Developer benchmark: search latency in process for typical queries (p50/p99).
    #[command(hide = true)]
    BenchSearch {
        #[arg(long, default_value_t = 200)]
        runs: usize,
        /// More queries to time, besides the typical ones.
        #[arg(long = "query")]
        queries: Vec<String>,
    },
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Train a model from labelled data.
    #[command(subcommand)]
    Train(TrainCommand),
    /// Bulletins (舆情信息): compile the next numbered issue, render one.
    #[command(subcommand)]
    Bulletin(BulletinCommand),
    /// Score yuqing against labelled data sets.
    #[command(subcommand)]
    Eval(EvalCommand),
    /// Tone corrections (倾向更正) made in the web UI or the API.
    #[command(subcommand)]
    Corrections(CorrectionsCommand),
}

#[derive(Subcommand)]
enum CorrectionsCommand {
    /// Write the corrected items as tone training data for `yuqing train tone --data FILE`:
    /// `id<TAB>tone<TAB>title<TAB>content`, each item once with its latest correction.
    Export {
        /// Where to write the file (default: stdout).
        #[arg(short = 'o', long = "out")]
        out: Option<PathBuf>,
        /// Only items corrected since this time (RFC 3339 or YYYY-MM-DD in the configured zone).
        #[arg(long)]
        since: Option<String>,
    },
}

#[derive(Args)]
struct FilterArgs {
    #[arg(long)]
    tone: Option<Tone>,
    #[arg(long)]
    category: Option<Category>,
    #[arg(long)]
    tier: Option<Tier>,
    #[arg(long)]
    source: Option<String>,
    #[arg(long)]
    level: Option<Level>,
    /// From this time (RFC 3339 or YYYY-MM-DD in the configured zone).
    #[arg(long)]
    since: Option<String>,
    /// Until this time, exclusive.
    #[arg(long)]
    until: Option<String>,
    #[arg(long, default_value_t = 50)]
    limit: usize,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user (or reset one); the password is read from stdin.
    Add {
        name: String,
        #[arg(long)]
        role: Role,
    },
}

#[derive(Subcommand)]
enum BulletinCommand {
    /// Compile the next numbered issue from the period's relevant items; prints its number.
    Create {
        /// First day (YYYY-MM-DD, configured zone); default: the previous issue's last day, or 7 days ago.
        #[arg(long)]
        since: Option<String>,
        /// Last day, included; default: today.
        #[arg(long)]
        until: Option<String>,
    },
    /// Write issue N as a document.
    Render {
        number: i64,
        #[arg(long, value_parser = ["pdf", "docx", "html"])]
        format: String,
        #[arg(short = 'o', long = "out")]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum EvalCommand {
    /// Main-text extraction on a data set laid out like magic-html's benchmark
    /// (index.tsv, SUBSET/base.json, SUBSET/htmls/ID.html[.gz]): bag-of-tokens precision,
    /// recall and F1 per page (a CJK character or a Latin/digit run is one token), averaged.
    Extract {
        dir: PathBuf,
        /// Only the pages whose expected text is Chinese.
        #[arg(long)]
        chinese: bool,
        /// Only this subset (repeatable).
        #[arg(long)]
        subset: Vec<String>,
        /// How many of the worst pages to list.
        #[arg(long, default_value_t = 10)]
        worst: usize,
    },
}

#[derive(Subcommand)]
enum TrainCommand {
    /// Train a tone model (deterministic: the same data gives the same file).
    Tone {
        /// Labelled TSV files: `label<TAB>text_a` (1/0), `id<TAB>tone<TAB>title<TAB>content`,
        /// or `tone<TAB>text` (positive / neutral / negative).
        #[arg(long = "data", required = true)]
        data: Vec<PathBuf>,
        /// Where to write the model.
        #[arg(short = 'o', long = "out", default_value = "tone.bin")]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Print a new API token for a user.
    Create {
        #[arg(long)]
        user: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let serving = matches!(cli.command, Command::Serve { .. });
    let default_filter = if serving { "info" } else { "warn" };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter)),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The case deadlines of a configuration (`[cases.deadlines.<level>]`), or its problems.
fn case_deadlines(config: &Config) -> std::result::Result<yuqing_cases::DeadlineConfig, Vec<String>> {
    let Some(raw) = &config.case_deadlines else { return Ok(yuqing_cases::DeadlineConfig::default()) };
    let parsed: yuqing_cases::DeadlineConfig = raw
        .clone()
        .try_into()
        .map_err(|e: toml::de::Error| vec![format!("cases.deadlines: {}", e.to_string().trim().replace('\n', " "))])?;
    let problems = parsed.validate();
    if problems.is_empty() {
        Ok(parsed)
    } else {
        Err(problems.iter().map(|p| p.to_string()).collect())
    }
}

/// Whether the tone model of `[judge] tone_model` (if any) reads: the problem a start or
/// check-config reports, rather than the first item to be judged.
fn tone_model_problems(config: &Config) -> std::result::Result<(), Vec<String>> {
    match &config.judge.tone_model {
        None => Ok(()),
        Some(p) => yuqing_judge::tone_model::ToneModel::cached(p)
            .map(|_| ())
            .map_err(|e| vec![format!("judge.tone_model: {e} (write one with `yuqing train tone`)")]),
    }
}

/// Finds and loads the configuration: `--config`, else DATA/../yuqing.toml, else built-in.
fn load_config(cli: &Cli) -> Result<(Config, String)> {
    let path = match &cli.config {
        Some(p) => Some(p.clone()),
        None => {
            let parent = cli.data.parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."));
            let parent = if parent.as_os_str().is_empty() { PathBuf::from(".") } else { parent };
            let p = parent.join("yuqing.toml");
            p.exists().then_some(p)
        }
    };
    match path {
        None => Ok((Config::builtin(), "(built-in default)".to_string())),
        Some(p) => {
            let text = std::fs::read_to_string(&p)
                .with_context(|| format!("cannot read the configuration file {}", p.display()))?;
            let origin = p.display().to_string();
            match Config::parse(&text, &origin, &yuqing_judge::check_query) {
                Ok(mut c) => {
                    c.resolve_paths(p.parent().unwrap_or(Path::new(".")));
                    if let Err(problems) = case_deadlines(&c)
                        .map(|_| ())
                        .and_then(|_| alerts::escalation(&c).map(|_| ()))
                        .and_then(|_| tone_model_problems(&c))
                    {
                        for p in &problems {
                            eprintln!("{origin}: {p}");
                        }
                        bail!("{} problem(s) in {origin}; `yuqing check-config` lists them", problems.len());
                    }
                    Ok((c, origin))
                }
                Err(errors) => {
                    for problem in &errors.problems {
                        eprintln!("{origin}: {problem}");
                    }
                    bail!("{} problem(s) in {origin}; `yuqing check-config` lists them", errors.problems.len())
                }
            }
        }
    }
}

async fn open_store(cli: &Cli) -> Result<Arc<Store>> {
    let url = match &cli.database_url {
        Some(u) => u.trim().to_string(),
        None => load_config(cli)?.0.store.url.trim().to_string(),
    };
    let store = Store::open_with(&cli.data, &url).await.with_context(|| {
        if url.is_empty() {
            format!("cannot open the store in {}", cli.data.display())
        } else {
            format!("cannot open the store in {}", yuqing_store::db::redact_url(&url))
        }
    })?;
    Ok(Arc::new(store))
}

async fn run(cli: Cli) -> Result<ExitCode> {
    match &cli.command {
        Command::CheckConfig => check_config(&cli),
        Command::Extract { url, files } => {
            let (config, _) = load_config(&cli)?;
            extract(&config, url.as_deref(), files)
        }
        Command::Classify => {
            let (config, origin) = load_config(&cli)?;
            classify(&config, &origin)
        }
        Command::Collect { once, source } => {
            if !once {
                bail!("`yuqing collect` needs --once (continuous collection is `yuqing serve`)");
            }
            let (config, _) = load_config(&cli)?;
            let store = open_store(&cli).await?;
            let code = collect_once(&config, store.clone(), source.as_deref()).await;
            store.close().await;
            code
        }
        Command::Search { json, filter, query } => {
            let (config, _) = load_config(&cli)?;
            let store = open_store(&cli).await?;
            search(&config, &store, *json, filter, &query.join(" ")).await
        }
        Command::Reindex => {
            let store = open_store(&cli).await?;
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template("重建索引 reindex {bar:40} {pos}/{len} items")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            let n = store
                .reindex(|done, total| {
                    bar.set_length(total as u64);
                    bar.set_position(done as u64);
                })
                .await?;
            bar.finish_and_clear();
            println!("reindexed {n} items");
            store.close().await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bulletin(BulletinCommand::Create { since, until }) => {
            let (config, _) = load_config(&cli)?;
            let store = open_store(&cli).await?;
            let n = bulletin::create(&config, &store, since.as_deref(), until.as_deref()).await?;
            println!("{n}");
            store.close().await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Corrections(CorrectionsCommand::Export { out, since }) => {
            let (config, _) = load_config(&cli)?;
            let since = since.as_deref().map(|s| parse_bound(s, config.org.timezone, "since")).transpose()?;
            let store = open_store(&cli).await?;
            let n = corrections::export(&store, since, out.as_deref()).await?;
            match out {
                Some(path) => println!("exported {n} corrected items to {}", path.display()),
                None => eprintln!("exported {n} corrected items"),
            }
            store.close().await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bulletin(BulletinCommand::Render { number, format, out }) => {
            let store = open_store(&cli).await?;
            bulletin::render(&store, *number, format, out).await?;
            store.close().await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Eval(EvalCommand::Extract { dir, chinese, subset, worst }) => {
            use yuqing_extract::eval;
            let (config, _) = load_config(&cli)?;
            let opts = eval::LoadOptions { chinese_only: *chinese, subsets: subset.clone() };
            let samples =
                eval::load(dir, &opts).with_context(|| format!("cannot load the data set in {}", dir.display()))?;
            let started = std::time::Instant::now();
            let report = eval::evaluate(
                &samples,
                &yuqing_extract::ExtractOptions { tz: config.org.timezone, now: Utc::now(), url: None },
            );
            let secs = started.elapsed().as_secs_f64();
            let line = |name: &str, s: &eval::Summary| {
                println!(
                    "{name:<10} {:>5} pages  precision {:.3}  recall {:.3}  F1 {:.3}  F1>=0.9 {:.2}",
                    s.pages, s.precision, s.recall, s.f1, s.good_share
                )
            };
            for (name, s) in &report.subsets {
                line(name, s);
            }
            line("all", &report.summary);
            println!("{:.1} pages/s (extraction only, one thread)", samples.len() as f64 / secs.max(1e-9));
            for p in report.worst(*worst) {
                println!(
                    "  F1 {:.2}  P {:.2}  R {:.2}  {} {}  {}",
                    p.scores.f1, p.scores.precision, p.scores.recall, p.subset, p.kind, p.url
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Train(TrainCommand::Tone { data, out }) => {
            let (model, report) =
                yuqing_judge::tone_model::train_from_files(data, &yuqing_judge::tone_model::TrainOptions::default())
                    .context("cannot train the tone model")?;
            println!("{report}");
            model.save(out).with_context(|| format!("cannot write the model to {}", out.display()))?;
            println!("model written to {}", out.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::User(UserCommand::Add { name, role }) => {
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line).context("cannot read the password from stdin")?;
            let password = line.trim_end_matches(['\r', '\n']);
            let store = open_store(&cli).await?;
            let user = store.upsert_user(name, *role, password).await?;
            println!("user {} ({}) saved", user.name, user.role);
            store.close().await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Token(TokenCommand::Create { user }) => {
            let store = open_store(&cli).await?;
            let token = store.create_token(user).await?;
            println!("{token}");
            store.close().await;
            Ok(ExitCode::SUCCESS)
        }
        Command::BenchIngest { rule, rounds, files } => {
            let (mut config, _) = load_config(&cli)?;
            config.rules = vec![yuqing_core::config::RuleConfig {
                name: "bench".into(),
                query: rule.clone(),
                category: None,
                enabled: true,
                priority: Default::default(),
            }];
            let store = open_store(&cli).await?;
            store.claim_writer().await?;
            let code = bench::ingest(&config, store.clone(), files, (*rounds).max(1)).await;
            store.close().await;
            code
        }
        Command::BenchFill { items, seed, days, no_raw, concurrency, rule } => {
            let store = open_store(&cli).await?;
            store.claim_writer().await?;
            // Ingests waiting at once: the store writes them together (group commit).
            let concurrency = concurrency.unwrap_or(yuqing_store::MAX_INGEST_BATCH);
            let opts = fill::FillOptions {
                items: *items,
                seed: *seed,
                days: *days,
                raw: !no_raw,
                concurrency,
                rule: rule.clone(),
            };
            let code = fill::fill(store.clone(), opts).await;
            store.close().await;
            code
        }
        Command::BenchSearch { runs, queries } => {
            let store = open_store(&cli).await?;
            let code = bench_search::search(&store, *runs, queries).await;
            store.close().await;
            code
        }
        Command::Serve { listen, no_collect, no_web } => {
            let (config, origin) = load_config(&cli)?;
            serve(&cli, config, &origin, listen.clone(), *no_collect, *no_web).await
        }
    }
}

fn check_config(cli: &Cli) -> Result<ExitCode> {
    let path = match &cli.config {
        Some(p) => Some(p.clone()),
        None => {
            let p = cli.data.parent().unwrap_or(Path::new(".")).join("yuqing.toml");
            p.exists().then_some(p)
        }
    };
    let (text, origin) = match &path {
        Some(p) => (
            std::fs::read_to_string(p)
                .with_context(|| format!("cannot read the configuration file {}", p.display()))?,
            p.display().to_string(),
        ),
        None => (yuqing_core::config::BUILTIN_TOML.to_string(), "(built-in default)".to_string()),
    };
    match Config::parse(&text, &origin, &yuqing_judge::check_query) {
        Ok(mut config) => {
            if let Some(p) = &path {
                config.resolve_paths(p.parent().unwrap_or(Path::new(".")));
            }
            if let Err(problems) = case_deadlines(&config)
                .map(|_| ())
                .and_then(|_| alerts::escalation(&config).map(|_| ()))
                .and_then(|_| tone_model_problems(&config))
            {
                for p in &problems {
                    println!("{origin}: {p}");
                }
                eprintln!("error: {} problem(s) in {origin}", problems.len());
                return Ok(ExitCode::from(1));
            }
            for w in &config.warnings {
                println!("{origin}: warning: {w}");
            }
            println!(
                "{origin}: configuration OK ({} sources, {} watch rules, {} alert channels)",
                config.sources.len(),
                config.rules.len(),
                config.alerts.channels.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(errors) => {
            for p in &errors.problems {
                println!("{origin}: {p}");
            }
            eprintln!("error: {} problem(s) in {origin}", errors.problems.len());
            Ok(ExitCode::from(1))
        }
    }
}

fn extract(config: &Config, url: Option<&str>, files: &[PathBuf]) -> Result<ExitCode> {
    let url = match url {
        Some(u) => Some(url::Url::parse(u).with_context(|| format!("--url `{u}` is not a URL"))?),
        None => None,
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut failures = 0;
    for file in files {
        let name = file.display().to_string();
        let line = match std::fs::read(file) {
            Err(e) => {
                failures += 1;
                serde_json::json!({"file": name, "error": format!("cannot read the file: {e}")})
            }
            Ok(bytes) => {
                // A saved page's "now" (for "3小时前") is when it was saved.
                let now = std::fs::metadata(file)
                    .and_then(|m| m.modified())
                    .map(DateTime::<Utc>::from)
                    .unwrap_or_else(|_| Utc::now());
                let opts = yuqing_extract::ExtractOptions { tz: config.org.timezone, now, url: url.clone() };
                match yuqing_extract::extract(&bytes, None, &opts) {
                    Ok(a) => serde_json::json!({
                        "file": name,
                        "title": a.title,
                        "published_at": a.published_at.map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, false)),
                        "content": a.content,
                        "encoding": a.encoding,
                        "kind": a.kind,
                    }),
                    Err(e) => {
                        failures += 1;
                        serde_json::json!({"file": name, "error": e.to_string()})
                    }
                }
            }
        };
        writeln!(out, "{line}").context("cannot write to stdout")?;
    }
    out.flush().context("cannot write to stdout")?;
    Ok(if failures == files.len() && !files.is_empty() { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

fn classify(config: &Config, origin: &str) -> Result<ExitCode> {
    // The configured category sets and level table (no watch rules: a line is a text,
    // not a collected item).
    let mut judge = yuqing_judge::Judge::new(&[], &config.categories, &config.level).map_err(|errors| {
        let list: Vec<String> = errors.iter().map(|(key, e)| format!("{key}: {e}")).collect();
        anyhow::anyhow!("the category sets of {origin} do not compile: {}", list.join("; "))
    })?;
    // An office's own tone model (`[judge] tone_model`), else the built-in one.
    if let Some(p) = &config.judge.tone_model {
        let model =
            yuqing_judge::tone_model::ToneModel::cached(p).with_context(|| format!("{origin}: judge.tone_model"))?;
        judge = judge.with_tone_model(model);
    }
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for line in stdin.lock().lines() {
        let line = line.context("cannot read stdin (texts must be UTF-8, one per line)")?;
        let j = judge.classify(&line);
        let v = serde_json::json!({
            "tone": j.tone,
            "tone_score": (f64::from(j.tone_score) * 1000.0).round() / 1000.0,
            "categories": j.categories,
            "level": j.level,
        });
        writeln!(out, "{v}").context("cannot write to stdout")?;
    }
    out.flush().context("cannot write to stdout")?;
    Ok(ExitCode::SUCCESS)
}

/// Parses a time bound: RFC 3339, or a date (midnight in `tz`).
fn parse_bound(s: &str, tz: chrono_tz::Tz, what: &str) -> Result<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        if let Some(t) = d.and_hms_opt(0, 0, 0).and_then(|n| tz.from_local_datetime(&n).earliest()) {
            return Ok(t.with_timezone(&Utc));
        }
    }
    bail!("--{what} `{s}` is not a date (YYYY-MM-DD) or an RFC 3339 time")
}

async fn search(config: &Config, store: &Store, json: bool, f: &FilterArgs, query: &str) -> Result<ExitCode> {
    let tz = config.org.timezone;
    let filter = ItemFilter {
        tone: f.tone,
        category: f.category,
        tier: f.tier,
        source: f.source.clone(),
        level: f.level,
        since: f.since.as_deref().map(|s| parse_bound(s, tz, "since")).transpose()?,
        until: f.until.as_deref().map(|s| parse_bound(s, tz, "until")).transpose()?,
    };
    let q = query.trim();
    let page = store
        .items(&ItemQuery {
            q: if q.is_empty() || q == "*" { None } else { Some(q.to_string()) },
            filter,
            limit: f.limit.clamp(1, 500),
            offset: 0,
        })
        .await?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for item in &page.items {
        if json {
            let v = serde_json::json!({
                "id": item.id,
                "url": item.url,
                "title": item.title,
                "published_at": item.published_at,
                "source": item.source,
                "tier": item.tier,
                "tone": item.tone,
                "categories": item.categories,
                "level": item.level,
                "duplicate_of": item.duplicate_of,
            });
            writeln!(out, "{v}")?;
        } else {
            let when = item.published_at.as_deref().unwrap_or(&item.fetched_at);
            let dup = item.duplicate_of.map(|d| format!(" (重复 #{d})")).unwrap_or_default();
            writeln!(
                out,
                "#{} [{} {}] {}{dup}\n    {} · {} · {}",
                item.id,
                item.tone.zh(),
                item.level.zh(),
                item.title,
                item.source,
                when,
                item.url
            )?;
        }
    }
    if !json {
        let about = if page.total_estimated { "about " } else { "" };
        writeln!(out, "{} of {about}{} items", page.items.len(), page.total)?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn fetcher_for(config: &Config) -> Result<Fetcher> {
    Fetcher::new(FetcherConfig::from_collect(&config.collect)).context("cannot set up the HTTP client")
}

async fn collect_once(config: &Config, store: Arc<Store>, only: Option<&str>) -> Result<ExitCode> {
    let sources: Vec<_> = config
        .sources
        .iter()
        .filter(|s| match only {
            Some(name) => s.name == name,
            None => s.enabled,
        })
        .cloned()
        .collect();
    if let Some(name) = only {
        if sources.is_empty() {
            bail!("there is no source named `{name}` in the configuration");
        }
    }
    store.claim_writer().await?;
    store.set_case_deadlines(case_deadlines(config).unwrap_or_default());
    store.set_spike_max_age(config.spikes.max_item_age);
    store.sync_sources(&config.sources).await?;
    let metrics = Arc::new(yuqing_web::Metrics::default());
    let pipeline = Pipeline::new(store.clone(), config, metrics)?;
    let fetcher = fetcher_for(config)?;
    let bar = ProgressBar::new(sources.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("采集 collecting {bar:30} {pos}/{len} sources · {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    if std::env::var_os("CI").is_some() {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let pages = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let progress_bar = bar.clone();
    let progress_pages = pages.clone();
    let opts = PassOptions {
        tz: config.org.timezone,
        max_articles: config.collect.max_articles_per_pass,
        on_progress: Some(Arc::new(move |p: Progress| match p {
            Progress::PageDone { .. } => {
                let n = progress_pages.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                progress_bar.set_message(format!("{n} pages"));
            }
            Progress::SourceDone { .. } => progress_bar.inc(1),
            _ => {}
        })),
    };
    let reports = yuqing_collect::collect_all(&fetcher, &sources, &pipeline, &opts, config.collect.concurrency).await;
    bar.finish_and_clear();
    store.flush().await?;
    let (mut fetched, mut new, mut dup, mut irrelevant, mut known, mut errors) = (0, 0, 0, 0, 0, 0);
    for r in &reports {
        fetched += r.pages_fetched;
        new += r.new;
        dup += r.duplicate;
        irrelevant += r.irrelevant;
        known += r.known;
        errors += r.errors.len();
    }
    println!(
        "sources: {}, pages fetched: {fetched}, items new: {new}, duplicate: {dup}, irrelevant: {irrelevant}, already known: {known}, errors: {errors}",
        reports.len()
    );
    for r in &reports {
        for e in r.errors.iter().take(5) {
            println!("  {}: {e}", r.source);
        }
        if r.errors.len() > 5 {
            println!("  {}: … and {} more errors", r.source, r.errors.len() - 5);
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn serve(
    cli: &Cli,
    config: Config,
    origin: &str,
    listen: Option<String>,
    no_collect: bool,
    no_web: bool,
) -> Result<ExitCode> {
    for w in &config.warnings {
        tracing::warn!("{origin}: {w}");
    }
    let store = open_store(cli).await?;
    store.set_case_deadlines(case_deadlines(&config).unwrap_or_default());
    store.set_spike_max_age(config.spikes.max_item_age);
    store.sync_sources(&config.sources).await?;
    if let Some(password) = store.ensure_admin().await? {
        println!("首次运行：已创建管理员账号 admin，密码（只显示这一次）/ First run: created user `admin` with password (shown once):");
        println!("    {password}");
        let _ = std::io::stdout().flush();
    }
    match store.prune_raw(config.store.raw_retention).await {
        Ok(n) if n > 0 => tracing::info!(pruned = n, "deleted raw pages past their retention"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "could not prune raw pages"),
    }
    let config = Arc::new(config);
    let metrics = Arc::new(yuqing_web::Metrics::default());
    let (shutdown_tx, shutdown_rx) = tokio::sync::watch::channel(false);
    let mut tasks = tokio::task::JoinSet::new();

    // The stream's total and the open-case badge, counted once before users ask: on a
    // large store (a million items on PostgreSQL: 1.5 s) the first pages after a start
    // would otherwise wait for these counts.
    {
        let store = store.clone();
        tasks.spawn(async move {
            let _ = store.items(&ItemQuery { limit: 1, ..Default::default() }).await;
            let _ = store.open_case_count().await;
        });
    }

    // Make new items visible to search within a second.
    {
        let store = store.clone();
        let mut rx = shutdown_rx.clone();
        tasks.spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
            loop {
                tokio::select! {
                    _ = tick.tick() => {
                        if let Err(e) = store.flush().await {
                            tracing::error!(error = %e, "could not commit the search index");
                        }
                    }
                    _ = rx.changed() => break,
                }
            }
        });
    }

    if !no_collect {
        store.claim_writer().await?;
        // The embedded store has one writer, this process: what an earlier run left
        // leased or claimed (it crashed or was killed) is free again now.
        match store.recover_after_restart(chrono::Utc::now()).await {
            Ok((0, 0)) => {}
            Ok((sources, alerts)) => tracing::info!(sources, alerts, "took back what an earlier run had leased"),
            Err(e) => tracing::warn!(error = %e, "could not take back the leases of an earlier run"),
        }
        let pipeline = Arc::new(Pipeline::new(store.clone(), &config, metrics.clone())?);
        let fetcher = Arc::new(fetcher_for(&config)?);
        let opts = PassOptions {
            tz: config.org.timezone,
            max_articles: config.collect.max_articles_per_pass,
            on_progress: None,
        };
        let sources = config.sources.clone();
        let schedule = yuqing_collect::ScheduleOptions {
            jitter: config.collect.jitter,
            concurrency: config.collect.concurrency,
            lease_for: config.collect.source_lease,
        };
        let rx = shutdown_rx.clone();
        tracing::info!(sources = sources.iter().filter(|s| s.enabled).count(), "collector started");
        tasks.spawn(async move {
            yuqing_collect::run_scheduler(fetcher, sources, pipeline, opts, schedule, rx).await;
        });
    }

    // Raw pages past their retention, and old hourly spike counts, go once a day (items
    // themselves are kept).
    {
        let store = store.clone();
        let retention = config.store.raw_retention;
        let spike_baseline = config.spikes.baseline;
        let mut rx = shutdown_rx.clone();
        tasks.spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(24 * 3600));
            tick.tick().await;
            loop {
                tokio::select! {
                    _ = tick.tick() => {
                        match store.prune_raw(retention).await {
                            Ok(n) if n > 0 => tracing::info!(pruned = n, "deleted raw pages past their retention"),
                            Ok(_) => {}
                            Err(e) => tracing::warn!(error = %e, "could not prune raw pages"),
                        }
                        // Spike counts: 180 days, far more than any baseline and chart.
                        let keep = chrono::Duration::days(180).max(chrono::Duration::from_std(spike_baseline).unwrap_or_default() * 4);
                        match store.prune_hourly_counts(Utc::now() - keep).await {
                            Ok(n) if n > 0 => tracing::info!(pruned = n, "deleted hourly spike counts older than 180 days"),
                            Ok(_) => {}
                            Err(e) => tracing::warn!(error = %e, "could not prune hourly spike counts"),
                        }
                    }
                    _ = rx.changed() => break,
                }
            }
        });
    }

    // Spikes (突增): every process may check; the store records each spike once.
    if config.spikes.enabled {
        tasks.spawn(spikes::run(store.clone(), config.clone(), metrics.clone(), shutdown_rx.clone()));
    }

    if !config.alerts.channels.is_empty() {
        tasks.spawn(alerts::run(store.clone(), config.clone(), metrics.clone(), shutdown_rx.clone()));
    }

    let shutdown = async {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = ctrl_c.await;
        }
    };

    if no_web {
        shutdown.await;
    } else {
        let addr = listen.unwrap_or_else(|| config.web.listen.clone());
        let listener = tokio::net::TcpListener::bind(&addr).await.with_context(|| {
            format!("cannot listen on {addr} (is another program using it? choose one with --listen)")
        })?;
        let local = listener.local_addr().map(|a| a.to_string()).unwrap_or(addr);
        println!("yuqing serving on http://{local}/ (data: {}, config: {origin})", cli.data.display());
        let _ = std::io::stdout().flush();
        let state = yuqing_web::AppState {
            store: store.clone(),
            config: config.clone(),
            metrics: metrics.clone(),
            started_at: Utc::now(),
        };
        axum::serve(listener, yuqing_web::app(state))
            .with_graceful_shutdown(shutdown)
            .await
            .context("the web server stopped")?;
    }
    tracing::info!("shutting down");
    let _ = shutdown_tx.send(true);
    let deadline = tokio::time::sleep(std::time::Duration::from_secs(10));
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            r = tasks.join_next() => if r.is_none() { break },
            _ = &mut deadline => { tasks.abort_all(); break; }
        }
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
