//! The AMQP 0-9-1 connector: a lapin client to an external broker or cluster, for routes.
//!
//! This module owns one lapin [`Connection`](lapin::Connection) per [`AmqpConnector`], the
//! channels opened on it (one per [`AmqpConsumer`], one per [`AmqpPublisher`]) and the
//! mapping of lapin's outcomes onto [`ErrorKind`](crate::client::ErrorKind). It does not
//! reconnect: lapin's auto-recovery has open bugs (lapin#450, deps.md §2), so it is left
//! off and the route engine reconnects with backoff when it sees a `Connection` error.
//!
//! | outcome | kind |
//! |---|---|
//! | no URL reachable, handshake/auth failure, connection lost, heartbeat missed, connection-level (hard) AMQP error, consumer cancelled | `Connection` |
//! | channel-level (soft) AMQP error, e.g. `404 NOT_FOUND` (missing exchange or queue), `403 ACCESS_REFUSED`, `406 PRECONDITION_FAILED` | `Refused`, text `"404 NOT_FOUND - no exchange 'x' in vhost '/'"` |
//! | publisher confirm `basic.nack` | `Refused` |
//! | `mandatory` publish returned unroutable (`basic.return`) | `Refused`, text `"unroutable: 312 NO_ROUTE"` |
//! | exchange or routing key longer than 255 bytes | `Rejected` (the message can never be published as is) |
//!
//! Properties and body pass through unchanged: lapin uses the same amq-protocol
//! `BasicProperties` as the core [`Message`].
//!
//! A channel closed by the broker (e.g. after a publish to a missing exchange) is reopened
//! by the publisher on its next publish while the connection is up, so one bad destination
//! does not force a reconnect. A consumer's channel is not reopened: its delivery tags died
//! with it, so the route must start a new consumer.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicNackOptions, BasicPublishOptions, BasicQosOptions,
    ConfirmSelectOptions, QueueDeclareOptions,
};
use lapin::types::FieldTable;
use lapin::uri::AMQPUri;
use lapin::{Channel, Confirmation, Connection, ConnectionProperties};
use tokio::sync::Mutex;

use crate::client::{ClientError, Confirm, Received};
use crate::message::{short_string, Message, ShortString};

/// Where to connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmqpClientConfig {
    /// `amqp://user:pass@host:port/vhost` (or `amqps://`), tried in turn (a cluster).
    pub urls: Vec<String>,
    /// Limit for each URL's TCP connect + AMQP handshake.
    pub connect_timeout: Duration,
    /// Heartbeat interval proposed to the broker, seconds; 0 disables heartbeats.
    pub heartbeat: u16,
    /// `client_properties.product`: what the broker's connection list shows as the client.
    pub product: &'static str,
}

/// One connection to an external AMQP 0-9-1 broker.
pub struct AmqpConnector {
    connection: Arc<Connection>,
    /// [`supports_selectors`](Self::supports_selectors), once asked.
    selectors: tokio::sync::OnceCell<bool>,
    /// The URL connected to, password redacted (for logs and error texts).
    url: String,
}

impl std::fmt::Debug for AmqpConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AmqpConnector")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl AmqpConnector {
    /// Connect to the first URL of `config.urls` that answers; the error names every URL
    /// tried, with its failure (passwords redacted).
    pub async fn connect(config: &AmqpClientConfig) -> Result<Self, ClientError> {
        if config.urls.is_empty() {
            return Err(ClientError::connection("no AMQP URL configured"));
        }
        let mut failures = Vec::new();
        for url in &config.urls {
            let shown = redact_url(url);
            match connect_one(url, config).await {
                Ok(connection) => {
                    tracing::debug!(url = %shown, "AMQP connector connected");
                    return Ok(AmqpConnector {
                        connection: Arc::new(connection),
                        selectors: tokio::sync::OnceCell::new(),
                        url: shown,
                    });
                }
                Err(e) => failures.push(format!("{shown}: {e}")),
            }
        }
        Err(ClientError::connection(format!(
            "could not connect to any AMQP URL ({})",
            failures.join("; ")
        )))
    }

    /// The URL this connector is connected to, password redacted.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A consumer of `queue` on its own channel, with `basic.qos(prefetch)` and manual acks.
    /// The queue must exist (checked with a passive declare; never created here).
    pub async fn consumer(&self, queue: &str, prefetch: u16) -> Result<AmqpConsumer, ClientError> {
        self.consumer_with_arguments(queue, prefetch, FieldTable::default())
            .await
    }

    /// [`consumer`](Self::consumer) with `basic.consume` arguments (e.g. mqbridge's
    /// `x-selector`, see [`supports_selectors`](Self::supports_selectors)).
    pub async fn consumer_with_arguments(
        &self,
        queue: &str,
        prefetch: u16,
        arguments: FieldTable,
    ) -> Result<AmqpConsumer, ClientError> {
        let queue_name = short_string(queue).map_err(ClientError::rejected)?;
        let channel = self
            .connection
            .create_channel()
            .await
            .map_err(lapin_error)?;
        channel
            .queue_declare(
                queue_name.clone(),
                QueueDeclareOptions {
                    passive: true,
                    ..Default::default()
                },
                FieldTable::default(),
            )
            .await
            .map_err(lapin_error)?;
        channel
            .basic_qos(prefetch, BasicQosOptions::default())
            .await
            .map_err(lapin_error)?;
        let consumer = channel
            .basic_consume(
                queue_name,
                ShortString::from(""),
                BasicConsumeOptions::default(),
                arguments,
            )
            .await
            .map_err(lapin_error)?;
        Ok(AmqpConsumer {
            channel,
            consumer,
            shared: false,
        })
    }

    /// Whether the broker filters consumers by a JMS selector given as the `basic.consume`
    /// argument `x-selector` (mqbridge's AMQP listener does; RabbitMQ ignores unknown
    /// consume arguments and would deliver everything). mqbridge announces it as the server
    /// capability `x-selector`, but lapin does not expose the server properties, so this
    /// asks by behaviour instead: a consume with an invalid selector on a throw-away
    /// server-named queue is refused with 406 PRECONDITION_FAILED naming the selector only
    /// by a broker that evaluates selectors. Asked once per connection.
    pub async fn supports_selectors(&self) -> Result<bool, ClientError> {
        self.selectors
            .get_or_try_init(|| async {
                let channel = self
                    .connection
                    .create_channel()
                    .await
                    .map_err(lapin_error)?;
                let queue = channel
                    .queue_declare(
                        ShortString::from(""),
                        QueueDeclareOptions {
                            exclusive: true,
                            auto_delete: true,
                            ..Default::default()
                        },
                        FieldTable::default(),
                    )
                    .await
                    .map_err(lapin_error)?;
                let mut arguments = FieldTable::default();
                arguments.insert(
                    ShortString::from("x-selector"),
                    lapin::types::AMQPValue::LongString("(".into()),
                );
                let probe = channel
                    .basic_consume(
                        queue.name().clone(),
                        ShortString::from(""),
                        BasicConsumeOptions::default(),
                        arguments,
                    )
                    .await;
                let supported = match probe {
                    Ok(_) => false,
                    Err(e) => {
                        let text = describe(&e);
                        if !e.is_amqp_soft_error() {
                            return Err(ClientError::connection(text));
                        }
                        text.starts_with("406") && text.contains("selector")
                    }
                };
                if channel.status().connected() {
                    let _ = channel.close(200, ShortString::from("probed")).await;
                }
                Ok(supported)
            })
            .await
            .copied()
    }

    /// Declare `queue` with the given durability and auto-delete flags, not exclusive
    /// (a JMS 2.0 shared subscription's queue: durable, or deleted by the broker when its
    /// last consumer goes). An existing queue with other flags is a `Refused` error.
    pub async fn declare_shared_queue(
        &self,
        queue: &str,
        durable: bool,
        auto_delete: bool,
    ) -> Result<(), ClientError> {
        let options = QueueDeclareOptions {
            durable,
            auto_delete,
            ..Default::default()
        };
        self.declare(queue, options).await
    }

    /// The number of consumers of `queue` (passive declare), `None` if it does not exist.
    pub async fn queue_consumer_count(&self, queue: &str) -> Result<Option<u32>, ClientError> {
        let queue_name = short_string(queue).map_err(ClientError::rejected)?;
        let channel = self
            .connection
            .create_channel()
            .await
            .map_err(lapin_error)?;
        let declared = channel
            .queue_declare(
                queue_name,
                QueueDeclareOptions {
                    passive: true,
                    ..Default::default()
                },
                FieldTable::default(),
            )
            .await;
        match declared {
            Ok(q) => {
                let _ = channel.close(200, ShortString::from("declared")).await;
                Ok(Some(q.consumer_count()))
            }
            Err(e) if describe(&e).starts_with("404") => Ok(None),
            Err(e) => Err(lapin_error(e)),
        }
    }

    /// Declare `queue` durable (as the OpenWire listener does for a JMS queue): an existing
    /// queue with other arguments is a `Refused` error. Uses a short-lived channel.
    pub async fn declare_queue(&self, queue: &str) -> Result<(), ClientError> {
        let options = QueueDeclareOptions {
            durable: true,
            ..Default::default()
        };
        self.declare(queue, options).await
    }

    /// Declare `queue` exclusive to this connection (a JMS temporary queue: only this
    /// connection may consume it, and the broker deletes it when the connection closes).
    pub async fn declare_exclusive_queue(&self, queue: &str) -> Result<(), ClientError> {
        let options = QueueDeclareOptions {
            exclusive: true,
            ..Default::default()
        };
        self.declare(queue, options).await
    }

    async fn declare(&self, queue: &str, options: QueueDeclareOptions) -> Result<(), ClientError> {
        let queue_name = short_string(queue).map_err(ClientError::rejected)?;
        let channel = self
            .connection
            .create_channel()
            .await
            .map_err(lapin_error)?;
        channel
            .queue_declare(queue_name, options, FieldTable::default())
            .await
            .map_err(lapin_error)?;
        let _ = channel.close(200, ShortString::from("declared")).await;
        Ok(())
    }

    /// Bind `queue` to `exchange` with `binding_key` (a durable topic subscription's queue).
    pub async fn bind_queue(
        &self,
        queue: &str,
        exchange: &str,
        binding_key: &str,
    ) -> Result<(), ClientError> {
        let queue = short_string(queue).map_err(ClientError::rejected)?;
        let exchange = short_string(exchange).map_err(ClientError::rejected)?;
        let binding_key = short_string(binding_key).map_err(ClientError::rejected)?;
        let channel = self
            .connection
            .create_channel()
            .await
            .map_err(lapin_error)?;
        channel
            .queue_bind(
                queue,
                exchange,
                binding_key,
                lapin::options::QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await
            .map_err(lapin_error)?;
        let _ = channel.close(200, ShortString::from("bound")).await;
        Ok(())
    }

    /// Delete `queue` (with its messages).
    pub async fn delete_queue(&self, queue: &str) -> Result<(), ClientError> {
        let queue_name = short_string(queue).map_err(ClientError::rejected)?;
        let channel = self
            .connection
            .create_channel()
            .await
            .map_err(lapin_error)?;
        channel
            .queue_delete(queue_name, lapin::options::QueueDeleteOptions::default())
            .await
            .map_err(lapin_error)?;
        let _ = channel.close(200, ShortString::from("deleted")).await;
        Ok(())
    }

    /// A consumer of a fresh server-named, exclusive, auto-delete queue bound to `exchange`
    /// with `binding_key` (a non-durable topic subscription: the queue dies with the
    /// consumer's channel), with `basic.qos(prefetch)` and manual acks.
    pub async fn subscriber(
        &self,
        exchange: &str,
        binding_key: &str,
        prefetch: u16,
    ) -> Result<AmqpConsumer, ClientError> {
        let exchange = short_string(exchange).map_err(ClientError::rejected)?;
        let binding_key = short_string(binding_key).map_err(ClientError::rejected)?;
        let channel = self
            .connection
            .create_channel()
            .await
            .map_err(lapin_error)?;
        let queue_name = declare_bound_subscription_queue(&channel, exchange, binding_key).await?;
        channel
            .basic_qos(prefetch, BasicQosOptions::default())
            .await
            .map_err(lapin_error)?;
        let consumer = channel
            .basic_consume(
                queue_name,
                ShortString::from(""),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await
            .map_err(lapin_error)?;
        Ok(AmqpConsumer {
            channel,
            consumer,
            shared: false,
        })
    }

    /// A publisher on its own channel in confirm mode.
    pub async fn publisher(&self) -> Result<AmqpPublisher, ClientError> {
        let channel = confirm_channel(&self.connection).await?;
        Ok(AmqpPublisher {
            connection: self.connection.clone(),
            channel: Mutex::new(channel),
        })
    }

    /// The connection is open (not closing, closed or failed).
    pub fn is_connected(&self) -> bool {
        self.connection.status().connected()
    }

    /// Close the connection (`connection.close` 200); errors are ignored (it may be dead).
    pub async fn close(self) {
        self.close_shared().await;
    }

    /// [`close`](Self::close) for a connector shared behind an `Arc` (the JNI shim's
    /// sessions hold one): later calls on it fail with `Connection` errors.
    pub async fn close_shared(&self) {
        if self.connection.status().connected() {
            let _ = self
                .connection
                .close(200, ShortString::from("mqbridge connector closing"))
                .await;
        }
    }
}

async fn connect_one(url: &str, config: &AmqpClientConfig) -> Result<Connection, String> {
    let mut uri: AMQPUri = url.parse().map_err(|e| format!("invalid URL: {e}"))?;
    uri.query.heartbeat = Some(config.heartbeat);
    let timeout_ms = u64::try_from(config.connect_timeout.as_millis()).unwrap_or(u64::MAX);
    uri.query.connection_timeout = Some(timeout_ms);
    let properties = ConnectionProperties::default()
        .with_connection_name(lapin::types::LongString::from("mqbridge connector"))
        // lapin replaces `product` unless `version` is set as well.
        .with_client_property("product".into(), config.product.into())
        .with_client_property("version".into(), env!("CARGO_PKG_VERSION").into());
    match tokio::time::timeout(
        config.connect_timeout,
        Connection::connect_uri(uri, properties),
    )
    .await
    {
        Ok(Ok(connection)) => Ok(connection),
        Ok(Err(e)) => Err(describe(&e)),
        Err(_) => Err(format!(
            "no connection within {} ms",
            config.connect_timeout.as_millis()
        )),
    }
}

/// A fresh server-named, exclusive, auto-delete queue bound to `exchange` with
/// `binding_key` (a non-durable topic subscription's queue); returns its name.
async fn declare_bound_subscription_queue(
    channel: &Channel,
    exchange: ShortString,
    binding_key: ShortString,
) -> Result<ShortString, ClientError> {
    let queue = channel
        .queue_declare(
            ShortString::from(""),
            QueueDeclareOptions {
                exclusive: true,
                auto_delete: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await
        .map_err(lapin_error)?;
    let queue_name = queue.name().clone();
    channel
        .queue_bind(
            queue_name.clone(),
            exchange,
            binding_key,
            lapin::options::QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .map_err(lapin_error)?;
    Ok(queue_name)
}

async fn confirm_channel(connection: &Connection) -> Result<Channel, ClientError> {
    let channel = connection.create_channel().await.map_err(lapin_error)?;
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await
        .map_err(lapin_error)?;
    Ok(channel)
}

/// A consumer with manual acks on its own channel.
pub struct AmqpConsumer {
    channel: Channel,
    consumer: lapin::Consumer,
    /// On a channel it shares with others (an [`AmqpTxChannel`]): closing cancels the
    /// consumer instead of closing the channel.
    shared: bool,
}

impl std::fmt::Debug for AmqpConsumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AmqpConsumer")
            .field("queue", &self.consumer.queue().as_str())
            .finish_non_exhaustive()
    }
}

impl AmqpConsumer {
    /// The next delivery. A cancelled consumer or a closed channel/connection is a
    /// `Connection` error: start a new consumer (on a new connection if need be).
    pub async fn recv(&mut self) -> Result<Received, ClientError> {
        match self.consumer.next().await {
            Some(Ok(delivery)) => Ok(Received {
                message: Message::new(
                    delivery.exchange.as_str(),
                    delivery.routing_key.as_str(),
                    delivery.properties,
                    Bytes::from(delivery.data),
                ),
                redelivered: delivery.redelivered,
                tag: delivery.delivery_tag,
            }),
            Some(Err(e)) => Err(ClientError::connection(format!(
                "AMQP consumer stopped: {}",
                describe(&e)
            ))),
            None => Err(ClientError::connection(
                "AMQP consumer cancelled (queue deleted or channel closed)",
            )),
        }
    }

    /// Close the consumer's channel: deliveries not yet acknowledged go back to the queue.
    /// Errors are ignored (the channel may already be dead). A consumer on a shared channel
    /// is cancelled instead (see [`cancel`](Self::cancel)).
    pub async fn close(self) {
        if self.shared {
            let _ = self.cancel().await;
            return;
        }
        if self.channel.status().connected() {
            let _ = self
                .channel
                .close(200, ShortString::from("consumer closing"))
                .await;
        }
    }

    /// Acknowledge one delivery.
    pub async fn ack(&self, tag: u64) -> Result<(), ClientError> {
        self.channel
            .basic_ack(tag, BasicAckOptions::default())
            .await
            .map_err(lapin_error)
    }

    /// Acknowledge every unacknowledged delivery up to and including `tag` in one frame
    /// (`basic.ack` with `multiple`).
    pub async fn ack_through(&self, tag: u64) -> Result<(), ClientError> {
        self.channel
            .basic_ack(tag, BasicAckOptions { multiple: true })
            .await
            .map_err(lapin_error)
    }

    /// Reject one delivery; `requeue` puts it back on the queue (redelivered), otherwise the
    /// broker drops or dead-letters it.
    pub async fn nack(&self, tag: u64, requeue: bool) -> Result<(), ClientError> {
        self.channel
            .basic_nack(
                tag,
                BasicNackOptions {
                    multiple: false,
                    requeue,
                },
            )
            .await
            .map_err(lapin_error)
    }
}

/// A publisher with confirms on its own channel (reopened after a channel-level error).
pub struct AmqpPublisher {
    connection: Arc<Connection>,
    channel: Mutex<Channel>,
}

impl std::fmt::Debug for AmqpPublisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AmqpPublisher").finish_non_exhaustive()
    }
}

impl AmqpPublisher {
    /// Publish `message` (its properties and body; its own exchange and routing key are
    /// ignored) to `exchange` with `routing_key`. Returns once the message is written; the
    /// [`Confirm`] resolves with the broker's confirm (see the module doc for errors).
    pub async fn publish(
        &self,
        exchange: &str,
        routing_key: &str,
        message: &Message,
        mandatory: bool,
    ) -> Result<Confirm, ClientError> {
        let exchange = short_string(exchange)
            .map_err(|e| ClientError::rejected(format!("exchange name: {e}")))?;
        let routing_key = short_string(routing_key)
            .map_err(|e| ClientError::rejected(format!("routing key: {e}")))?;
        let channel = self.channel().await?;
        let pending = channel
            .basic_publish(
                exchange,
                routing_key,
                BasicPublishOptions {
                    mandatory,
                    immediate: false,
                },
                &message.body,
                message.properties.clone(),
            )
            .await
            .map_err(lapin_error)?;
        let (sender, confirm) = Confirm::pending();
        // lapin resolves the confirm from its io loop; a task bridges it to our Confirm so
        // the caller can keep publishing (pipelining) and await confirms later.
        tokio::spawn(async move {
            let result = match pending.await {
                Ok(Confirmation::Ack(None)) | Ok(Confirmation::NotRequested) => Ok(()),
                Ok(Confirmation::Ack(Some(returned))) | Ok(Confirmation::Nack(Some(returned))) => {
                    Err(ClientError::refused(format!(
                        "unroutable: {} {}",
                        returned.reply_code,
                        returned.reply_text.as_str()
                    )))
                }
                Ok(Confirmation::Nack(None)) => Err(ClientError::refused(
                    "the broker refused the message (basic.nack)",
                )),
                Err(e) => Err(lapin_error(e)),
            };
            sender.send(result);
        });
        Ok(confirm)
    }

    /// The publishing channel, reopened in confirm mode if the broker closed it while the
    /// connection is still up.
    async fn channel(&self) -> Result<Channel, ClientError> {
        let mut channel = self.channel.lock().await;
        if !channel.status().connected() {
            if !self.connection.status().connected() {
                return Err(ClientError::connection("AMQP connection closed"));
            }
            *channel = confirm_channel(&self.connection).await?;
        }
        Ok(channel.clone())
    }
}

/// How long a cancel waits for the broker's cancel-ok and the deliveries before it.
const CANCEL_TIMEOUT: Duration = Duration::from_secs(5);

impl AmqpConsumer {
    /// Cancel the consumer (`basic.cancel`) and keep its channel open. Returns the delivery
    /// tags of the deliveries that had reached this client but were never taken with
    /// [`recv`](Self::recv): they are still unacknowledged on the channel, so the caller
    /// must nack (requeue) them. Errors are ignored (the channel may already be dead).
    pub async fn cancel(mut self) -> Vec<u64> {
        let tag = self.consumer.tag();
        if !self.channel.status().connected() {
            return Vec::new();
        }
        if self
            .channel
            .basic_cancel(tag, lapin::options::BasicCancelOptions::default())
            .await
            .is_err()
        {
            return Vec::new();
        }
        // After cancel-ok the stream yields what was buffered, then ends.
        let mut tags = Vec::new();
        let drain = async {
            while let Some(Ok(delivery)) = self.consumer.next().await {
                tags.push(delivery.delivery_tag);
            }
        };
        let _ = tokio::time::timeout(CANCEL_TIMEOUT, drain).await;
        tags
    }
}

impl AmqpConnector {
    /// Declare `queue` durable with `arguments` (e.g. `x-message-ttl`, dead-lettering,
    /// `x-expires`), on a short-lived channel. Re-declaring an existing queue with the same
    /// arguments is a no-op for the queue but resets its `x-expires` timer.
    pub async fn declare_queue_with_args(
        &self,
        queue: &str,
        arguments: FieldTable,
    ) -> Result<(), ClientError> {
        let queue_name = short_string(queue).map_err(ClientError::rejected)?;
        let channel = self
            .connection
            .create_channel()
            .await
            .map_err(lapin_error)?;
        channel
            .queue_declare(
                queue_name,
                QueueDeclareOptions {
                    durable: true,
                    ..Default::default()
                },
                arguments,
            )
            .await
            .map_err(lapin_error)?;
        let _ = channel.close(200, ShortString::from("declared")).await;
        Ok(())
    }

    /// Check that `queue` exists and may be consumed by this connection (a passive declare
    /// on a short-lived channel, so a refusal does not close a shared channel).
    async fn check_queue(&self, queue: &ShortString) -> Result<(), ClientError> {
        let channel = self
            .connection
            .create_channel()
            .await
            .map_err(lapin_error)?;
        channel
            .queue_declare(
                queue.clone(),
                QueueDeclareOptions {
                    passive: true,
                    ..Default::default()
                },
                FieldTable::default(),
            )
            .await
            .map_err(lapin_error)?;
        let _ = channel.close(200, ShortString::from("checked")).await;
        Ok(())
    }

    /// A channel in transactional mode (`tx.select`): what is published and acknowledged on
    /// it takes effect at [`commit`](AmqpTxChannel::commit). Consumers created on it share
    /// it (their acks are part of the transaction).
    pub async fn tx_channel(&self) -> Result<AmqpTxChannel, ClientError> {
        let channel = self
            .connection
            .create_channel()
            .await
            .map_err(lapin_error)?;
        channel.tx_select().await.map_err(lapin_error)?;
        Ok(AmqpTxChannel {
            connection: self.connection.clone(),
            channel,
        })
    }

    /// A channel for browsing a queue with `basic.get` (see [`AmqpBrowser`]).
    pub async fn browser(&self, queue: &str) -> Result<AmqpBrowser, ClientError> {
        let queue = short_string(queue).map_err(ClientError::rejected)?;
        self.check_queue(&queue).await?;
        let channel = self
            .connection
            .create_channel()
            .await
            .map_err(lapin_error)?;
        Ok(AmqpBrowser { channel, queue })
    }
}

/// A transactional channel (`tx.select`) shared by one JMS transacted session's producers
/// and consumers. RabbitMQ and mqbridge's core keep publishes and acks/nacks made on it
/// until `tx.commit` and drop them at `tx.rollback`; `tx.rollback` does not requeue the
/// messages whose acks it dropped: they stay unacknowledged on the channel, so the caller
/// nacks them (see [`nack`](Self::nack)) or closes the channel.
pub struct AmqpTxChannel {
    connection: Arc<Connection>,
    channel: Channel,
}

impl std::fmt::Debug for AmqpTxChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AmqpTxChannel")
            .field("id", &self.channel.id())
            .finish_non_exhaustive()
    }
}

impl AmqpTxChannel {
    /// The channel is open (a channel error or the connection's loss closes it, and the
    /// broker then discards the open transaction).
    pub fn is_open(&self) -> bool {
        self.channel.status().connected()
    }

    /// Publish `message` to `exchange` with `routing_key` inside the transaction (no
    /// confirm: a transactional channel cannot be in confirm mode).
    pub async fn publish(
        &self,
        exchange: &str,
        routing_key: &str,
        message: &Message,
    ) -> Result<(), ClientError> {
        let exchange = short_string(exchange)
            .map_err(|e| ClientError::rejected(format!("exchange name: {e}")))?;
        let routing_key = short_string(routing_key)
            .map_err(|e| ClientError::rejected(format!("routing key: {e}")))?;
        self.channel
            .basic_publish(
                exchange,
                routing_key,
                BasicPublishOptions::default(),
                &message.body,
                message.properties.clone(),
            )
            .await
            .map_err(lapin_error)?;
        Ok(())
    }

    /// A consumer of `queue` on this channel (manual acks, `basic.qos(prefetch)`). The queue
    /// is checked on a separate channel first, so a missing or locked queue is an error for
    /// this call only and leaves the transaction alone.
    pub async fn consumer(
        &self,
        connector: &AmqpConnector,
        queue: &str,
        prefetch: u16,
    ) -> Result<AmqpConsumer, ClientError> {
        self.consumer_with_arguments(connector, queue, prefetch, FieldTable::default())
            .await
    }

    /// [`consumer`](Self::consumer) with `basic.consume` arguments (e.g. mqbridge's
    /// `x-selector`).
    pub async fn consumer_with_arguments(
        &self,
        connector: &AmqpConnector,
        queue: &str,
        prefetch: u16,
        arguments: FieldTable,
    ) -> Result<AmqpConsumer, ClientError> {
        let queue = short_string(queue).map_err(ClientError::rejected)?;
        connector.check_queue(&queue).await?;
        self.consume(queue, prefetch, arguments).await
    }

    /// A non-durable subscription on this channel: a server-named exclusive auto-delete
    /// queue bound to `exchange` with `binding_key` (declared on a separate channel of the
    /// same connection), consumed here.
    pub async fn subscriber(
        &self,
        exchange: &str,
        binding_key: &str,
        prefetch: u16,
    ) -> Result<AmqpConsumer, ClientError> {
        let exchange = short_string(exchange).map_err(ClientError::rejected)?;
        let binding_key = short_string(binding_key).map_err(ClientError::rejected)?;
        let scratch = self
            .connection
            .create_channel()
            .await
            .map_err(lapin_error)?;
        let queue_name = declare_bound_subscription_queue(&scratch, exchange, binding_key).await?;
        let _ = scratch.close(200, ShortString::from("bound")).await;
        self.consume(queue_name, prefetch, FieldTable::default())
            .await
    }

    async fn consume(
        &self,
        queue: ShortString,
        prefetch: u16,
        arguments: FieldTable,
    ) -> Result<AmqpConsumer, ClientError> {
        // Per-consumer qos (global=false) applies to the consumers started after it.
        self.channel
            .basic_qos(prefetch, BasicQosOptions::default())
            .await
            .map_err(lapin_error)?;
        let consumer = self
            .channel
            .basic_consume(
                queue,
                ShortString::from(""),
                BasicConsumeOptions::default(),
                arguments,
            )
            .await
            .map_err(lapin_error)?;
        Ok(AmqpConsumer {
            channel: self.channel.clone(),
            consumer,
            shared: true,
        })
    }

    /// `basic.ack` of a delivery on this channel; inside a transaction it takes effect at
    /// the next commit.
    pub async fn ack(&self, tag: u64) -> Result<(), ClientError> {
        self.channel
            .basic_ack(tag, BasicAckOptions::default())
            .await
            .map_err(lapin_error)
    }

    /// `basic.nack` (multiple=false) of a delivery on this channel; inside a transaction it
    /// takes effect at the next commit.
    pub async fn nack(&self, tag: u64, requeue: bool) -> Result<(), ClientError> {
        self.channel
            .basic_nack(
                tag,
                BasicNackOptions {
                    multiple: false,
                    requeue,
                },
            )
            .await
            .map_err(lapin_error)
    }

    /// `tx.commit`: the publishes and acks since the last commit or rollback take effect.
    pub async fn commit(&self) -> Result<(), ClientError> {
        self.channel.tx_commit().await.map_err(lapin_error)
    }

    /// `tx.rollback`: the publishes and acks since the last commit are dropped (the
    /// messages those acks were for stay unacknowledged; see the type's doc).
    pub async fn rollback(&self) -> Result<(), ClientError> {
        self.channel.tx_rollback().await.map_err(lapin_error)
    }

    /// Close the channel: the broker discards the open transaction and requeues every
    /// unacknowledged delivery. Errors are ignored (the channel may already be dead).
    pub async fn close(&self) {
        if self.channel.status().connected() {
            let _ = self
                .channel
                .close(200, ShortString::from("transacted session closing"))
                .await;
        }
    }
}

/// Browses a queue (a JMS QueueBrowser): `basic.get` without ack on a channel of its own,
/// each message held unacknowledged so the next get returns the next one; closing the
/// channel puts them all back. AMQP 0-9-1 has no non-destructive read, so the browsed
/// messages come back flagged redelivered (and mqbridge counts the delivery in
/// `x-delivery-count`), and other consumers do not see them while the browse is open.
pub struct AmqpBrowser {
    channel: Channel,
    queue: ShortString,
}

impl std::fmt::Debug for AmqpBrowser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AmqpBrowser")
            .field("queue", &self.queue.as_str())
            .finish_non_exhaustive()
    }
}

impl AmqpBrowser {
    /// The next message of the queue, or `None` when none is left.
    pub async fn next(&self) -> Result<Option<Received>, ClientError> {
        let got = self
            .channel
            .basic_get(
                self.queue.clone(),
                lapin::options::BasicGetOptions { no_ack: false },
            )
            .await
            .map_err(lapin_error)?;
        Ok(got.map(|g| {
            let delivery = g.delivery;
            Received {
                message: Message::new(
                    delivery.exchange.as_str(),
                    delivery.routing_key.as_str(),
                    delivery.properties,
                    Bytes::from(delivery.data),
                ),
                redelivered: delivery.redelivered,
                tag: delivery.delivery_tag,
            }
        }))
    }

    /// Close the channel: every browsed message goes back to the queue.
    pub async fn close(&self) {
        if self.channel.status().connected() {
            let _ = self
                .channel
                .close(200, ShortString::from("browser closing"))
                .await;
        }
    }
}

/// lapin error → [`ClientError`] (table in the module doc).
fn lapin_error(e: lapin::Error) -> ClientError {
    if e.is_amqp_soft_error() {
        ClientError::refused(describe(&e))
    } else {
        ClientError::connection(describe(&e))
    }
}

/// A readable text: `"404 NOT_FOUND - no exchange ..."` for AMQP errors, lapin's otherwise.
fn describe(e: &lapin::Error) -> String {
    match e.kind() {
        lapin::ErrorKind::ProtocolError(amqp) => {
            format!("{} {}", amqp.get_id(), amqp.get_message().as_str())
        }
        _ => e.to_string(),
    }
}

/// The URL with its password replaced by `***`, for error texts and logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s + 3 => {
            let userinfo = &url[s + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact_url("amqp://guest:secret@host:5672/%2f"),
            "amqp://guest:***@host:5672/%2f"
        );
        assert_eq!(redact_url("amqp://host/%2f"), "amqp://host/%2f");
        assert_eq!(redact_url("amqp://user@host/"), "amqp://user@host/");
    }

    #[tokio::test]
    async fn no_urls_and_bad_urls_are_connection_errors() {
        let mut config = AmqpClientConfig {
            urls: vec![],
            connect_timeout: Duration::from_secs(1),
            heartbeat: 10,
            product: "mqbridge",
        };
        let err = AmqpConnector::connect(&config).await.unwrap_err();
        assert!(err.is_connection());
        config.urls = vec!["http://u:pw@nowhere".into()];
        let err = AmqpConnector::connect(&config).await.unwrap_err();
        assert!(err.is_connection());
        assert!(err.message.contains("invalid URL"), "{}", err.message);
        assert!(!err.message.contains("pw"), "{}", err.message);
    }
}
