//! The OpenWire listener: accept loop and one reader loop per connection.
//!
//! Per connection there are two tasks: the reader (this file: negotiation, decoding,
//! [`OpenWireSession::handle`], which calls the broker) and the writer (`writer.rs`).
//!
//! 1. Our WireFormatInfo goes out first, at once (loose encoding, no cache, no stack
//!    traces: the client ANDs the flags, openwire.md §3); the client's must arrive within
//!    [`NEGOTIATION_TIMEOUT`]; then BrokerInfo.
//! 2. Inactivity: we announce [`MAX_INACTIVITY_MS`]; the negotiated value is the smaller
//!    of both. The writer sends KeepAliveInfo after a third of it without writes; a client
//!    silent for twice of it is dropped.
//! 3. While the broker's resource alarm is up, a connection that has sent messages is not
//!    read (TCP backpressure).
//! 4. Shutdown: ShutdownInfo, then close (failover clients reconnect elsewhere).
//! 5. Eviction: a failover reconnect registering our ConnectionId cancels our `kill`
//!    token; we close without a word, as ActiveMQ closes a stale connection.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::codec::Decoder;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::codec::{
    CodecError, Command, ExceptionResponse, Limits, OpenWireCodec, ShutdownInfo, Throwable,
    WireFormatInfo,
};
use super::session::{Next, OpenWireSession, SessionContext};
use super::writer::{run_writer, Outgoing};
use crate::tls::{TlsAcceptor, TlsInfo};

/// How long the client has to send its WireFormatInfo (the stock client waits 10 s).
pub const NEGOTIATION_TIMEOUT: Duration = Duration::from_secs(10);
/// The inactivity period we announce (ms).
pub const MAX_INACTIVITY_MS: i64 = 30_000;
/// The largest frame we announce and accept.
pub const MAX_FRAME_SIZE: i64 = 100 * 1024 * 1024;
/// How long we wait for the writer at the end.
pub const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

/// What every connection of one listener shares.
#[derive(Debug)]
pub struct ListenerContext {
    pub session: Arc<SessionContext>,
    /// The largest frame we announce (`MaxFrameSize`) and accept (`limits.max_frame_size`,
    /// default [`MAX_FRAME_SIZE`]). A larger frame closes the connection, as ActiveMQ does
    /// ("Frame size of N MB larger than max allowed M MB").
    pub max_frame_size: i64,
    /// Cancelled at shutdown.
    pub shutdown: CancellationToken,
    /// `tcp://HOST:PORT` (`ssl://HOST:PORT` on a TLS listener) for BrokerInfo.
    pub url: String,
}

/// Bind an OpenWire listener on `addr` (port 0 picks a free port).
pub async fn bind(addr: &str) -> std::io::Result<(TcpListener, SocketAddr)> {
    crate::net::bind(crate::config::parse_bind_addr(addr)).await
}

/// Accept connections until `ctx.shutdown` is cancelled, then wait for them to close.
/// With `tls` each connection starts with the TLS handshake (the client's `ssl://` URL,
/// port 61617); `ctx.url` should then be `ssl://HOST:PORT`.
pub async fn accept_loop(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    ctx: Arc<ListenerContext>,
) {
    let shutdown = ctx.shutdown.clone();
    let protocol = if tls.is_some() {
        "openwire+ssl"
    } else {
        "openwire"
    };
    crate::net::accept_loop(
        listener,
        tls,
        shutdown,
        protocol,
        move |socket, peer, tls| serve(ctx.clone(), socket, peer, tls),
    )
    .await;
}

/// Our WireFormatInfo: loose, no cache, no stack traces (openwire.md §3).
pub fn server_wire_format(max_frame_size: i64) -> WireFormatInfo {
    WireFormatInfo::server(MAX_INACTIVITY_MS, max_frame_size, "mqbridge")
}

fn limits(max_frame_size: i64) -> Limits {
    Limits {
        max_frame_bytes: usize::try_from(max_frame_size).unwrap_or(usize::MAX),
    }
}

/// Commands off a socket: a read buffer plus the codec. Cancel-safe.
struct CommandReader<R> {
    read: R,
    buf: BytesMut,
    codec: OpenWireCodec,
    last_read: Instant,
}

impl<R: AsyncRead + Unpin> CommandReader<R> {
    /// The next command; `None` at EOF.
    async fn next(&mut self) -> Option<Result<Command, CodecError>> {
        loop {
            match self.codec.decode(&mut self.buf) {
                Ok(Some(command)) => return Some(Ok(command)),
                Ok(None) => {}
                Err(e) => return Some(Err(e)),
            }
            if self.buf.capacity() - self.buf.len() < 4096 {
                self.buf.reserve(16 * 1024);
            }
            match self.read.read_buf(&mut self.buf).await {
                Ok(0) => return None,
                Ok(_) => self.last_read = Instant::now(),
                Err(e) => return Some(Err(CodecError::Io(e))),
            }
        }
    }
}

/// The inactivity period both sides agreed on (zero: none).
fn negotiated_inactivity(client: &WireFormatInfo) -> Duration {
    let theirs = client.max_inactivity_duration();
    let ms = if theirs <= 0 {
        0
    } else {
        theirs.min(MAX_INACTIVITY_MS)
    };
    Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

/// Serve one accepted socket until it closes. `tls` is set on a TLS listener; a verified
/// client certificate lets a ConnectionInfo without a user name log in as its CN.
pub async fn serve<S>(ctx: Arc<ListenerContext>, socket: S, peer: SocketAddr, tls: Option<TlsInfo>)
where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let span = tracing::info_span!("openwire_connection", peer = %peer, tls = tls.is_some());
    async move {
        let (read, write) = tokio::io::split(socket);
        let mut reader = CommandReader {
            read,
            buf: BytesMut::with_capacity(16 * 1024),
            codec: OpenWireCodec::new(
                server_wire_format(ctx.max_frame_size),
                limits(ctx.max_frame_size),
            ),
            last_read: Instant::now(),
        };
        let (out, rx) = mpsc::unbounded_channel();
        // Our WireFormatInfo is the very first frame (pitfall 2).
        let _ = out.send(Outgoing::Command(Command::WireFormatInfo(
            server_wire_format(ctx.max_frame_size),
        )));
        let mut writer = tokio::spawn(run_writer(write, rx, ctx.session.clone()));
        let mut session = OpenWireSession::new(ctx.session.clone(), peer, out.clone());
        session.tls = tls;
        let kill = session.kill.clone();
        let mut alarms = ctx.session.broker.alarms();
        let mut alarms_open = true;
        let mut blocked = *alarms.borrow_and_update();
        let mut unblocked_at = Instant::now();
        let mut negotiated = false;
        let mut expect = Duration::ZERO;
        let negotiation_deadline = Instant::now() + NEGOTIATION_TIMEOUT;
        let mut writer_done = false;
        loop {
            let read_paused = blocked && session.publisher;
            let read_deadline = reader.last_read.max(unblocked_at) + expect * 2;
            let forced = session.close_requested();
            tokio::select! {
                _ = crate::broker::connections::closed_by_operator(forced.as_ref()) => {
                    let reason = forced.as_ref().map(|e| e.close_reason()).unwrap_or_default();
                    tracing::info!(connection = session.conn, %reason, "Connection closed by an operator.");
                    let _ = out.send(Outgoing::Command(Command::ShutdownInfo(ShutdownInfo::default())));
                    break;
                }
                _ = &mut writer, if !writer_done => {
                    writer_done = true;
                    break;
                }
                _ = ctx.shutdown.cancelled() => {
                    let _ = out.send(Outgoing::Command(Command::ShutdownInfo(ShutdownInfo::default())));
                    break;
                }
                _ = kill.cancelled() => {
                    tracing::info!(connection = session.conn, "OpenWire connection evicted by a reconnect with its ConnectionId.");
                    break;
                }
                changed = alarms.changed(), if alarms_open => {
                    if changed.is_err() {
                        alarms_open = false;
                        continue;
                    }
                    blocked = *alarms.borrow_and_update();
                    unblocked_at = Instant::now();
                }
                _ = tokio::time::sleep_until(negotiation_deadline), if !negotiated => {
                    tracing::info!("No OpenWire WireFormatInfo in time; closing.");
                    break;
                }
                _ = tokio::time::sleep_until(read_deadline), if !expect.is_zero() && !read_paused => {
                    if reader.last_read.max(unblocked_at) + expect * 2 > Instant::now() {
                        continue;
                    }
                    tracing::info!(connection = session.conn, "OpenWire client inactive; closing.");
                    break;
                }
                command = reader.next(), if !read_paused => match command {
                    None => break,
                    Some(Ok(Command::WireFormatInfo(info))) if !negotiated => {
                        if info.version < 1 {
                            tracing::info!(version = info.version, "OpenWire client announced no usable version; closing.");
                            break;
                        }
                        // The codec negotiated while decoding it (min version, AND of flags).
                        let settings = reader.codec.settings();
                        expect = negotiated_inactivity(&info);
                        let keepalive = expect / 3;
                        let _ = out.send(Outgoing::Negotiated { settings, keepalive });
                        let _ = out.send(Outgoing::Command(ctx.session.broker_info(&ctx.url)));
                        negotiated = true;
                    }
                    Some(Ok(_)) if !negotiated => {
                        tracing::info!("OpenWire client sent a command before its WireFormatInfo; closing.");
                        break;
                    }
                    Some(Ok(command)) => {
                        if session.handle(command) == Next::Close {
                            break;
                        }
                    }
                    Some(Err(CodecError::Io(e))) => {
                        tracing::debug!(error = %e, "OpenWire read failed.");
                        break;
                    }
                    Some(Err(CodecError::UnknownType { type_id, command_id })) => {
                        // The frame was consumed: answer it (if it may want an answer) and go on.
                        tracing::info!(connection = session.conn, type_id, "Unknown OpenWire command type; refused.");
                        if let Some(id) = command_id.filter(|_| negotiated) {
                            let _ = out.send(Outgoing::Command(Command::ExceptionResponse(ExceptionResponse {
                                correlation_id: id,
                                exception: Some(Throwable::new(
                                    super::session::class::JMS,
                                    format!("unknown command type {type_id}"),
                                )),
                                ..ExceptionResponse::default()
                            })));
                        }
                        if !negotiated {
                            break;
                        }
                    }
                    Some(Err(e)) => {
                        tracing::info!(connection = session.conn, error = %e, "Malformed OpenWire frame; closing.");
                        break;
                    }
                }
            }
        }
        // No more deliveries after this point: unacked messages go back to their queues.
        session.close();
        let _ = out.send(Outgoing::Close);
        drop(out);
        if !writer_done {
            let _ = tokio::time::timeout(CLOSE_TIMEOUT, &mut writer).await;
        }
    }
    .instrument(span)
    .await
}
