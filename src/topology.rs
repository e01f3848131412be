//! Declaring the config file's `topology:` section (exchanges, queues, bindings) on the
//! broker at start, the way RabbitMQ loads definitions.
//!
//! Declarations are idempotent: a durable entity recovered from the store is re-declared
//! with the same properties and left alone; one whose properties differ is an error that
//! names the entity, so a changed config does not silently diverge from the stored state.

use crate::broker::{Broker, ExchangeOptions, QueueOptions};
use crate::config::{DestinationType, Topology};

/// The connection id topology declarations run as (no client owns them).
const SYSTEM_CONNECTION: u64 = 0;

/// Declare every exchange, then every queue, then every binding of `topology`.
pub fn declare(broker: &Broker, topology: &Topology) -> Result<(), String> {
    for x in &topology.exchanges {
        let vhost = broker
            .vhost(&x.vhost)
            .ok_or_else(|| format!("exchange '{}': no vhost '{}'", x.name, x.vhost))?;
        let opts = ExchangeOptions {
            passive: false,
            durable: x.durable,
            auto_delete: x.auto_delete,
            internal: x.internal,
            arguments: x.arguments.to_field_table(),
        };
        vhost
            .exchange_declare(&x.name, x.kind.as_str(), opts)
            .map_err(|e| format!("exchange '{}': {}", x.name, e.reply_text()))?;
    }
    for q in &topology.queues {
        let vhost = broker
            .vhost(&q.vhost)
            .ok_or_else(|| format!("queue '{}': no vhost '{}'", q.name, q.vhost))?;
        let opts = QueueOptions {
            passive: false,
            durable: q.durable,
            exclusive: false,
            auto_delete: q.auto_delete,
            arguments: q.arguments.to_field_table(),
        };
        vhost
            .queue_declare(&q.name, opts, SYSTEM_CONNECTION)
            .map_err(|e| format!("queue '{}': {}", q.name, e.reply_text()))?;
    }
    for b in &topology.bindings {
        let vhost = broker
            .vhost(&b.vhost)
            .ok_or_else(|| format!("binding from '{}': no vhost '{}'", b.source, b.vhost))?;
        let arguments = b.arguments.to_field_table();
        let result = match b.destination_type {
            DestinationType::Queue => vhost.queue_bind(
                &b.destination,
                &b.source,
                &b.routing_key,
                &arguments,
                SYSTEM_CONNECTION,
            ),
            DestinationType::Exchange => {
                vhost.exchange_bind(&b.destination, &b.source, &b.routing_key, &arguments)
            }
        };
        result.map_err(|e| {
            format!(
                "binding '{}' -> '{}': {}",
                b.source,
                b.destination,
                e.reply_text()
            )
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::broker::store::MemoryStore;
    use crate::message::{BasicProperties, Message};

    #[test]
    fn config_topology_is_declared_and_routes() {
        let config = crate::config::parse(
            r#"
topology:
  exchanges: [ { name: orders, type: topic, durable: true } ]
  queues: [ { name: eu-orders, durable: true, arguments: { x-max-length: 10 } } ]
  bindings: [ { source: orders, destination: eu-orders, destination_type: queue, routing_key: "eu.#" } ]
"#,
            "inline.yaml",
        )
        .unwrap();
        let broker = Broker::open(Arc::new(MemoryStore::new()), &config.vhosts).unwrap();
        declare(&broker, &config.topology).unwrap();
        // Idempotent on a second start.
        declare(&broker, &config.topology).unwrap();
        let vhost = broker.vhost("/").unwrap();
        let m = Message::new(
            "orders",
            "eu.de",
            BasicProperties::default(),
            bytes::Bytes::from_static(b"x"),
        );
        assert!(vhost.publish(m, false, None).unwrap().routed);
        assert_eq!(vhost.queue("eu-orders").unwrap().args.max_length, Some(10));
    }

    #[test]
    fn conflicting_topology_names_the_entity() {
        let config = crate::config::parse(
            "topology:\n  queues: [ { name: q, durable: true } ]\n",
            "inline.yaml",
        )
        .unwrap();
        let broker = Broker::open(Arc::new(MemoryStore::new()), &config.vhosts).unwrap();
        // What the store already holds differs from the file.
        let vhost = broker.vhost("/").unwrap();
        vhost
            .queue_declare("q", QueueOptions::default(), 1)
            .unwrap();
        let err = declare(&broker, &config.topology).unwrap_err();
        assert!(
            err.contains("queue 'q'") && err.contains("PRECONDITION_FAILED"),
            "{err}"
        );
    }
}
