//! Routes: move messages between the embedded core and external brokers or mail, at least
//! once.
//!
//! | file | owns |
//! |---|---|
//! | `template.rs` | `{header.x}` templates in route configs: parsed at load, filled per message |
//! | `translate.rs` | header mapping and target addressing of one message (pure) |
//! | `endpoint.rs` | a route's [`endpoint::Source`] and [`endpoint::Sink`], one variant per kind of peer |
//! | `core.rs` | the embedded core as a source (a queue consumer) and a sink (publish with confirms) |
//! | `worker.rs` | one route's task: the in-flight window, acks after confirms, retries, dead letters, reconnects |
//! | `backoff.rs` | exponential backoff with jitter |
//! | `explain.rs` | `mqbridge route test`: one sample message through a route, hop by hop, no side effects |
//!
//! [`Routes`] owns the running routes. [`Routes::apply`] takes a new config and restarts
//! only the routes whose definition (or the connections they use) changed, so a reload
//! leaves the others moving messages.

pub mod backoff;
pub mod core;
pub mod endpoint;
pub mod explain;
pub mod template;
pub mod translate;
pub mod worker;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;

use crate::broker::Broker;
use crate::config::{Config, ConnectionConfig, RouteConfig};

use self::endpoint::Context;
use self::worker::{RouteStats, RouteTask};

pub use self::worker::RouteState;

/// How long a stopping route may take to settle its in-flight messages.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// A route's definition with the connections it uses: two equal specs behave the same, so
/// an unchanged spec keeps running across a reload.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RouteSpec {
    route: RouteConfig,
    source: Option<ConnectionConfig>,
    target: Option<ConnectionConfig>,
    dead_letter: Option<ConnectionConfig>,
}

impl RouteSpec {
    fn of(route: &RouteConfig, config: &Config) -> RouteSpec {
        let lookup =
            |name: &Option<String>| name.as_deref().and_then(|n| config.connection(n)).cloned();
        RouteSpec {
            route: route.clone(),
            source: lookup(&route.from.connection),
            target: lookup(&route.to.connection),
            dead_letter: route
                .dead_letter
                .as_ref()
                .and_then(|d| lookup(&d.connection)),
        }
    }
}

#[derive(Debug)]
struct RunningRoute {
    spec: RouteSpec,
    stats: Arc<RouteStats>,
    cancel: CancellationToken,
    task: JoinHandle<()>,
}

/// What [`Routes::apply`] did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ApplySummary {
    pub started: Vec<String>,
    pub restarted: Vec<String>,
    pub stopped: Vec<String>,
    pub unchanged: Vec<String>,
}

/// A snapshot of one route, for logs, the API and tests.
#[derive(Debug, Clone)]
pub struct RouteStatus {
    pub name: String,
    pub state: RouteState,
    pub moved: u64,
    pub retried: u64,
    pub dead_lettered: u64,
    pub filtered: u64,
    pub reconnects: u64,
    pub last_error: Option<String>,
}

/// The running routes.
#[derive(Debug)]
pub struct Routes {
    ctx: Arc<Context>,
    running: tokio::sync::Mutex<BTreeMap<String, RunningRoute>>,
}

impl Routes {
    pub fn new(broker: Arc<Broker>) -> Routes {
        Routes {
            ctx: Arc::new(Context { broker }),
            running: tokio::sync::Mutex::new(BTreeMap::new()),
        }
    }

    /// Bring the running routes in line with `config`: start new ones, restart changed
    /// ones, stop removed ones, leave the rest alone.
    pub async fn apply(&self, config: &Config) -> ApplySummary {
        let mut running = self.running.lock().await;
        let mut summary = ApplySummary::default();
        let wanted: BTreeMap<&str, RouteSpec> = config
            .routes
            .iter()
            .map(|r| (r.name.as_str(), RouteSpec::of(r, config)))
            .collect();
        let mut changed = Vec::new();
        let names: Vec<String> = running.keys().cloned().collect();
        for name in names {
            let Some(route) = running.remove(&name) else {
                continue;
            };
            match wanted.get(name.as_str()) {
                Some(spec) if *spec == route.spec => {
                    running.insert(name.clone(), route);
                    summary.unchanged.push(name);
                }
                Some(_) => {
                    stop(&name, route).await;
                    changed.push(name);
                }
                None => {
                    stop(&name, route).await;
                    summary.stopped.push(name);
                }
            }
        }
        for (name, spec) in wanted {
            if running.contains_key(name) {
                continue;
            }
            running.insert(name.to_string(), self.spawn(spec));
            if changed.iter().any(|c| c == name) {
                summary.restarted.push(name.to_string());
            } else {
                summary.started.push(name.to_string());
            }
        }
        summary
    }

    fn spawn(&self, spec: RouteSpec) -> RunningRoute {
        let stats = Arc::new(RouteStats::default());
        let cancel = CancellationToken::new();
        let task = RouteTask {
            route: spec.route.clone(),
            source_connection: spec.source.clone(),
            target_connection: spec.target.clone(),
            dead_letter_connection: spec.dead_letter.clone(),
            ctx: self.ctx.clone(),
            stats: stats.clone(),
            cancel: cancel.clone(),
        };
        tracing::info!(route = %spec.route.name, "route starting");
        let span = tracing::info_span!("route", route = %spec.route.name);
        RunningRoute {
            spec,
            stats,
            cancel,
            task: tokio::spawn(worker::run(task).instrument(span)),
        }
    }

    /// Stop every route (settling in-flight messages), for shutdown.
    pub async fn stop_all(&self) {
        let mut running = self.running.lock().await;
        let routes = std::mem::take(&mut *running);
        let stops = routes.into_iter().map(|(name, route)| async move {
            stop(&name, route).await;
        });
        futures::future::join_all(stops).await;
    }

    /// Every route's state and counters, by name.
    pub async fn status(&self) -> Vec<RouteStatus> {
        let running = self.running.lock().await;
        running
            .iter()
            .map(|(name, r)| {
                use std::sync::atomic::Ordering::Relaxed;
                RouteStatus {
                    name: name.clone(),
                    state: r.stats.state(),
                    moved: r.stats.moved.load(Relaxed),
                    retried: r.stats.retried.load(Relaxed),
                    dead_lettered: r.stats.dead_lettered.load(Relaxed),
                    filtered: r.stats.filtered.load(Relaxed),
                    reconnects: r.stats.reconnects.load(Relaxed),
                    last_error: r.stats.last_error().map(|(_, e)| e),
                }
            })
            .collect()
    }
}

async fn stop(name: &str, route: RunningRoute) {
    route.cancel.cancel();
    let abort = route.task.abort_handle();
    if tokio::time::timeout(STOP_GRACE, route.task).await.is_err() {
        tracing::warn!(route = %name, "route did not stop in time; aborted");
        abort.abort();
    }
}
