//! A route's two ends, whatever their protocol: a [`Source`] to read and acknowledge, a
//! [`Sink`] to send to and await confirms from. One enum variant per kind of peer keeps
//! the worker free of protocol detail.
//!
//! Each route opens its own connections (one for the source, one for the target, one for
//! dead letters): routes fail, reconnect and reload independently, and a slow target never
//! holds back another route. A connection's `client_id` is used by the route's source only
//! (durable subscriptions are keyed by it); targets get generated ids.

use std::sync::Arc;
use std::time::Duration;

use crate::amqp::connector::{AmqpClientConfig, AmqpConnector, AmqpConsumer, AmqpPublisher};
use crate::broker::Broker;
use crate::client::{ClientError, Confirm, Received};
use crate::config::{ConnectionConfig, ConnectionKind, SourceAddress, SourceConfig, TargetConfig};
use crate::message::jms::JmsDestination;
use crate::openwire::client::{
    ConsumerOptions, OpenWireClient, OpenWireClientConfig, OpenWireConsumer, OpenWireProducer,
};
use crate::outlet::smtp::{SmtpConfig, SmtpOutlet};
use crate::selector::Selector;
use crate::stomp::client::{StompClient, StompClientConfig, StompSubscription, SubscribeOptions};

use super::core::{CoreSink, CoreSource};
use super::translate::{Outbound, Target};

/// Bounds connecting to a peer (TCP and the protocol handshake).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// SMTP command timeout.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// What a route needs to open its ends.
#[derive(Debug)]
pub struct Context {
    pub broker: Arc<Broker>,
}

/// Where a route reads.
pub enum Source {
    Core(CoreSource),
    Amqp {
        consumer: AmqpConsumer,
        connection: AmqpConnector,
    },
    Stomp {
        subscription: StompSubscription,
        client: StompClient,
    },
    OpenWire {
        consumer: OpenWireConsumer,
        client: OpenWireClient,
    },
}

impl Source {
    pub async fn open(
        config: &SourceConfig,
        connection: Option<&ConnectionConfig>,
        prefetch: u16,
        ctx: &Context,
    ) -> Result<Source, ClientError> {
        let Some(connection) = connection else {
            let SourceAddress::Queue(queue) = &config.address else {
                return Err(ClientError::rejected("a core source reads a queue"));
            };
            return Ok(Source::Core(CoreSource::open(
                &ctx.broker,
                &config.vhost,
                queue,
                config.selector.as_deref(),
                prefetch,
            )?));
        };
        match &connection.kind {
            ConnectionKind::Amqp { .. } => {
                let SourceAddress::Queue(queue) = &config.address else {
                    return Err(ClientError::rejected("an AMQP source reads a queue"));
                };
                let amqp = AmqpConnector::connect(&amqp_config(&connection.kind)).await?;
                let consumer = amqp.consumer(queue, prefetch).await?;
                Ok(Source::Amqp {
                    consumer,
                    connection: amqp,
                })
            }
            ConnectionKind::Stomp { .. } => {
                let client = StompClient::connect(&stomp_config(&connection.kind, true)).await?;
                let (destination, durable_name) = match &config.address {
                    SourceAddress::Queue(q) => (format!("/queue/{q}"), None),
                    SourceAddress::Topic { name, subscription } => {
                        (format!("/topic/{name}"), subscription.clone())
                    }
                };
                let options = SubscribeOptions {
                    selector: config.selector.clone(),
                    prefetch,
                    durable_name,
                };
                let subscription = client.subscribe(&destination, options).await?;
                Ok(Source::Stomp {
                    subscription,
                    client,
                })
            }
            ConnectionKind::OpenWire { .. } => {
                let client =
                    OpenWireClient::connect(&openwire_config(&connection.kind, true)).await?;
                let (destination, durable_subscription) = match &config.address {
                    SourceAddress::Queue(q) => (JmsDestination::queue(q.clone()), None),
                    SourceAddress::Topic { name, subscription } => {
                        (JmsDestination::topic(name.clone()), subscription.clone())
                    }
                };
                let options = ConsumerOptions {
                    selector: config.selector.clone(),
                    durable_subscription,
                    prefetch,
                };
                let consumer = client.consumer(&destination, options).await?;
                Ok(Source::OpenWire { consumer, client })
            }
            ConnectionKind::Smtp { .. } => Err(ClientError::rejected(format!(
                "connection '{}' is smtp: it can only be a target",
                connection.name
            ))),
        }
    }

    /// True when the peer cannot select messages, so the route applies the selector
    /// itself (AMQP brokers have no selectors).
    pub fn needs_bridge_selector(&self) -> bool {
        matches!(self, Source::Amqp { .. })
    }

    /// The next message. Cancel-safe: a message is never lost when this future is dropped.
    pub async fn recv(&mut self) -> Result<Received, ClientError> {
        match self {
            Source::Core(s) => s.recv().await,
            Source::Amqp { consumer, .. } => consumer.recv().await,
            Source::Stomp { subscription, .. } => subscription.recv().await,
            Source::OpenWire { consumer, .. } => consumer.recv().await,
        }
    }

    pub async fn ack(&mut self, tag: u64) -> Result<(), ClientError> {
        match self {
            Source::Core(s) => s.ack(tag),
            Source::Amqp { consumer, .. } => consumer.ack(tag).await,
            Source::Stomp { subscription, .. } => subscription.ack(tag).await,
            Source::OpenWire { consumer, .. } => consumer.ack(tag).await,
        }
    }

    /// Acknowledge settled messages, oldest first. Every message received before the
    /// last of them is settled too (the worker settles in order), so where the protocol
    /// has a cumulative ack (AMQP `multiple`), one frame acknowledges them all.
    pub async fn ack_all(&mut self, tags: &[u64]) -> Result<(), ClientError> {
        let Some(&last) = tags.last() else {
            return Ok(());
        };
        match self {
            Source::Core(s) => s.ack_through(last),
            Source::Amqp { consumer, .. } => consumer.ack_through(last).await,
            _ => {
                for &tag in tags {
                    self.ack(tag).await?;
                }
                Ok(())
            }
        }
    }

    /// Give a message up when the route has no dead-letter target: back to the source
    /// without requeue, so the source's own dead-lettering applies (a core or AMQP queue's
    /// dead-letter exchange, ActiveMQ's DLQ).
    pub async fn give_up(&mut self, tag: u64) -> Result<(), ClientError> {
        match self {
            Source::Core(s) => s.reject(tag),
            Source::Amqp { consumer, .. } => consumer.nack(tag, false).await,
            Source::Stomp { subscription, .. } => subscription.reject(tag).await,
            Source::OpenWire { consumer, .. } => {
                consumer
                    .poison(tag, "mqbridge route: the target refused the message")
                    .await
            }
        }
    }

    pub async fn close(self) {
        match self {
            Source::Core(s) => drop(s),
            Source::Amqp {
                consumer,
                connection,
            } => {
                drop(consumer);
                connection.close().await;
            }
            Source::Stomp {
                subscription,
                client,
            } => {
                drop(subscription);
                client.close().await;
            }
            Source::OpenWire { consumer, client } => {
                drop(consumer);
                client.close().await;
            }
        }
    }
}

/// Compile a source's selector for evaluation in the bridge.
pub fn bridge_selector(config: &SourceConfig) -> Option<Selector> {
    config
        .selector
        .as_deref()
        .and_then(|s| Selector::parse(s).ok())
}

/// Where a route writes.
pub enum Sink {
    Core(CoreSink),
    Amqp {
        publisher: AmqpPublisher,
        connection: AmqpConnector,
    },
    Stomp(StompClient),
    OpenWire {
        producer: OpenWireProducer,
        client: OpenWireClient,
    },
    Smtp(Arc<SmtpOutlet>),
}

impl Sink {
    pub async fn open(
        config: &TargetConfig,
        connection: Option<&ConnectionConfig>,
        ctx: &Context,
    ) -> Result<Sink, ClientError> {
        let Some(connection) = connection else {
            return Ok(Sink::Core(CoreSink::open(&ctx.broker, &config.vhost)?));
        };
        match &connection.kind {
            ConnectionKind::Amqp { .. } => {
                let amqp = AmqpConnector::connect(&amqp_config(&connection.kind)).await?;
                let publisher = amqp.publisher().await?;
                Ok(Sink::Amqp {
                    publisher,
                    connection: amqp,
                })
            }
            ConnectionKind::Stomp { .. } => Ok(Sink::Stomp(
                StompClient::connect(&stomp_config(&connection.kind, false)).await?,
            )),
            ConnectionKind::OpenWire { .. } => {
                let client =
                    OpenWireClient::connect(&openwire_config(&connection.kind, false)).await?;
                let producer = client.producer().await?;
                Ok(Sink::OpenWire { producer, client })
            }
            ConnectionKind::Smtp {
                url,
                user,
                password,
                from,
                pool_size,
            } => {
                let config = SmtpConfig {
                    url: url.clone(),
                    user: user.clone(),
                    password: password.as_ref().map(|p| p.0.clone()),
                    from: from.clone(),
                    pool_size: *pool_size,
                    timeout: SMTP_TIMEOUT,
                };
                // A bad URL or sender was checked at load; this is what is left.
                let outlet = SmtpOutlet::new(&config).map_err(ClientError::rejected)?;
                Ok(Sink::Smtp(Arc::new(outlet)))
            }
        }
    }

    /// Send one message; the returned confirm resolves when the peer took it.
    pub async fn send(&self, outbound: &Outbound) -> Result<Confirm, ClientError> {
        let message = &outbound.message;
        match (self, &outbound.target) {
            (Sink::Core(sink), Target::Exchange { .. }) => Ok(sink.publish(message.clone())),
            (
                Sink::Amqp { publisher, .. },
                Target::Exchange {
                    exchange,
                    routing_key,
                },
            ) => {
                // Mandatory: a message no queue takes is refused (retried, then
                // dead-lettered) instead of vanishing, as for core targets.
                publisher
                    .publish(exchange, routing_key, message, true)
                    .await
            }
            (Sink::Stomp(client), target) => {
                let destination = match target {
                    Target::Queue(q) => format!("/queue/{q}"),
                    Target::Topic(t) => format!("/topic/{t}"),
                    Target::Destination(d) => d.clone(),
                    other => return Err(mismatch(other)),
                };
                client.send(&destination, message).await
            }
            (Sink::OpenWire { producer, .. }, target) => {
                let destination = match target {
                    Target::Queue(q) => JmsDestination::queue(q.clone()),
                    Target::Topic(t) => JmsDestination::topic(t.clone()),
                    other => return Err(mismatch(other)),
                };
                producer.send(&destination, message).await
            }
            (Sink::Smtp(outlet), Target::Mail(spec)) => {
                // lettre sends one mail per call; run it aside so the route keeps several
                // in flight (the pool bounds the connections).
                let (tx, confirm) = Confirm::pending();
                let outlet = outlet.clone();
                let spec = spec.clone();
                let message = message.clone();
                tokio::spawn(async move {
                    tx.send(outlet.send(&spec, &message).await);
                });
                Ok(confirm)
            }
            (_, other) => Err(mismatch(other)),
        }
    }

    pub async fn close(self) {
        match self {
            Sink::Core(_) | Sink::Smtp(_) => {}
            Sink::Amqp {
                publisher,
                connection,
            } => {
                drop(publisher);
                connection.close().await;
            }
            Sink::Stomp(client) => client.close().await,
            Sink::OpenWire { producer, client } => {
                drop(producer);
                client.close().await;
            }
        }
    }
}

/// A target the sink cannot carry: a config the validation should have refused.
fn mismatch(target: &Target) -> ClientError {
    ClientError::rejected(format!("this connection cannot carry {target:?}"))
}

fn amqp_config(kind: &ConnectionKind) -> AmqpClientConfig {
    let (urls, heartbeat) = match kind {
        ConnectionKind::Amqp { urls, heartbeat } => {
            (urls.iter().map(|u| u.0.clone()).collect(), *heartbeat)
        }
        _ => (Vec::new(), 0),
    };
    AmqpClientConfig {
        urls,
        connect_timeout: CONNECT_TIMEOUT,
        heartbeat,
        product: "mqbridge",
    }
}

fn stomp_config(kind: &ConnectionKind, source: bool) -> StompClientConfig {
    let mut config = StompClientConfig {
        connect_timeout: CONNECT_TIMEOUT,
        ..StompClientConfig::default()
    };
    if let ConnectionKind::Stomp {
        addresses,
        user,
        password,
        host,
        heartbeat,
        client_id,
    } = kind
    {
        config.addresses = addresses.clone();
        config.login = user.clone();
        config.passcode = password.as_ref().map(|p| p.0.clone());
        config.host = host.clone();
        config.heartbeat = *heartbeat;
        config.client_id = if source { client_id.clone() } else { None };
    }
    config
}

fn openwire_config(kind: &ConnectionKind, source: bool) -> OpenWireClientConfig {
    let mut config = OpenWireClientConfig {
        addresses: Vec::new(),
        user: None,
        password: None,
        client_id: None,
        connect_timeout: CONNECT_TIMEOUT,
    };
    if let ConnectionKind::OpenWire {
        addresses,
        user,
        password,
        client_id,
    } = kind
    {
        config.addresses = addresses.clone();
        config.user = user.clone();
        config.password = password.as_ref().map(|p| p.0.clone());
        config.client_id = if source { client_id.clone() } else { None };
    }
    config
}
