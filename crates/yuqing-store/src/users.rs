//! Users, browser sessions and API tokens. Passwords are argon2id hashes; session and
//! API tokens are random and only their SHA-256 is stored, so a copy of the database
//! does not give anyone a login.

use crate::{ts, Result, Store, StoreError};
use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::Utc;
use rand::Rng;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;
use yuqing_core::Role;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub name: String,
    pub role: Role,
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn random_token(prefix: &str) -> String {
    let bytes: [u8; 32] = rand::thread_rng().gen();
    format!("{prefix}{}", hex::encode(bytes))
}

/// A password for a generated account: 20 characters without look-alikes.
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::thread_rng();
    (0..20).map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char).collect()
}

fn user_from_row(r: &sqlx::any::AnyRow) -> Result<User> {
    let role: String = r.try_get("role")?;
    Ok(User {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        role: Role::from_id(&role).ok_or_else(|| StoreError::Invalid(format!("stored role `{role}` is unknown")))?,
    })
}

impl Store {
    /// Creates a user, or sets the password and role of an existing one.
    pub async fn upsert_user(&self, name: &str, role: Role, password: &str) -> Result<User> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
            return Err(StoreError::Invalid("a user name must be 1 to 64 printable characters".into()));
        }
        if password.chars().count() < 8 {
            return Err(StoreError::Invalid("a password must have at least 8 characters".into()));
        }
        let pw = password.to_string();
        // argon2 takes tens of milliseconds of CPU on purpose: keep it off the async threads.
        let hash = tokio::task::spawn_blocking(move || {
            let salt = SaltString::generate(&mut OsRng);
            Argon2::default().hash_password(pw.as_bytes(), &salt).map(|h| h.to_string())
        })
        .await
        .map_err(|e| StoreError::Invalid(format!("password hashing failed: {e}")))?
        .map_err(|e| StoreError::Invalid(format!("password hashing failed: {e}")))?;
        let _w = self.write_guard().await;
        let row = sqlx::query(
            "INSERT INTO users (name, role, password_hash, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT(name) DO UPDATE SET role = excluded.role, password_hash = excluded.password_hash
             RETURNING id, name, role",
        )
        .bind(name)
        .bind(role.id())
        .bind(hash)
        .bind(ts(Utc::now()))
        .fetch_one(&self.pool)
        .await?;
        user_from_row(&row)
    }

    /// On first run (no admin and no user named `admin` yet): creates `admin` with a
    /// generated password, returned once so that `serve` can print it.
    pub async fn ensure_admin(&self) -> Result<Option<String>> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = 'admin' OR name = 'admin'")
            .fetch_one(&self.pool)
            .await?;
        if n > 0 {
            return Ok(None);
        }
        let pw = generate_password();
        self.upsert_user("admin", Role::Admin, &pw).await?;
        Ok(Some(pw))
    }

    pub async fn user_by_name(&self, name: &str) -> Result<Option<User>> {
        let row = sqlx::query("SELECT id, name, role FROM users WHERE name = $1 AND disabled = 0")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// Checks a login; `None` for an unknown user or a wrong password alike.
    pub async fn verify_password(&self, name: &str, password: &str) -> Result<Option<User>> {
        let row = sqlx::query("SELECT id, name, role, password_hash FROM users WHERE name = $1 AND disabled = 0")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let hash: String = row.try_get("password_hash")?;
        let pw = password.to_string();
        let ok = tokio::task::spawn_blocking(move || {
            PasswordHash::new(&hash)
                .map(|h| Argon2::default().verify_password(pw.as_bytes(), &h).is_ok())
                .unwrap_or(false)
        })
        .await
        .unwrap_or(false);
        if ok {
            Ok(Some(user_from_row(&row)?))
        } else {
            Ok(None)
        }
    }

    /// Starts a browser session; returns (cookie token, CSRF token).
    pub async fn create_session(&self, user_id: i64, ttl: std::time::Duration) -> Result<(String, String)> {
        let token = random_token("");
        let csrf = random_token("");
        let now = Utc::now();
        let expires = now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::hours(12));
        let _w = self.write_guard().await;
        sqlx::query("DELETE FROM sessions WHERE expires_at < $1").bind(ts(now)).execute(&self.pool).await?;
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token_hash(&token))
        .bind(user_id)
        .bind(&csrf)
        .bind(ts(now))
        .bind(ts(expires))
        .execute(&self.pool)
        .await?;
        Ok((token, csrf))
    }

    /// The user and CSRF token of a live session.
    pub async fn session(&self, token: &str) -> Result<Option<(User, String)>> {
        let row = sqlx::query(
            "SELECT u.id, u.name, u.role, s.csrf FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.disabled = 0",
        )
        .bind(token_hash(token))
        .bind(ts(Utc::now()))
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(r) => Ok(Some((user_from_row(&r)?, r.try_get("csrf")?))),
            None => Ok(None),
        }
    }

    pub async fn delete_session(&self, token: &str) -> Result<()> {
        let _w = self.write_guard().await;
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash(token)).execute(&self.pool).await?;
        Ok(())
    }

    /// Creates an API token for a user; the token is returned once and never stored.
    pub async fn create_token(&self, user_name: &str) -> Result<String> {
        let user = self.user_by_name(user_name).await?.ok_or_else(|| {
            StoreError::Invalid(format!("there is no user `{user_name}`; add one with `yuqing user add`"))
        })?;
        let token = random_token("yq_");
        let _w = self.write_guard().await;
        sqlx::query("INSERT INTO api_tokens (token_hash, user_id, created_at) VALUES ($1, $2, $3)")
            .bind(token_hash(&token))
            .bind(user.id)
            .bind(ts(Utc::now()))
            .execute(&self.pool)
            .await?;
        Ok(token)
    }

    /// The user an API token belongs to.
    pub async fn user_by_token(&self, token: &str) -> Result<Option<User>> {
        let row = sqlx::query(
            "SELECT u.id, u.name, u.role FROM api_tokens t JOIN users u ON u.id = t.user_id
             WHERE t.token_hash = $1 AND u.disabled = 0",
        )
        .bind(token_hash(token))
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    pub async fn user_count(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(&self.pool).await?)
    }
}
