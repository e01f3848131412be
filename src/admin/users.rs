//! Users, permissions and vhosts through the API, in RabbitMQ's shape: `/api/users`,
//! `/api/permissions`, `PUT`/`DELETE /api/vhosts/{name}`. Everything here needs the
//! `administrator` tag, as in RabbitMQ.
//!
//! Changes apply at once (open connections see new permissions at their next operation)
//! and are kept across restarts with the definitions imports' ([`super::imported`]). The
//! config file stays the authority for what it names: a user or vhost it defines gets the
//! file's definition back at the next start.

use std::sync::Arc;

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{json, Value};

use super::access::{self, PermissionDefinition, UserDefinition};
use super::api::{body, created_or_exists};
use super::auth::Caller;
use super::{AdminContext, ApiError, Authenticated, Ctx};
use crate::auth::{hash_password, Grants};
use crate::config::HashingAlgorithm;

type ApiResult<T = Response> = Result<T, ApiError>;

pub(super) fn router() -> Router<Arc<AdminContext>> {
    Router::new()
        .route("/api/users", get(users))
        .route(
            "/api/users/{name}",
            get(user).put(user_put).delete(user_delete),
        )
        .route("/api/users/{name}/permissions", get(user_permissions))
        .route("/api/permissions", get(permissions))
        .route(
            "/api/permissions/{vhost}/{user}",
            get(permission)
                .put(permission_put)
                .delete(permission_delete),
        )
        .route("/api/vhosts/{vhost}/permissions", get(vhost_permissions))
}

fn admin(caller: &Caller) -> ApiResult<()> {
    caller.require_administrator()
}

fn vhost_names(ctx: &AdminContext) -> Vec<String> {
    ctx.broker.vhosts().iter().map(|v| v.name.clone()).collect()
}

/// Keep an API change across restarts; the change itself is already applied.
fn saved(result: Result<(), String>) -> ApiResult<()> {
    result.map_err(|e| ApiError::internal(format!("change applied but not saved: {e}")))
}

// ----- users -----

/// RabbitMQ 3.9+'s user object: tags as a list, no limits.
fn user_json(u: &UserDefinition) -> Value {
    let tags: Vec<&str> = u
        .tags
        .as_str()
        .unwrap_or_default()
        .split(',')
        .filter(|t| !t.is_empty())
        .collect();
    json!({
        "name": u.name,
        "password_hash": u.password_hash,
        "hashing_algorithm": u.hashing_algorithm,
        "tags": tags,
        "limits": {},
    })
}

async fn users(ctx: Ctx, Authenticated(caller): Authenticated) -> ApiResult<Json<Value>> {
    admin(&caller)?;
    let list: Vec<Value> = access::export_users(&ctx.users)
        .iter()
        .map(user_json)
        .collect();
    Ok(Json(Value::Array(list)))
}

fn find_user(ctx: &AdminContext, name: &str) -> ApiResult<UserDefinition> {
    access::export_users(&ctx.users)
        .into_iter()
        .find(|u| u.name == name)
        .ok_or_else(|| ApiError::not_found(format!("no user '{name}'")))
}

async fn user(
    ctx: Ctx,
    Authenticated(caller): Authenticated,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    admin(&caller)?;
    Ok(Json(user_json(&find_user(&ctx, &name)?)))
}

/// `PUT /api/users/{name}`: RabbitMQ's body, a `password` (hashed here with RabbitMQ's
/// scheme, so definitions exported from mqbridge import into RabbitMQ) or a `password_hash`
/// with its `hashing_algorithm`, and `tags` as a comma-separated string or a list.
#[derive(Debug, Deserialize)]
struct UserBody {
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    password_hash: Option<String>,
    #[serde(default)]
    hashing_algorithm: Option<String>,
    #[serde(default)]
    tags: Value,
}

async fn user_put(
    ctx: Ctx,
    Authenticated(caller): Authenticated,
    Path(name): Path<String>,
    raw: Bytes,
) -> ApiResult {
    admin(&caller)?;
    let b: UserBody = body(&raw)?;
    if !matches!(b.tags, Value::Null | Value::String(_) | Value::Array(_)) {
        return Err(ApiError::bad_request(
            "tags must be a comma-separated string or a list of strings",
        ));
    }
    let (password_hash, hashing_algorithm) = match (b.password, b.password_hash) {
        (Some(password), None) => {
            let algorithm = HashingAlgorithm::RabbitPasswordHashingSha256;
            let hash = hash_password(algorithm, &password).map_err(ApiError::internal)?;
            (hash, Some(algorithm.as_str().to_string()))
        }
        (None, Some(hash)) if !hash.is_empty() => (hash, b.hashing_algorithm),
        (None, Some(_)) => {
            return Err(ApiError::bad_request(
                "an empty password_hash (a user who cannot log in with a password) is not \
                 supported; certificate-only users are defined in the config file",
            ))
        }
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request(
                "give password or password_hash, not both",
            ))
        }
        (None, None) => {
            return Err(ApiError::bad_request(
                "password or password_hash must be set",
            ))
        }
    };
    let existed = ctx.users.contains(&name);
    let definition = UserDefinition {
        name: name.clone(),
        password_hash,
        hashing_algorithm,
        tags: b.tags,
    };
    access::import_users(&ctx.users, &[definition]).map_err(ApiError::bad_request)?;
    // A changed password or tags must not keep working from the login cache.
    ctx.logins.clear();
    saved(
        ctx.imported
            .record(&ctx.users, &vhost_names(&ctx), [name], []),
    )?;
    Ok(created_or_exists(existed))
}

async fn user_delete(
    ctx: Ctx,
    Authenticated(caller): Authenticated,
    Path(name): Path<String>,
) -> ApiResult {
    admin(&caller)?;
    if !ctx.users.delete(&name) {
        return Err(ApiError::not_found(format!("no user '{name}'")));
    }
    ctx.logins.clear();
    saved(
        ctx.imported
            .forget_user(&ctx.users, &vhost_names(&ctx), &name),
    )?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

// ----- permissions -----

fn permission_json(p: &PermissionDefinition) -> Value {
    json!({
        "user": p.user,
        "vhost": p.vhost,
        "configure": p.configure,
        "write": p.write,
        "read": p.read,
    })
}

/// Every permission matching `keep`, as RabbitMQ lists them.
fn permissions_where(ctx: &AdminContext, keep: impl Fn(&PermissionDefinition) -> bool) -> Value {
    let mut list = access::export_permissions(&ctx.users, &vhost_names(ctx));
    list.sort_by(|a, b| (&a.user, &a.vhost).cmp(&(&b.user, &b.vhost)));
    Value::Array(
        list.iter()
            .filter(|p| keep(p))
            .map(permission_json)
            .collect(),
    )
}

async fn permissions(ctx: Ctx, Authenticated(caller): Authenticated) -> ApiResult<Json<Value>> {
    admin(&caller)?;
    Ok(Json(permissions_where(&ctx, |_| true)))
}

async fn user_permissions(
    ctx: Ctx,
    Authenticated(caller): Authenticated,
    Path(user): Path<String>,
) -> ApiResult<Json<Value>> {
    admin(&caller)?;
    find_user(&ctx, &user)?;
    Ok(Json(permissions_where(&ctx, |p| p.user == user)))
}

async fn vhost_permissions(
    ctx: Ctx,
    Authenticated(caller): Authenticated,
    Path(vhost): Path<String>,
) -> ApiResult<Json<Value>> {
    admin(&caller)?;
    existing_vhost(&ctx, &vhost)?;
    Ok(Json(permissions_where(&ctx, |p| p.vhost == vhost)))
}

fn existing_vhost(ctx: &AdminContext, vhost: &str) -> ApiResult<()> {
    match ctx.broker.vhost(vhost) {
        Some(_) => Ok(()),
        None => Err(ApiError::not_found(format!("no vhost '{vhost}'"))),
    }
}

async fn permission(
    ctx: Ctx,
    Authenticated(caller): Authenticated,
    Path((vhost, user)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    admin(&caller)?;
    existing_vhost(&ctx, &vhost)?;
    find_user(&ctx, &user)?;
    let found = permissions_where(&ctx, |p| p.user == user && p.vhost == vhost);
    match found.as_array().and_then(|l| l.first()) {
        Some(p) => Ok(Json(p.clone())),
        None => Err(ApiError::not_found(format!(
            "user '{user}' has no permissions on vhost '{vhost}'"
        ))),
    }
}

/// `PUT /api/permissions/{vhost}/{user}`: the three regexes, each required.
#[derive(Debug, Deserialize)]
struct PermissionBody {
    configure: String,
    write: String,
    read: String,
}

async fn permission_put(
    ctx: Ctx,
    Authenticated(caller): Authenticated,
    Path((vhost, user)): Path<(String, String)>,
    raw: Bytes,
) -> ApiResult {
    admin(&caller)?;
    existing_vhost(&ctx, &vhost)?;
    find_user(&ctx, &user)?;
    let b: PermissionBody = body(&raw)?;
    let existed = has_permissions(&ctx, &user, &vhost);
    let definition = PermissionDefinition {
        user: user.clone(),
        vhost,
        configure: b.configure,
        write: b.write,
        read: b.read,
    };
    let names = vhost_names(&ctx);
    access::import_permissions(&ctx.users, &[definition], &names).map_err(ApiError::bad_request)?;
    saved(ctx.imported.record(&ctx.users, &names, [user], []))?;
    Ok(created_or_exists(existed))
}

fn has_permissions(ctx: &AdminContext, user: &str, vhost: &str) -> bool {
    ctx.users
        .list()
        .into_iter()
        .find(|u| u.name == user)
        .is_some_and(|u| match u.grants {
            Grants::AllVhosts => true,
            Grants::Vhosts(map) => map.contains_key(vhost),
        })
}

async fn permission_delete(
    ctx: Ctx,
    Authenticated(caller): Authenticated,
    Path((vhost, user)): Path<(String, String)>,
) -> ApiResult {
    admin(&caller)?;
    existing_vhost(&ctx, &vhost)?;
    find_user(&ctx, &user)?;
    if !has_permissions(&ctx, &user, &vhost) {
        return Err(ApiError::not_found(format!(
            "user '{user}' has no permissions on vhost '{vhost}'"
        )));
    }
    let names = vhost_names(&ctx);
    ctx.users.set_permissions(&user, &vhost, None, &names);
    saved(ctx.imported.record(&ctx.users, &names, [user], []))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

// ----- vhosts -----

/// `PUT /api/vhosts/{name}`: create the vhost (its description, tags and default queue type
/// are accepted and ignored). As in RabbitMQ, nobody but users with access to every vhost
/// may use it until a permission grants it.
pub(super) async fn vhost_put(
    ctx: Ctx,
    Authenticated(caller): Authenticated,
    Path(vhost): Path<String>,
    raw: Bytes,
) -> ApiResult {
    admin(&caller)?;
    if !raw.is_empty() {
        body::<serde_json::Map<String, Value>>(&raw)?;
    }
    if vhost.is_empty() {
        return Err(ApiError::bad_request("a vhost needs a name"));
    }
    let existed = ctx.broker.vhost(&vhost).is_some();
    ctx.broker.ensure_vhost(&vhost);
    saved(
        ctx.imported
            .record(&ctx.users, &vhost_names(&ctx), [], [vhost]),
    )?;
    Ok(created_or_exists(existed))
}

/// `DELETE /api/vhosts/{name}`: its connections are closed, its queues (stored messages
/// included) and exchanges deleted, and every permission on it dropped.
pub(super) async fn vhost_delete(
    ctx: Ctx,
    Authenticated(caller): Authenticated,
    Path(vhost): Path<String>,
) -> ApiResult {
    admin(&caller)?;
    let reason = format!("vhost '{vhost}' is deleted");
    if !ctx.broker.delete_vhost(&vhost, &reason)? {
        return Err(ApiError::not_found(format!("no vhost '{vhost}'")));
    }
    let names = vhost_names(&ctx);
    for u in ctx.users.list() {
        if matches!(&u.grants, Grants::Vhosts(map) if map.contains_key(&vhost)) {
            ctx.users.set_permissions(&u.name, &vhost, None, &names);
        }
    }
    saved(ctx.imported.forget_vhost(&ctx.users, &names, &vhost))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
