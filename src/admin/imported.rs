//! What a definitions import or the users/vhosts API changed that the config file does not
//! hold: users with their permissions, vhosts, and users deleted (the built-in `guest`
//! among them). RabbitMQ keeps such changes across restarts, so mqbridge writes them next
//! to its durable store (`<storage.dir>/imported-definitions.json`) and restores them at
//! start.
//!
//! The config file stays the authority for what it names: at start a user the file defines
//! keeps the file's definition, even if an import or the API changed or deleted it since.
//! Without a storage directory (in-memory mode) nothing survives a restart.

use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

use super::access::{self, PermissionDefinition, UserDefinition};
use crate::auth::Users;
use crate::broker::Broker;
use crate::config::Config;

const FILE_NAME: &str = "imported-definitions.json";

/// The file's content: the imported users as they are now, the imported vhosts, and the
/// users deleted since.
#[derive(Debug, Default, Deserialize, Serialize)]
struct ImportedFile {
    #[serde(default)]
    vhosts: Vec<String>,
    #[serde(default)]
    users: Vec<UserDefinition>,
    #[serde(default)]
    permissions: Vec<PermissionDefinition>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    deleted_users: Vec<String>,
}

/// The names changed so far.
#[derive(Debug, Default)]
struct Names {
    users: BTreeSet<String>,
    vhosts: BTreeSet<String>,
    deleted_users: BTreeSet<String>,
}

/// The names imported or changed so far, and where to keep them.
#[derive(Debug, Default)]
pub struct Imported {
    path: Option<PathBuf>,
    names: Mutex<Names>,
}

impl Imported {
    /// Restore what earlier imports added (a missing file is a first start). A file that
    /// cannot be read or parsed stops the start: silently dropping users would lock
    /// applications out.
    pub fn restore(
        dir: Option<&Path>,
        broker: &Broker,
        users: &Users,
        config: &Config,
    ) -> Result<Imported, String> {
        let Some(dir) = dir else {
            return Ok(Imported::default());
        };
        let path = dir.join(FILE_NAME);
        let file: ImportedFile = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                format!("{}: not an imported-definitions file: {e}", path.display())
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => ImportedFile::default(),
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        for v in &file.vhosts {
            broker.ensure_vhost(v);
        }
        let named_by_config = |user: &str| config.users.iter().any(|c| c.name == user);
        for gone in file.deleted_users.iter().filter(|u| !named_by_config(u)) {
            users.delete(gone);
        }
        let from_file: Vec<UserDefinition> = file
            .users
            .iter()
            .filter(|u| !named_by_config(&u.name))
            .cloned()
            .collect();
        access::import_users(users, &from_file).map_err(|e| format!("{}: {e}", path.display()))?;
        let vhosts: Vec<String> = broker.vhosts().iter().map(|v| v.name.clone()).collect();
        let permissions: Vec<PermissionDefinition> = file
            .permissions
            .iter()
            .filter(|p| from_file.iter().any(|u| u.name == p.user))
            .cloned()
            .collect();
        access::import_permissions(users, &permissions, &vhosts)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        if !from_file.is_empty() || !file.vhosts.is_empty() || !file.deleted_users.is_empty() {
            tracing::info!(
                users = from_file.len(),
                vhosts = file.vhosts.len(),
                deleted_users = file.deleted_users.len(),
                file = %path.display(),
                "Restored imported definitions."
            );
        }
        Ok(Imported {
            path: Some(path),
            names: Mutex::new(Names {
                users: from_file.into_iter().map(|u| u.name).collect(),
                vhosts: file.vhosts.into_iter().collect(),
                deleted_users: file.deleted_users.into_iter().collect(),
            }),
        })
    }

    /// Record an import (or an API change) of `imported_users` and `imported_vhosts` and
    /// write the file (atomically: a crash leaves the old or the new file, never half of
    /// one). `users` and `vhost_names` are the tables as they are now.
    pub fn record(
        &self,
        users: &Users,
        vhost_names: &[String],
        imported_users: impl IntoIterator<Item = String>,
        imported_vhosts: impl IntoIterator<Item = String>,
    ) -> Result<(), String> {
        self.change(users, vhost_names, |names| {
            for user in imported_users {
                names.deleted_users.remove(&user);
                names.users.insert(user);
            }
            names.vhosts.extend(imported_vhosts);
        })
    }

    /// Record that `user` was deleted: it stays deleted at the next start unless the config
    /// file names it.
    pub fn forget_user(
        &self,
        users: &Users,
        vhost_names: &[String],
        user: &str,
    ) -> Result<(), String> {
        self.change(users, vhost_names, |names| {
            names.users.remove(user);
            names.deleted_users.insert(user.to_string());
        })
    }

    /// Record that `vhost` was deleted (a vhost the config file lists comes back, empty).
    pub fn forget_vhost(
        &self,
        users: &Users,
        vhost_names: &[String],
        vhost: &str,
    ) -> Result<(), String> {
        self.change(users, vhost_names, |names| {
            names.vhosts.remove(vhost);
        })
    }

    fn change(
        &self,
        users: &Users,
        vhost_names: &[String],
        edit: impl FnOnce(&mut Names),
    ) -> Result<(), String> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let mut names = self.names.lock();
        edit(&mut names);
        // Users removed since (a config reload) are not brought back.
        let file = ImportedFile {
            vhosts: names.vhosts.iter().cloned().collect(),
            users: access::export_users(users)
                .into_iter()
                .filter(|u| names.users.contains(&u.name))
                .collect(),
            permissions: access::export_permissions(users, vhost_names)
                .into_iter()
                .filter(|p| names.users.contains(&p.user))
                .collect(),
            deleted_users: names.deleted_users.iter().cloned().collect(),
        };
        write_atomically(path, &file).map_err(|e| format!("{}: {e}", path.display()))
    }
}

fn write_atomically(path: &Path, file: &ImportedFile) -> std::io::Result<()> {
    let text = serde_json::to_vec_pretty(file).map_err(std::io::Error::other)?;
    let tmp = path.with_extension("json.tmp");
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&text)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}
