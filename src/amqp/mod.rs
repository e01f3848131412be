//! The AMQP 0-9-1 listener, on the amq-protocol codec.
//!
//! | file | owns |
//! |---|---|
//! | `codec.rs` | frames ↔ bytes: the envelope, the `frame_max` check before buffering, amq-protocol for payloads |
//! | `transport.rs` | the read buffer: frames off a socket |
//! | `handshake.rs` | protocol header, start/tune/open, PLAIN/AMQPLAIN auth, negotiation |
//! | `connection.rs` | one connection's reader loop: channel 0, heartbeats, alarms, shutdown, close |
//! | `channel.rs` | one channel: state machine, content assembly, dispatch to the broker, tx |
//! | `confirm.rs` | publisher confirms: ordering and `multiple` acks |
//! | `writer.rs` | the writer task: batches frames and deliveries onto the socket, sends heartbeats |
//! | `reply.rs` | `connection.close` / `channel.close` from a core error |
//!
//! Per connection there are two tasks: the reader (which also runs the handshake and calls
//! the broker) and the writer. Deliveries reach the writer from the broker through each
//! channel's [`channel::ChannelSink`] without another hop.
//!
//! Where this differs from the design notes, and why:
//! - Body frames are zero-copy slices of the read buffer, but a *whole* body under 4 KiB is
//!   copied once when the publish completes: a small slice would pin its read-buffer block
//!   (16 KiB or more) for as long as the message sits in a queue.
//! - Resource alarms use `connection.blocked`/`unblocked` plus TCP backpressure (a
//!   publishing connection is not read while the alarm is up), as RabbitMQ ≥ 2.8 does; the
//!   server never sends `channel.flow`. A client's `channel.flow` is honoured.
//! - The outgoing queue to the writer is unbounded: deliveries are bounded by prefetch and
//!   the broker's write window, replies by the client's own requests. A client that sends
//!   requests forever without reading replies is therefore not throttled (RabbitMQ's credit
//!   flow would); reading is not paused on a full queue because a client that pipelines
//!   publishes before reading confirms would then deadlock against us.

pub mod channel;
pub mod codec;
pub mod confirm;
pub mod connection;
pub mod connector;
pub mod handshake;
pub mod reply;
pub mod transport;
pub mod writer;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use tokio::net::TcpListener;

use crate::tls::TlsAcceptor;

pub use connection::{ListenerContext, JNI_CLIENT_PRODUCT};
pub use handshake::{Authenticator, Tuning};

use crate::config::AmqpListenerConfig;

impl Authenticator for crate::auth::Users {
    fn authenticate(&self, username: &str, password: &str, peer: IpAddr) -> Result<String, String> {
        crate::auth::Users::authenticate(self, username, password, peer)
            .map(|user| user.name)
            .map_err(|e| e.to_string())
    }

    fn authenticate_external(&self, username: &str, peer: IpAddr) -> Result<String, String> {
        crate::auth::Users::authenticate_certificate(self, username, peer)
            .map(|user| user.name)
            .map_err(|e| e.to_string())
    }
}

impl Tuning {
    /// What the listener proposes in `connection.tune`, from its config.
    pub fn from_config(config: &AmqpListenerConfig) -> Tuning {
        Tuning {
            channel_max: config.channel_max,
            frame_max: config.frame_max,
            heartbeat: config.heartbeat,
        }
    }
}

/// Accept connections on `listener` until `ctx.shutdown` is cancelled, then wait for the
/// open connections to close (each sends `connection.close` 320 on the same token). With
/// `tls` it is an AMQPS listener: each connection starts with the TLS handshake.
pub async fn accept_loop(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    ctx: Arc<ListenerContext>,
) {
    let shutdown = ctx.shutdown.clone();
    let protocol = if tls.is_some() { "amqps" } else { "amqp" };
    crate::net::accept_loop(
        listener,
        tls,
        shutdown,
        protocol,
        move |socket, peer, tls| connection::serve(ctx.clone(), socket, peer, tls),
    )
    .await;
}

/// Bind an AMQP listener on `addr` (port 0 picks a free port).
pub async fn bind(addr: &str) -> std::io::Result<(TcpListener, SocketAddr)> {
    crate::net::bind(crate::config::parse_bind_addr(addr)).await
}
