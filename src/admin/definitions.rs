//! Definitions export and import in RabbitMQ's JSON format (`rabbitmqctl
//! export_definitions`, `GET /api/definitions`), so a RabbitMQ topology, its users and
//! their permissions move to mqbridge (and back) unchanged.
//!
//! Exported: vhosts, users (with their password hashes), permissions, durable and
//! transient exchanges and queues that belong to no connection, and bindings. Imported:
//! the same; RabbitMQ's policies, parameters, topic permissions and limits have no
//! equivalent here, so an import names what it skipped instead of failing.

use std::sync::Arc;

use axum::extract::Path;
use axum::Json;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::api::vhost_for;
use super::json::{json_to_table, table_to_json};
use super::{access, AdminContext, ApiError, Authenticated, Ctx};
use crate::broker::store::DestinationKind;
use crate::broker::vhost::{ExchangeOptions, QueueOptions, VHost};

#[derive(Debug, Default, Deserialize, Serialize)]
pub(crate) struct Definitions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rabbit_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rabbitmq_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_version: Option<String>,
    #[serde(default)]
    pub users: Vec<access::UserDefinition>,
    #[serde(default)]
    pub vhosts: Vec<VHostDefinition>,
    #[serde(default)]
    pub permissions: Vec<access::PermissionDefinition>,
    #[serde(default)]
    pub queues: Vec<QueueDefinition>,
    #[serde(default)]
    pub exchanges: Vec<ExchangeDefinition>,
    #[serde(default)]
    pub bindings: Vec<BindingDefinition>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub topic_permissions: Vec<Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parameters: Vec<Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub global_parameters: Vec<Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<Value>,
}

#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct VHostDefinition {
    pub name: String,
}

#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct QueueDefinition {
    pub name: String,
    #[serde(default = "root")]
    pub vhost: String,
    #[serde(default = "yes")]
    pub durable: bool,
    #[serde(default)]
    pub auto_delete: bool,
    #[serde(default)]
    pub arguments: Value,
}

#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct ExchangeDefinition {
    pub name: String,
    #[serde(default = "root")]
    pub vhost: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default = "yes")]
    pub durable: bool,
    #[serde(default)]
    pub auto_delete: bool,
    #[serde(default)]
    pub internal: bool,
    #[serde(default)]
    pub arguments: Value,
}

#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct BindingDefinition {
    pub source: String,
    #[serde(default = "root")]
    pub vhost: String,
    pub destination: String,
    pub destination_type: String,
    #[serde(default)]
    pub routing_key: String,
    #[serde(default)]
    pub arguments: Value,
}

fn root() -> String {
    "/".to_string()
}

fn yes() -> bool {
    true
}

/// The definitions of `vhosts` (all of them for a full export).
fn collect(ctx: &AdminContext, vhosts: &[Arc<VHost>], with_users: bool) -> Definitions {
    let mut defs = Definitions {
        product_name: Some("mqbridge".into()),
        product_version: Some(env!("CARGO_PKG_VERSION").into()),
        // RabbitMQ's importers look for this key; the format is that of RabbitMQ 3.x.
        rabbit_version: Some("3.10.0".into()),
        rabbitmq_version: Some("3.10.0".into()),
        ..Definitions::default()
    };
    if with_users {
        defs.users = access::export_users(&ctx.users);
        let names: Vec<String> = ctx.broker.vhosts().iter().map(|v| v.name.clone()).collect();
        defs.permissions = access::export_permissions(&ctx.users, &names);
    }
    for v in vhosts {
        defs.vhosts.push(VHostDefinition {
            name: v.name.clone(),
        });
        let queues = super::api::sorted_queues(v);
        for q in queues.iter().filter(|q| q.exclusive_owner.is_none()) {
            defs.queues.push(QueueDefinition {
                name: q.name.to_string(),
                vhost: v.name.clone(),
                durable: q.durable,
                auto_delete: q.auto_delete,
                arguments: table_to_json(&q.arguments),
            });
        }
        let exchanges = super::api::sorted_exchanges(v);
        for x in &exchanges {
            if !x.name.is_empty() && !x.name.starts_with("amq.") {
                defs.exchanges.push(ExchangeDefinition {
                    name: x.name.clone(),
                    vhost: v.name.clone(),
                    kind: x.kind.as_str().to_string(),
                    durable: x.durable,
                    auto_delete: x.auto_delete,
                    internal: x.internal,
                    arguments: table_to_json(&x.arguments),
                });
            }
            if x.name.is_empty() {
                continue;
            }
            for b in x.bindings() {
                let exclusive_queue = b.destination.kind == DestinationKind::Queue
                    && v.queue(&b.destination.name)
                        .is_some_and(|q| q.exclusive_owner.is_some());
                if exclusive_queue {
                    continue;
                }
                defs.bindings.push(BindingDefinition {
                    source: x.name.clone(),
                    vhost: v.name.clone(),
                    destination: b.destination.name.to_string(),
                    destination_type: match b.destination.kind {
                        DestinationKind::Queue => "queue".into(),
                        DestinationKind::Exchange => "exchange".into(),
                    },
                    routing_key: b.routing_key.clone(),
                    arguments: table_to_json(&b.arguments),
                });
            }
        }
    }
    defs
}

pub(super) async fn export(
    ctx: Ctx,
    Authenticated(caller): Authenticated,
) -> Result<Json<Definitions>, ApiError> {
    caller.require_administrator()?;
    let mut vhosts = ctx.broker.vhosts();
    vhosts.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Json(collect(&ctx, &vhosts, true)))
}

pub(super) async fn export_vhost(
    ctx: Ctx,
    Authenticated(caller): Authenticated,
    Path(vhost): Path<String>,
) -> Result<Json<Definitions>, ApiError> {
    caller.require_administrator()?;
    let v = vhost_for(&ctx, &caller, &vhost)?;
    let mut defs = collect(&ctx, &[v], false);
    defs.vhosts.clear();
    Ok(Json(defs))
}

pub(super) async fn import(
    ctx: Ctx,
    Authenticated(caller): Authenticated,
    raw: Bytes,
) -> Result<Json<Value>, ApiError> {
    caller.require_administrator()?;
    let defs = parse(&raw)?;
    apply(&ctx, defs, None).map(Json)
}

pub(super) async fn import_vhost(
    ctx: Ctx,
    Authenticated(caller): Authenticated,
    Path(vhost): Path<String>,
    raw: Bytes,
) -> Result<Json<Value>, ApiError> {
    caller.require_administrator()?;
    vhost_for(&ctx, &caller, &vhost)?;
    let defs = parse(&raw)?;
    apply(&ctx, defs, Some(&vhost)).map(Json)
}

fn parse(raw: &Bytes) -> Result<Definitions, ApiError> {
    serde_json::from_slice(raw)
        .map_err(|e| ApiError::bad_request(format!("not a definitions document: {e}")))
}

/// Apply `defs` in dependency order: users and vhosts, permissions, exchanges, queues,
/// bindings. `only` (a per-vhost import) puts every object into that vhost. Stops at the
/// first object the broker refuses, naming it; what came before stays applied (RabbitMQ
/// behaves the same).
fn apply(ctx: &AdminContext, defs: Definitions, only: Option<&str>) -> Result<Value, ApiError> {
    let vhost_of = |declared: &str| only.unwrap_or(declared).to_string();
    let mut summary = Map::new();
    if only.is_none() {
        for v in &defs.vhosts {
            ctx.broker.ensure_vhost(&v.name);
        }
        let users = access::import_users(&ctx.users, &defs.users)
            .map_err(|e| ApiError::bad_request(format!("users: {e}")))?;
        let names: Vec<String> = ctx.broker.vhosts().iter().map(|v| v.name.clone()).collect();
        let permissions = access::import_permissions(&ctx.users, &defs.permissions, &names)
            .map_err(|e| ApiError::bad_request(format!("permissions: {e}")))?;
        ctx.imported
            .record(
                &ctx.users,
                &names,
                defs.users.iter().map(|u| u.name.clone()),
                defs.vhosts.iter().map(|v| v.name.clone()),
            )
            .map_err(|e| ApiError::internal(format!("imported users not saved: {e}")))?;
        // Changed passwords or tags must not keep working from the login cache.
        ctx.logins.clear();
        summary.insert("vhosts".into(), json!(defs.vhosts.len()));
        summary.insert("users".into(), json!(users));
        summary.insert("permissions".into(), json!(permissions));
    }
    let vhost = |name: &str| {
        ctx.broker.vhost(name).ok_or_else(|| {
            ApiError::bad_request(format!(
                "vhost '{name}' does not exist (list it under \"vhosts\")"
            ))
        })
    };
    for x in &defs.exchanges {
        let v = vhost(&vhost_of(&x.vhost))?;
        let arguments = json_to_table(&x.arguments)
            .map_err(|e| ApiError::bad_request(format!("exchange '{}': {e}", x.name)))?;
        v.exchange_declare(
            &x.name,
            &x.kind,
            ExchangeOptions {
                passive: false,
                durable: x.durable,
                auto_delete: x.auto_delete,
                internal: x.internal,
                arguments,
            },
        )
        .map_err(|e| ApiError::bad_request(format!("exchange '{}': {}", x.name, e.reply_text())))?;
    }
    let conn = ctx.broker.next_connection_id();
    for q in &defs.queues {
        let v = vhost(&vhost_of(&q.vhost))?;
        let arguments = json_to_table(&q.arguments)
            .map_err(|e| ApiError::bad_request(format!("queue '{}': {e}", q.name)))?;
        v.queue_declare(
            &q.name,
            QueueOptions {
                passive: false,
                durable: q.durable,
                exclusive: false,
                auto_delete: q.auto_delete,
                arguments,
            },
            conn,
        )
        .map_err(|e| ApiError::bad_request(format!("queue '{}': {}", q.name, e.reply_text())))?;
    }
    for b in &defs.bindings {
        let v = vhost(&vhost_of(&b.vhost))?;
        let arguments = json_to_table(&b.arguments)
            .map_err(|e| ApiError::bad_request(format!("binding from '{}': {e}", b.source)))?;
        let bound = match b.destination_type.as_str() {
            "queue" => v.queue_bind(&b.destination, &b.source, &b.routing_key, &arguments, conn),
            "exchange" => v.exchange_bind(&b.destination, &b.source, &b.routing_key, &arguments),
            other => {
                return Err(ApiError::bad_request(format!(
                    "binding from '{}': destination_type must be queue or exchange, not '{other}'",
                    b.source
                )))
            }
        };
        bound.map_err(|e| {
            ApiError::bad_request(format!(
                "binding '{}' -> '{}': {}",
                b.source,
                b.destination,
                e.reply_text()
            ))
        })?;
    }
    summary.insert("exchanges".into(), json!(defs.exchanges.len()));
    summary.insert("queues".into(), json!(defs.queues.len()));
    summary.insert("bindings".into(), json!(defs.bindings.len()));
    let skipped = json!({
        "policies": defs.policies.len(),
        "parameters": defs.parameters.len(),
        "global_parameters": defs.global_parameters.len(),
        "topic_permissions": defs.topic_permissions.len(),
    });
    Ok(json!({ "imported": summary, "skipped": skipped }))
}
