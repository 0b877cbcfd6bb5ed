//! Helpers for the tests that run the built `yuqing` binary: a temporary desk (data
//! folder and configuration), one-shot commands, users and tokens, and `yuqing serve` as
//! a child process that is always killed (a guard with `Drop`).
#![allow(dead_code)]

use serde_json::Value;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The binary under test: the one Cargo built for this test run, or `YUQING_BIN` (the
/// latency benchmark points it at a release build).
pub fn bin() -> PathBuf {
    std::env::var_os("YUQING_BIN").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_yuqing")))
}

/// A data folder and a configuration file in a fresh temporary folder.
pub struct Desk {
    pub dir: tempfile::TempDir,
}

impl Desk {
    pub fn new(config: &str) -> Desk {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("yuqing.toml"), config).expect("write config");
        Desk { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    fn command(&self) -> Command {
        let mut c = Command::new(bin());
        c.arg("--data").arg(self.path().join("data")).arg("--config").arg(self.path().join("yuqing.toml"));
        c.env_remove("RUST_LOG");
        c
    }

    /// Runs a command to its end.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command().args(args).stdin(Stdio::null()).output().expect("run yuqing")
    }

    /// Runs a command that must succeed; its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert!(
            o.status.success(),
            "yuqing {args:?} failed: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    /// `yuqing user add NAME --role ROLE` with the password on stdin.
    pub fn add_user(&self, name: &str, role: &str, password: &str) {
        let mut child = self
            .command()
            .args(["user", "add", name, "--role", role])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("user add");
        child.stdin.take().expect("stdin").write_all(format!("{password}\n").as_bytes()).expect("password");
        let o = child.wait_with_output().expect("user add");
        assert!(o.status.success(), "user add {name}: {}", String::from_utf8_lossy(&o.stderr));
    }

    /// `yuqing token create --user NAME`.
    pub fn token(&self, name: &str) -> String {
        let t = self.ok(&["token", "create", "--user", name]).trim().to_string();
        assert!(!t.is_empty() && !t.contains(char::is_whitespace), "token: {t:?}");
        t
    }

    /// Starts `yuqing serve --listen 127.0.0.1:0` plus `extra` arguments.
    pub fn serve(&self, extra: &[&str]) -> Serve {
        let log = self.path().join(format!("serve-{}.log", std::process::id()));
        let stderr = std::fs::OpenOptions::new().create(true).append(true).open(&log).expect("log file");
        let mut child = self
            .command()
            .env("RUST_LOG", "info")
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("start yuqing serve");
        let mut out = child.stdout.take().expect("stdout");
        let guard = Serve { child, addr: String::new(), log };
        // Read up to the "serving on" line, then keep draining stdout on a thread so
        // that the child never blocks on a full pipe.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut seen = String::new();
            let mut sent = false;
            let mut buf = [0u8; 1024];
            loop {
                let n = out.read(&mut buf).unwrap_or(0);
                if n == 0 {
                    if !sent {
                        let _ = tx.send(Err(seen));
                    }
                    return;
                }
                if sent {
                    continue;
                }
                seen.push_str(&String::from_utf8_lossy(&buf[..n]));
                if let Some(rest) = seen.split("serving on http://").nth(1) {
                    if let Some((a, _)) = rest.split_once('/') {
                        let _ = tx.send(Ok(a.to_string()));
                        sent = true;
                    }
                }
            }
        });
        let mut guard = guard;
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(Ok(addr)) => guard.addr = addr,
            Ok(Err(seen)) => panic!("yuqing serve stopped before serving: {seen}\n{}", guard.log_text()),
            Err(_) => panic!("yuqing serve did not start within 30 s\n{}", guard.log_text()),
        }
        guard
    }
}

/// A running `yuqing serve`; killed (SIGKILL) when dropped.
pub struct Serve {
    child: Child,
    pub addr: String,
    log: PathBuf,
}

impl Serve {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Kills the process at once (SIGKILL: no shutdown, nothing flushed) and waits.
    pub fn kill(mut self) {
        self.kill_now();
    }

    fn kill_now(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// What the process logged so far (stderr).
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        self.kill_now();
    }
}

/// Polls `f` every 100 ms until it gives `Some` or `timeout` passes.
pub fn wait_for<T>(timeout: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let until = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() >= until {
            return None;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A JSON client of the API with a bearer token.
pub struct Api {
    pub http: reqwest::blocking::Client,
    pub base: String,
}

impl Api {
    pub fn new(serve: &Serve) -> Api {
        Api {
            http: reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(10))
                .no_proxy()
                .build()
                .expect("client"),
            base: serve.url(""),
        }
    }

    pub fn get(&self, token: &str, path: &str) -> (u16, Value) {
        let r = self.http.get(format!("{}{path}", self.base)).bearer_auth(token).send().expect("GET");
        let status = r.status().as_u16();
        (status, r.json().unwrap_or(Value::Null))
    }

    pub fn post(&self, token: &str, path: &str, body: &Value) -> (u16, Value) {
        let r = self.http.post(format!("{}{path}", self.base)).bearer_auth(token).json(body).send().expect("POST");
        let status = r.status().as_u16();
        (status, r.json().unwrap_or(Value::Null))
    }
}

/// The `[collect]` section every test uses: the local site allowed, short delays.
pub const COLLECT: &str = r#"
[org]
name = "上犹县财政局"
timezone = "Asia/Shanghai"

[collect]
user_agent_contact = "https://example.org/about-our-monitoring"
allow_private = ["127.0.0.0/8"]
min_host_delay = "100ms"
timeout = "5s"
connect_timeout = "2s"
retries = 0
jitter = 0.0

[[rules]]
name = "上犹财政"
query = '上犹 AND (财政 OR 补贴 OR 低保 OR 补助 OR 补偿)'
category = "livelihood"
"#;
