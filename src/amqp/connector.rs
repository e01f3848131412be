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
        Ok(AmqpConsumer { channel, consumer })
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
        Ok(AmqpConsumer { channel, consumer })
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
        .with_connection_name(lapin::types::LongString::from("mqbridge connector"));
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
    /// Errors are ignored (the channel may already be dead).
    pub async fn close(self) {
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
