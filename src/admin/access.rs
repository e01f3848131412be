//! The permission checks the API applies, in one place so they match the protocols', and
//! the users/permissions half of definitions export and import.
//!
//! Checks go through [`crate::auth::AuthenticatedUser`]: the same per-vhost regexes every
//! protocol applies (docs/permissions.md). Import follows RabbitMQ's model: a user created
//! by an import has no vhost until a `permissions` entry grants one; an existing user keeps
//! its permissions unless the document lists new ones.

use std::collections::HashMap;

use crate::auth::{AuthenticatedUser, Grants, Resource, Users, VhostPermissions};
use crate::config::{HashingAlgorithm, UserConfig};

pub use crate::auth::Access;

/// Whether `user` has any permission on `vhost`.
pub fn allows_vhost(user: &AuthenticatedUser, vhost: &str) -> bool {
    user.check_vhost(vhost).is_ok()
}

/// Refuse unless `user` holds `access` on `resource` in `vhost`. Queue and exchange names
/// are matched by the same regexes, so the kind does not matter for the decision; the text
/// names the permission instead.
pub fn check(
    user: &AuthenticatedUser,
    vhost: &str,
    access: Access,
    resource: &str,
) -> Result<(), String> {
    user.check(vhost, access, Resource::Queue(resource))
        .map_err(|_| {
            format!(
                "access to '{resource}' in vhost '{vhost}' refused for user '{}' (needs {access} permission)",
                user.name
            )
        })
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

pub fn export_users(users: &Users) -> Vec<UserDefinition> {
    users
        .export()
        .into_iter()
        .map(|u| UserDefinition {
            name: u.name,
            password_hash: u.password_hash,
            hashing_algorithm: Some(u.hashing_algorithm.as_str().to_string()),
            // RabbitMQ 3.10 writes tags as one comma-separated string.
            tags: serde_json::Value::String(u.tags.join(",")),
        })
        .collect()
}

/// Every user's permissions; a user with access to every vhost (no `permissions` key) is
/// listed with `.*` on each of `vhosts`, as RabbitMQ has no "every vhost" entry.
pub fn export_permissions(users: &Users, vhosts: &[String]) -> Vec<PermissionDefinition> {
    let mut out = Vec::new();
    for u in users.list() {
        match u.grants {
            Grants::AllVhosts => {
                for v in vhosts {
                    out.push(PermissionDefinition {
                        user: u.name.clone(),
                        vhost: v.clone(),
                        configure: ".*".into(),
                        write: ".*".into(),
                        read: ".*".into(),
                    });
                }
            }
            Grants::Vhosts(map) => {
                for (v, p) in map {
                    out.push(PermissionDefinition {
                        user: u.name.clone(),
                        vhost: v,
                        configure: p.configure().to_string(),
                        write: p.write().to_string(),
                        read: p.read().to_string(),
                    });
                }
            }
        }
    }
    out
}

fn algorithm(name: Option<&str>) -> Result<HashingAlgorithm, String> {
    match name {
        None | Some("rabbit_password_hashing_sha256") => {
            Ok(HashingAlgorithm::RabbitPasswordHashingSha256)
        }
        Some("argon2id") => Ok(HashingAlgorithm::Argon2id),
        Some(other) => Err(format!(
            "hashing_algorithm '{other}' is not supported (rabbit_password_hashing_sha256 or argon2id)"
        )),
    }
}

fn tags(value: &serde_json::Value) -> Vec<String> {
    match value {
        serde_json::Value::String(s) => s
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect(),
        serde_json::Value::Array(list) => list
            .iter()
            .filter_map(|t| t.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

/// Add or replace users. Every entry is checked before any is applied, so a bad hash
/// leaves the table as it was.
pub fn import_users(users: &Users, defs: &[UserDefinition]) -> Result<usize, String> {
    let current: HashMap<String, UserConfig> = users
        .export()
        .into_iter()
        .map(|u| (u.name.clone(), u))
        .collect();
    let mut configs = Vec::with_capacity(defs.len());
    for d in defs {
        let hashing_algorithm = algorithm(d.hashing_algorithm.as_deref())
            .map_err(|e| format!("user '{}': {e}", d.name))?;
        crate::auth::check_password_hash(hashing_algorithm, &d.password_hash)
            .map_err(|e| format!("user '{}': password_hash: {e}", d.name))?;
        let existing = current.get(&d.name);
        configs.push(UserConfig {
            name: d.name.clone(),
            password_hash: d.password_hash.clone(),
            hashing_algorithm,
            tags: tags(&d.tags),
            loopback_only: existing.and_then(|e| e.loopback_only),
            // RabbitMQ: a new user has no vhost until a permission grants one; an existing
            // user keeps what it has.
            permissions: match existing {
                Some(e) => e.permissions.clone(),
                None => Some(Default::default()),
            },
        });
    }
    for c in &configs {
        users.upsert(c).map_err(|e| e.to_string())?;
    }
    Ok(configs.len())
}

/// Set each listed permission (the users must exist: import users first). Every regex is
/// checked before any is applied. `vhosts` are the broker's vhosts: a user that had access
/// to every vhost keeps `.*` on the others.
pub fn import_permissions(
    users: &Users,
    defs: &[PermissionDefinition],
    vhosts: &[String],
) -> Result<usize, String> {
    let mut compiled = Vec::with_capacity(defs.len());
    for d in defs {
        if !users.contains(&d.user) {
            return Err(format!("no user '{}'", d.user));
        }
        let p = VhostPermissions::new(&d.configure, &d.write, &d.read)
            .map_err(|e| format!("user '{}', vhost '{}': {e}", d.user, d.vhost))?;
        compiled.push((d, p));
    }
    for (d, p) in compiled {
        users.set_permissions(&d.user, &d.vhost, Some(p), vhosts);
    }
    Ok(defs.len())
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};

    use super::*;
    use crate::config::Config;

    const LOCAL: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
    /// RabbitMQ SHA-256 of "guest" (see src/auth/tests.rs).
    const GUEST_SHA256: &str = "kI3GCrswBLNZQzHJJ95QLoyfAVooYhnvf7jbqiW9BjOYUloe";

    fn user_def(name: &str) -> UserDefinition {
        UserDefinition {
            name: name.into(),
            password_hash: GUEST_SHA256.into(),
            hashing_algorithm: Some("rabbit_password_hashing_sha256".into()),
            tags: serde_json::json!("monitoring,policymaker"),
        }
    }

    fn perm(user: &str, vhost: &str, c: &str, w: &str, r: &str) -> PermissionDefinition {
        PermissionDefinition {
            user: user.into(),
            vhost: vhost.into(),
            configure: c.into(),
            write: w.into(),
            read: r.into(),
        }
    }

    #[test]
    fn imported_users_get_exactly_the_imported_permissions() {
        let users = Users::from_config(&Config::default()).unwrap();
        let vhosts = vec!["/".to_string()];
        assert_eq!(
            import_users(&users, &[user_def("app"), user_def("idle")]).unwrap(),
            2
        );
        import_permissions(&users, &[perm("app", "/", "", "^out$", ".*")], &vhosts).unwrap();
        let app = users.authenticate("app", "guest", LOCAL).unwrap();
        assert_eq!(app.tags, vec!["monitoring", "policymaker"]);
        assert!(allows_vhost(&app, "/"));
        assert!(check(&app, "/", Access::Write, "out").is_ok());
        let e = check(&app, "/", Access::Configure, "out").unwrap_err();
        assert_eq!(
            e,
            "access to 'out' in vhost '/' refused for user 'app' (needs configure permission)"
        );
        // A user created by an import without permissions has no vhost (RabbitMQ's rule).
        let idle = users.authenticate("idle", "guest", LOCAL).unwrap();
        assert!(!allows_vhost(&idle, "/"));
        // Exported as imported, with the hash; guest (every vhost) as `.*` per vhost.
        let exported = export_users(&users);
        let app_def = exported.iter().find(|u| u.name == "app").unwrap();
        assert_eq!(app_def.password_hash, GUEST_SHA256);
        let perms = export_permissions(&users, &vhosts);
        assert!(perms
            .iter()
            .any(|p| p.user == "app" && p.write == "^out$" && p.configure.is_empty()));
        assert!(perms
            .iter()
            .any(|p| p.user == "guest" && p.vhost == "/" && p.read == ".*"));
        assert!(!perms.iter().any(|p| p.user == "idle"));
    }

    #[test]
    fn a_bad_import_changes_nothing() {
        let users = Users::from_config(&Config::default()).unwrap();
        let mut bad = user_def("bad");
        bad.password_hash = "not base64!".into();
        assert!(import_users(&users, &[user_def("ok"), bad]).is_err());
        assert!(!users.contains("ok"));
        let mut md5 = user_def("md5");
        md5.hashing_algorithm = Some("rabbit_password_hashing_md5".into());
        assert!(import_users(&users, &[md5]).is_err());
        assert!(import_permissions(&users, &[perm("nobody", "/", "", "", "")], &[]).is_err());
        let e = import_permissions(&users, &[perm("guest", "/", "(", "", "")], &[]).unwrap_err();
        assert!(e.contains("user 'guest', vhost '/'"), "{e}");
        // guest kept its full access.
        let guest = users.authenticate("guest", "guest", LOCAL).unwrap();
        assert!(check(&guest, "/", Access::Configure, "x").is_ok());
    }
}
