//! Starting and stopping the whole bridge: store, broker, topology and listeners.
//!
//! [`start`] opens the store, recovers the broker, declares the config's topology, binds
//! every configured listener (port 0 picks a free port) and logs one line per listener
//! with `listener=NAME address=IP:PORT` (scripts wait for that line; the TLS listeners
//! are named `amqps`, `stomp-tls` and `openwire-tls`). [`RunningBridge::shutdown`]
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
    /// Where the AMQPS (AMQP over TLS) listener is bound, if `listeners.amqp.tls_bind` is set.
    pub amqps_addr: Option<SocketAddr>,
    /// Where the STOMP-over-TLS listener is bound, if `listeners.stomp.tls_bind` is set.
    pub stomp_tls_addr: Option<SocketAddr>,
    /// Where the OpenWire SSL listener is bound, if `listeners.openwire.tls_bind` is set.
    pub openwire_tls_addr: Option<SocketAddr>,
    /// Where the HTTPS listener is bound, if `listeners.http.tls_bind` is set.
    pub https_addr: Option<SocketAddr>,
    pub broker: Arc<Broker>,
    /// The user table every listener authenticates against; changes (the management API's
    /// definitions import) apply to open connections at their next operation.
    pub users: Arc<Users>,
    /// The running routes.
    pub routes: Arc<Routes>,
    /// Applies a new config (hot reload).
    pub reloader: Arc<Reloader>,
    shutdown: CancellationToken,
    listeners: Vec<JoinHandle<()>>,
}

/// Bind one listener and log `listener=NAME address=IP:PORT` (scripts wait for that line).
async fn bind_listener(
    name: &'static str,
    bind: &str,
    bound: impl std::future::Future<Output = std::io::Result<(tokio::net::TcpListener, SocketAddr)>>,
) -> Result<(tokio::net::TcpListener, SocketAddr), String> {
    let (listener, addr) = bound
        .await
        .map_err(|e| format!("cannot bind the {} listener to {bind}: {e}", label(name)))?;
    tracing::info!(listener = %name, address = %addr, "Listening.");
    Ok((listener, addr))
}

/// How errors name a listener (`cannot bind the AMQP listener to ...`).
fn label(name: &str) -> &'static str {
    match name {
        "amqp" => "AMQP",
        "amqps" => "AMQPS",
        "stomp" => "STOMP",
        "stomp-tls" => "STOMP TLS",
        "openwire" => "OpenWire",
        "openwire-tls" => "OpenWire SSL",
        "http" => "HTTP",
        "https" => "HTTPS",
        _ => "a",
    }
}

/// The STOMP codec's limits: `limits.max_frame_size` when set, else the codec's defaults.
fn stomp_limits(config: &Config) -> stomp::Limits {
    let mut limits = stomp::Limits::default();
    if let Some(n) = config.limits.max_frame_size {
        limits.max_frame_bytes = usize::try_from(n).unwrap_or(usize::MAX);
    }
    limits
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
    let imported = admin::imported::Imported::restore(
        config.storage.dir.as_deref(),
        &broker,
        &users,
        &config,
    )?;
    broker
        .connections()
        .set_max_connections(config.limits.max_connections.unwrap_or(0));

    let shutdown = CancellationToken::new();
    let mut listeners = Vec::new();
    // One acceptor for every TLS listener; its files were checked at load but are read
    // again here, so a file that went away since fails the start with its path.
    let tls = match &config.tls {
        Some(t) => Some(crate::tls::tls_acceptor(t).map_err(|e| format!("tls: {e}"))?),
        None => None,
    };
    let tls_for = |name: &str| {
        tls.clone()
            .ok_or_else(|| format!("listeners.{name}.tls_bind needs the top-level tls section"))
    };
    let mut amqp_addr = None;
    let mut amqps_addr = None;
    if let Some(listener_config) = &config.listeners.amqp {
        let ctx = Arc::new(ListenerContext {
            broker: broker.clone(),
            auth: users.clone(),
            tuning: Tuning::from_config(listener_config),
            max_message_size: config.limits.max_message_size(),
            shutdown: shutdown.clone(),
        });
        if let Some(bind) = &listener_config.bind {
            let (listener, addr) = bind_listener("amqp", bind, amqp::bind(bind)).await?;
            listeners.push(tokio::spawn(amqp::accept_loop(listener, None, ctx.clone())));
            amqp_addr = Some(addr);
        }
        if let Some(bind) = &listener_config.tls_bind {
            let acceptor = tls_for("amqp")?;
            let (listener, addr) = bind_listener("amqps", bind, amqp::bind(bind)).await?;
            listeners.push(tokio::spawn(amqp::accept_loop(
                listener,
                Some(acceptor),
                ctx,
            )));
            amqps_addr = Some(addr);
        }
    }
    let mut stomp_addr = None;
    let mut stomp_tls_addr = None;
    if let Some(listener_config) = &config.listeners.stomp {
        let ctx = Arc::new(stomp::ListenerContext {
            session: Arc::new(stomp::SessionContext {
                broker: broker.clone(),
                users: users.clone(),
                max_message_size: config.limits.max_message_size(),
            }),
            limits: stomp_limits(&config),
            shutdown: shutdown.clone(),
        });
        if let Some(bind) = &listener_config.bind {
            let (listener, addr) = bind_listener("stomp", bind, stomp::bind(bind)).await?;
            listeners.push(tokio::spawn(stomp::accept_loop(
                listener,
                None,
                ctx.clone(),
            )));
            stomp_addr = Some(addr);
        }
        if let Some(bind) = &listener_config.tls_bind {
            let acceptor = tls_for("stomp")?;
            let (listener, addr) = bind_listener("stomp-tls", bind, stomp::bind(bind)).await?;
            listeners.push(tokio::spawn(stomp::accept_loop(
                listener,
                Some(acceptor),
                ctx,
            )));
            stomp_tls_addr = Some(addr);
        }
    }
    let mut openwire_addr = None;
    let mut openwire_tls_addr = None;
    if let Some(listener_config) = &config.listeners.openwire {
        let mut session = openwire::session::SessionContext::new(broker.clone(), users.clone());
        session.max_message_size = config.limits.max_message_size();
        let session = Arc::new(session);
        let max_frame_size = config
            .limits
            .max_frame_size
            .and_then(|n| i64::try_from(n).ok())
            .unwrap_or(openwire::listener::MAX_FRAME_SIZE);
        if let Some(bind) = &listener_config.bind {
            let (listener, addr) =
                bind_listener("openwire", bind, openwire::listener::bind(bind)).await?;
            let ctx = Arc::new(openwire::listener::ListenerContext {
                session: session.clone(),
                max_frame_size,
                shutdown: shutdown.clone(),
                url: format!("tcp://{addr}"),
            });
            listeners.push(tokio::spawn(openwire::listener::accept_loop(
                listener, None, ctx,
            )));
            openwire_addr = Some(addr);
        }
        if let Some(bind) = &listener_config.tls_bind {
            let acceptor = tls_for("openwire")?;
            let (listener, addr) =
                bind_listener("openwire-tls", bind, openwire::listener::bind(bind)).await?;
            // The stock client names an SSL transport ssl://, and failover URLs built from
            // BrokerInfo must keep TLS.
            let ctx = Arc::new(openwire::listener::ListenerContext {
                session,
                max_frame_size,
                shutdown: shutdown.clone(),
                url: format!("ssl://{addr}"),
            });
            listeners.push(tokio::spawn(openwire::listener::accept_loop(
                listener,
                Some(acceptor),
                ctx,
            )));
            openwire_tls_addr = Some(addr);
        }
    }
    let routes = Arc::new(Routes::new(broker.clone()));
    let mut http_addr = None;
    let mut https_addr = None;
    if let Some(listener_config) = &config.listeners.http {
        let plain = match &listener_config.bind {
            Some(bind) => Some(bind_listener("http", bind, admin::bind(bind)).await?),
            None => None,
        };
        let secure = match &listener_config.tls_bind {
            Some(bind) => {
                let acceptor = tls_for("http")?;
                Some((
                    acceptor,
                    bind_listener("https", bind, admin::bind(bind)).await?,
                ))
            }
            None => None,
        };
        http_addr = plain.as_ref().map(|(_, addr)| *addr);
        https_addr = secure.as_ref().map(|(_, (_, addr))| *addr);
        // RabbitMQ's names for the TLS listeners in /api/overview.
        let bound = [
            ("amqp", amqp_addr),
            ("amqp/ssl", amqps_addr),
            ("stomp", stomp_addr),
            ("stomp/ssl", stomp_tls_addr),
            ("openwire", openwire_addr),
            ("openwire/ssl", openwire_tls_addr),
            ("http", http_addr),
            ("https", https_addr),
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
            imported,
        );
        let router = admin::router(ctx);
        if let Some((listener, _)) = plain {
            listeners.push(tokio::spawn(admin::serve(
                listener,
                router.clone(),
                shutdown.clone(),
            )));
        }
        if let Some((acceptor, (listener, _))) = secure {
            let shutdown = shutdown.clone();
            listeners.push(tokio::spawn(async move {
                if let Err(e) = crate::net::serve_https(listener, acceptor, router, shutdown).await
                {
                    tracing::error!(error = %e, "The HTTPS listener failed.");
                }
            }));
        }
    }
    let summary = routes.apply(&config).await;
    if !summary.started.is_empty() {
        tracing::info!(routes = ?summary.started, "routes started");
    }
    let reloader = Arc::new(Reloader::new(
        broker.clone(),
        routes.clone(),
        users.clone(),
        config,
    ));
    Ok(RunningBridge {
        amqp_addr,
        amqps_addr,
        stomp_addr,
        stomp_tls_addr,
        openwire_addr,
        openwire_tls_addr,
        http_addr,
        https_addr,
        broker,
        users,
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
