//! TCP plumbing every listener shares: binding a configured address, the accept loop with
//! its shutdown, and TLS. Protocol-free; each front-end passes its own connection handler.
//!
//! A listener is plain or TLS; the front-ends do not care which: they get a [`Stream`]
//! and, for TLS, the [`TlsInfo`] of the finished handshake. The handshake runs in the
//! connection's own task with [`TLS_HANDSHAKE_TIMEOUT`], never in the accept loop, so a
//! slow or silent client cannot hold up the others.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::tls::TlsAcceptor;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_rustls::server::TlsStream;
use tokio_util::sync::CancellationToken;

use crate::config::BindAddrError;
use crate::tls::TlsInfo;

/// How long a client has to finish the TLS handshake (RabbitMQ's `ssl_handshake_timeout`
/// is 5 s; slow JVM clients need more on a loaded machine).
pub const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Bind `addr` (port 0 picks a free port) and return the address actually bound.
pub async fn bind(
    addr: Result<SocketAddr, BindAddrError>,
) -> std::io::Result<(TcpListener, SocketAddr)> {
    let addr =
        addr.map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string()))?;
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    Ok((listener, local))
}

/// An accepted connection: plain TCP or TLS over TCP.
#[derive(Debug)]
pub enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Stream::Plain(s) => s.is_write_vectored(),
            Stream::Tls(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// Run the TLS handshake on an accepted socket, bounded by [`TLS_HANDSHAKE_TIMEOUT`].
/// A failure is logged (at info: port scanners and plain clients on a TLS port are
/// expected) and returns `None`.
pub async fn tls_handshake(
    acceptor: &TlsAcceptor,
    socket: TcpStream,
    peer: SocketAddr,
    protocol: &'static str,
) -> Option<(TlsStream<TcpStream>, TlsInfo)> {
    match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(socket)).await {
        Ok(Ok(stream)) => {
            let info = TlsInfo::of(stream.get_ref().1, acceptor.cert_login());
            tracing::debug!(%protocol, %peer, tls = %info.protocol, cipher = %info.cipher,
                client = ?info.peer_cert_subject, "TLS handshake done.");
            Some((stream, info))
        }
        Ok(Err(e)) => {
            tracing::info!(%protocol, %peer, error = %e, "TLS handshake failed.");
            None
        }
        Err(_) => {
            tracing::info!(%protocol, %peer, "TLS handshake timed out.");
            None
        }
    }
}

/// Accept connections on `listener`, each served by `serve` in its own task, until
/// `shutdown` is cancelled; then stop accepting and wait for the open connections to end
/// (each front-end closes its connections on the same token, its own protocol's way).
///
/// With `tls`, each connection's task first runs the TLS handshake; `serve` gets the TLS
/// stream and its [`TlsInfo`], or nothing if the handshake failed.
pub async fn accept_loop<F, Fut>(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    shutdown: CancellationToken,
    protocol: &'static str,
    serve: F,
) where
    F: Fn(Stream, SocketAddr, Option<TlsInfo>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let serve = Arc::new(serve);
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((socket, peer)) => {
                    let _ = socket.set_nodelay(true);
                    match &tls {
                        None => {
                            connections.spawn(serve(Stream::Plain(socket), peer, None));
                        }
                        Some(acceptor) => {
                            let acceptor = acceptor.clone();
                            let serve = serve.clone();
                            let shutdown = shutdown.clone();
                            connections.spawn(async move {
                                let handshake = tls_handshake(&acceptor, socket, peer, protocol);
                                let done = tokio::select! {
                                    done = handshake => done,
                                    _ = shutdown.cancelled() => None,
                                };
                                if let Some((stream, info)) = done {
                                    serve(Stream::Tls(Box::new(stream)), peer, Some(info)).await;
                                }
                            });
                        }
                    }
                }
                Err(e) => {
                    // EMFILE and friends: wait a little instead of spinning.
                    tracing::warn!(%protocol, error = %e, "Accept failed.");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    while connections.join_next().await.is_some() {}
}

/// A TLS listener that yields finished handshakes, for servers that want a stream of
/// ready connections (the HTTPS listener: axum's `serve` takes a listener, not a
/// per-connection callback). Handshakes run in their own tasks, at most
/// [`TlsListener::MAX_PENDING`] at once, so one slow client delays no one else.
#[derive(Debug)]
pub struct TlsListener {
    local: SocketAddr,
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    accepting: tokio::task::JoinHandle<()>,
}

impl TlsListener {
    /// Handshakes in flight before accepting pauses.
    pub const MAX_PENDING: usize = 256;

    /// Start accepting on `listener`, running TLS handshakes with `acceptor`.
    pub fn new(listener: TcpListener, acceptor: TlsAcceptor, protocol: &'static str) -> Self {
        let local = listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
        let (tx, ready) = mpsc::channel(16);
        let accepting = tokio::spawn(async move {
            let permits = Arc::new(tokio::sync::Semaphore::new(Self::MAX_PENDING));
            loop {
                let Ok(permit) = permits.clone().acquire_owned().await else {
                    return;
                };
                let (socket, peer) = match listener.accept().await {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        tracing::warn!(%protocol, error = %e, "Accept failed.");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                if tx.is_closed() {
                    return;
                }
                let _ = socket.set_nodelay(true);
                let acceptor = acceptor.clone();
                let tx = tx.clone();
                tokio::spawn(async move {
                    if let Some((stream, _)) =
                        tls_handshake(&acceptor, socket, peer, protocol).await
                    {
                        let _ = tx.send((stream, peer)).await;
                    }
                    drop(permit);
                });
            }
        });
        TlsListener {
            local,
            ready,
            accepting,
        }
    }

    /// The next connection whose handshake finished. Pending forever once the accept task
    /// is gone (as a listener that accepts nothing more).
    pub async fn accept(&mut self) -> (TlsStream<TcpStream>, SocketAddr) {
        match self.ready.recv().await {
            Some(ready) => ready,
            None => std::future::pending().await,
        }
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        TlsListener::accept(self).await
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}

/// Serve `router` over HTTPS on `listener` until `shutdown` is cancelled (then axum's
/// graceful shutdown: open requests finish). Handlers may extract
/// `ConnectInfo<SocketAddr>`, as on a plain `axum::serve(TcpListener, ..)`.
///
/// Why a listener rather than hyper-util per connection: axum's `serve` keeps doing the
/// HTTP/1 and HTTP/2 setup, upgrades and graceful shutdown, and `TlsListener` keeps the
/// handshakes out of the accept loop; no extra crate (axum-server, tls-listener) is needed.
pub async fn serve_https(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    router: axum::Router,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt;
    // `tap_io` is what gives a custom listener axum's `ConnectInfo<SocketAddr>`: axum
    // implements `Connected` for the address of any tapped listener.
    let listener = TlsListener::new(listener, acceptor, "https").tap_io(|_| {});
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown.cancelled_owned())
    .await
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}
