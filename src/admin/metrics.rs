//! `/metrics` (Prometheus text format), `/healthz` and `/readyz`.
//!
//! Most values are read from live state at scrape time (connections, queues, routes, store
//! size), so they are exact and cost nothing between scrapes. The two latency histograms
//! (publish-to-confirm and store fsync) are recorded where they happen through the
//! `metrics` facade and rendered by its Prometheus exporter, installed once per process.

use std::fmt::Write as _;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use serde_json::json;

use super::rates::RateKey;
use super::AdminContext;
use crate::broker::store::FSYNC_METRIC;
use crate::broker::vhost::CONFIRM_LATENCY_METRIC;
use crate::routes::RouteState;

/// Histogram buckets, in seconds: from 50 µs (an in-memory confirm) to 10 s.
const LATENCY_BUCKETS: [f64; 14] = [
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0, 10.0,
];

static RECORDER: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Install the process-wide recorder for the latency histograms (idempotent). Without it
/// (another recorder was installed first) `/metrics` lacks only the histograms.
pub fn install_recorder() -> Option<&'static PrometheusHandle> {
    RECORDER
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full(CONFIRM_LATENCY_METRIC.to_string()),
                    &LATENCY_BUCKETS,
                )
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        Matcher::Full(FSYNC_METRIC.to_string()),
                        &LATENCY_BUCKETS,
                    )
                });
            match builder.and_then(|b| b.install_recorder()) {
                Ok(handle) => Some(handle),
                Err(e) => {
                    tracing::warn!(error = %e, "No metrics recorder: /metrics will lack the latency histograms.");
                    None
                }
            }
        })
        .as_ref()
}

pub(super) fn router() -> Router<Arc<AdminContext>> {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

async fn healthz() -> &'static str {
    "ok\n"
}

/// Ready when the listeners are bound (they are before this server starts) and every
/// route's connections are up.
async fn readyz(State(ctx): State<Arc<AdminContext>>) -> Response {
    let routes = ctx.routes.status().await;
    let down: Vec<_> = routes
        .iter()
        .filter(|r| r.state != RouteState::Running)
        .map(|r| json!({ "route": r.name, "state": r.state.as_str(), "last_error": r.last_error }))
        .collect();
    let listeners: Vec<_> = ctx
        .listeners
        .iter()
        .map(|l| json!({ "protocol": l.protocol, "address": l.address.to_string() }))
        .collect();
    let ready = down.is_empty();
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(json!({ "ready": ready, "listeners": listeners, "routes_not_running": down })),
    )
        .into_response()
}

/// Prometheus text exposition, one family at a time.
struct Exposition(String);

impl Exposition {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.0, "# HELP {name} {help}\n# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: impl std::fmt::Display) {
        self.0.push_str(name);
        if !labels.is_empty() {
            self.0.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.0.push(',');
                }
                let _ = write!(self.0, "{k}=\"{}\"", escape_label(v));
            }
            self.0.push('}');
        }
        let _ = writeln!(self.0, " {value}");
    }
}

fn escape_label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

async fn metrics(State(ctx): State<Arc<AdminContext>>) -> Response {
    let routes = ctx.routes.status().await;
    let storage_dir = ctx.storage_dir.clone();
    let store_bytes = tokio::task::spawn_blocking(move || storage_dir.as_deref().map(dir_size))
        .await
        .ok()
        .flatten();
    let mut out = Exposition(String::with_capacity(16 * 1024));

    out.family("mqbridge_up", "gauge", "1 while the bridge runs.");
    out.sample("mqbridge_up", &[], 1);
    let started = ctx
        .started_at
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    out.family(
        "mqbridge_start_time_seconds",
        "gauge",
        "When the bridge started, in seconds since the Unix epoch.",
    );
    out.sample("mqbridge_start_time_seconds", &[], started);
    out.family(
        "mqbridge_resource_alarm",
        "gauge",
        "1 while a memory or disk alarm blocks publishers.",
    );
    out.sample(
        "mqbridge_resource_alarm",
        &[],
        u8::from(*ctx.broker.alarms().borrow()),
    );

    let connections = ctx.broker.connections().list();
    out.family(
        "mqbridge_connections",
        "gauge",
        "Open client connections, by protocol.",
    );
    for protocol in ["amqp", "stomp", "openwire", "jni"] {
        let n = connections
            .iter()
            .filter(|c| c.meta.protocol == protocol)
            .count();
        out.sample("mqbridge_connections", &[("protocol", protocol)], n);
    }
    out.family(
        "mqbridge_channels",
        "gauge",
        "Open channels (AMQP) and consuming sessions (STOMP, OpenWire).",
    );
    let channels: usize = connections.iter().map(|c| c.session_count()).sum();
    out.sample("mqbridge_channels", &[], channels);

    let mut vhosts = ctx.broker.vhosts();
    vhosts.sort_by(|a, b| a.name.cmp(&b.name));
    let totals: Vec<_> = vhosts
        .iter()
        .map(|v| (v.name.clone(), v.counters().snapshot()))
        .collect();
    for (name, help, pick) in [
        (
            "mqbridge_messages_published_total",
            "Messages published into the vhost, on any protocol.",
            (|s: &crate::broker::stats::CounterSnapshot| s.publish) as fn(&_) -> u64,
        ),
        (
            "mqbridge_messages_delivered_total",
            "Messages delivered to consumers or fetched by gets.",
            |s| s.deliver_get,
        ),
        (
            "mqbridge_messages_redelivered_total",
            "Deliveries of messages delivered before.",
            |s| s.redeliver,
        ),
        (
            "mqbridge_messages_acked_total",
            "Messages acknowledged by consumers.",
            |s| s.ack,
        ),
    ] {
        out.family(name, "counter", help);
        for (vhost, s) in &totals {
            out.sample(name, &[("vhost", vhost)], pick(s));
        }
    }

    let mut queues = Vec::new();
    for v in &vhosts {
        let qs = super::api::sorted_queues(v);
        queues.extend(qs);
    }
    let queue_samples: Vec<_> = queues
        .iter()
        .map(|q| {
            let snapshot = q.counters().snapshot();
            let rates = ctx.rates.rates(
                &RateKey::Queue {
                    vhost: q.vhost_name.to_string(),
                    queue: q.name.to_string(),
                },
                snapshot,
            );
            (q, q.counts(), snapshot, rates)
        })
        .collect();
    type QueueValue = fn(
        &crate::broker::queue::QueueCounts,
        &crate::broker::stats::CounterSnapshot,
        &super::rates::Rates,
    ) -> f64;
    let queue_families: [(&str, &str, &str, QueueValue); 9] = [
        (
            "mqbridge_queue_messages_ready",
            "gauge",
            "Messages ready for delivery.",
            |c, _, _| f64::from(c.ready),
        ),
        (
            "mqbridge_queue_messages_unacked",
            "gauge",
            "Messages delivered and not yet acknowledged.",
            |c, _, _| f64::from(c.unacked),
        ),
        (
            "mqbridge_queue_consumers",
            "gauge",
            "Consumers attached.",
            |c, _, _| f64::from(c.consumers),
        ),
        (
            "mqbridge_queue_messages_published_total",
            "counter",
            "Messages that entered the queue.",
            |_, s, _| s.publish as f64,
        ),
        (
            "mqbridge_queue_messages_delivered_total",
            "counter",
            "Messages delivered or fetched from the queue.",
            |_, s, _| s.deliver_get as f64,
        ),
        (
            "mqbridge_queue_messages_acked_total",
            "counter",
            "Messages acknowledged from the queue.",
            |_, s, _| s.ack as f64,
        ),
        (
            "mqbridge_queue_publish_rate",
            "gauge",
            "Messages per second entering the queue (last 5 s).",
            |_, _, r| r.publish,
        ),
        (
            "mqbridge_queue_deliver_rate",
            "gauge",
            "Messages per second delivered from the queue (last 5 s).",
            |_, _, r| r.deliver_get,
        ),
        (
            "mqbridge_queue_ack_rate",
            "gauge",
            "Messages per second acknowledged (last 5 s).",
            |_, _, r| r.ack,
        ),
    ];
    for (name, kind, help, value) in queue_families {
        out.family(name, kind, help);
        for (q, counts, snapshot, rates) in &queue_samples {
            out.sample(
                name,
                &[("vhost", &q.vhost_name), ("queue", &q.name)],
                value(counts, snapshot, rates),
            );
        }
    }

    type RouteValue = fn(&crate::routes::RouteStatus) -> u64;
    let route_families: [(&str, &str, &str, RouteValue); 6] = [
        (
            "mqbridge_route_up",
            "gauge",
            "1 while the route's connections are up and it moves messages.",
            |r| u64::from(r.state == RouteState::Running),
        ),
        (
            "mqbridge_route_messages_moved_total",
            "counter",
            "Messages the route delivered to its target.",
            |r| r.moved,
        ),
        (
            "mqbridge_route_messages_retried_total",
            "counter",
            "Delivery attempts the route retried.",
            |r| r.retried,
        ),
        (
            "mqbridge_route_messages_dead_lettered_total",
            "counter",
            "Messages the route dead-lettered.",
            |r| r.dead_lettered,
        ),
        (
            "mqbridge_route_messages_filtered_total",
            "counter",
            "Messages the route's selector left out.",
            |r| r.filtered,
        ),
        (
            "mqbridge_route_reconnects_total",
            "counter",
            "Times the route reconnected.",
            |r| r.reconnects,
        ),
    ];
    for (name, kind, help, value) in route_families {
        out.family(name, kind, help);
        for r in &routes {
            out.sample(name, &[("route", &r.name)], value(r));
        }
    }

    if let Some(bytes) = store_bytes {
        out.family(
            "mqbridge_store_size_bytes",
            "gauge",
            "Bytes the durable store occupies on disk.",
        );
        out.sample("mqbridge_store_size_bytes", &[], bytes);
    }
    if let Some(handle) = install_recorder() {
        out.0.push_str(&handle.render());
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out.0,
    )
        .into_response()
}

/// Total size of the files under `dir` (0 if it cannot be read).
fn dir_size(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_size(&e.path()),
            Ok(_) => e.metadata().map(|m| m.len()).unwrap_or(0),
            Err(_) => 0,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped() {
        let mut e = Exposition(String::new());
        e.sample("m", &[("queue", "a\"b\\c\nd")], 1);
        assert_eq!(e.0, "m{queue=\"a\\\"b\\\\c\\nd\"} 1\n");
    }

    #[test]
    fn dir_size_counts_nested_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a"), [0u8; 10]).unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/b"), [0u8; 5]).unwrap();
        assert_eq!(dir_size(dir.path()), 15);
    }
}
