//! The two database backends behind one pool: the embedded SQLite file (the default) and
//! a shared PostgreSQL (for several processes), through sqlx's `Any` driver.
//!
//! Why `Any` rather than a generic store over `sqlx::Database`: every query of the store
//! is written once, in the SQL both engines accept, and the few places where they truly
//! differ (leases with `FOR UPDATE SKIP LOCKED`, full-text search, table locks) branch on
//! [`Backend`]. The price is `Any`'s small type set (integers, floats, text, bytes): the
//! schema keeps times as RFC 3339 text and flags as integers in both dialects, which the
//! SQLite schema did already.
//!
//! Placeholders are `$1, $2, …` everywhere: PostgreSQL needs them and sqlx's SQLite driver
//! binds `$N` by number too. sqlx's `QueryBuilder<Any>` writes `?` whatever the backend
//! (sqlx issue 3000), so dynamic queries use [`Sql`] below instead.

use crate::{Result, StoreError};
use sqlx::any::{AnyArguments, AnyPoolOptions};
use sqlx::{AnyPool, Arguments, Encode, Executor, Type};
use std::path::Path;
use std::time::Duration;

/// Which engine a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Whether a configured URL names PostgreSQL (`postgres://` or `postgresql://`).
pub fn is_postgres_url(url: &str) -> bool {
    let u = url.trim_start();
    u.starts_with("postgres://") || u.starts_with("postgresql://")
}

/// A URL with any password replaced, for messages and logs.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        Ok(u) => u.to_string(),
        Err(_) => "(unparsable database URL)".into(),
    }
}

fn install_drivers() {
    // Only the two drivers this crate is built with; idempotent.
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(sqlx::any::install_default_drivers);
}

/// Opens the embedded database file (created when missing) in WAL mode.
/// `cache_kib`: each connection's page cache (see the writer's and the readers' in
/// `Store::open_with`).
pub(crate) async fn connect_sqlite(db: &Path, max_connections: u32, cache_kib: u32) -> Result<AnyPool> {
    install_drivers();
    let abs = if db.is_absolute() {
        db.to_path_buf()
    } else {
        std::env::current_dir().map_err(|e| StoreError::Io { path: db.to_path_buf(), source: e })?.join(db)
    };
    // sqlx reads the file name of a `sqlite://` URL percent-decoded: encode it, so that
    // data folders with spaces, `?`, `#` or Chinese names work.
    let file_url = url::Url::from_file_path(&abs)
        .map_err(|()| StoreError::Invalid(format!("cannot use {} as a database file", abs.display())))?;
    let url = format!("sqlite://{}?mode=rwc", file_url.path());
    // Connections are kept, not recycled after sqlx's default idle time and lifetime:
    // the writer's value is its warm page cache.
    let pool = AnyPoolOptions::new()
        .max_connections(max_connections)
        .idle_timeout(None)
        .max_lifetime(None)
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                // WAL: readers never block the writer; NORMAL sync is safe in WAL mode (a
                // power cut may lose the last commits, never corrupt); busy_timeout lets a
                // second process (`yuqing search` beside `serve`) wait for the writer.
                conn.execute("PRAGMA journal_mode = WAL").await?;
                conn.execute("PRAGMA synchronous = NORMAL").await?;
                conn.execute("PRAGMA busy_timeout = 10000").await?;
                conn.execute("PRAGMA foreign_keys = ON").await?;
                conn.execute(format!("PRAGMA cache_size = -{cache_kib}").as_str()).await?;
                Ok(())
            })
        })
        .connect(&url)
        .await?;
    Ok(pool)
}

/// Connects to a PostgreSQL database named by `url`.
pub(crate) async fn connect_postgres(url: &str, max_connections: u32) -> Result<AnyPool> {
    install_drivers();
    let pool = AnyPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(30))
        .after_connect(|conn, _meta| {
            Box::pin(async move {
                // Times are compared as text: make sure the session speaks UTF-8 and UTC.
                conn.execute("SET client_encoding = 'UTF8'").await?;
                conn.execute("SET TIME ZONE 'UTC'").await?;
                // Counting a full-text term with 300,000 hits at a million items: with
                // the server's default 4 MB the bitmap of matching rows goes lossy and
                // every row of the lossy pages is read and tested again (3.0 s); 32 MB
                // keeps it exact (1.2 s, or 0.9 s once vacuumed). Only queries that need it
                // use it.
                conn.execute("SET work_mem = '32MB'").await?;
                Ok(())
            })
        })
        .connect(url)
        .await
        .map_err(|e| StoreError::Connect { url: redact_url(url), source: e })?;
    Ok(pool)
}

/// Runs the migrations of the backend.
pub(crate) async fn migrate(pool: &AnyPool, backend: Backend) -> Result<()> {
    match backend {
        Backend::Sqlite => sqlx::migrate!("./migrations/sqlite").run(pool).await?,
        Backend::Postgres => sqlx::migrate!("./migrations/postgres").run(pool).await?,
    }
    Ok(())
}

/// A query built piece by piece with `$N` placeholders (see the module comment).
pub(crate) struct Sql<'q> {
    sql: String,
    args: AnyArguments<'q>,
    n: usize,
}

impl<'q> Sql<'q> {
    pub(crate) fn new(start: impl Into<String>) -> Sql<'q> {
        Sql { sql: start.into(), args: AnyArguments::default(), n: 0 }
    }

    pub(crate) fn push(&mut self, s: &str) -> &mut Self {
        self.sql.push_str(s);
        self
    }

    /// Appends a placeholder bound to `v`.
    pub(crate) fn bind<T>(&mut self, v: T) -> &mut Self
    where
        T: 'q + Encode<'q, sqlx::Any> + Type<sqlx::Any>,
    {
        self.n += 1;
        self.sql.push('$');
        self.sql.push_str(&self.n.to_string());
        // Encoding into AnyArguments only pushes the value: it cannot fail for our types.
        if let Err(e) = self.args.add(v) {
            tracing::error!(error = %e, "a query argument could not be encoded");
        }
        self
    }

    pub(crate) fn finish(self) -> (String, AnyArguments<'q>) {
        (self.sql, self.args)
    }
}
