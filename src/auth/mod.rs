//! Users, password verification and permissions.
//!
//! This module owns who may log in and what they may do: the user table built from the
//! config (plus the built-in `guest`), the two stored-hash formats, the loopback-only rule
//! and each user's per-vhost permissions ([`permissions`]). Listeners call
//! [`Users::authenticate`] with what the peer sent (AMQP PLAIN/AMQPLAIN, STOMP
//! `login`/`passcode`, OpenWire ConnectionInfo) and its address, and then ask the returned
//! [`AuthenticatedUser`] before every operation ([`AuthenticatedUser::check`]).
//!
//! The table can change at run time ([`Users::upsert`], [`Users::set_permissions`],
//! [`Users::delete`], for the management API's definitions import). A user's grants live
//! in a cell shared with every connection that user has open, so a permission change
//! applies to open connections at their next operation, as in RabbitMQ.
//!
//! Hash formats:
//! - `argon2id`: a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`), as printed by
//!   `mqbridge hash-password`.
//! - `rabbit_password_hashing_sha256`: RabbitMQ's format, base64(salt(4) ‖ SHA-256(salt ‖
//!   password)), so users exported with `rabbitmqctl export_definitions` work unchanged.

pub mod permissions;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use parking_lot::RwLock;
use sha2::{Digest, Sha256};

pub use permissions::{
    Access, Grants, PermissionDenied, Resource, VhostPermissions, VhostPermissionsRef,
};

use crate::config::{Config, HashingAlgorithm, PermissionConfig, UserConfig};

/// The built-in user's name and password (RabbitMQ's).
pub const GUEST: &str = "guest";

/// A user who logged in, with a live view of their permissions.
#[derive(Debug, Clone)]
pub struct AuthenticatedUser {
    pub name: String,
    pub tags: Vec<String>,
    grants: Arc<RwLock<Grants>>,
}

impl PartialEq for AuthenticatedUser {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.tags == other.tags
    }
}

impl Eq for AuthenticatedUser {}

impl AuthenticatedUser {
    /// A user with full access to every vhost, outside any user table (tests, and
    /// authenticators that do not know about permissions).
    pub fn unrestricted(name: impl Into<String>) -> Self {
        AuthenticatedUser {
            name: name.into(),
            tags: Vec::new(),
            grants: Arc::new(RwLock::new(Grants::AllVhosts)),
        }
    }

    /// May this user open `vhost`? (`access to vhost '/' refused for user 'u'`)
    pub fn check_vhost(&self, vhost: &str) -> Result<(), PermissionDenied> {
        self.grants.read().check_vhost(&self.name, vhost)
    }

    /// May this user have `access` to `resource` in `vhost`? The refusal's text is
    /// RabbitMQ's: `access to queue 'q' in vhost '/' refused for user 'u'`.
    pub fn check(
        &self,
        vhost: &str,
        access: Access,
        resource: Resource<'_>,
    ) -> Result<(), PermissionDenied> {
        self.grants
            .read()
            .check(&self.name, vhost, access, resource)
    }

    /// A snapshot of the user's current grants.
    pub fn grants(&self) -> Grants {
        self.grants.read().clone()
    }
}

/// A user as the management API lists it (no password hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSummary {
    pub name: String,
    pub tags: Vec<String>,
    pub loopback_only: bool,
    pub grants: Grants,
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

#[derive(Clone)]
struct User {
    tags: Vec<String>,
    hash: StoredHash,
    /// The hash as given, for definitions export.
    hash_text: String,
    algorithm: HashingAlgorithm,
    loopback_only: bool,
    /// Shared with the [`AuthenticatedUser`]s of this user's open connections.
    grants: Arc<RwLock<Grants>>,
}

impl fmt::Debug for User {
    // The hash text is offline-crackable: it stays out of logs and panic messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("tags", &self.tags)
            .field("hash", &self.hash)
            .field("algorithm", &self.algorithm)
            .field("loopback_only", &self.loopback_only)
            .field("grants", &self.grants)
            .finish()
    }
}

/// Compile a user's `permissions` from the config (`None`: the key was absent).
pub fn grants_from_config(
    permissions: Option<&BTreeMap<String, PermissionConfig>>,
) -> Result<Grants, String> {
    let Some(map) = permissions else {
        return Ok(Grants::AllVhosts);
    };
    let mut out = BTreeMap::new();
    for (vhost, p) in map {
        let compiled = VhostPermissions::new(&p.configure, &p.write, &p.read)
            .map_err(|e| format!("permissions for vhost '{vhost}': {e}"))?;
        out.insert(vhost.clone(), compiled);
    }
    Ok(Grants::Vhosts(out))
}

fn builtin_guest() -> User {
    // The built-in guest is stored with RabbitMQ's cheap scheme: its password is public
    // anyway, and argon2 would only slow down every start.
    let salt = [0x90, 0x8d, 0xc6, 0x0a];
    let digest = rabbit_sha256_digest(&salt, GUEST);
    let mut bytes = salt.to_vec();
    bytes.extend_from_slice(&digest);
    User {
        tags: vec!["administrator".to_string()],
        hash: StoredHash::RabbitSha256 { salt, digest },
        hash_text: BASE64.encode(bytes),
        algorithm: HashingAlgorithm::RabbitPasswordHashingSha256,
        loopback_only: true,
        grants: Arc::new(RwLock::new(Grants::AllVhosts)),
    }
}

fn user_from_config(u: &UserConfig) -> Result<(User, Grants), UsersError> {
    let error = |reason: String| UsersError {
        user: u.name.clone(),
        reason,
    };
    let hash = StoredHash::parse(u.hashing_algorithm, &u.password_hash).map_err(error)?;
    let grants = grants_from_config(u.permissions.as_ref()).map_err(error)?;
    let user = User {
        tags: u.tags.clone(),
        hash,
        hash_text: u.password_hash.clone(),
        algorithm: u.hashing_algorithm,
        // RabbitMQ's rule: guest is loopback-only unless explicitly opened up.
        loopback_only: u.loopback_only.unwrap_or(u.name == GUEST),
        grants: Arc::new(RwLock::new(grants.clone())),
    };
    Ok((user, grants))
}

/// The user table: the config's users plus the built-in `guest`/`guest` (loopback only,
/// full access), which a config user named `guest` replaces.
///
/// Behind a lock so the management API can change it while listeners authenticate; the
/// lock is held only to look a user up, never while a password is verified.
#[derive(Debug)]
pub struct Users {
    users: RwLock<HashMap<String, Arc<User>>>,
}

impl Users {
    pub fn from_config(config: &Config) -> Result<Users, UsersError> {
        let mut users = HashMap::new();
        users.insert(GUEST.to_string(), Arc::new(builtin_guest()));
        for u in &config.users {
            let (user, _) = user_from_config(u)?;
            users.insert(u.name.clone(), Arc::new(user));
        }
        Ok(Users {
            users: RwLock::new(users),
        })
    }

    /// Add a user or replace one (hash, tags, loopback rule and permissions). A replaced
    /// user's open connections keep their login but get the new permissions at once.
    pub fn upsert(&self, config: &UserConfig) -> Result<(), UsersError> {
        let (mut user, grants) = user_from_config(config)?;
        let mut users = self.users.write();
        if let Some(existing) = users.get(&config.name) {
            *existing.grants.write() = grants;
            user.grants = existing.grants.clone();
        }
        users.insert(config.name.clone(), Arc::new(user));
        Ok(())
    }

    /// Set (`Some`) or clear (`None`) one user's permissions on one vhost; open
    /// connections see the change at their next operation. A user who had full access to
    /// every vhost (no `permissions` key) keeps `.*` on the vhosts in `all_vhosts` and gets
    /// the new value on `vhost`, as RabbitMQ's per-vhost model has no "every vhost" entry.
    /// False when there is no such user.
    pub fn set_permissions(
        &self,
        user: &str,
        vhost: &str,
        permissions: Option<VhostPermissions>,
        all_vhosts: &[String],
    ) -> bool {
        let users = self.users.read();
        let Some(u) = users.get(user) else {
            return false;
        };
        let mut grants = u.grants.write();
        let mut map = match &*grants {
            Grants::AllVhosts => all_vhosts
                .iter()
                .map(|v| (v.clone(), VhostPermissions::full()))
                .collect(),
            Grants::Vhosts(map) => map.clone(),
        };
        match permissions {
            Some(p) => map.insert(vhost.to_string(), p),
            None => map.remove(vhost),
        };
        *grants = Grants::Vhosts(map);
        true
    }

    /// Remove a user. Its open connections lose every permission (their next operation is
    /// refused); new logins fail. False when there is no such user.
    pub fn delete(&self, user: &str) -> bool {
        match self.users.write().remove(user) {
            Some(u) => {
                *u.grants.write() = Grants::none();
                true
            }
            None => false,
        }
    }

    /// Bring the users in line with a reloaded config: its users are added or updated (hash,
    /// tags, permissions; open connections see new permissions at their next operation),
    /// and the users `previous` had and it no longer has are removed (a removed `guest`
    /// becomes the built-in loopback-only guest again). Users created through the API that
    /// neither config names are left alone. Checked before anything changes: a user the
    /// new config cannot build leaves every user as it was.
    pub fn apply_config(&self, previous: &Config, config: &Config) -> Result<(), UsersError> {
        for u in &config.users {
            user_from_config(u)?;
        }
        for u in &config.users {
            self.upsert(u)?;
        }
        for gone in previous
            .users
            .iter()
            .filter(|p| !config.users.iter().any(|u| u.name == p.name))
        {
            if gone.name == GUEST {
                if let Some(old) = self
                    .users
                    .write()
                    .insert(GUEST.to_string(), Arc::new(builtin_guest()))
                {
                    // Connections of the removed config guest now hold the built-in's rights.
                    *old.grants.write() = Grants::AllVhosts;
                }
            } else {
                self.delete(&gone.name);
            }
        }
        Ok(())
    }

    /// Every user as a config entry, password hash included, sorted by name (definitions
    /// export). A user with access to every vhost has `permissions: None`.
    pub fn export(&self) -> Vec<UserConfig> {
        let users = self.users.read();
        let mut out: Vec<UserConfig> = users
            .iter()
            .map(|(name, u)| UserConfig {
                name: name.clone(),
                password_hash: u.hash_text.clone(),
                hashing_algorithm: u.algorithm,
                tags: u.tags.clone(),
                loopback_only: Some(u.loopback_only),
                permissions: match &*u.grants.read() {
                    Grants::AllVhosts => None,
                    Grants::Vhosts(map) => Some(
                        map.iter()
                            .map(|(v, p)| {
                                (
                                    v.clone(),
                                    PermissionConfig {
                                        configure: p.configure().to_string(),
                                        write: p.write().to_string(),
                                        read: p.read().to_string(),
                                    },
                                )
                            })
                            .collect(),
                    ),
                },
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }

    /// Every user, sorted by name, without password hashes.
    pub fn list(&self) -> Vec<UserSummary> {
        let users = self.users.read();
        let mut out: Vec<UserSummary> = users
            .iter()
            .map(|(name, u)| UserSummary {
                name: name.clone(),
                tags: u.tags.clone(),
                loopback_only: u.loopback_only,
                grants: u.grants.read().clone(),
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }

    /// Check a login from `peer`. The password is verified before the loopback rule, so a
    /// remote peer learns that guest is loopback-only only if it knows guest's password.
    pub fn authenticate(
        &self,
        username: &str,
        password: &str,
        peer: IpAddr,
    ) -> Result<AuthenticatedUser, AuthError> {
        // Cloned out so the lock is not held through argon2 (tens of milliseconds).
        let user = self
            .users
            .read()
            .get(username)
            .cloned()
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
            grants: user.grants.clone(),
        })
    }

    /// Check a login by client certificate (AMQP EXTERNAL; STOMP and OpenWire without
    /// credentials on a TLS connection): `username` is the user named by a certificate the
    /// TLS layer has verified against the configured CA, so no password is checked; the
    /// user must exist, and the loopback rule still holds.
    pub fn authenticate_certificate(
        &self,
        username: &str,
        peer: IpAddr,
    ) -> Result<AuthenticatedUser, AuthError> {
        let user = self
            .users
            .read()
            .get(username)
            .cloned()
            .ok_or_else(|| AuthError::UnknownUser(username.to_string()))?;
        if user.loopback_only && !peer.to_canonical().is_loopback() {
            return Err(AuthError::LoopbackOnly(username.to_string()));
        }
        Ok(AuthenticatedUser {
            name: username.to_string(),
            tags: user.tags.clone(),
            grants: user.grants.clone(),
        })
    }

    /// Whether a user of this name exists (for logs and the management API).
    pub fn contains(&self, username: &str) -> bool {
        self.users.read().contains_key(username)
    }
}

#[cfg(test)]
mod tests;
