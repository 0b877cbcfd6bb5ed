//! A real SMTP server for the tests: Debian's `python3-aiosmtpd` (installed by `.ci/run`)
//! running `smtpd.py` beside this file on 127.0.0.1, on a port the OS picks. Each message
//! is decoded by Python's own `email` package, so the checks do not trust the encoder
//! under test. Shared by the `yuqing` binary's tests through `#[path]`; std and
//! serde_json only, so it works in async and blocking tests alike.
#![allow(dead_code)]

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

const SCRIPT: &str = include_str!("smtpd.py");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tls {
    None,
    /// STARTTLS offered, with a self-signed certificate made for the test.
    Starttls,
    /// TLS from the first byte (SMTPS), same certificate.
    Implicit,
}

#[derive(Debug, Clone)]
pub struct Options {
    pub tls: Tls,
    /// Credentials the server accepts (AUTH PLAIN / LOGIN).
    pub auth: Option<(String, String)>,
    /// The first N messages are recorded but their DATA is never answered.
    pub stall_first: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options { tls: Tls::None, auth: None, stall_first: 0 }
    }
}

pub struct Smtpd {
    pub port: u16,
    child: Child,
    events: Receiver<Value>,
    dir: PathBuf,
    seen: Vec<Value>,
}

/// Debian's Python (the one `apt-get install python3-aiosmtpd` serves) first: a
/// developer's `python3` on PATH may be another interpreter without the package.
fn python() -> String {
    for p in ["/usr/bin/python3", "python3"] {
        let ok = Command::new(p)
            .args(["-c", "import aiosmtpd"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return p.to_string();
        }
    }
    panic!("these tests need a real SMTP server: apt-get install python3-aiosmtpd (as .ci/run does)");
}

fn unique_dir() -> PathBuf {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let dir = std::env::temp_dir().join(format!("yuqing-smtpd-{}-{n}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir for the SMTP server");
    dir
}

/// A self-signed certificate for 127.0.0.1 / localhost, made with the openssl command.
fn self_signed(dir: &std::path::Path) -> (PathBuf, PathBuf) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let out = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"])
        .args(["-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("the openssl command (apt-get install openssl)");
    assert!(out.status.success(), "openssl: {}", String::from_utf8_lossy(&out.stderr));
    (cert, key)
}

impl Smtpd {
    pub fn start(opts: Options) -> Smtpd {
        let dir = unique_dir();
        let script = dir.join("smtpd.py");
        std::fs::write(&script, SCRIPT).expect("write smtpd.py");
        let mut cmd = Command::new(python());
        cmd.arg(&script);
        if opts.tls != Tls::None {
            let (cert, key) = self_signed(&dir);
            cmd.arg("--tls-cert").arg(cert).arg("--tls-key").arg(key);
            if opts.tls == Tls::Implicit {
                cmd.arg("--implicit-tls");
            }
        }
        if let Some((u, p)) = &opts.auth {
            cmd.arg("--auth").arg(format!("{u}:{p}"));
        }
        cmd.arg("--stall-first").arg(opts.stall_first.to_string());
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the aiosmtpd server");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, events) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                let Ok(v) = serde_json::from_str::<Value>(&line) else { continue };
                if tx.send(v).is_err() {
                    return;
                }
            }
        });
        let ready = events.recv_timeout(Duration::from_secs(15)).expect("the SMTP server did not start");
        assert_eq!(ready["event"], "ready", "{ready}");
        let port = ready["port"].as_u64().and_then(|p| u16::try_from(p).ok()).expect("port");
        Smtpd { port, child, events, dir, seen: Vec::new() }
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn pump(&mut self, until: Instant) -> bool {
        let left = until.saturating_duration_since(Instant::now());
        match self.events.recv_timeout(left) {
            Ok(v) => {
                self.seen.push(v);
                true
            }
            Err(_) => false,
        }
    }

    /// Every event so far (after waiting up to `wait` for more).
    pub fn events(&mut self, wait: Duration) -> Vec<Value> {
        let until = Instant::now() + wait;
        while self.pump(until) {}
        self.seen.clone()
    }

    /// The messages received so far, accepted or stalled.
    pub fn messages(&self) -> Vec<Value> {
        self.seen.iter().filter(|e| e["event"] == "message").cloned().collect()
    }

    /// Waits until `n` messages have come in (or `timeout`); returns all messages.
    pub fn wait_messages(&mut self, n: usize, timeout: Duration) -> Vec<Value> {
        let until = Instant::now() + timeout;
        while self.messages().len() < n && self.pump(until) {}
        self.messages()
    }
}

impl Drop for Smtpd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The decoded text of a message's part with this content type, line ends as `\n`.
pub fn part(msg: &Value, content_type: &str) -> Option<String> {
    msg["parts"]
        .as_array()?
        .iter()
        .find(|p| p["content_type"] == content_type)
        .and_then(|p| p["text"].as_str())
        .map(|t| t.replace("\r\n", "\n"))
}
