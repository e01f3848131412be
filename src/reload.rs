//! Hot reload of the config file, on SIGHUP and when the file changes.
//!
//! The new file is loaded and validated first; a file with errors is refused (logged with
//! its file:line:column) and the running config stays. A valid file is applied: its
//! topology is declared (new exchanges, queues and bindings appear), and routes are
//! brought in line — only the routes whose definition or connections changed restart.
//! Listeners, storage, limits, vhosts and users are read at start only; a change to them
//! is logged as needing a restart.
//!
//! The file is watched through its parent directory, which catches in-place writes as
//! well as the rename an editor or a Kubernetes ConfigMap update does; access events are
//! ignored, or reading the file would trigger another reload.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use notify::{EventKind, RecursiveMode, Watcher};
use parking_lot::Mutex;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

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
    current: Mutex<Config>,
}

/// Why a reload did not happen.
#[derive(Debug)]
pub enum ReloadError {
    /// The new file has errors; the running config stays.
    Invalid(ConfigError),
    /// The file was valid but its topology could not be declared.
    Topology(String),
}

impl std::fmt::Display for ReloadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReloadError::Invalid(e) => write!(f, "{e}"),
            ReloadError::Topology(e) => write!(f, "topology: {e}"),
        }
    }
}

impl Reloader {
    pub fn new(broker: Arc<Broker>, routes: Arc<Routes>, config: Config) -> Reloader {
        Reloader {
            broker,
            routes,
            current: Mutex::new(config),
        }
    }

    /// Load `path` and apply it, or refuse it.
    pub async fn reload_file(&self, path: &Path) -> Result<ApplySummary, ReloadError> {
        let config = config::load(path).map_err(ReloadError::Invalid)?;
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
                ("users", current.users != config.users),
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
        let summary = self.routes.apply(&config).await;
        *self.current.lock() = config;
        Ok(summary)
    }
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
    let file_name = path.file_name().map(|n| n.to_os_string());
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else { return };
        if matches!(event.kind, EventKind::Access(_)) {
            return;
        }
        let ours = event
            .paths
            .iter()
            .any(|p| p.file_name().map(|n| n.to_os_string()) == file_name);
        if ours {
            let _ = changes_tx.send(());
        }
    })
    .map_err(|e| format!("cannot watch the config file: {e}"))?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    watcher
        .watch(&dir, RecursiveMode::NonRecursive)
        .map_err(|e| format!("cannot watch {}: {e}", dir.display()))?;
    tokio::spawn(async move {
        // The watcher stops when dropped: it lives as long as this task.
        let _watcher = watcher;
        loop {
            let trigger = tokio::select! {
                _ = cancel.cancelled() => return,
                _ = sighup.recv() => "SIGHUP",
                Some(()) = changes.recv() => {
                    tokio::time::sleep(DEBOUNCE).await;
                    while changes.try_recv().is_ok() {}
                    "file change"
                }
            };
            tracing::info!(trigger, config = %path.display(), "reloading the config");
            match reloader.reload_file(&path).await {
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
