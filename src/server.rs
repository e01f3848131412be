//! Starting and stopping the whole bridge: store, broker, topology and listeners.
//!
//! [`start`] opens the store, recovers the broker, declares the config's topology, binds
//! every configured listener (port 0 picks a free port) and logs one line per listener
//! with `listener=NAME address=IP:PORT` (scripts wait for that line). [`RunningBridge::shutdown`]
//! stops accepting, closes every AMQP connection with `connection.close` 320
//! CONNECTION_FORCED, every STOMP connection with an ERROR frame "broker shutdown" and
//! every OpenWire connection with a ShutdownInfo,
//! waits briefly for the clients' `close-ok`, and flushes the store.
//! [`run_until_signal`] is `start` + SIGINT/SIGTERM + `shutdown`, for `mqbridge run`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::admin::{self, AdminContext, ListenerInfo};
use crate::amqp::{self, ListenerContext, Tuning};
use crate::auth::Users;
use crate::broker::alarm::{spawn_monitor, ResourceLimits};
use crate::broker::store::{open_store, SyncPolicy};
use crate::broker::Broker;
use crate::config::{Config, SyncSetting};
use crate::openwire;
use crate::reload::{spawn_watcher, Reloader};
use crate::routes::Routes;
use crate::stomp;

/// How long shutdown waits for connections to finish their close handshake.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// Housekeeping period (TTL expiry, `x-expires`).
const HOUSEKEEPING_PERIOD: Duration = Duration::from_millis(250);
/// Resource-alarm check period.
const ALARM_PERIOD: Duration = Duration::from_secs(1);

/// A started bridge.
#[derive(Debug)]
pub struct RunningBridge {
    /// Where the AMQP listener is bound, if it is configured.
    pub amqp_addr: Option<SocketAddr>,
    /// Where the STOMP listener is bound, if it is configured.
    pub stomp_addr: Option<SocketAddr>,
    /// Where the OpenWire listener is bound, if it is configured.
    pub openwire_addr: Option<SocketAddr>,
    /// Where the HTTP listener (API, metrics, health, UI) is bound, if it is configured.
    pub http_addr: Option<SocketAddr>,
    pub broker: Arc<Broker>,
    /// The running routes.
    pub routes: Arc<Routes>,
    /// Applies a new config (hot reload).
    pub reloader: Arc<Reloader>,
    shutdown: CancellationToken,
    listeners: Vec<JoinHandle<()>>,
}

/// Open the store, recover the broker and bind the listeners.
pub async fn start(config: Config) -> Result<RunningBridge, String> {
    let sync = match config.storage.sync {
        SyncSetting::EveryBatch => SyncPolicy::EveryBatch,
        SyncSetting::Interval(d) => SyncPolicy::Interval(d),
    };
    let dir = config.storage.dir.as_deref();
    let store = open_store(dir, sync).map_err(|e| format!("cannot open the store: {e}"))?;
    // Before anything records a latency.
    admin::install_recorder();
    let broker =
        Broker::open(store, &config.vhosts).map_err(|e| format!("cannot start the broker: {e}"))?;
    crate::topology::declare(&broker, &config.topology).map_err(|e| format!("topology: {e}"))?;
    broker.spawn_housekeeping(HOUSEKEEPING_PERIOD);
    spawn_monitor(
        &broker,
        ResourceLimits {
            memory_high_watermark: config.limits.memory_high_watermark,
            disk_free_limit: config.limits.disk_free_limit,
            data_dir: config.storage.dir.clone(),
        },
        ALARM_PERIOD,
    );
    let users = Arc::new(Users::from_config(&config).map_err(|e| format!("invalid users: {e}"))?);
    broker
        .connections()
        .set_max_connections(config.limits.max_connections.unwrap_or(0));

    let shutdown = CancellationToken::new();
    let mut listeners = Vec::new();
    let mut amqp_addr = None;
    if let Some(listener_config) = &config.listeners.amqp {
        let (listener, addr) = amqp::bind(listener_config).await.map_err(|e| {
            format!(
                "cannot bind the AMQP listener to {}: {e}",
                listener_config.bind
            )
        })?;
        tracing::info!(listener = %"amqp", address = %addr, "Listening.");
        let ctx = Arc::new(ListenerContext {
            broker: broker.clone(),
            auth: users.clone(),
            tuning: Tuning::from_config(listener_config),
            shutdown: shutdown.clone(),
        });
        listeners.push(tokio::spawn(amqp::accept_loop(listener, ctx)));
        amqp_addr = Some(addr);
    }
    let mut stomp_addr = None;
    if let Some(listener_config) = &config.listeners.stomp {
        let (listener, addr) = stomp::bind(listener_config).await.map_err(|e| {
            format!(
                "cannot bind the STOMP listener to {}: {e}",
                listener_config.bind
            )
        })?;
        tracing::info!(listener = %"stomp", address = %addr, "Listening.");
        let ctx = Arc::new(stomp::ListenerContext {
            session: Arc::new(stomp::SessionContext {
                broker: broker.clone(),
                users: users.clone(),
            }),
            limits: stomp::Limits::default(),
            shutdown: shutdown.clone(),
        });
        listeners.push(tokio::spawn(stomp::accept_loop(listener, ctx)));
        stomp_addr = Some(addr);
    }
    let mut openwire_addr = None;
    if let Some(listener_config) = &config.listeners.openwire {
        let (listener, addr) = openwire::listener::bind(listener_config)
            .await
            .map_err(|e| {
                format!(
                    "cannot bind the OpenWire listener to {}: {e}",
                    listener_config.bind
                )
            })?;
        tracing::info!(listener = %"openwire", address = %addr, "Listening.");
        let ctx = Arc::new(openwire::listener::ListenerContext {
            session: Arc::new(openwire::session::SessionContext::new(
                broker.clone(),
                users.clone(),
            )),
            shutdown: shutdown.clone(),
            url: format!("tcp://{addr}"),
        });
        listeners.push(tokio::spawn(openwire::listener::accept_loop(listener, ctx)));
        openwire_addr = Some(addr);
    }
    let routes = Arc::new(Routes::new(broker.clone()));
    let mut http_addr = None;
    if let Some(listener_config) = &config.listeners.http {
        let (listener, addr) = admin::bind(listener_config).await.map_err(|e| {
            format!(
                "cannot bind the HTTP listener to {}: {e}",
                listener_config.bind
            )
        })?;
        tracing::info!(listener = %"http", address = %addr, "Listening.");
        let bound = [
            ("amqp", amqp_addr),
            ("stomp", stomp_addr),
            ("openwire", openwire_addr),
            ("http", Some(addr)),
        ];
        let ctx = AdminContext::new(
            broker.clone(),
            routes.clone(),
            users.clone(),
            bound
                .iter()
                .filter_map(|(protocol, addr)| {
                    addr.map(|address| ListenerInfo { protocol, address })
                })
                .collect(),
            config.storage.dir.clone(),
        );
        listeners.push(tokio::spawn(admin::serve(
            listener,
            admin::router(ctx),
            shutdown.clone(),
        )));
        http_addr = Some(addr);
    }
    let summary = routes.apply(&config).await;
    if !summary.started.is_empty() {
        tracing::info!(routes = ?summary.started, "routes started");
    }
    let reloader = Arc::new(Reloader::new(broker.clone(), routes.clone(), config));
    Ok(RunningBridge {
        amqp_addr,
        stomp_addr,
        openwire_addr,
        http_addr,
        broker,
        routes,
        reloader,
        shutdown,
        listeners,
    })
}

impl RunningBridge {
    /// Stop accepting, close every connection (AMQP `connection.close` 320, STOMP ERROR
    /// "broker shutdown"), flush the store.
    pub async fn shutdown(self) {
        tracing::info!("Shutting down.");
        // Routes first: they settle their in-flight messages while the core still runs.
        self.routes.stop_all().await;
        self.shutdown.cancel();
        for listener in self.listeners {
            let abort = listener.abort_handle();
            if tokio::time::timeout(SHUTDOWN_GRACE, listener)
                .await
                .is_err()
            {
                tracing::warn!("Connections did not close in time; dropping them.");
                abort.abort();
            }
        }
        let broker = self.broker.clone();
        match tokio::task::spawn_blocking(move || broker.flush()).await {
            Ok(Ok(())) => tracing::info!("Store flushed; bye."),
            Ok(Err(e)) => tracing::error!(error = %e, "Store flush failed at shutdown."),
            Err(e) => tracing::error!(error = %e, "Store flush task failed at shutdown."),
        }
    }
}

/// Run the bridge until SIGINT/SIGTERM, then shut down cleanly. With the config file's
/// path, SIGHUP and changes to the file reload it (see [`crate::reload`]).
pub async fn run_until_signal(config: Config, path: Option<PathBuf>) -> Result<(), String> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut sigterm =
        signal(SignalKind::terminate()).map_err(|e| format!("cannot watch SIGTERM: {e}"))?;
    let mut sigint =
        signal(SignalKind::interrupt()).map_err(|e| format!("cannot watch SIGINT: {e}"))?;
    let bridge = start(config).await?;
    if let Some(path) = path {
        spawn_watcher(bridge.reloader.clone(), path, bridge.shutdown.clone())?;
    }
    tokio::select! {
        _ = sigterm.recv() => tracing::info!(signal = "SIGTERM", "Signal received."),
        _ = sigint.recv() => tracing::info!(signal = "SIGINT", "Signal received."),
    }
    bridge.shutdown().await;
    Ok(())
}
