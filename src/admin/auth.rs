//! Who is calling the HTTP API: HTTP Basic credentials checked against the same users as
//! every protocol listener, and RabbitMQ's management tags.
//!
//! A user may use the API with one of the tags `management`, `policymaker`, `monitoring`
//! or `administrator` (RabbitMQ's); definitions export and import need `administrator`.
//! Password checks are deliberately slow (argon2id), and a browser UI polls every few
//! seconds, so a successful login is remembered for [`LOGIN_CACHE_TTL`], keyed by a
//! SHA-256 of the credentials (the password itself is never kept).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::{header, HeaderMap};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use parking_lot::Mutex;
use sha2::{Digest, Sha256};

use super::ApiError;
use crate::auth::{AuthenticatedUser, Users};

/// How long a checked login is reused without checking the password again.
pub const LOGIN_CACHE_TTL: Duration = Duration::from_secs(10);
/// Tags that give access to the management API at all.
const MANAGEMENT_TAGS: [&str; 4] = ["management", "policymaker", "monitoring", "administrator"];

/// Logins checked recently.
#[derive(Debug, Default)]
pub struct LoginCache {
    entries: Mutex<HashMap<[u8; 32], (Instant, AuthenticatedUser)>>,
}

impl LoginCache {
    /// Forget every cached login (a user's password, tags or existence changed).
    pub fn clear(&self) {
        self.entries.lock().clear();
    }
}

/// The caller of one request, once authenticated.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: AuthenticatedUser,
}

impl Caller {
    pub fn is_administrator(&self) -> bool {
        self.user.tags.iter().any(|t| t == "administrator")
    }

    /// Refuse unless the caller is an administrator (definitions, vhost-wide views).
    pub fn require_administrator(&self) -> Result<(), ApiError> {
        if self.is_administrator() {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "user '{}' is not an administrator",
                self.user.name
            )))
        }
    }
}

/// Check the request's `Authorization: Basic` header from `peer`.
pub async fn authenticate(
    users: &Arc<Users>,
    cache: &LoginCache,
    headers: &HeaderMap,
    peer: IpAddr,
) -> Result<Caller, ApiError> {
    let (name, password) = basic_credentials(headers)?;
    let key: [u8; 32] = Sha256::new()
        .chain_update(name.as_bytes())
        .chain_update([0u8])
        .chain_update(password.as_bytes())
        .chain_update([0u8])
        .chain_update(peer.to_string().as_bytes())
        .finalize()
        .into();
    let cached = cache
        .entries
        .lock()
        .get(&key)
        .filter(|(at, _)| at.elapsed() < LOGIN_CACHE_TTL)
        .map(|(_, user)| user.clone());
    let user = match cached {
        Some(user) => user,
        None => {
            let users = users.clone();
            let login = name.clone();
            let checked =
                tokio::task::spawn_blocking(move || users.authenticate(&login, &password, peer))
                    .await
                    .map_err(|e| ApiError::internal(format!("login check failed: {e}")))?;
            let user = checked.map_err(|e| {
                tracing::info!(user = %name, peer = %peer, error = %e, "HTTP API login refused.");
                ApiError::unauthorized("Login failed")
            })?;
            let mut entries = cache.entries.lock();
            entries.retain(|_, (at, _)| at.elapsed() < LOGIN_CACHE_TTL);
            entries.insert(key, (Instant::now(), user.clone()));
            user
        }
    };
    if !user
        .tags
        .iter()
        .any(|t| MANAGEMENT_TAGS.contains(&t.as_str()))
    {
        return Err(ApiError::unauthorized(format!(
            "Not management user: '{}' has none of the tags management, policymaker, \
             monitoring or administrator",
            user.name
        )));
    }
    Ok(Caller { user })
}

/// The user and password of an `Authorization: Basic` header.
fn basic_credentials(headers: &HeaderMap) -> Result<(String, String), ApiError> {
    let missing = || ApiError::unauthorized("Authentication required (HTTP Basic)");
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(missing)?
        .to_str()
        .map_err(|_| missing())?;
    let (scheme, encoded) = value.split_once(' ').ok_or_else(missing)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(missing());
    }
    let decoded = BASE64
        .decode(encoded.trim())
        .map_err(|_| ApiError::unauthorized("Malformed Basic credentials"))?;
    let text = String::from_utf8(decoded)
        .map_err(|_| ApiError::unauthorized("Malformed Basic credentials"))?;
    let (user, password) = text
        .split_once(':')
        .ok_or_else(|| ApiError::unauthorized("Malformed Basic credentials"))?;
    Ok((user.to_string(), password.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with_auth(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn basic_credentials_are_decoded() {
        let h = with_auth(&format!("Basic {}", BASE64.encode("ops:s3:cret")));
        assert_eq!(
            basic_credentials(&h).unwrap(),
            ("ops".to_string(), "s3:cret".to_string())
        );
    }

    #[test]
    fn missing_or_malformed_credentials_are_401() {
        for h in [
            HeaderMap::new(),
            with_auth("Bearer abc"),
            with_auth("Basic !!!"),
            with_auth(&format!("Basic {}", BASE64.encode("no-colon"))),
        ] {
            assert_eq!(basic_credentials(&h).unwrap_err().status.as_u16(), 401);
        }
    }
}
