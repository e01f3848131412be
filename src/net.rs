//! TCP plumbing every listener shares: binding a configured address and the accept loop
//! with its shutdown. Protocol-free; each front-end passes its own connection handler.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::config::BindAddrError;

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

/// Accept connections on `listener`, each served by `serve` in its own task, until
/// `shutdown` is cancelled; then stop accepting and wait for the open connections to end
/// (each front-end closes its connections on the same token, its own protocol's way).
pub async fn accept_loop<F, Fut>(
    listener: TcpListener,
    shutdown: CancellationToken,
    protocol: &'static str,
    serve: F,
) where
    F: Fn(TcpStream, SocketAddr) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((socket, peer)) => {
                    let _ = socket.set_nodelay(true);
                    connections.spawn(serve(socket, peer));
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
