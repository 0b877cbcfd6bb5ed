//! `yuqing corrections export` (on the test backend): the office's tone corrections come
//! out as the file `yuqing train tone --data FILE` reads, and training takes it, so
//! `yuqing corrections export -o mine.tsv && yuqing train tone --data mine.tsv -o tone.bin`
//! works as the README says.

use chrono::{TimeDelta, Utc};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use yuqing_core::{Category, Level, Role, Tier, Tone};
use yuqing_store::{IngestOutcome, NewItem, TRAINING_TSV_HEADER};

const CONFIG: &str = "[org]\nname = \"测试县财政局\"\ntimezone = \"Asia/Shanghai\"\n\n[collect]\nuser_agent_contact = \"https://example.org/about\"\n";

fn item(n: u64, title: &str, content: &str) -> NewItem {
    NewItem {
        source: "县政府网".into(),
        tier: Tier::Local,
        url: format!("https://gov.example.org/{n}.html"),
        canonical_url: format!("https://gov.example.org/{n}.html"),
        title: title.into(),
        published_at: None,
        fetched_at: Utc::now(),
        content: content.into(),
        encoding: "utf-8".into(),
        tone: Tone::Neutral,
        tone_score: 0.0,
        categories: vec![Category::Livelihood],
        matched_rules: vec![],
        level: Level::Ordinary,
        level_reason: "无风险因素".into(),
        simhash: n.wrapping_mul(0x9E37_79B9_7F4A_7C15),
        raw: None,
        alert_channels: vec![],
    }
}

fn yuqing(data: &Path, url: &str, config: &Path, args: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_yuqing"));
    c.arg("--data").arg(data).arg("--config").arg(config).env_remove("RUST_LOG").env_remove("YUQING_DATABASE_URL");
    if !url.is_empty() {
        c.arg("--database-url").arg(url);
    }
    c.args(args).output().expect("run yuqing")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A store with three items corrected as an office would, and a configuration file.
struct Desk {
    /// Keeps the store's folder (and PostgreSQL database) alive.
    _guard: yuqing_store::testing::TestGuard,
    data: PathBuf,
    url: String,
    work: tempfile::TempDir,
    config: PathBuf,
    ids: Vec<i64>,
}

async fn desk() -> Desk {
    let t = yuqing_store::testing::fresh_default().await;
    let url = t.url().to_string();
    let data = t.dir.path().to_path_buf();
    let (store, guard) = t.into_parts();
    let zhang = store.upsert_user("zhang", Role::Office, "correct horse battery").await.expect("user");
    let texts = [
        ("补贴拖欠三个月无人答复", "群众反映惠农补贴拖欠三个月，\n多次询问\t无人答复，非常不满。"),
        ("补贴全部发放到位", "县财政局按时足额发放补贴，群众纷纷点赞，表示满意。"),
        ("财政局召开工作会议", "县财政局召开季度工作会议，部署下一阶段工作。"),
    ];
    let mut ids = vec![];
    for (n, (title, content)) in texts.iter().enumerate() {
        match store.ingest(item(n as u64 + 1, title, content)).await.expect("ingest") {
            IngestOutcome::New { id } => ids.push(id),
            other => panic!("{other:?}"),
        }
    }
    // The first two corrected; the third (neutral) first made positive, then back: its
    // latest correction (neutral) is what goes out.
    let earlier = Utc::now() - TimeDelta::days(10);
    store.correct_tone(ids[2], Tone::Positive, &zhang, "", earlier).await.expect("correct");
    store.correct_tone(ids[0], Tone::Negative, &zhang, "", Utc::now()).await.expect("correct");
    store.correct_tone(ids[1], Tone::Positive, &zhang, "", Utc::now()).await.expect("correct");
    store.correct_tone(ids[2], Tone::Neutral, &zhang, "", earlier + TimeDelta::hours(1)).await.expect("correct");
    store.close().await;
    drop(store);
    let work = tempfile::tempdir().expect("tempdir");
    let config = work.path().join("yuqing.toml");
    std::fs::write(&config, CONFIG).expect("config");
    Desk { _guard: guard, data, url, work, config, ids }
}

#[tokio::test]
async fn corrections_export_writes_the_training_data_the_trainer_reads() {
    let Desk { _guard, data, url, work, config, ids } = desk().await;
    let out = work.path().join("mine.tsv");
    let o = yuqing(&data, &url, &config, &["corrections", "export", "-o", out.to_str().expect("path")]);
    assert!(o.status.success(), "{}{}", text(&o.stdout), text(&o.stderr));
    assert!(text(&o.stdout).contains("exported 3 corrected items"), "{}", text(&o.stdout));
    let file = std::fs::read_to_string(&out).expect("the export");
    assert!(file.starts_with(&format!("{TRAINING_TSV_HEADER}\n")));
    assert!(!work.path().join("mine.tsv.partial").exists());

    // The trainer's reader takes it, with the corrected labels and the ids of the items,
    // in the order of their latest corrections.
    let rows = yuqing_judge::tone_model::read_tsv(&out).expect("the trainer reads the export");
    let got: Vec<(String, Tone)> = rows.iter().map(|e| (e.id.clone().unwrap_or_default(), e.tone)).collect();
    assert_eq!(
        got,
        [
            (format!("item-{}", ids[0]), Tone::Negative),
            (format!("item-{}", ids[1]), Tone::Positive),
            (format!("item-{}", ids[2]), Tone::Neutral),
        ]
    );
    assert_eq!(rows[0].content, "群众反映惠农补贴拖欠三个月， 多次询问 无人答复，非常不满。");

    // To stdout, and --since in the configured zone: the old correction stays out.
    let since = (Utc::now() - TimeDelta::days(2)).format("%Y-%m-%d").to_string();
    let o = yuqing(&data, &url, &config, &["corrections", "export", "--since", &since]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let stdout = text(&o.stdout);
    assert_eq!(stdout.lines().count(), 3, "{stdout}");
    assert!(!stdout.contains(&format!("item-{}\t", ids[2])));
    assert!(text(&o.stderr).contains("exported 2 corrected items"));
    let o = yuqing(&data, &url, &config, &["corrections", "export", "--since", "last week"]);
    assert!(!o.status.success());
    let err = text(&o.stderr);
    assert!(err.contains("--since") && !err.contains("panicked"), "{err}");
}

/// The README's two commands, as an office runs them. Trains a whole model with the
/// shipped options: about 100 s in a debug build.
#[tokio::test]
async fn train_tone_accepts_the_export_as_it_is() {
    let Desk { _guard, data, url, work, config, .. } = desk().await;
    let out = work.path().join("mine.tsv");
    let o = yuqing(&data, &url, &config, &["corrections", "export", "-o", out.to_str().expect("path")]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let model = work.path().join("tone.bin");
    let args = ["train", "tone", "--data", out.to_str().expect("path"), "-o", model.to_str().expect("path")];
    let o = yuqing(&data, &url, &config, &args);
    assert!(o.status.success(), "{}{}", text(&o.stdout), text(&o.stderr));
    assert!(text(&o.stdout).contains("read 3 rows"), "{}", text(&o.stdout));
    assert!(std::fs::metadata(&model).map(|m| m.len() > 0).unwrap_or(false));

    // The office then judges with it: `[judge] tone_model`, relative to the
    // configuration file's folder (the command runs from elsewhere).
    let own = work.path().join("own.toml");
    std::fs::write(&own, format!("{CONFIG}\n[judge]\ntone_model = \"tone.bin\"\n")).expect("config");
    let lines = "补贴发放拖欠，群众多次反映无人答复\n财政局召开工作会议\t部署下一阶段工作。\n";
    let classify = |config: &Path| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_yuqing"));
        c.arg("--data").arg(&data).arg("--config").arg(config).arg("classify").env_remove("RUST_LOG");
        c.current_dir(std::env::temp_dir()).stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped());
        let mut child = c.spawn().expect("run classify");
        use std::io::Write;
        child.stdin.take().expect("stdin").write_all(lines.as_bytes()).expect("write");
        let o = child.wait_with_output().expect("classify");
        assert!(o.status.success(), "{}", text(&o.stderr));
        text(&o.stdout).lines().map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json")).collect::<Vec<_>>()
    };
    let with_own = classify(&own);
    let builtin = classify(&config);
    let trained = yuqing_judge::tone_model::ToneModel::load(&model).expect("the model reads");
    for (n, line) in lines.lines().enumerate() {
        let (title, body) = yuqing_judge::split_title(line);
        let (tone, score) = yuqing_judge::tone::judge_with(&trained, title, body);
        assert_eq!(with_own[n]["tone"], tone.id(), "line {n}: {}", with_own[n]);
        let got = with_own[n]["tone_score"].as_f64().expect("score");
        assert!((got - f64::from(score)).abs() < 1e-6, "line {n}: {got} against the model's {score}");
        let (_, builtin_score) = yuqing_judge::tone::judge(title, body);
        let b = builtin[n]["tone_score"].as_f64().expect("score");
        assert!((b - f64::from(builtin_score)).abs() < 1e-6, "line {n}: built-in {b} against {builtin_score}");
    }
    assert_ne!(with_own, builtin, "the office's model judges otherwise than the built-in one");
}

/// A model file that is missing or is not a model is reported by check-config and
/// refused at start, with the key, not at the first item.
#[test]
fn a_broken_tone_model_is_refused_with_its_key() {
    let work = tempfile::tempdir().expect("tempdir");
    let data = work.path().join("data");
    let config = work.path().join("yuqing.toml");
    std::fs::write(&config, format!("{CONFIG}\n[judge]\ntone_model = \"missing.bin\"\n")).expect("config");
    for args in [&["check-config"][..], &["classify"][..]] {
        let o = yuqing(&data, "", &config, args);
        assert!(!o.status.success(), "{args:?} accepted a missing model");
        let all = format!("{}{}", text(&o.stdout), text(&o.stderr));
        assert!(all.contains("judge.tone_model") && all.contains("missing.bin"), "{args:?}: {all}");
    }
    std::fs::write(work.path().join("missing.bin"), b"not a model at all").expect("write");
    let o = yuqing(&data, "", &config, &["check-config"]);
    let all = format!("{}{}", text(&o.stdout), text(&o.stderr));
    assert!(!o.status.success() && all.contains("not a tone model file"), "{all}");
}
