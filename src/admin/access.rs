//! The permission checks the API applies, in one place so they match the protocols'.
//!
//! PROVISIONAL: per-vhost permissions are being added to `crate::auth`; until they land,
//! every authenticated management user has full access to every vhost.

use crate::auth::AuthenticatedUser;

/// What an operation needs on a resource (RabbitMQ's three permissions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Configure,
    Write,
    Read,
}

/// Whether `user` has any permission on `vhost`.
pub fn allows_vhost(user: &AuthenticatedUser, vhost: &str) -> bool {
    let _ = (user, vhost);
    true
}

/// Refuse unless `user` holds `access` on `resource` in `vhost`.
pub fn check(
    user: &AuthenticatedUser,
    vhost: &str,
    access: Access,
    resource: &str,
) -> Result<(), String> {
    let _ = (user, vhost, access, resource);
    Ok(())
}

/// A user as RabbitMQ's definitions list it.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
pub struct UserDefinition {
    pub name: String,
    pub password_hash: String,
    #[serde(default)]
    pub hashing_algorithm: Option<String>,
    #[serde(default)]
    pub tags: serde_json::Value,
}

/// One user's permissions on one vhost, as RabbitMQ's definitions list them.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
pub struct PermissionDefinition {
    pub user: String,
    pub vhost: String,
    pub configure: String,
    pub write: String,
    pub read: String,
}

pub fn export_users(users: &crate::auth::Users) -> Vec<UserDefinition> {
    let _ = users;
    Vec::new()
}

pub fn export_permissions(users: &crate::auth::Users) -> Vec<PermissionDefinition> {
    let _ = users;
    Vec::new()
}

pub fn import_users(users: &crate::auth::Users, defs: &[UserDefinition]) -> Result<usize, String> {
    let _ = users;
    if defs.is_empty() {
        Ok(0)
    } else {
        Err("importing users is not available yet".into())
    }
}

pub fn import_permissions(
    users: &crate::auth::Users,
    defs: &[PermissionDefinition],
) -> Result<usize, String> {
    let _ = users;
    if defs.is_empty() {
        Ok(0)
    } else {
        Err("importing permissions is not available yet".into())
    }
}
