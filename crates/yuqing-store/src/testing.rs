//! Test support (feature `testing`): the same test body on every backend, each test with
//! a fresh, migrated store of its own.
//!
//! SQLite runs always (a temporary data folder). PostgreSQL runs when a server is there:
//! `YUQING_TEST_POSTGRES` names a database to connect to for creating the per-test
//! databases (default `postgres://postgres@127.0.0.1:5432/test`); `off` skips PostgreSQL.
//! Under `CI=true` an unreachable server is an error, so CI can never pass by skipping;
//! elsewhere the PostgreSQL half is skipped with a notice.
//!
//! Each PostgreSQL test gets a database of its own (`CREATE DATABASE yqt_…`), dropped
//! when its guard goes, also when the test panics.

use crate::{Backend, Store};
use sqlx::Connection;
use std::sync::atomic::{AtomicUsize, Ordering};

const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

fn admin_url() -> Option<String> {
    match std::env::var("YUQING_TEST_POSTGRES") {
        Ok(v) if v.trim().eq_ignore_ascii_case("off") => None,
        Ok(v) if !v.trim().is_empty() => Some(v.trim().to_string()),
        _ => Some(DEFAULT_ADMIN_URL.to_string()),
    }
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Replaces the database name of a PostgreSQL URL.
fn with_database(url: &str, db: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            u.set_path(&format!("/{db}"));
            u.to_string()
        }
        Err(_) => url.to_string(),
    }
}

static AVAILABLE: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();

/// The backends to run a test on, in order: SQLite, then PostgreSQL when available.
pub async fn backends() -> Vec<Backend> {
    let mut out = vec![Backend::Sqlite];
    if postgres_admin_url().await.is_some() {
        out.push(Backend::Postgres);
    }
    out
}

/// The admin URL when a PostgreSQL server answers (checked once per test binary).
pub async fn postgres_admin_url() -> Option<String> {
    if let Some(v) = AVAILABLE.get() {
        return v.clone();
    }
    let found = match admin_url() {
        None => None,
        Some(url) => {
            match tokio::time::timeout(std::time::Duration::from_secs(5), sqlx::postgres::PgConnection::connect(&url))
                .await
            {
                Ok(Ok(c)) => {
                    let _ = c.close().await;
                    Some(url)
                }
                Ok(Err(e)) => {
                    assert!(!in_ci(), "PostgreSQL at {url} is required under CI=true: {e}");
                    eprintln!(
                        "note: PostgreSQL at {url} is not reachable ({e}); its half of the store tests is skipped"
                    );
                    None
                }
                Err(_) => {
                    assert!(!in_ci(), "PostgreSQL at {url} is required under CI=true: connecting timed out");
                    eprintln!("note: PostgreSQL at {url} did not answer; its half of the store tests is skipped");
                    None
                }
            }
        }
    };
    AVAILABLE.get_or_init(|| found).clone()
}

/// A fresh PostgreSQL database, dropped with this guard.
#[derive(Debug)]
pub struct PgDatabase {
    pub url: String,
    name: String,
    admin: String,
}

static SEQ: AtomicUsize = AtomicUsize::new(0);

impl PgDatabase {
    /// Creates an empty database on the test server. Panics (a test helper) when it cannot.
    pub async fn create() -> PgDatabase {
        let admin = postgres_admin_url().await.expect("PostgreSQL is not available for tests");
        let name = format!(
            "yqt_{}_{}_{:06x}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::SeqCst),
            rand::random::<u32>() & 0xff_ffff
        );
        let mut c = sqlx::postgres::PgConnection::connect(&admin).await.expect("connect to the test server");
        sqlx::query(&format!("CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8'"))
            .execute(&mut c)
            .await
            .expect("create a test database");
        let _ = c.close().await;
        PgDatabase { url: with_database(&admin, &name), name, admin }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        // Drop runs inside or outside a runtime, maybe while panicking: do it on a
        // thread of its own with a runtime of its own.
        let (admin, name) = (self.admin.clone(), self.name.clone());
        let done = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
            rt.block_on(async {
                if let Ok(mut c) = sqlx::postgres::PgConnection::connect(&admin).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut c).await;
                    let _ = c.close().await;
                }
            });
        });
        let _ = done.join();
    }
}

/// A fresh store for one test; the data folder (and the PostgreSQL database) go with it.
pub struct TestStore {
    pub store: Store,
    pub backend: Backend,
    pub dir: tempfile::TempDir,
    pub database: Option<PgDatabase>,
}

impl TestStore {
    /// The database URL to give `Store::open_with` (empty for SQLite).
    pub fn url(&self) -> &str {
        self.database.as_ref().map_or("", |d| d.url.as_str())
    }

    /// Opens another store on the same data (another process would).
    pub async fn reopen(&self) -> Store {
        Store::open_with(self.dir.path(), self.url()).await.expect("reopen the store")
    }

    /// Closes the pool first, so that dropping the database does not have to force it.
    pub async fn close(self) {
        self.store.close().await;
    }

    /// The store, and what must live as long as it (the folder, the database).
    pub fn into_parts(self) -> (Store, TestGuard) {
        (self.store, TestGuard { dir: self.dir, database: self.database })
    }
}

/// Keeps a test store's data folder and database until dropped.
pub struct TestGuard {
    pub dir: tempfile::TempDir,
    pub database: Option<PgDatabase>,
}

/// The backend of tests that run once (the web and binary suites): SQLite, or
/// PostgreSQL with `YUQING_TEST_BACKEND=postgres` (CI runs those suites both ways).
pub fn default_backend() -> Backend {
    match std::env::var("YUQING_TEST_BACKEND").as_deref().map(str::trim) {
        Ok("postgres") | Ok("postgresql") => Backend::Postgres,
        _ => Backend::Sqlite,
    }
}

/// A fresh store on [`default_backend`]. Panics when that is PostgreSQL and no server
/// answers: a run asked for PostgreSQL must not pass on SQLite.
pub async fn fresh_default() -> TestStore {
    let backend = default_backend();
    if backend == Backend::Postgres {
        assert!(postgres_admin_url().await.is_some(), "YUQING_TEST_BACKEND=postgres but no PostgreSQL answers");
    }
    fresh(backend).await
}

/// A fresh, migrated store on `backend`.
pub async fn fresh(backend: Backend) -> TestStore {
    let dir = tempfile::tempdir().expect("tempdir");
    let database = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => Some(PgDatabase::create().await),
    };
    let url = database.as_ref().map_or(String::new(), |d| d.url.clone());
    let store = Store::open_with(dir.path(), &url).await.expect("open the test store");
    TestStore { store, backend, dir, database }
}

/// A fresh store on each available backend (SQLite, then PostgreSQL when available).
pub async fn each() -> Vec<TestStore> {
    let mut out = Vec::new();
    for b in backends().await {
        out.push(fresh(b).await);
    }
    out
}
