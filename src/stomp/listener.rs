//! The STOMP listener: accept loop and one reader loop per connection.
//!
//! Per connection there are two tasks: the reader (this file: decodes frames, calls
//! [`StompSession::handle_frame`], which calls the broker) and the writer (`writer.rs`).
//! Besides frames, the reader watches:
//!
//! - the CONNECT deadline: a client that does not send CONNECT within
//!   [`CONNECT_TIMEOUT`] is dropped;
//! - the heart-beat deadline: nothing read for twice the negotiated interval drops the
//!   client (any byte counts, also the start of a large frame);
//! - the broker's resource alarm: a connection that has sent messages is not read while
//!   the alarm is up (TCP backpressure; STOMP has no flow control frame);
//! - the listener's shutdown token: an ERROR frame "broker shutdown", then close (STOMP
//!   has no server-initiated close; RabbitMQ does the same);
//! - the writer task: if the socket fails for writing, the connection ends.
//!
//! After an ERROR frame the reader drains input until the client closes (at most
//! [`CLOSE_TIMEOUT`]): closing a socket with unread input sends RST, which can destroy the
//! ERROR before the client reads it.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::codec::Decoder;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::codec::{CodecError, Item, Limits, StompCodec, Version};
use super::frame::Frame;
use super::session::{Next, SessionContext, StompSession};
use super::writer::{run_writer, Outgoing};
use crate::tls::{TlsAcceptor, TlsInfo};

/// How long a client has to send CONNECT.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long we drain input after an ERROR, or wait for the writer at the end.
pub const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a DISCONNECT receipt waits for pending publish confirms.
pub const DISCONNECT_WAIT: Duration = Duration::from_secs(5);

/// What every connection of one listener shares.
#[derive(Debug)]
pub struct ListenerContext {
    pub session: Arc<SessionContext>,
    pub limits: Limits,
    /// Cancelled at shutdown: every connection gets ERROR "broker shutdown".
    pub shutdown: CancellationToken,
}

/// Bind a STOMP listener on `addr` (port 0 picks a free port).
pub async fn bind(addr: &str) -> std::io::Result<(TcpListener, SocketAddr)> {
    crate::net::bind(crate::config::parse_bind_addr(addr)).await
}

/// Accept connections until `ctx.shutdown` is cancelled, then wait for them to close.
/// With `tls` each connection starts with the TLS handshake (STOMP over TLS, port 61614).
pub async fn accept_loop(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    ctx: Arc<ListenerContext>,
) {
    let shutdown = ctx.shutdown.clone();
    let protocol = if tls.is_some() { "stomp+tls" } else { "stomp" };
    crate::net::accept_loop(
        listener,
        tls,
        shutdown,
        protocol,
        move |socket, peer, tls| serve(ctx.clone(), socket, peer, tls),
    )
    .await;
}

/// A read half that records when bytes last arrived (for the heart-beat monitor).
struct Tracked<R> {
    inner: R,
    base: Instant,
    last_ms: Arc<AtomicU64>,
}

impl<R: AsyncRead + Unpin> AsyncRead for Tracked<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            let ms = u64::try_from(self.base.elapsed().as_millis()).unwrap_or(u64::MAX);
            self.last_ms.store(ms, Ordering::Release);
        }
        result
    }
}

/// Items off a socket: a read buffer plus the codec. Cancel-safe: bytes already read stay
/// in the buffer.
struct ItemReader<R> {
    read: R,
    buf: BytesMut,
    codec: StompCodec,
}

impl<R: AsyncRead + Unpin> ItemReader<R> {
    /// The next item; `None` at EOF.
    async fn next(&mut self) -> Option<Result<Item, CodecError>> {
        loop {
            match self.codec.decode(&mut self.buf) {
                Ok(Some(item)) => return Some(Ok(item)),
                Ok(None) => {}
                Err(e) => return Some(Err(e)),
            }
            if self.buf.capacity() - self.buf.len() < 4096 {
                self.buf.reserve(16 * 1024);
            }
            match self.read.read_buf(&mut self.buf).await {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) => return Some(Err(CodecError::Io(e))),
            }
        }
    }
}

/// Serve one accepted socket until it closes. `tls` is set on a TLS listener; a verified
/// client certificate lets a CONNECT without `login` log in as the certificate's CN.
pub async fn serve<S>(ctx: Arc<ListenerContext>, socket: S, peer: SocketAddr, tls: Option<TlsInfo>)
where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let span = tracing::info_span!("stomp_connection", peer = %peer, tls = tls.is_some());
    async move {
        let (read, write) = tokio::io::split(socket);
        let base = Instant::now();
        let last_ms = Arc::new(AtomicU64::new(0));
        let tracked = Tracked {
            inner: read,
            base,
            last_ms: last_ms.clone(),
        };
        let mut frames = ItemReader {
            read: tracked,
            buf: BytesMut::with_capacity(16 * 1024),
            codec: StompCodec::new(Version::V1_0, ctx.limits),
        };
        let (out, rx) = mpsc::unbounded_channel();
        let mut writer = tokio::spawn(run_writer(write, rx));
        let mut session = StompSession::new(ctx.session.clone(), peer, out.clone());
        session.tls = tls;
        let mut alarms = ctx.session.broker.alarms();
        let mut alarms_open = true;
        let mut blocked = *alarms.borrow_and_update();
        let mut unblocked_at = Instant::now();
        let mut expect = Duration::ZERO;
        let connect_deadline = base + CONNECT_TIMEOUT;
        let mut writer_done = false;
        let mut linger = false;
        loop {
            let read_paused = blocked && session.publisher;
            let last_read = base + Duration::from_millis(last_ms.load(Ordering::Acquire));
            let hb_deadline = last_read.max(unblocked_at) + expect * 2;
            let forced = session.close_requested();
            tokio::select! {
                _ = crate::broker::connections::closed_by_operator(forced.as_ref()) => {
                    let reason = forced.as_ref().map(|e| e.close_reason()).unwrap_or_default();
                    tracing::info!(connection = session.conn, %reason, "Connection closed by an operator.");
                    let _ = out.send(Outgoing::Frame(Frame::error("connection closed by an operator", &reason)));
                    let _ = out.send(Outgoing::Close);
                    linger = true;
                    break;
                }
                _ = &mut writer, if !writer_done => {
                    writer_done = true;
                    break;
                }
                _ = ctx.shutdown.cancelled() => {
                    let _ = out.send(Outgoing::Frame(Frame::error("broker shutdown", "the server is shutting down")));
                    let _ = out.send(Outgoing::Close);
                    linger = true;
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
                _ = tokio::time::sleep_until(connect_deadline), if !session.is_connected() => {
                    tracing::info!("No STOMP CONNECT in time; closing.");
                    break;
                }
                _ = tokio::time::sleep_until(hb_deadline), if !expect.is_zero() && !read_paused => {
                    let last_read = base + Duration::from_millis(last_ms.load(Ordering::Acquire));
                    if last_read + expect * 2 > Instant::now() {
                        continue;
                    }
                    tracing::info!(connection = session.conn, expect_ms = expect.as_millis() as u64, "Missed heart-beats from the STOMP client; closing.");
                    break;
                }
                item = frames.next(), if !read_paused => match item {
                    None => break,
                    Some(Ok(Item::Heartbeat)) => {}
                    Some(Ok(Item::Frame(frame))) => match session.handle_frame(frame) {
                        Next::Continue => {}
                        Next::Connected { version, expect: e, .. } => {
                            frames.codec.version = version;
                            expect = e;
                        }
                        Next::Close => {
                            let _ = out.send(Outgoing::Close);
                            linger = true;
                            break;
                        }
                        Next::Disconnect(receipt) => {
                            let deadline = Instant::now() + DISCONNECT_WAIT;
                            while session.pending.load(Ordering::Acquire) > 0 && Instant::now() < deadline {
                                tokio::time::sleep(Duration::from_millis(2)).await;
                            }
                            if let Some(r) = receipt {
                                let _ = out.send(Outgoing::Frame(Frame::receipt(&r)));
                            }
                            let _ = out.send(Outgoing::Close);
                            linger = true;
                            break;
                        }
                    },
                    Some(Err(CodecError::Io(e))) => {
                        tracing::debug!(error = %e, "STOMP read failed.");
                        break;
                    }
                    Some(Err(e)) => {
                        tracing::info!(connection = session.conn, error = %e, "Malformed STOMP frame.");
                        let _ = out.send(Outgoing::Frame(Frame::error(e.rule(), &e.to_string())));
                        let _ = out.send(Outgoing::Close);
                        linger = true;
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
        if linger {
            let deadline = Instant::now() + CLOSE_TIMEOUT;
            let mut sink = [0u8; 4096];
            while let Ok(Ok(n)) =
                tokio::time::timeout_at(deadline, frames.read.inner.read(&mut sink)).await
            {
                if n == 0 {
                    break;
                }
            }
        }
    }
    .instrument(span)
    .await
}
