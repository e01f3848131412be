//! Users and password verification.
//!
//! This module owns who may log in: the user table built from the config (plus the
//! built-in `guest`), the two stored-hash formats, and the loopback-only rule. Listeners
//! call [`Users::authenticate`] with what the peer sent (AMQP PLAIN/AMQPLAIN, STOMP
//! `login`/`passcode`) and its address.
//!
//! Hash formats:
//! - `argon2id`: a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`), as printed by
//!   `mqbridge hash-password`.
//! - `rabbit_password_hashing_sha256`: RabbitMQ's format, base64(salt(4) ‖ SHA-256(salt ‖
//!   password)), so users exported with `rabbitmqctl export_definitions` work unchanged.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use sha2::{Digest, Sha256};

use crate::config::{Config, HashingAlgorithm};

/// The built-in user's name and password (RabbitMQ's).
pub const GUEST: &str = "guest";

/// A user who logged in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticatedUser {
    pub name: String,
    pub tags: Vec<String>,
}

/// Why a login was refused.
///
/// The texts fit an AMQP 403 (ACCESS_REFUSED) reply. `UnknownUser` and `BadPassword` read
/// the same on purpose, so a peer cannot probe which user names exist; the variant tells
/// the server's own log which it was.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("login refused for user '{0}': unknown user or bad password")]
    UnknownUser(String),
    #[error("login refused for user '{0}': unknown user or bad password")]
    BadPassword(String),
    #[error("user '{0}' can only connect via localhost")]
    LoopbackOnly(String),
}

/// Why users could not be built from a config.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("user '{user}': {reason}")]
pub struct UsersError {
    pub user: String,
    pub reason: String,
}

/// A password hash as stored, decoded once when the users are built.
#[derive(Clone)]
enum StoredHash {
    // Boxed: a parsed PHC string is ~300 bytes, the SHA-256 form 36.
    Argon2id(Box<PasswordHash>),
    RabbitSha256 { salt: [u8; 4], digest: [u8; 32] },
}

impl fmt::Debug for StoredHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoredHash::Argon2id(_) => f.write_str("Argon2id(<redacted>)"),
            StoredHash::RabbitSha256 { .. } => f.write_str("RabbitSha256(<redacted>)"),
        }
    }
}

impl StoredHash {
    fn parse(algorithm: HashingAlgorithm, text: &str) -> Result<StoredHash, String> {
        match algorithm {
            HashingAlgorithm::Argon2id => {
                let hash =
                    PasswordHash::new(text).map_err(|e| format!("not a PHC string ({e})"))?;
                if hash.algorithm.as_str() != "argon2id" {
                    return Err(format!(
                        "the PHC string is for {}, not argon2id",
                        hash.algorithm.as_str()
                    ));
                }
                if hash.salt.is_none() || hash.hash.is_none() {
                    return Err("the PHC string has no salt or no hash".to_string());
                }
                // Reject parameters argon2 cannot run with now, not at the first login.
                argon2::Params::try_from(&hash)
                    .map_err(|e| format!("bad argon2 parameters ({e})"))?;
                Ok(StoredHash::Argon2id(Box::new(hash)))
            }
            HashingAlgorithm::RabbitPasswordHashingSha256 => {
                let bytes = BASE64
                    .decode(text.trim())
                    .map_err(|e| format!("not base64 ({e})"))?;
                if bytes.len() != 36 {
                    return Err(format!(
                        "decodes to {} bytes; expected 36 (a 4-byte salt and a 32-byte SHA-256)",
                        bytes.len()
                    ));
                }
                let mut salt = [0u8; 4];
                let mut digest = [0u8; 32];
                salt.copy_from_slice(&bytes[..4]);
                digest.copy_from_slice(&bytes[4..]);
                Ok(StoredHash::RabbitSha256 { salt, digest })
            }
        }
    }

    fn verify(&self, password: &str) -> bool {
        match self {
            StoredHash::Argon2id(hash) => Argon2::default()
                .verify_password(password.as_bytes(), &**hash)
                .is_ok(),
            StoredHash::RabbitSha256 { salt, digest } => {
                constant_time_eq(&rabbit_sha256_digest(salt, password), digest)
            }
        }
    }
}

fn rabbit_sha256_digest(salt: &[u8; 4], password: &str) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(salt);
    hasher.update(password.as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(hasher.finalize().as_slice());
    out
}

/// Compare without an early exit, so the time taken does not tell how many leading bytes
/// of a guess were right.
fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    let diff = a
        .iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// Check that `hash` decodes for `algorithm` (used by config validation, so a bad hash is
/// reported at load with its line and column rather than at the first login).
pub fn check_password_hash(algorithm: HashingAlgorithm, hash: &str) -> Result<(), String> {
    StoredHash::parse(algorithm, hash).map(|_| ())
}

/// Hash a password for the config file with `algorithm`, with a fresh random salt.
pub fn hash_password(algorithm: HashingAlgorithm, password: &str) -> Result<String, String> {
    match algorithm {
        HashingAlgorithm::Argon2id => Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| format!("argon2 hashing failed: {e}")),
        HashingAlgorithm::RabbitPasswordHashingSha256 => {
            let salt: [u8; 4] = rand::random();
            let mut bytes = salt.to_vec();
            bytes.extend_from_slice(&rabbit_sha256_digest(&salt, password));
            Ok(BASE64.encode(bytes))
        }
    }
}

#[derive(Debug, Clone)]
struct User {
    tags: Vec<String>,
    hash: StoredHash,
    loopback_only: bool,
}

/// The user table: the config's users plus the built-in `guest`/`guest` (loopback only),
/// which a config user named `guest` replaces.
#[derive(Debug, Clone)]
pub struct Users {
    users: HashMap<String, User>,
}

impl Users {
    pub fn from_config(config: &Config) -> Result<Users, UsersError> {
        let mut users = HashMap::new();
        // The built-in guest is stored with RabbitMQ's cheap scheme: its password is public
        // anyway, and argon2 would only slow down every start.
        users.insert(
            GUEST.to_string(),
            User {
                tags: vec!["administrator".to_string()],
                hash: StoredHash::RabbitSha256 {
                    salt: [0x90, 0x8d, 0xc6, 0x0a],
                    digest: rabbit_sha256_digest(&[0x90, 0x8d, 0xc6, 0x0a], GUEST),
                },
                loopback_only: true,
            },
        );
        for u in &config.users {
            let hash =
                StoredHash::parse(u.hashing_algorithm, &u.password_hash).map_err(|reason| {
                    UsersError {
                        user: u.name.clone(),
                        reason,
                    }
                })?;
            users.insert(
                u.name.clone(),
                User {
                    tags: u.tags.clone(),
                    hash,
                    // RabbitMQ's rule: guest is loopback-only unless explicitly opened up.
                    loopback_only: u.loopback_only.unwrap_or(u.name == GUEST),
                },
            );
        }
        Ok(Users { users })
    }

    /// Check a login from `peer`. The password is verified before the loopback rule, so a
    /// remote peer learns that guest is loopback-only only if it knows guest's password.
    pub fn authenticate(
        &self,
        username: &str,
        password: &str,
        peer: IpAddr,
    ) -> Result<AuthenticatedUser, AuthError> {
        let user = self
            .users
            .get(username)
            .ok_or_else(|| AuthError::UnknownUser(username.to_string()))?;
        if !user.hash.verify(password) {
            return Err(AuthError::BadPassword(username.to_string()));
        }
        // A dual-stack socket reports an IPv4 peer as ::ffff:127.0.0.1.
        if user.loopback_only && !peer.to_canonical().is_loopback() {
            return Err(AuthError::LoopbackOnly(username.to_string()));
        }
        Ok(AuthenticatedUser {
            name: username.to_string(),
            tags: user.tags.clone(),
        })
    }

    /// Check a login by client certificate (AMQP EXTERNAL; STOMP and OpenWire without
    /// credentials on a TLS connection): `username` is the common name of a certificate
    /// the TLS layer has verified against the configured CA, so no password is checked;
    /// the user must exist, and the loopback rule still holds.
    pub fn authenticate_certificate(
        &self,
        username: &str,
        peer: IpAddr,
    ) -> Result<AuthenticatedUser, AuthError> {
        let user = self
            .users
            .get(username)
            .ok_or_else(|| AuthError::UnknownUser(username.to_string()))?;
        if user.loopback_only && !peer.to_canonical().is_loopback() {
            return Err(AuthError::LoopbackOnly(username.to_string()));
        }
        Ok(AuthenticatedUser {
            name: username.to_string(),
            tags: user.tags.clone(),
        })
    }

    /// Whether a user of this name exists (for logs and the management API).
    pub fn contains(&self, username: &str) -> bool {
        self.users.contains_key(username)
    }
}

#[cfg(test)]
mod tests;
