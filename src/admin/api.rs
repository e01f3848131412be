//! The `/api/` endpoints, in RabbitMQ's management API shape.
//!
//! Names in paths are percent-decoded by the router (the default vhost is `%2F`); the
//! default exchange is `amq.default` in paths, as in RabbitMQ. Lists are JSON arrays of
//! objects whose field names are RabbitMQ's, so scripts written for its API work; mqbridge
//! adds `protocol` values `stomp`, `openwire` and `jni` and the `/api/routes` list.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{json, Value};

use super::access::{self, Access};
use super::json::{json_to_properties, json_to_table, properties_to_json, table_to_json};
use super::rates::{RateKey, Rates};
use super::{definitions, AdminContext, ApiError, Authenticated, Ctx};
use crate::broker::connections::ConnectionEntry;
use crate::broker::exchange::Exchange;
use crate::broker::queue::Queue;
use crate::broker::session::{Delivery, DeliverySink, Session};
use crate::broker::stats::CounterSnapshot;
use crate::broker::store::DestinationKind;
use crate::broker::vhost::{ExchangeOptions, QueueOptions, VHost};
use crate::message::Message;

type ApiResult<T = Response> = Result<T, ApiError>;

/// The default exchange's name in API paths.
const DEFAULT_EXCHANGE: &str = "amq.default";
/// The most messages one `get` may return.
const MAX_GET: usize = 1000;
/// How long a publish through the API waits for the broker to confirm it.
const PUBLISH_CONFIRM_TIMEOUT: Duration = Duration::from_secs(10);

pub(super) fn router() -> Router<Arc<AdminContext>> {
    Router::new()
        .route("/api/overview", get(overview))
        .route("/api/whoami", get(whoami))
        .route("/api/vhosts", get(vhosts))
        .route(
            "/api/vhosts/{vhost}",
            get(vhost)
                .put(super::users::vhost_put)
                .delete(super::users::vhost_delete),
        )
        .route("/api/connections", get(connections))
        .route(
            "/api/connections/{name}",
            get(connection).delete(connection_close),
        )
        .route("/api/vhosts/{vhost}/connections", get(connections_in))
        .route("/api/channels", get(channels))
        .route("/api/consumers", get(consumers))
        .route("/api/consumers/{vhost}", get(consumers_in))
        .route("/api/exchanges", get(exchanges))
        .route("/api/exchanges/{vhost}", get(exchanges_in))
        .route(
            "/api/exchanges/{vhost}/{name}",
            get(exchange).put(exchange_declare).delete(exchange_delete),
        )
        .route("/api/exchanges/{vhost}/{name}/publish", post(publish))
        .route("/api/queues", get(queues))
        .route("/api/queues/{vhost}", get(queues_in))
        .route(
            "/api/queues/{vhost}/{name}",
            get(queue).put(queue_declare).delete(queue_delete),
        )
        .route(
            "/api/queues/{vhost}/{name}/contents",
            axum::routing::delete(queue_purge),
        )
        .route("/api/queues/{vhost}/{name}/get", post(queue_get))
        .route("/api/queues/{vhost}/{name}/bindings", get(queue_bindings))
        .route("/api/bindings", get(bindings))
        .route("/api/bindings/{vhost}", get(bindings_in))
        .route(
            "/api/bindings/{vhost}/e/{source}/{kind}/{destination}",
            get(bindings_between).post(binding_create),
        )
        .route(
            "/api/bindings/{vhost}/e/{source}/{kind}/{destination}/{props}",
            get(binding_one).delete(binding_delete),
        )
        .route("/api/routes", get(routes))
        .route(
            "/api/definitions",
            get(definitions::export).post(definitions::import),
        )
        .route(
            "/api/definitions/{vhost}",
            get(definitions::export_vhost).post(definitions::import_vhost),
        )
        .route("/api/{*rest}", axum::routing::any(unknown))
        .route("/api", axum::routing::any(unknown))
}

async fn unknown() -> ApiError {
    ApiError::not_found("Not Found")
}

// ----- access -----

/// The vhost, if it exists and the caller may see it (any permission on it, or the
/// administrator tag).
pub(super) fn vhost_for(
    ctx: &AdminContext,
    caller: &super::auth::Caller,
    name: &str,
) -> ApiResult<Arc<VHost>> {
    let vhost = ctx
        .broker
        .vhost(name)
        .ok_or_else(|| ApiError::not_found(format!("vhost '{name}' not found")))?;
    if caller.is_administrator() || access::allows_vhost(&caller.user, name) {
        Ok(vhost)
    } else {
        Err(ApiError::forbidden(format!(
            "access to vhost '{name}' refused for user '{}'",
            caller.user.name
        )))
    }
}

/// Every vhost the caller may see.
fn visible_vhosts(ctx: &AdminContext, caller: &super::auth::Caller) -> Vec<Arc<VHost>> {
    let mut all: Vec<_> = ctx
        .broker
        .vhosts()
        .into_iter()
        .filter(|v| caller.is_administrator() || access::allows_vhost(&caller.user, &v.name))
        .collect();
    all.sort_by(|a, b| a.name.cmp(&b.name));
    all
}

/// Refuse unless the caller holds `access` on `resource` in `vhost` (the same rule every
/// protocol applies).
pub(super) fn check(
    caller: &super::auth::Caller,
    vhost: &str,
    access: Access,
    resource: &str,
) -> ApiResult<()> {
    access::check(&caller.user, vhost, access, resource).map_err(ApiError::forbidden)
}

/// The connection id the API acts as on `q`: its owner for an exclusive queue (an operator
/// may manage it), else a fresh id of its own.
fn acting_owner(ctx: &AdminContext, q: &Queue) -> crate::broker::ConnectionId {
    q.exclusive_owner
        .unwrap_or_else(|| ctx.broker.next_connection_id())
}

/// A vhost's queues by name (API lists, definitions and metrics are stable to read).
pub(super) fn sorted_queues(v: &VHost) -> Vec<Arc<Queue>> {
    let mut queues = v.queues();
    queues.sort_by(|a, b| a.name.cmp(&b.name));
    queues
}

/// A vhost's exchanges by name.
pub(super) fn sorted_exchanges(v: &VHost) -> Vec<Arc<Exchange>> {
    let mut exchanges = v.exchanges();
    exchanges.sort_by(|a, b| a.name.cmp(&b.name));
    exchanges
}

fn exchange_name_from_path(name: &str) -> &str {
    if name == DEFAULT_EXCHANGE {
        ""
    } else {
        name
    }
}

fn exchange_name_for_permissions(name: &str) -> &str {
    if name.is_empty() {
        DEFAULT_EXCHANGE
    } else {
        name
    }
}

// ----- JSON views -----

fn stats_json(total: CounterSnapshot, rates: Rates) -> Value {
    json!({
        "publish": total.publish,
        "publish_details": { "rate": rates.publish },
        "deliver_get": total.deliver_get,
        "deliver_get_details": { "rate": rates.deliver_get },
        "redeliver": total.redeliver,
        "redeliver_details": { "rate": rates.redeliver },
        "ack": total.ack,
        "ack_details": { "rate": rates.ack },
    })
}

fn queue_json(ctx: &AdminContext, q: &Queue) -> Value {
    let counts = q.counts();
    let total = q.counters().snapshot();
    let rates = ctx.rates.rates(
        &RateKey::Queue {
            vhost: q.vhost_name.to_string(),
            queue: q.name.to_string(),
        },
        total,
    );
    json!({
        "name": &*q.name,
        "vhost": &*q.vhost_name,
        "durable": q.durable,
        "auto_delete": q.auto_delete,
        "exclusive": q.exclusive_owner.is_some(),
        "arguments": table_to_json(&q.arguments),
        "messages": counts.ready + counts.unacked,
        "messages_ready": counts.ready,
        "messages_unacknowledged": counts.unacked,
        "message_bytes_ready": q.ready_bytes(),
        "consumers": counts.consumers,
        "state": "running",
        "type": "classic",
        "message_stats": stats_json(total, rates),
    })
}

fn exchange_json(vhost: &VHost, x: &Exchange) -> Value {
    json!({
        "name": &x.name,
        "vhost": &vhost.name,
        "type": x.kind.as_str(),
        "durable": x.durable,
        "auto_delete": x.auto_delete,
        "internal": x.internal,
        "arguments": table_to_json(&x.arguments),
    })
}

fn connection_json(e: &ConnectionEntry) -> Value {
    let connected_at = e
        .connected_at
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default();
    json!({
        "name": e.name(),
        "protocol": e.meta.protocol,
        "user": &e.meta.user,
        "vhost": &e.meta.vhost,
        "peer_host": e.meta.peer.ip().to_string(),
        "peer_port": e.meta.peer.port(),
        "channels": e.session_count(),
        "connected_at": connected_at,
        "client": &e.meta.client,
        "ssl": e.meta.tls,
        "state": "running",
    })
}

/// A binding's `properties_key`, RabbitMQ's way of naming one binding in a URL: the
/// routing key (`~` when empty), then `~` and a digest of the arguments when there are any.
fn properties_key(routing_key: &str, arguments: &crate::message::FieldTable) -> String {
    use sha2::{Digest, Sha256};
    let base = if routing_key.is_empty() {
        "~"
    } else {
        routing_key
    };
    if arguments.inner().is_empty() {
        base.to_string()
    } else {
        let digest = Sha256::digest(table_to_json(arguments).to_string().as_bytes());
        let short = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..9]);
        format!("{base}~{short}")
    }
}

fn binding_json(
    vhost: &str,
    source: &str,
    kind: DestinationKind,
    destination: &str,
    routing_key: &str,
    arguments: &crate::message::FieldTable,
) -> Value {
    json!({
        "source": source,
        "vhost": vhost,
        "destination": destination,
        "destination_type": match kind {
            DestinationKind::Queue => "queue",
            DestinationKind::Exchange => "exchange",
        },
        "routing_key": routing_key,
        "arguments": table_to_json(arguments),
        "properties_key": properties_key(routing_key, arguments),
    })
}

/// Every binding of a vhost, the default exchange's implicit ones included (as RabbitMQ
/// lists them).
fn vhost_bindings(vhost: &VHost) -> Vec<Value> {
    let queues = sorted_queues(vhost);
    let mut out: Vec<Value> = queues
        .iter()
        .map(|q| {
            binding_json(
                &vhost.name,
                "",
                DestinationKind::Queue,
                &q.name,
                &q.name,
                &Default::default(),
            )
        })
        .collect();
    let exchanges = sorted_exchanges(vhost);
    for x in exchanges.iter().filter(|x| !x.name.is_empty()) {
        for b in x.bindings() {
            out.push(binding_json(
                &vhost.name,
                &x.name,
                b.destination.kind,
                &b.destination.name,
                &b.routing_key,
                &b.arguments,
            ));
        }
    }
    out
}

// ----- overview, vhosts, whoami -----

async fn overview(ctx: Ctx, Authenticated(caller): Authenticated) -> ApiResult<Json<Value>> {
    let vhosts = visible_vhosts(&ctx, &caller);
    let mut total = CounterSnapshot::default();
    let mut rates = Rates::default();
    let (mut ready, mut unacked, mut queues, mut exchanges, mut consumers) = (0u64, 0, 0, 0, 0);
    for v in &vhosts {
        let snapshot = v.counters().snapshot();
        total.publish += snapshot.publish;
        total.deliver_get += snapshot.deliver_get;
        total.redeliver += snapshot.redeliver;
        total.ack += snapshot.ack;
        rates += ctx.rates.rates(&RateKey::VHost(v.name.clone()), snapshot);
        exchanges += v.exchanges().len();
        for q in v.queues() {
            let c = q.counts();
            ready += u64::from(c.ready);
            unacked += u64::from(c.unacked);
            consumers += c.consumers as usize;
            queues += 1;
        }
    }
    let visible: Vec<String> = vhosts.iter().map(|v| v.name.clone()).collect();
    let conns: Vec<_> = ctx
        .broker
        .connections()
        .list()
        .into_iter()
        .filter(|c| visible.contains(&c.meta.vhost))
        .collect();
    let mut by_protocol: BTreeMap<&str, usize> = ["amqp", "stomp", "openwire", "jni"]
        .iter()
        .map(|p| (*p, 0))
        .collect();
    for c in &conns {
        *by_protocol.entry(c.meta.protocol).or_default() += 1;
    }
    let channels: usize = conns.iter().map(|c| c.session_count()).sum();
    let listeners: Vec<Value> = ctx
        .listeners
        .iter()
        .map(|l| {
            json!({"protocol": l.protocol, "ip_address": l.address.ip().to_string(),
                   "port": l.address.port()})
        })
        .collect();
    Ok(Json(json!({
        "management_version": env!("CARGO_PKG_VERSION"),
        "product_name": "mqbridge",
        "product_version": env!("CARGO_PKG_VERSION"),
        "node": "mqbridge@localhost",
        "message_stats": stats_json(total, rates),
        "queue_totals": {
            "messages": ready + unacked,
            "messages_ready": ready,
            "messages_unacknowledged": unacked,
        },
        "object_totals": {
            "connections": conns.len(),
            "channels": channels,
            "exchanges": exchanges,
            "queues": queues,
            "consumers": consumers,
        },
        "connections_by_protocol": by_protocol,
        "listeners": listeners,
        "resource_alarm": *ctx.broker.alarms().borrow(),
    })))
}

async fn whoami(Authenticated(caller): Authenticated) -> Json<Value> {
    Json(json!({ "name": caller.user.name, "tags": caller.user.tags }))
}

fn vhost_json(ctx: &AdminContext, v: &VHost) -> Value {
    let snapshot = v.counters().snapshot();
    let rates = ctx.rates.rates(&RateKey::VHost(v.name.clone()), snapshot);
    let (mut ready, mut unacked) = (0u64, 0u64);
    for q in v.queues() {
        let c = q.counts();
        ready += u64::from(c.ready);
        unacked += u64::from(c.unacked);
    }
    json!({
        "name": &v.name,
        "messages": ready + unacked,
        "messages_ready": ready,
        "messages_unacknowledged": unacked,
        "message_stats": stats_json(snapshot, rates),
    })
}

async fn vhosts(ctx: Ctx, Authenticated(caller): Authenticated) -> Json<Value> {
    let list: Vec<Value> = visible_vhosts(&ctx, &caller)
        .iter()
        .map(|v| vhost_json(&ctx, v))
        .collect();
    Json(Value::Array(list))
}

async fn vhost(
    ctx: Ctx,
    Authenticated(caller): Authenticated,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    let v = vhost_for(&ctx, &caller, &name)?;
    Ok(Json(vhost_json(&ctx, &v)))
}

// ----- connections, channels, consumers -----

fn visible_connections(
    ctx: &AdminContext,
    caller: &super::auth::Caller,
) -> Vec<Arc<ConnectionEntry>> {
    let visible: Vec<String> = visible_vhosts(ctx, caller)
        .iter()
        .map(|v| v.name.clone())
        .collect();
    ctx.broker
        .connections()
        .list()
        .into_iter()
        .filter(|c| visible.contains(&c.meta.vhost))
        .collect()
}

async fn connections(ctx: Ctx, Authenticated(caller): Authenticated) -> Json<Value> {
    Json(Value::Array(
        visible_connections(&ctx, &caller)
            .iter()
            .map(|c| connection_json(c))
            .collect(),
    ))
}

async fn connections_in(
    ctx: Ctx,
    Authenticated(caller): Authenticated,
    Path(vhost): Path<String>,
) -> ApiResult<Json<Value>> {
    vhost_for(&ctx, &caller, &vhost)?;
    Ok(Json(Value::Array(
        visible_connections(&ctx, &caller)
            .iter()
            .filter(|c| c.meta.vhost == vhost)
            .map(|c| connection_json(c))
            .collect(),
    )))
}

fn find_connection(
    ctx: &AdminContext,
    caller: &super::auth::Caller,
    name: &str,
) -> ApiResult<Arc<ConnectionEntry>> {
    visible_connections(ctx, caller)
        .into_iter()
        .find(|c| c.name() == name)
        .ok_or_else(|| ApiError::not_found(format!("no connection '{name}'")))
}

async fn connection(
    ctx: Ctx,
    Authenticated(caller): Authenticated,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    let entry = find_connection(&ctx, &caller, &name)?;
    Ok(Json(connection_json(&entry)))
}

/// Close a client connection, as RabbitMQ's API does: AMQP gets `connection.close` 320
/// CONNECTION_FORCED with the reason (header `X-Reason`, default RabbitMQ's text), STOMP an
/// ERROR frame, OpenWire a ShutdownInfo. A user may close their own connections; closing
/// anyone else's needs the administrator tag.
async fn connection_close(
    ctx: Ctx,
    Authenticated(caller): Authenticated,
    Path(name): Path<String>,
    headers: axum::http::HeaderMap,
) -> ApiResult {
    let entry = find_connection(&ctx, &caller, &name)?;
    if entry.meta.user != caller.user.name {
        caller.require_administrator()?;
    }
    let reason = headers
        .get("x-reason")
        .and_then(|v| v.to_str().ok())
        .filter(|r| !r.is_empty())
        .unwrap_or("Closed via management plugin");
    entry.close(reason);
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn channels(ctx: Ctx, Authenticated(caller): Authenticated) -> Json<Value> {
    let mut out = Vec::new();
    for c in visible_connections(&ctx, &caller) {
        let name = c.name();
        for (number, session) in c.sessions() {
            let (global, per_consumer) = session.prefetch();
            out.push(json!({
                "name": format!("{name} ({number})"),
                "number": number,
                "connection_details": {
                    "name": &name,
                    "peer_host": c.meta.peer.ip().to_string(),
                    "peer_port": c.meta.peer.port(),
                    "protocol": c.meta.protocol,
                },
                "user": &c.meta.user,
                "vhost": &c.meta.vhost,
                "consumer_count": session.consumers().len(),
                "messages_unacknowledged": session.unacked_count(),
                "prefetch_count": per_consumer,
                "global_prefetch_count": global,
                "state": "running",
            }));
        }
    }
    Json(Value::Array(out))
}

fn consumers_of(ctx: &AdminContext, vhosts: &[Arc<VHost>]) -> Vec<Value> {
    let names: BTreeMap<u64, Arc<ConnectionEntry>> = ctx
        .broker
        .connections()
        .list()
        .into_iter()
        .map(|c| (c.meta.id, c))
        .collect();
    let mut out = Vec::new();
    for v in vhosts {
        let queues = sorted_queues(v);
        for q in queues {
            for consumer in q.consumers() {
                let (prefetch, unacked) = consumer.prefetch_and_unacked();
                let connection = names.get(&consumer.connection());
                out.push(json!({
                    "consumer_tag": &*consumer.tag,
                    "queue": { "name": &*q.name, "vhost": &v.name },
                    "channel_details": {
                        "connection_name": connection.map(|c| c.name()),
                        "protocol": connection.map(|c| c.meta.protocol),
                        "user": connection.map(|c| c.meta.user.clone()),
                    },
                    "ack_required": !consumer.no_ack,
                    "exclusive": consumer.exclusive,
                    "prefetch_count": prefetch,
                    "messages_unacknowledged": unacked,
                    "priority": consumer.priority,
                    "active": true,
                }));
            }
        }
    }
    out
}

async fn consumers(ctx: Ctx, Authenticated(caller): Authenticated) -> Json<Value> {
    let vhosts = visible_vhosts(&ctx, &caller);
    Json(Value::Array(consumers_of(&ctx, &vhosts)))
}

async fn consumers_in(
    ctx: Ctx,
    Authenticated(caller): Authenticated,
    Path(vhost): Path<String>,
) -> ApiResult<Json<Value>> {
    let v = vhost_for(&ctx, &caller, &vhost)?;
    Ok(Json(Value::Array(consumers_of(&ctx, &[v]))))
}

// ----- exchanges -----

fn exchanges_of(vhosts: &[Arc<VHost>]) -> Vec<Value> {
    let mut out = Vec::new();
    for v in vhosts {
        let xs = sorted_exchanges(v);
        out.extend(xs.iter().map(|x| exchange_json(v, x)));
    }
    out
}

async fn exchanges(ctx: Ctx, Authenticated(caller): Authenticated) -> Json<Value> {
    Json(Value::Array(exchanges_of(&visible_vhosts(&ctx, &caller))))
}

async fn exchanges_in(
    ctx: Ctx,
    Authenticated(caller): Authenticated,
    Path(vhost): Path<String>,
) -> ApiResult<Json<Value>> {
    let v = vhost_for(&ctx, &caller, &vhost)?;
    Ok(Json(Value::Array(exchanges_of(&[v]))))
}

async fn exchange(
    ctx: Ctx,
    Authenticated(caller): Authenticated,
    Path((vhost, name)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let v = vhost_for(&ctx, &caller, &vhost)?;
    let name = exchange_name_from_path(&name);
    let x = v
        .exchange(name)
        .ok_or_else(|| ApiError::not_found(format!("no exchange '{name}' in vhost '{vhost}'")))?;
    Ok(Json(exchange_json(&v, &x)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExchangeBody {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default = "yes")]
    durable: bool,
    #[serde(default)]
    auto_delete: bool,
    #[serde(default)]
    internal: bool,
    #[serde(default)]
    arguments: Value,
}

fn yes() -> bool {
    true
}

/// Parse a JSON body, turning serde's complaint into a 400.
pub(super) fn body<T: serde::de::DeserializeOwned>(bytes: &Bytes) -> ApiResult<T> {
    let text = if bytes.is_empty() { &b"{}"[..] } else { bytes };
    serde_json::from_slice(text)
        .map_err(|e| ApiError::bad_request(format!("bad request body: {e}")))
}

async fn exchange_declare(
    ctx: Ctx,
    Authenticated(caller): Authenticated,
    Path((vhost, name)): Path<(String, String)>,
    raw: Bytes,
) -> ApiResult {
    let v = vhost_for(&ctx, &caller, &vhost)?;
    let b: ExchangeBody = body(&raw)?;
    if name == DEFAULT_EXCHANGE || name.starts_with("amq.") {
        return Err(ApiError::forbidden(format!(
            "exchange name '{name}' contains reserved prefix 'amq.'"
        )));
    }
    check(&caller, &vhost, Access::Configure, &name)?;
    let existed = v.exchange(&name).is_some();
    let arguments = json_to_table(&b.arguments).map_err(ApiError::bad_request)?;
    v.exchange_declare(
        &name,
        &b.kind,
        ExchangeOptions {
            passive: false,
            durable: b.durable,
            auto_delete: b.auto_delete,
            internal: b.internal,
            arguments,
        },
    )?;
    Ok(created_or_exists(existed))
}

pub(super) fn created_or_exists(existed: bool) -> Response {
    if existed {
        StatusCode::NO_CONTENT.into_response()
    } else {
        StatusCode::CREATED.into_response()
    }
}

#[derive(Debug, Deserialize)]
struct DeleteFlags {
    #[serde(rename = "if-unused", default)]
    if_unused: Option<String>,
    #[serde(rename = "if-empty", default)]
    if_empty: Option<String>,
}

fn flag(v: &Option<String>) -> bool {
    v.as_deref() == Some("true")
}

async fn exchange_delete(
    ctx: Ctx,
    Authenticated(caller): Authenticated,
    Path((vhost, name)): Path<(String, String)>,
    Query(flags): Query<DeleteFlags>,
) -> ApiResult {
    let v = vhost_for(&ctx, &caller, &vhost)?;
    let name = exchange_name_from_path(&name);
    if name.is_empty() || name.starts_with("amq.") {
        return Err(ApiError::forbidden(format!(
            "cannot delete the built-in exchange '{}'",
            exchange_name_for_permissions(name)
        )));
    }
    check(&caller, &vhost, Access::Configure, name)?;
    if v.exchange(name).is_none() {
        return Err(ApiError::not_found(format!(
            "no exchange '{name}' in vhost '{vhost}'"
        )));
    }
    v.exchange_delete(name, flag(&flags.if_unused))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PublishBody {
    #[serde(default)]
    properties: Value,
    routing_key: String,
    payload: String,
    #[serde(default = "string_encoding")]
    payload_encoding: String,
}

fn string_encoding() -> String {
    "string".to_string()
}

async fn publish(
    ctx: Ctx,
    Authenticated(caller): Authenticated,
    Path((vhost, name)): Path<(String, String)>,
    raw: Bytes,
) -> ApiResult<Json<Value>> {
    let v = vhost_for(&ctx, &caller, &vhost)?;
    let b: PublishBody = body(&raw)?;
    let exchange = exchange_name_from_path(&name).to_string();
    check(
        &caller,
        &vhost,
        Access::Write,
        exchange_name_for_permissions(&exchange),
    )?;
    let payload = match b.payload_encoding.as_str() {
        "string" => Bytes::from(b.payload.into_bytes()),
        "base64" => Bytes::from(
            BASE64
                .decode(b.payload.as_bytes())
                .map_err(|e| ApiError::bad_request(format!("payload is not base64: {e}")))?,
        ),
        other => {
            return Err(ApiError::bad_request(format!(
                "payload_encoding must be 'string' or 'base64', not '{other}'"
            )))
        }
    };
    let properties = json_to_properties(&b.properties).map_err(ApiError::bad_request)?;
    let message = Message::new(exchange, b.routing_key, properties, payload);
    let (tx, rx) = tokio::sync::oneshot::channel();
    let outcome = v.publish(
        message,
        false,
        Some(Box::new(move |ok| {
            let _ = tx.send(ok);
        })),
    )?;
    // Like a confirmed publish: the answer comes once the message is safe (on disk for a
    // persistent message on a durable queue).
    match tokio::time::timeout(PUBLISH_CONFIRM_TIMEOUT, rx).await {
        Ok(Ok(true)) => Ok(Json(json!({ "routed": outcome.routed }))),
        Ok(_) => Err(ApiError::internal(
            "the broker did not accept the message (queue full or store failure)",
        )),
        Err(_) => Err(ApiError::internal(
            "the message was not confirmed in time; it may or may not have been stored",
        )),
    }
}

// ----- queues -----

fn queues_of(ctx: &AdminContext, vhosts: &[Arc<VHost>]) -> Vec<Value> {
    let mut out = Vec::new();
    for v in vhosts {
        let qs = sorted_queues(v);
        out.extend(qs.iter().map(|q| queue_json(ctx, q)));
    }
    out
}

async fn queues(ctx: Ctx, Authenticated(caller): Authenticated) -> Json<Value> {
    Json(Value::Array(queues_of(
        &ctx,
        &visible_vhosts(&ctx, &caller),
    )))
}

async fn queues_in(
    ctx: Ctx,
    Authenticated(caller): Authenticated,
    Path(vhost): Path<String>,
) -> ApiResult<Json<Value>> {
    let v = vhost_for(&ctx, &caller, &vhost)?;
    Ok(Json(Value::Array(queues_of(&ctx, &[v]))))
}

fn find_queue(v: &VHost, name: &str) -> ApiResult<Arc<Queue>> {
    v.queue(name)
        .ok_or_else(|| ApiError::not_found(format!("no queue '{name}' in vhost '{}'", v.name)))
}

async fn queue(
    ctx: Ctx,
    Authenticated(caller): Authenticated,
    Path((vhost, name)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let v = vhost_for(&ctx, &caller, &vhost)?;
    let q = find_queue(&v, &name)?;
    Ok(Json(queue_json(&ctx, &q)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct QueueBody {
    #[serde(default = "yes")]
    durable: bool,
    #[serde(default)]
    auto_delete: bool,
    #[serde(default)]
    arguments: Value,
    /// Accepted for RabbitMQ compatibility; the node is always this one.
    #[serde(default)]
    #[allow(dead_code)]
    node: Option<String>,
}

async fn queue_declare(
    ctx: Ctx,
    Authenticated(caller): Authenticated,
    Path((vhost, name)): Path<(String, String)>,
    raw: Bytes,
) -> ApiResult {
    let v = vhost_for(&ctx, &caller, &vhost)?;
    let b: QueueBody = body(&raw)?;
    if name.is_empty() || name.starts_with("amq.") {
        return Err(ApiError::forbidden(format!(
            "queue name '{name}' contains reserved prefix 'amq.'"
        )));
    }
    check(&caller, &vhost, Access::Configure, &name)?;
    let existed = v.queue(&name).is_some();
    let arguments = json_to_table(&b.arguments).map_err(ApiError::bad_request)?;
    let conn = ctx.broker.next_connection_id();
    v.queue_declare(
        &name,
        QueueOptions {
            passive: false,
            durable: b.durable,
            exclusive: false,
            auto_delete: b.auto_delete,
            arguments,
        },
        conn,
    )?;
    Ok(created_or_exists(existed))
}

async fn queue_delete(
    ctx: Ctx,
    Authenticated(caller): Authenticated,
    Path((vhost, name)): Path<(String, String)>,
    Query(flags): Query<DeleteFlags>,
) -> ApiResult {
    let v = vhost_for(&ctx, &caller, &vhost)?;
    let q = find_queue(&v, &name)?;
    check(&caller, &vhost, Access::Configure, &name)?;
    let owner = acting_owner(&ctx, &q);
    v.queue_delete(&name, flag(&flags.if_unused), flag(&flags.if_empty), owner)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn queue_purge(
    ctx: Ctx,
    Authenticated(caller): Authenticated,
    Path((vhost, name)): Path<(String, String)>,
) -> ApiResult {
    let v = vhost_for(&ctx, &caller, &vhost)?;
    let q = find_queue(&v, &name)?;
    check(&caller, &vhost, Access::Read, &name)?;
    let owner = acting_owner(&ctx, &q);
    v.queue_purge(&name, owner)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Debug, Deserialize)]
struct GetBody {
    count: usize,
    ackmode: String,
    #[serde(default = "auto_encoding")]
    encoding: String,
    #[serde(default)]
    truncate: Option<usize>,
}

fn auto_encoding() -> String {
    "auto".to_string()
}

/// A session that never has consumers: `get` only.
struct NoConsumers;

impl DeliverySink for NoConsumers {
    fn deliver(&self, _delivery: Delivery) -> bool {
        false
    }
    fn consumer_cancelled(&self, _consumer_tag: &str) {}
}

async fn queue_get(
    ctx: Ctx,
    Authenticated(caller): Authenticated,
    Path((vhost, name)): Path<(String, String)>,
    raw: Bytes,
) -> ApiResult<Json<Value>> {
    let v = vhost_for(&ctx, &caller, &vhost)?;
    let q = find_queue(&v, &name)?;
    check(&caller, &vhost, Access::Read, &name)?;
    let b: GetBody = body(&raw)?;
    let (ack, requeue) = match b.ackmode.as_str() {
        "ack_requeue_true" | "reject_requeue_true" => (false, true),
        "ack_requeue_false" => (true, false),
        "reject_requeue_false" => (false, false),
        other => {
            return Err(ApiError::bad_request(format!(
                "ackmode must be ack_requeue_true, ack_requeue_false, reject_requeue_true \
                 or reject_requeue_false, not '{other}'"
            )))
        }
    };
    if !matches!(b.encoding.as_str(), "auto" | "base64") {
        return Err(ApiError::bad_request(format!(
            "encoding must be 'auto' or 'base64', not '{}'",
            b.encoding
        )));
    }
    let owner = acting_owner(&ctx, &q);
    let session = Session::new(v.clone(), owner, Arc::new(NoConsumers));
    let mut out = Vec::new();
    let mut tags = Vec::new();
    for _ in 0..b.count.min(MAX_GET) {
        let Some(got) = session.get(&name, false)? else {
            break;
        };
        tags.push(got.delivery_tag);
        out.push(message_json(
            &got.message,
            got.redelivered,
            got.message_count,
            &b,
        ));
    }
    let settled = match (ack, requeue) {
        (true, _) => tags.iter().try_for_each(|t| session.ack(*t, false)),
        (false, true) => tags.iter().try_for_each(|t| session.nack(*t, false, true)),
        (false, false) => tags.iter().try_for_each(|t| session.reject(*t, false)),
    };
    session.close();
    settled?;
    Ok(Json(Value::Array(out)))
}

fn message_json(m: &Message, redelivered: bool, left: u32, b: &GetBody) -> Value {
    let bytes = &m.body[..];
    let shown = &bytes[..b.truncate.unwrap_or(usize::MAX).min(bytes.len())];
    let (payload, encoding) = match (b.encoding.as_str(), std::str::from_utf8(shown)) {
        ("auto", Ok(text)) => (text.to_string(), "string"),
        _ => (BASE64.encode(shown), "base64"),
    };
    json!({
        "payload": payload,
        "payload_bytes": bytes.len(),
        "payload_encoding": encoding,
        "properties": properties_to_json(&m.properties),
        "routing_key": &m.routing_key,
        "exchange": &m.exchange,
        "redelivered": redelivered,
        "message_count": left,
    })
}

// ----- bindings -----

async fn bindings(ctx: Ctx, Authenticated(caller): Authenticated) -> Json<Value> {
    let out: Vec<Value> = visible_vhosts(&ctx, &caller)
        .iter()
        .flat_map(|v| vhost_bindings(v))
        .collect();
    Json(Value::Array(out))
}

async fn bindings_in(
    ctx: Ctx,
    Authenticated(caller): Authenticated,
    Path(vhost): Path<String>,
) -> ApiResult<Json<Value>> {
    let v = vhost_for(&ctx, &caller, &vhost)?;
    Ok(Json(Value::Array(vhost_bindings(&v))))
}

async fn queue_bindings(
    ctx: Ctx,
    Authenticated(caller): Authenticated,
    Path((vhost, name)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let v = vhost_for(&ctx, &caller, &vhost)?;
    find_queue(&v, &name)?;
    let out = vhost_bindings(&v)
        .into_iter()
        .filter(|b| b["destination_type"] == "queue" && b["destination"] == name.as_str())
        .collect();
    Ok(Json(Value::Array(out)))
}

fn destination_kind(kind: &str) -> ApiResult<DestinationKind> {
    match kind {
        "q" => Ok(DestinationKind::Queue),
        "e" => Ok(DestinationKind::Exchange),
        other => Err(ApiError::not_found(format!(
            "binding destination kind must be 'q' or 'e', not '{other}'"
        ))),
    }
}

fn matching_bindings(
    v: &VHost,
    source: &str,
    kind: DestinationKind,
    destination: &str,
) -> Vec<Value> {
    let kind_name = match kind {
        DestinationKind::Queue => "queue",
        DestinationKind::Exchange => "exchange",
    };
    vhost_bindings(v)
        .into_iter()
        .filter(|b| {
            b["source"] == source
                && b["destination"] == destination
                && b["destination_type"] == kind_name
        })
        .collect()
}

async fn bindings_between(
    ctx: Ctx,
    Authenticated(caller): Authenticated,
    Path((vhost, source, kind, destination)): Path<(String, String, String, String)>,
) -> ApiResult<Json<Value>> {
    let v = vhost_for(&ctx, &caller, &vhost)?;
    let kind = destination_kind(&kind)?;
    let source = exchange_name_from_path(&source);
    Ok(Json(Value::Array(matching_bindings(
        &v,
        source,
        kind,
        &destination,
    ))))
}

async fn binding_one(
    ctx: Ctx,
    Authenticated(caller): Authenticated,
    Path((vhost, source, kind, destination, props)): Path<(String, String, String, String, String)>,
) -> ApiResult<Json<Value>> {
    let v = vhost_for(&ctx, &caller, &vhost)?;
    let kind = destination_kind(&kind)?;
    let source = exchange_name_from_path(&source);
    matching_bindings(&v, source, kind, &destination)
        .into_iter()
        .find(|b| b["properties_key"] == props.as_str())
        .map(Json)
        .ok_or_else(|| ApiError::not_found("no such binding"))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BindingBody {
    #[serde(default)]
    routing_key: String,
    #[serde(default)]
    arguments: Value,
}

async fn binding_create(
    ctx: Ctx,
    Authenticated(caller): Authenticated,
    Path((vhost, source, kind, destination)): Path<(String, String, String, String)>,
    raw: Bytes,
) -> ApiResult {
    let v = vhost_for(&ctx, &caller, &vhost)?;
    let kind = destination_kind(&kind)?;
    let b: BindingBody = body(&raw)?;
    let source = exchange_name_from_path(&source);
    if source.is_empty() {
        return Err(ApiError::forbidden(
            "operation not permitted on the default exchange",
        ));
    }
    let arguments = json_to_table(&b.arguments).map_err(ApiError::bad_request)?;
    check(&caller, &vhost, Access::Write, &destination)?;
    check(&caller, &vhost, Access::Read, source)?;
    match kind {
        DestinationKind::Queue => {
            let q = find_queue(&v, &destination)?;
            let owner = acting_owner(&ctx, &q);
            v.queue_bind(&destination, source, &b.routing_key, &arguments, owner)?;
        }
        DestinationKind::Exchange => {
            v.exchange_bind(&destination, source, &b.routing_key, &arguments)?;
        }
    }
    let location = format!(
        "/api/bindings/{}/e/{}/{}/{}/{}",
        encode(&vhost),
        encode(source),
        if kind == DestinationKind::Queue {
            "q"
        } else {
            "e"
        },
        encode(&destination),
        encode(&properties_key(&b.routing_key, &arguments)),
    );
    Ok((
        StatusCode::CREATED,
        [(axum::http::header::LOCATION, location)],
    )
        .into_response())
}

async fn binding_delete(
    ctx: Ctx,
    Authenticated(caller): Authenticated,
    Path((vhost, source, kind, destination, props)): Path<(String, String, String, String, String)>,
) -> ApiResult {
    let v = vhost_for(&ctx, &caller, &vhost)?;
    let kind = destination_kind(&kind)?;
    let source = exchange_name_from_path(&source).to_string();
    check(&caller, &vhost, Access::Write, &destination)?;
    check(&caller, &vhost, Access::Read, &source)?;
    let x = v
        .exchange(&source)
        .ok_or_else(|| ApiError::not_found(format!("no exchange '{source}' in vhost '{vhost}'")))?;
    let binding = x
        .bindings()
        .into_iter()
        .find(|b| {
            b.destination.kind == kind
                && *b.destination.name == *destination
                && properties_key(&b.routing_key, &b.arguments) == props
        })
        .ok_or_else(|| ApiError::not_found("no such binding"))?;
    match kind {
        DestinationKind::Queue => {
            let q = find_queue(&v, &destination)?;
            let owner = acting_owner(&ctx, &q);
            v.queue_unbind(
                &destination,
                &source,
                &binding.routing_key,
                &binding.arguments,
                owner,
            )?
        }
        DestinationKind::Exchange => v.exchange_unbind(
            &destination,
            &source,
            &binding.routing_key,
            &binding.arguments,
        )?,
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Percent-encode one path segment.
fn encode(segment: &str) -> String {
    let mut out = String::new();
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

// ----- routes -----

async fn routes(ctx: Ctx, Authenticated(caller): Authenticated) -> ApiResult<Json<Value>> {
    let _ = caller;
    let list: Vec<Value> = ctx
        .routes
        .status()
        .await
        .into_iter()
        .map(|r| {
            json!({
                "name": r.name,
                "state": r.state.as_str(),
                "moved": r.moved,
                "retried": r.retried,
                "dead_lettered": r.dead_lettered,
                "filtered": r.filtered,
                "reconnects": r.reconnects,
                "last_error": r.last_error,
            })
        })
        .collect();
    Ok(Json(Value::Array(list)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_keys_follow_rabbitmq() {
        assert_eq!(properties_key("", &Default::default()), "~");
        assert_eq!(properties_key("eu.#", &Default::default()), "eu.#");
        let mut args = crate::message::FieldTable::default();
        args.insert("x-match".into(), crate::message::AMQPValue::Boolean(true));
        let key = properties_key("k", &args);
        assert!(key.starts_with("k~") && key.len() > 3, "{key}");
    }

    #[test]
    fn path_segments_are_percent_encoded() {
        assert_eq!(encode("/"), "%2F");
        assert_eq!(encode("a b#c"), "a%20b%23c");
        assert_eq!(encode("orders.eu-1_~"), "orders.eu-1_~");
    }
}
