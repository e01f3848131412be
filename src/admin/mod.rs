//! The HTTP listener: management API, Prometheus metrics, health checks and the web UI.
//!
//! This module owns everything served on `listeners.http`: the JSON API under `/api/` in
//! RabbitMQ's management shape (so existing scripts and tools work), `/metrics` in
//! Prometheus' text format, `/healthz` and `/readyz` for orchestrators, and the web UI's
//! static assets (built into the binary). The API authenticates with HTTP Basic against the
//! same users as the protocol listeners; metrics and health checks are open, like
//! RabbitMQ's Prometheus endpoint, so bind the listener to loopback or a private network.

mod access;
mod api;
pub mod auth;
mod definitions;
pub mod imported;
mod json;
mod metrics;
pub mod rates;
pub mod ui;
mod users;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::auth::Users;
use crate::broker::Broker;
use crate::routes::Routes;

pub use self::metrics::install_recorder;

/// A protocol listener as the overview lists it.
#[derive(Debug, Clone)]
pub struct ListenerInfo {
    /// `amqp`, `stomp`, `openwire` or `http`; their TLS listeners `amqp/ssl`, `stomp/ssl`,
    /// `openwire/ssl` and `https` (RabbitMQ's names).
    pub protocol: &'static str,
    pub address: SocketAddr,
}

/// What the HTTP handlers read and change.
#[derive(Debug)]
pub struct AdminContext {
    pub broker: Arc<Broker>,
    pub routes: Arc<Routes>,
    pub users: Arc<Users>,
    pub listeners: Vec<ListenerInfo>,
    pub storage_dir: Option<PathBuf>,
    pub started_at: SystemTime,
    pub rates: Arc<rates::RateTracker>,
    pub logins: auth::LoginCache,
    /// Users and vhosts added by definitions imports, kept across restarts.
    pub imported: imported::Imported,
}

impl AdminContext {
    pub fn new(
        broker: Arc<Broker>,
        routes: Arc<Routes>,
        users: Arc<Users>,
        listeners: Vec<ListenerInfo>,
        storage_dir: Option<PathBuf>,
        imported: imported::Imported,
    ) -> Arc<AdminContext> {
        let rates = Arc::new(rates::RateTracker::default());
        rates.spawn(&broker);
        Arc::new(AdminContext {
            broker,
            routes,
            users,
            listeners,
            storage_dir,
            started_at: SystemTime::now(),
            rates,
            logins: auth::LoginCache::default(),
            imported,
        })
    }
}

/// An API error: a status and RabbitMQ's `{"error": ..., "reason": ...}` body.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub reason: String,
}

impl ApiError {
    pub fn new(status: StatusCode, reason: impl Into<String>) -> Self {
        ApiError {
            status,
            reason: reason.into(),
        }
    }
    pub fn bad_request(reason: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, reason)
    }
    pub fn unauthorized(reason: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, reason)
    }
    pub fn forbidden(reason: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, reason)
    }
    pub fn not_found(reason: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, reason)
    }
    pub fn internal(reason: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, reason)
    }
}

impl From<crate::error::Error> for ApiError {
    /// A broker refusal keeps its meaning: 404 for NOT_FOUND, 403 for ACCESS_REFUSED,
    /// 405/409-like conflicts (RESOURCE_LOCKED, PRECONDITION_FAILED) as 400 like RabbitMQ.
    fn from(e: crate::error::Error) -> Self {
        use crate::error::ReplyCode;
        let status = match e.code {
            ReplyCode::NotFound => StatusCode::NOT_FOUND,
            ReplyCode::AccessRefused => StatusCode::FORBIDDEN,
            ReplyCode::InternalError => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        };
        ApiError::new(status, e.reply_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let error = match self.status {
            StatusCode::UNAUTHORIZED => "not_authorised",
            StatusCode::FORBIDDEN => "access_refused",
            StatusCode::NOT_FOUND => "Object Not Found",
            StatusCode::INTERNAL_SERVER_ERROR => "internal_error",
            _ => "bad_request",
        };
        let body = serde_json::json!({ "error": error, "reason": self.reason });
        let mut response = (self.status, axum::Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"mqbridge\""),
            );
        }
        response
    }
}

/// Bind the HTTP listener (port 0 picks a free port).
pub async fn bind(addr: &str) -> std::io::Result<(TcpListener, SocketAddr)> {
    crate::net::bind(crate::config::parse_bind_addr(addr)).await
}

/// Every route of the HTTP listener.
pub fn router(ctx: Arc<AdminContext>) -> Router {
    Router::new()
        .merge(api::router())
        .merge(users::router())
        .merge(metrics::router())
        .merge(ui::router())
        .layer(axum::middleware::from_fn(no_store))
        .with_state(ctx)
}

/// API answers describe live state: never cache them. A script's 401 carries a Basic
/// challenge; the web UI's (it sends `X-Requested-With`) does not, or the browser would
/// pop up its own login dialog over the UI's.
async fn no_store(request: Request, next: Next) -> Response {
    let is_api = request.uri().path().starts_with("/api/");
    let from_ui = request.headers().contains_key("x-requested-with");
    let mut response = next.run(request).await;
    if is_api {
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if from_ui {
            headers.remove(header::WWW_AUTHENTICATE);
        }
    }
    response
}

/// Serve `router` on `listener` until `shutdown` is cancelled.
pub async fn serve(listener: TcpListener, router: Router, shutdown: CancellationToken) {
    let service = router.into_make_service_with_connect_info::<SocketAddr>();
    if let Err(e) = axum::serve(listener, service)
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await
    {
        tracing::error!(error = %e, "The HTTP listener failed.");
    }
}

/// The authenticated caller of a request (an extractor for handlers).
pub(crate) struct Authenticated(pub auth::Caller);

impl axum::extract::FromRequestParts<Arc<AdminContext>> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        ctx: &Arc<AdminContext>,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .ok_or_else(|| ApiError::internal("no peer address"))?;
        let caller = auth::authenticate(&ctx.users, &ctx.logins, &parts.headers, peer).await?;
        Ok(Authenticated(caller))
    }
}

/// Handlers' shared state type.
pub(crate) type Ctx = State<Arc<AdminContext>>;
