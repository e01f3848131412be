//! One client connection: handshake, then the reader loop, with a writer task beside it.
//!
//! The task that accepted the socket runs the handshake (`handshake.rs`), spawns the writer
//! task (`writer.rs`) on the write half, and then reads frames and dispatches them: channel
//! 0 methods here, everything else to its [`Channel`]. Besides frames, the loop watches:
//!
//! - the heartbeat deadline: nothing read for two negotiated intervals drops the peer;
//! - the broker's resource alarm: `connection.blocked`/`unblocked` for clients that
//!   announced the capability, and no more reading from a publishing connection while the
//!   alarm is up (TCP backpressure, as RabbitMQ does). We do not send server-initiated
//!   `channel.flow`: RabbitMQ replaced it with `connection.blocked` in 2.8 and several
//!   clients mishandle it; a client's own `channel.flow` is honoured (`channel.rs`);
//! - the listener's shutdown token: `connection.close` 320 CONNECTION_FORCED;
//! - the writer task: if the socket fails for writing, the connection ends.
//!
//! A connection error (any hard reply code) sends `connection.close`, then waits up to
//! [`CLOSE_TIMEOUT`] for `close-ok`, dropping every other frame (spec §2.3.3). A frame
//! that does not decode leaves the stream unusable, so after its `connection.close` we
//! only drain the socket until the peer closes. On the way out every channel's session is
//! closed (unacked messages requeued) and the vhost drops the connection's exclusive queues.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use amq_protocol::protocol::{channel, connection, AMQPClass};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc::{self, UnboundedSender};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::channel::{Channel, ChannelState, MethodError, Policy};
use super::codec::Frame;
use super::handshake::{handshake, Authenticator, HandshakeError, Negotiated, Tuning};
use super::reply::{channel_close, connection_close, connection_close_for};
use super::transport::{FrameReader, ReadError};
use super::writer::{run_writer, Outgoing};
use crate::broker::connections::{ConnectionGuard, ConnectionMeta};
use crate::broker::vhost::VHost;
use crate::broker::{Broker, ConnectionId};
use crate::error::{Error, ReplyCode, Scope};
use crate::tls::TlsInfo;

/// How long the whole handshake may take (RabbitMQ's `handshake_timeout`).
/// The `client_properties.product` the java-shim sends: its connections are listed as
/// protocol `jni` rather than `amqp`.
pub const JNI_CLIENT_PRODUCT: &str = "mqbridge-jms";
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long we wait for `connection.close-ok` after sending `connection.close`.
pub const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

/// What every connection of one listener shares.
pub struct ListenerContext {
    pub broker: Arc<Broker>,
    pub auth: Arc<dyn Authenticator>,
    pub tuning: Tuning,
    /// The largest message body accepted (`limits.max_message_size`); above it a publish
    /// gets channel.close 406, as in RabbitMQ 3.8+.
    pub max_message_size: u64,
    /// Cancelled at shutdown: every connection sends `connection.close` 320.
    pub shutdown: CancellationToken,
}

impl std::fmt::Debug for ListenerContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ListenerContext")
            .field("tuning", &self.tuning)
            .finish()
    }
}

/// Serve one accepted socket until it closes. `tls` is set on an AMQPS listener; its
/// verified client certificate enables the EXTERNAL login.
pub async fn serve<S>(ctx: Arc<ListenerContext>, socket: S, peer: SocketAddr, tls: Option<TlsInfo>)
where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let span = tracing::info_span!("amqp_connection", peer = %peer, tls = tls.is_some());
    async move {
        let (read, mut write) = tokio::io::split(socket);
        let mut reader = FrameReader::new(read, ctx.tuning.frame_max);
        let broker = ctx.broker.clone();
        let id = ctx.broker.next_connection_id();
        // Checked while answering connection.open, so a refusal is a proper 530.
        let admit = |n: &Negotiated| {
            if broker.vhost(&n.vhost).is_none() {
                return Err(format!("vhost '{}' not found", n.vhost));
            }
            // RabbitMQ's order: the vhost must exist, then the user needs permissions on it.
            n.user
                .check_vhost(&n.vhost)
                .map_err(|denied| denied.to_string())?;
            let protocol = if n.product.as_deref() == Some(JNI_CLIENT_PRODUCT) {
                "jni"
            } else {
                "amqp"
            };
            broker
                .connections()
                .register(ConnectionMeta {
                    id,
                    protocol,
                    peer,
                    user: n.user.name.clone(),
                    vhost: n.vhost.clone(),
                    client: n.product.clone(),
                    tls: tls.is_some(),
                })
                .map_err(|e| e.to_string())
        };
        let handshake = tokio::time::timeout(
            HANDSHAKE_TIMEOUT,
            handshake(
                &mut reader,
                &mut write,
                peer.ip(),
                tls.as_ref().and_then(|t| t.peer_cert_login.as_deref()),
                ctx.tuning,
                ctx.auth.clone(),
                admit,
            ),
        );
        let negotiated = tokio::select! {
            result = handshake => result,
            // Shutting down: a connection that is not open yet is simply dropped.
            _ = ctx.shutdown.cancelled() => return,
        };
        let (negotiated, registration) = match negotiated {
            Ok(Ok(n)) => n,
            Ok(Err(e)) => {
                match &e {
                    HandshakeError::BadProtocolHeader => {
                        tracing::info!("Not an AMQP 0-9-1 client; sent our protocol header.")
                    }
                    HandshakeError::Refused(code, text) => {
                        tracing::info!(code = code.code(), %text, "AMQP handshake refused.")
                    }
                    HandshakeError::Io(text) => tracing::debug!(%text, "AMQP handshake ended."),
                }
                linger(&mut reader).await;
                return;
            }
            Err(_) => {
                tracing::info!("AMQP handshake timed out.");
                return;
            }
        };
        let Some(vhost) = ctx.broker.vhost(&negotiated.vhost) else {
            return;
        };
        tracing::info!(
            connection = id,
            user = %negotiated.user.name,
            vhost = %negotiated.vhost,
            heartbeat = negotiated.heartbeat,
            frame_max = negotiated.frame_max,
            "AMQP connection opened."
        );
        let (out, rx) = mpsc::unbounded_channel();
        let heartbeat = Duration::from_secs(u64::from(negotiated.heartbeat));
        let writer = tokio::spawn(run_writer(write, rx, negotiated.frame_max, heartbeat));
        let policy = Arc::new(Policy {
            user: negotiated.user.clone(),
            max_message_size: ctx.max_message_size,
        });
        let mut conn = Connection {
            id,
            policy,
            vhost: vhost.clone(),
            negotiated,
            out: out.clone(),
            channels: HashMap::new(),
            closing: None,
            publisher: false,
            registration,
        };
        conn.run(&ctx, &mut reader, writer).await;
        for (_, mut ch) in conn.channels.drain() {
            ch.release();
        }
        vhost.connection_closed(id);
        tracing::info!(connection = id, "AMQP connection closed.");
    }
    .instrument(span)
    .await
}

/// After a refused handshake or a frame error: we have sent our last bytes; read and drop
/// whatever the peer still sends until it closes (at most [`CLOSE_TIMEOUT`]). Closing a
/// socket with unread input makes the kernel send RST, which can destroy the reply we just
/// wrote before the peer reads it.
async fn linger<R: AsyncRead + Unpin>(reader: &mut FrameReader<R>) {
    let deadline = Instant::now() + CLOSE_TIMEOUT;
    loop {
        let n = reader.buffered().len();
        reader.consume(n);
        match tokio::time::timeout_at(deadline, reader.fill()).await {
            Ok(Ok(())) => continue,
            _ => return,
        }
    }
}

struct Connection {
    id: ConnectionId,
    /// Who is connected and the limits every channel applies.
    policy: Arc<Policy>,
    vhost: Arc<VHost>,
    negotiated: Negotiated,
    out: UnboundedSender<Outgoing>,
    channels: HashMap<u16, Channel>,
    /// Set when we sent `connection.close`: the deadline for the peer's `close-ok`.
    closing: Option<Instant>,
    /// This connection has published: it stops being read while a resource alarm is up.
    publisher: bool,
    /// Its entry in the broker's connection list, removed when the connection ends.
    registration: ConnectionGuard,
}

enum Next {
    Continue,
    /// The conversation is over (close-ok exchanged); let the writer flush and stop.
    Stop,
}

impl Connection {
    async fn run<R: AsyncRead + Unpin>(
        &mut self,
        ctx: &ListenerContext,
        reader: &mut FrameReader<R>,
        mut writer: tokio::task::JoinHandle<()>,
    ) {
        let heartbeat = Duration::from_secs(u64::from(self.negotiated.heartbeat));
        let mut alarms = ctx.broker.alarms();
        let mut alarms_open = true;
        let mut blocked = *alarms.borrow_and_update();
        if blocked {
            self.notify_blocked(true);
        }
        // Time spent blocked by an alarm does not count as missed heartbeats.
        let mut unblocked_at = Instant::now();
        let mut writer_done = false;
        let forced = self.registration.entry().close_requested();
        loop {
            let read_paused = blocked && self.publisher;
            let hb_deadline = reader.last_read().max(unblocked_at) + heartbeat * 2;
            let close_deadline = self.closing.unwrap_or_else(Instant::now);
            tokio::select! {
                _ = &mut writer, if !writer_done => {
                    writer_done = true;
                    break;
                }
                _ = ctx.shutdown.cancelled(), if self.closing.is_none() => {
                    let text = "CONNECTION_FORCED - broker shutdown";
                    self.start_close(connection_close(ReplyCode::ConnectionForced, text, 0, 0));
                }
                _ = forced.cancelled(), if self.closing.is_none() => {
                    let reason = self.registration.entry().close_reason();
                    tracing::info!(connection = self.id, %reason, "Connection closed by an operator.");
                    let text = format!("CONNECTION_FORCED - {reason}");
                    self.start_close(connection_close(ReplyCode::ConnectionForced, &text, 0, 0));
                }
                changed = alarms.changed(), if alarms_open => {
                    if changed.is_err() {
                        alarms_open = false;
                        continue;
                    }
                    let raised = *alarms.borrow_and_update();
                    if raised != blocked {
                        blocked = raised;
                        self.notify_blocked(raised);
                        unblocked_at = Instant::now();
                    }
                }
                _ = tokio::time::sleep_until(close_deadline), if self.closing.is_some() => {
                    tracing::debug!(connection = self.id, "No connection.close-ok in time.");
                    break;
                }
                _ = tokio::time::sleep_until(hb_deadline), if !heartbeat.is_zero() && !read_paused => {
                    if reader.last_read() + heartbeat * 2 > Instant::now() {
                        // Part of a frame arrived meanwhile: the peer is alive.
                        continue;
                    }
                    tracing::info!(
                        connection = self.id,
                        timeout_secs = self.negotiated.heartbeat,
                        "Missed heartbeats from the client; closing the connection."
                    );
                    break;
                }
                frame = reader.next_frame(), if !read_paused => {
                    match frame {
                        Ok(frame) => {
                            if let Next::Stop = self.handle_frame(frame) {
                                break;
                            }
                        }
                        Err(ReadError::Frame(e)) => {
                            tracing::info!(connection = self.id, code = e.code.code(), text = %e.text, "AMQP frame error.");
                            let text = format!("{} - {}", e.code.name(), e.text);
                            self.send(0, connection_close(e.code, &text, e.class_id, e.method_id));
                            let _ = self.out.send(Outgoing::Shutdown);
                            linger(reader).await;
                            break;
                        }
                        Err(ReadError::Eof) => break,
                        Err(ReadError::Io(e)) => {
                            tracing::debug!(connection = self.id, error = %e, "AMQP read failed.");
                            break;
                        }
                    }
                }
            }
        }
        let _ = self.out.send(Outgoing::Shutdown);
        if !writer_done {
            // A peer that stopped reading leaves the writer stuck in `write_all`: give it
            // a moment to flush, then stop it (dropping a JoinHandle would not).
            let abort = writer.abort_handle();
            if tokio::time::timeout(CLOSE_TIMEOUT, writer).await.is_err() {
                abort.abort();
            }
        }
    }

    fn send(&self, channel: u16, method: AMQPClass) {
        let _ = self.out.send(Outgoing::Method(channel, Box::new(method)));
    }

    fn notify_blocked(&self, raised: bool) {
        if !self.negotiated.capabilities.connection_blocked {
            return;
        }
        let method = if raised {
            connection::AMQPMethod::Blocked(connection::Blocked {
                reason: super::reply::short_lossy("low on resources (memory or disk alarm)"),
            })
        } else {
            connection::AMQPMethod::Unblocked(connection::Unblocked {})
        };
        self.send(0, AMQPClass::Connection(method));
    }

    fn start_close(&mut self, close: AMQPClass) {
        if self.closing.is_none() {
            // No more deliveries or confirms after our connection.close: the peer would
            // only discard them. Unacked messages go back to their queues now.
            for channel in self.channels.values_mut() {
                channel.release();
            }
            self.send(0, close);
            self.closing = Some(Instant::now() + CLOSE_TIMEOUT);
        }
    }

    fn handle_frame(&mut self, frame: Frame) -> Next {
        if self.closing.is_some() {
            // Only the peer's answer counts now (spec §2.3.3: discard everything else).
            return match frame {
                Frame::Method(0, m) => match *m {
                    AMQPClass::Connection(connection::AMQPMethod::CloseOk(_)) => Next::Stop,
                    AMQPClass::Connection(connection::AMQPMethod::Close(_)) => {
                        self.send(
                            0,
                            AMQPClass::Connection(connection::AMQPMethod::CloseOk(
                                connection::CloseOk {},
                            )),
                        );
                        Next::Stop
                    }
                    _ => Next::Continue,
                },
                _ => Next::Continue,
            };
        }
        let result = match frame {
            Frame::Heartbeat => Ok(Next::Continue),
            Frame::Method(0, m) => self.connection_method(*m),
            Frame::Method(ch, m) => self.channel_method(ch, *m).map(|()| Next::Continue),
            Frame::Header(0, _) | Frame::Body(0, _) => Err(MethodError::new(
                Error::unexpected_frame("content frame on channel 0").on_connection(),
                0,
                0,
            )),
            Frame::Header(ch, h) => self.with_channel(ch, |c| c.handle_header(*h)),
            Frame::Body(ch, b) => self.with_channel(ch, |c| c.handle_body(b)),
        };
        match result {
            Ok(next) => next,
            Err(e) => {
                tracing::info!(
                    connection = self.id,
                    code = e.error.code.code(),
                    text = %e.error.text,
                    "AMQP connection error."
                );
                self.start_close(connection_close_for(&e.error, e.class_id, e.method_id));
                Next::Continue
            }
        }
    }

    /// Content frames go to an open channel that expects them; a closing channel drops them.
    fn with_channel(
        &mut self,
        ch: u16,
        f: impl FnOnce(&mut Channel) -> Result<(), MethodError>,
    ) -> Result<Next, MethodError> {
        let Some(channel) = self.channels.get_mut(&ch) else {
            return Err(MethodError::new(
                Error::channel_error(format!("expected 'channel.open' on channel {ch}"))
                    .on_connection(),
                60,
                40,
            ));
        };
        if channel.state == ChannelState::Closing {
            return Ok(Next::Continue);
        }
        let result = f(channel);
        self.settle(ch, result)?;
        Ok(Next::Continue)
    }

    /// Turn a channel-scoped error into `channel.close`; pass connection errors up.
    fn settle(&mut self, ch: u16, result: Result<(), MethodError>) -> Result<(), MethodError> {
        match result {
            Ok(()) => Ok(()),
            Err(e) if e.error.scope == Scope::Channel => {
                tracing::debug!(connection = self.id, channel = ch, code = e.error.code.code(), text = %e.error.text, "AMQP channel error.");
                if let Some(channel) = self.channels.get_mut(&ch) {
                    channel.release();
                    channel.state = ChannelState::Closing;
                }
                self.send(ch, channel_close(&e.error, e.class_id, e.method_id));
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    fn connection_method(&mut self, m: AMQPClass) -> Result<Next, MethodError> {
        let (class_id, method_id) = (m.get_amqp_class_id(), m.get_amqp_method_id());
        match m {
            AMQPClass::Connection(connection::AMQPMethod::Close(close)) => {
                tracing::debug!(connection = self.id, code = close.reply_code, text = %close.reply_text, "Client closed the connection.");
                self.send(
                    0,
                    AMQPClass::Connection(connection::AMQPMethod::CloseOk(connection::CloseOk {})),
                );
                Ok(Next::Stop)
            }
            AMQPClass::Connection(connection::AMQPMethod::CloseOk(_)) => Ok(Next::Stop),
            AMQPClass::Connection(connection::AMQPMethod::UpdateSecret(_)) => {
                self.send(
                    0,
                    AMQPClass::Connection(connection::AMQPMethod::UpdateSecretOk(
                        connection::UpdateSecretOk {},
                    )),
                );
                Ok(Next::Continue)
            }
            // Sent by clients to servers in some dialects; harmless.
            AMQPClass::Connection(
                connection::AMQPMethod::Blocked(_) | connection::AMQPMethod::Unblocked(_),
            ) => Ok(Next::Continue),
            _ => Err(MethodError::new(
                Error::command_invalid(format!(
                    "unexpected method {class_id}.{method_id} on channel 0"
                ))
                .on_connection(),
                class_id,
                method_id,
            )),
        }
    }

    fn channel_method(&mut self, ch: u16, m: AMQPClass) -> Result<(), MethodError> {
        let (class_id, method_id) = (m.get_amqp_class_id(), m.get_amqp_method_id());
        let hard = |e: Error| MethodError::new(e.on_connection(), class_id, method_id);
        if let AMQPClass::Connection(_) = m {
            return Err(hard(Error::command_invalid(format!(
                "connection method {class_id}.{method_id} on channel {ch}"
            ))));
        }
        if let AMQPClass::Basic(amq_protocol::protocol::basic::AMQPMethod::Publish(_)) = m {
            self.publisher = true;
        }
        let Some(channel) = self.channels.get_mut(&ch) else {
            return match m {
                AMQPClass::Channel(channel::AMQPMethod::Open(_)) => {
                    if ch > self.negotiated.channel_max {
                        return Err(hard(Error::not_allowed(format!(
                            "channel {ch} exceeds the negotiated channel_max ({})",
                            self.negotiated.channel_max
                        ))));
                    }
                    let cancel_notify = self.negotiated.capabilities.consumer_cancel_notify;
                    let channel = Channel::open(
                        ch,
                        self.id,
                        self.vhost.clone(),
                        self.policy.clone(),
                        self.out.clone(),
                        cancel_notify,
                    );
                    self.registration
                        .session_opened(u32::from(ch), channel.session());
                    self.channels.insert(ch, channel);
                    Ok(())
                }
                _ => Err(hard(Error::channel_error(format!(
                    "expected 'channel.open' on channel {ch}"
                )))),
            };
        };
        if channel.state == ChannelState::Closing {
            match m {
                AMQPClass::Channel(channel::AMQPMethod::CloseOk(_)) => {
                    self.channels.remove(&ch);
                }
                AMQPClass::Channel(channel::AMQPMethod::Close(_)) => {
                    // Both sides closed at once: answer, and the channel is gone.
                    self.send(
                        ch,
                        AMQPClass::Channel(channel::AMQPMethod::CloseOk(channel::CloseOk {})),
                    );
                    self.channels.remove(&ch);
                }
                _ => {}
            }
            return Ok(());
        }
        match m {
            AMQPClass::Channel(channel::AMQPMethod::Open(_)) => Err(hard(Error::channel_error(
                format!("second 'channel.open' seen on channel {ch}"),
            ))),
            AMQPClass::Channel(channel::AMQPMethod::Close(_)) if !channel.expects_content() => {
                let mut channel = self
                    .channels
                    .remove(&ch)
                    .ok_or_else(|| hard(Error::internal("channel vanished")))?;
                channel.release();
                self.send(
                    ch,
                    AMQPClass::Channel(channel::AMQPMethod::CloseOk(channel::CloseOk {})),
                );
                Ok(())
            }
            AMQPClass::Channel(channel::AMQPMethod::Flow(flow)) if !channel.expects_content() => {
                channel.flow(flow.active);
                Ok(())
            }
            AMQPClass::Channel(
                channel::AMQPMethod::CloseOk(_) | channel::AMQPMethod::FlowOk(_),
            ) if !channel.expects_content() => {
                // We never send channel.flow and the channel is not closing: out of place.
                Err(hard(Error::command_invalid(format!(
                    "unexpected method {class_id}.{method_id} on channel {ch}"
                ))))
            }
            other => {
                let result = channel.handle_method(other);
                self.settle(ch, result)
            }
        }
    }
}
