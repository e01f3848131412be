//! Hot reload of the config file, on SIGHUP and when the file changes.
//!
//! The new file is loaded and validated first; a file with errors is refused (logged with
//! its file:line:column) and the running config stays. A valid file is applied: its
//! topology is declared (new exchanges, queues and bindings appear), and routes are
//! brought in line — only the routes whose definition or connections changed restart.
//! Users are brought in line too (added, changed, removed; open connections see new
//! permissions at their next operation). Listeners, storage, limits, vhosts and TLS are
//! read at start only; a change to them is logged as needing a restart.
//!
//! The file is watched through its parent directory, which catches in-place writes as
//! well as the rename an editor does, and, when the path is a symlink, through the
//! directory of the file it points at too (re-resolved after every change). A Kubernetes
//! ConfigMap update renames a hidden directory (`..data`) and never touches the file's own
//! name, so any change in a watched directory re-reads the file, and only a file whose text
//! changed is applied. Access events are ignored, or reading the file would trigger
//! another reload.
//!
//! An empty file is refused: a file being written in place is empty for a moment after it
//! is truncated, and applying that would stop every route until the text lands.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use notify::{EventKind, RecursiveMode, Watcher};
use parking_lot::Mutex;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::auth::{Users, UsersError};
use crate::broker::Broker;
use crate::config::{self, Config, ConfigError};
use crate::routes::{ApplySummary, Routes};

/// Changes arriving within this window after the first one are one reload.
const DEBOUNCE: Duration = Duration::from_millis(300);

/// Applies new configs to a running bridge.
#[derive(Debug)]
pub struct Reloader {
    broker: Arc<Broker>,
    routes: Arc<Routes>,
    users: Arc<Users>,
    current: Mutex<Config>,
    /// The text of the file last read by [`Reloader::reload_file_if_changed`].
    last_text: Mutex<Option<String>>,
}

/// Why a reload did not happen.
#[derive(Debug)]
pub enum ReloadError {
    /// The new file has errors; the running config stays.
    Invalid(ConfigError),
    /// The file was valid but its topology could not be declared.
    Topology(String),
    /// The file is empty (most likely being written): nothing was applied.
    Empty(PathBuf),
    /// The file cannot be read.
    Unreadable(PathBuf, String),
    /// A user of the new file cannot be built; every user stays as it was.
    Users(UsersError),
}

impl std::fmt::Display for ReloadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReloadError::Invalid(e) => write!(f, "{e}"),
            ReloadError::Topology(e) => write!(f, "topology: {e}"),
            ReloadError::Users(e) => write!(f, "users: {e}"),
            ReloadError::Empty(path) => write!(
                f,
                "{}: the file is empty; an empty config would stop every route",
                path.display()
            ),
            ReloadError::Unreadable(path, e) => {
                write!(f, "{}: cannot read the file: {e}", path.display())
            }
        }
    }
}

impl Reloader {
    pub fn new(
        broker: Arc<Broker>,
        routes: Arc<Routes>,
        users: Arc<Users>,
        config: Config,
    ) -> Reloader {
        Reloader {
            broker,
            routes,
            users,
            current: Mutex::new(config),
            last_text: Mutex::new(None),
        }
    }

    /// Load `path` and apply it, or refuse it.
    pub async fn reload_file(&self, path: &Path) -> Result<ApplySummary, ReloadError> {
        let text = read(path)?;
        *self.last_text.lock() = Some(text.clone());
        self.apply_text(path, &text).await
    }

    /// Like [`Reloader::reload_file`], but `None` when the text is the one read last time
    /// (a change elsewhere in the directory, or a write that changed nothing).
    pub async fn reload_file_if_changed(
        &self,
        path: &Path,
    ) -> Option<Result<ApplySummary, ReloadError>> {
        let text = match read(path) {
            Ok(text) => text,
            Err(e) => return Some(Err(e)),
        };
        {
            let mut last = self.last_text.lock();
            if last.as_deref() == Some(text.as_str()) {
                return None;
            }
            *last = Some(text.clone());
        }
        Some(self.apply_text(path, &text).await)
    }

    async fn apply_text(&self, path: &Path, text: &str) -> Result<ApplySummary, ReloadError> {
        if text.trim().is_empty() {
            return Err(ReloadError::Empty(path.to_path_buf()));
        }
        let config =
            config::parse(text, &path.display().to_string()).map_err(ReloadError::Invalid)?;
        self.apply(config).await
    }

    /// Apply a validated config.
    pub async fn apply(&self, config: Config) -> Result<ApplySummary, ReloadError> {
        {
            let current = self.current.lock();
            let restart_only = [
                ("listeners", current.listeners != config.listeners),
                ("storage", current.storage != config.storage),
                ("limits", current.limits != config.limits),
                ("vhosts", current.vhosts != config.vhosts),
                ("tls", current.tls != config.tls),
            ];
            for (section, changed) in restart_only {
                if changed {
                    tracing::warn!(
                        section,
                        "config section changed; it takes effect at the next restart"
                    );
                }
            }
        }
        crate::topology::declare(&self.broker, &config.topology).map_err(ReloadError::Topology)?;
        {
            let current = self.current.lock().clone();
            if current.users != config.users {
                self.users
                    .apply_config(&current, &config)
                    .map_err(ReloadError::Users)?;
                tracing::info!(users = config.users.len(), "users reloaded");
            }
        }
        let summary = self.routes.apply(&config).await;
        *self.current.lock() = config;
        Ok(summary)
    }
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// When `path` resolves (through symlinks) into another directory, watch that one too.
fn watch_link_target(
    watcher: &mut notify::RecommendedWatcher,
    path: &Path,
    watched: &mut Vec<PathBuf>,
) {
    let Ok(real) = std::fs::canonicalize(path) else {
        return;
    };
    let dir = parent_dir(&real);
    let known = watched
        .iter()
        .any(|w| std::fs::canonicalize(w).is_ok_and(|w| w == dir));
    if known {
        return;
    }
    match watcher.watch(&dir, RecursiveMode::NonRecursive) {
        Ok(()) => watched.push(dir),
        Err(e) => {
            tracing::warn!(dir = %dir.display(), error = %e, "cannot watch the config's target directory")
        }
    }
}

fn read(path: &Path) -> Result<String, ReloadError> {
    std::fs::read_to_string(path)
        .map_err(|e| ReloadError::Unreadable(path.to_path_buf(), e.to_string()))
}

/// Reload on SIGHUP and on changes to `path` until `cancel`.
pub fn spawn_watcher(
    reloader: Arc<Reloader>,
    path: PathBuf,
    cancel: CancellationToken,
) -> Result<(), String> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut sighup =
        signal(SignalKind::hangup()).map_err(|e| format!("cannot watch SIGHUP: {e}"))?;
    let (changes_tx, mut changes) = mpsc::unbounded_channel();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else { return };
        if matches!(event.kind, EventKind::Access(_)) {
            return;
        }
        // Any change in the directory: the file may be a symlink into a directory that
        // was just swapped. The reload compares the text, so other files cost one read.
        let _ = changes_tx.send(());
    })
    .map_err(|e| format!("cannot watch the config file: {e}"))?;
    let dir = parent_dir(&path);
    watcher
        .watch(&dir, RecursiveMode::NonRecursive)
        .map_err(|e| format!("cannot watch {}: {e}", dir.display()))?;
    let mut watched = vec![dir];
    watch_link_target(&mut watcher, &path, &mut watched);
    // What is running came from this text: a directory event that leaves it unchanged
    // reloads nothing.
    if let Ok(text) = std::fs::read_to_string(&path) {
        *reloader.last_text.lock() = Some(text);
    }
    tokio::spawn(async move {
        // The watcher stops when dropped: it lives as long as this task.
        let mut _watcher = watcher;
        loop {
            let outcome = tokio::select! {
                _ = cancel.cancelled() => return,
                _ = sighup.recv() => {
                    tracing::info!(trigger = "SIGHUP", config = %path.display(), "reloading the config");
                    reloader.reload_file(&path).await
                }
                Some(()) = changes.recv() => {
                    tokio::time::sleep(DEBOUNCE).await;
                    while changes.try_recv().is_ok() {}
                    watch_link_target(&mut _watcher, &path, &mut watched);
                    match reloader.reload_file_if_changed(&path).await {
                        Some(outcome) => {
                            tracing::info!(trigger = "file change", config = %path.display(), "reloading the config");
                            outcome
                        }
                        None => continue,
                    }
                }
            };
            match outcome {
                Ok(s) => tracing::info!(
                    started = ?s.started,
                    restarted = ?s.restarted,
                    stopped = ?s.stopped,
                    unchanged = ?s.unchanged,
                    "config reloaded"
                ),
                Err(e) => tracing::error!("config reload refused; the running config stays:\n{e}"),
            }
        }
    });
    Ok(())
}
