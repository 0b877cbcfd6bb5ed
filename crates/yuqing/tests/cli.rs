//! The command line's contract (INTERFACES.md): check-config, extract and classify
//! output shapes, errors as one sentence on stderr with a non-zero exit.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn yuqing(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_yuqing"))
        .arg("--data")
        .arg(dir.path().join("data"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run yuqing");
    let mut input = child.stdin.take().expect("stdin");
    input.write_all(stdin.unwrap_or_default()).expect("write stdin");
    drop(input);
    child.wait_with_output().expect("wait")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn check_config_accepts_the_example_and_the_builtin_default() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../../yuqing.example.toml");
    let o = yuqing(&["--config", example, "check-config"], None);
    assert!(o.status.success(), "{}{}", text(&o.stdout), text(&o.stderr));
    let o = yuqing(&["check-config"], None);
    assert!(o.status.success(), "{}{}", text(&o.stdout), text(&o.stderr));
    assert!(text(&o.stdout).contains("built-in"));
}

#[test]
fn check_config_prints_every_problem_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bad.toml");
    std::fs::write(
        &path,
        "[org]\ntimezone = 'Nowhere/City'\n[[sources]]\nname = 'a'\nkind = 'feed'\nurl = 'https://x.example/rss'\ntier = 'local'\n\
         [[rules]]\nname = 'r'\nquery = '上犹 AND'\n[cases.deadlines.important]\nassess_within = '1h'\nanswer_within = '30m'\n",
    )
    .expect("write");
    let o = yuqing(&["--config", path.to_str().expect("path"), "check-config"], None);
    assert_eq!(o.status.code(), Some(1));
    let out = text(&o.stdout);
    assert!(out.contains("Nowhere/City") && out.contains("rules[0]"), "{out}");
    let o = yuqing(&["--config", path.to_str().expect("path"), "search", "x"], None);
    assert!(!o.status.success());
    let err = text(&o.stderr);
    assert!(err.contains("error:") && !err.contains("panicked"), "{err}");
}

#[test]
fn extract_prints_one_json_line_per_file_and_survives_a_missing_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let page = dir.path().join("page.html");
    let html = "<html><head><meta charset=\"gbk\"><title>上犹县财政局发放补贴_上犹新闻网</title></head><body>\
        <div class=\"nav\"><a href=\"/\">首页</a></div><h1>上犹县财政局发放补贴</h1><p>发布时间：2009年9月29日 10:30</p>\
        <div class=\"content\"><p>上犹县财政局近日向全县农户发放耕地地力保护补贴，涉及农户三万余户，资金四千余万元，确保资金安全、精准到户。</p>\
        <p>县财政局相关负责人表示，将严格按照政策规定把各项资金及时足额发放到群众手中，同时畅通咨询渠道。</p></div></body></html>";
    std::fs::write(&page, encoding_rs::GBK.encode(html).0).expect("write");
    let missing = dir.path().join("missing.html");
    let o = yuqing(&["extract", page.to_str().expect("p"), missing.to_str().expect("p")], None);
    assert!(o.status.success());
    let lines: Vec<serde_json::Value> =
        text(&o.stdout).lines().map(|l| serde_json::from_str(l).expect("json line")).collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["title"], "上犹县财政局发放补贴");
    assert_eq!(lines[0]["published_at"], "2009-09-29T10:30:00+08:00");
    assert_eq!(lines[0]["encoding"], "gbk");
    assert!(lines[0]["content"].as_str().is_some_and(|c| c.contains("耕地地力保护补贴") && !c.contains("首页")));
    assert!(lines[1]["error"].is_string() && lines[1]["file"].as_str().is_some_and(|f| f.ends_with("missing.html")));
}

#[test]
fn classify_prints_one_json_line_per_input_line_in_order() {
    let o = yuqing(
        &["classify"],
        Some("上犹县惠农补贴资金迟迟未发放，群众强烈不满，多次投诉无果\n县财政局荣获全省先进集体表彰\n".as_bytes()),
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let lines: Vec<serde_json::Value> =
        text(&o.stdout).lines().map(|l| serde_json::from_str(l).expect("json line")).collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["tone"], "negative");
    assert!(lines[0]["tone_score"].as_f64().is_some_and(|s| (-1.0..0.0).contains(&s)));
    assert!(lines[0]["categories"].as_array().is_some_and(|c| c.iter().any(|c| c == "livelihood")));
    assert!(["ordinary", "important", "major-sensitive"].contains(&lines[0]["level"].as_str().unwrap_or("")));
    assert_ne!(lines[1]["tone"], "negative", "an award is not bad news");
}

#[test]
fn classify_uses_the_configured_category_sets_and_level_table() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("yuqing.toml");
    std::fs::write(
        &path,
        "[categories.rumour]\nmode = 'replace'\nqueries = ['地力保护']\n\
         [categories.service-complaint]\nenabled = false\n\
         [level]\nimportant_at = 1\n",
    )
    .expect("write");
    let input = "耕地地力保护补贴\n网传停发补贴\n窗口工作人员办事推诿\n".as_bytes();
    let lines = |o: &Output| -> Vec<serde_json::Value> {
        assert!(o.status.success(), "{}", text(&o.stderr));
        text(&o.stdout).lines().map(|l| serde_json::from_str(l).expect("json line")).collect()
    };
    let cats = |v: &serde_json::Value| -> Vec<String> {
        v["categories"]
            .as_array()
            .map(|a| a.iter().filter_map(|c| c.as_str().map(String::from)).collect())
            .unwrap_or_default()
    };
    let configured = lines(&yuqing(&["--config", path.to_str().expect("path"), "classify"], Some(input)));
    assert_eq!(cats(&configured[0]), ["livelihood", "rumour"], "the configured rumour query");
    assert_eq!(cats(&configured[1]), ["livelihood"], "网传 was only in the replaced built-in set");
    assert!(cats(&configured[2]).is_empty(), "service-complaint is turned off");
    // important_at = 1: livelihood's 1 point is enough.
    assert_eq!(configured[0]["level"], "important");
    // Without the file: the built-in sets.
    let builtin = lines(&yuqing(&["classify"], Some(input)));
    assert_eq!(cats(&builtin[0]), ["livelihood"]);
    assert_eq!(cats(&builtin[1]), ["livelihood", "rumour"]);
    assert_eq!(cats(&builtin[2]), ["service-complaint"]);
    // A broken category query is refused with its position, before any text is read.
    std::fs::write(&path, "[categories.rumour]\nquery = '网传 AND'\n").expect("write");
    let o = yuqing(&["--config", path.to_str().expect("path"), "classify"], Some(input));
    assert!(!o.status.success());
    let err = text(&o.stderr);
    assert!(err.contains("categories.rumour") && err.contains("at character 3"), "{err}");
}
