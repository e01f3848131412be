//! What the outbound clients have in common: the AMQP connector (`amqp::connector`), the
//! STOMP client (`stomp::client`), the OpenWire client (`openwire::client`) and the SMTP
//! outlet (`outlet::smtp`).
//!
//! Routes (`routes/`) move messages between these clients and the embedded core. They need
//! three things from every client, whatever its protocol:
//!
//! - a [`ClientError`] whose [`ErrorKind`] says what to do next: reconnect (the message stays
//!   where it is and no attempt is counted), retry later, or give up on this message;
//! - a [`Confirm`] for each message sent, resolved when the peer has taken responsibility
//!   for it (an AMQP publisher confirm, a STOMP RECEIPT, an OpenWire Response, an SMTP 250),
//!   so that the source is acknowledged only after that;
//! - a [`Received`] message from a consumer: the core [`Message`] and the tag to acknowledge
//!   it with once it has been delivered onwards.
//!
//! Sends are pipelined: a client's `send` returns as soon as the message is written and
//! hands back a [`Confirm`] to await later, so a route can keep many messages in flight.

use std::fmt;

use tokio::sync::oneshot;

use crate::message::Message;

/// What a failure means for the message that met it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The connection failed, closed or was never made. Reconnect (with backoff) and send
    /// again; this does not count as an attempt at the message.
    Connection,
    /// The peer refused this message for now (AMQP `basic.nack`, an OpenWire
    /// ExceptionResponse, a STOMP ERROR about the send, an SMTP 4xx): retry it later.
    Refused,
    /// The peer refused this message for good (an SMTP 5xx, a message it cannot carry):
    /// dead-letter it without retrying.
    Rejected,
}

/// A client failure: its kind and a text for logs and dead-letter headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientError {
    pub kind: ErrorKind,
    pub message: String,
}

impl ClientError {
    pub fn connection(message: impl Into<String>) -> Self {
        ClientError {
            kind: ErrorKind::Connection,
            message: message.into(),
        }
    }

    pub fn refused(message: impl Into<String>) -> Self {
        ClientError {
            kind: ErrorKind::Refused,
            message: message.into(),
        }
    }

    pub fn rejected(message: impl Into<String>) -> Self {
        ClientError {
            kind: ErrorKind::Rejected,
            message: message.into(),
        }
    }

    pub fn is_connection(&self) -> bool {
        self.kind == ErrorKind::Connection
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ClientError {}

/// The outcome of one sent message, to be awaited after more messages have been sent.
#[derive(Debug)]
pub struct Confirm(ConfirmState);

#[derive(Debug)]
enum ConfirmState {
    Ready(Option<Result<(), ClientError>>),
    Pending(oneshot::Receiver<Result<(), ClientError>>),
}

/// The client's half of a pending [`Confirm`].
#[derive(Debug)]
pub struct ConfirmSender(oneshot::Sender<Result<(), ClientError>>);

impl ConfirmSender {
    /// Resolve the confirm. A receiver that is gone (the route stopped) is not an error.
    pub fn send(self, result: Result<(), ClientError>) {
        let _ = self.0.send(result);
    }
}

impl Confirm {
    /// A confirm the client resolves later through the [`ConfirmSender`]. Dropping the
    /// sender without resolving it (the connection died) resolves the confirm with a
    /// connection error.
    pub fn pending() -> (ConfirmSender, Confirm) {
        let (tx, rx) = oneshot::channel();
        (ConfirmSender(tx), Confirm(ConfirmState::Pending(rx)))
    }

    /// A confirm that is already resolved (the peer answered synchronously, or the send
    /// failed before anything was written).
    pub fn ready(result: Result<(), ClientError>) -> Self {
        Confirm(ConfirmState::Ready(Some(result)))
    }

    /// Wait for the peer's answer.
    pub async fn wait(self) -> Result<(), ClientError> {
        match self.0 {
            ConfirmState::Ready(mut result) => result
                .take()
                .unwrap_or_else(|| Err(ClientError::connection("confirm already taken"))),
            ConfirmState::Pending(rx) => rx.await.unwrap_or_else(|_| {
                Err(ClientError::connection(
                    "the connection closed before the peer confirmed the message",
                ))
            }),
        }
    }
}

/// One message taken from a consumer, not yet acknowledged.
#[derive(Debug, Clone)]
pub struct Received {
    /// The message in the core's model (through the same `mapping/` as the listeners).
    pub message: Message,
    /// The peer says it delivered this message before.
    pub redelivered: bool,
    /// What to pass to the consumer's `ack` once the message has been delivered onwards.
    /// Tags are valid only on the connection that produced them.
    pub tag: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_dropped_sender_is_a_connection_error() {
        let (tx, confirm) = Confirm::pending();
        drop(tx);
        let err = confirm.wait().await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::Connection);
    }

    #[tokio::test]
    async fn a_resolved_confirm_carries_the_answer() {
        let (tx, confirm) = Confirm::pending();
        tx.send(Err(ClientError::rejected("550 no such user")));
        let err = confirm.wait().await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::Rejected);
        assert_eq!(err.message, "550 no such user");
        assert!(Confirm::ready(Ok(())).wait().await.is_ok());
    }
}
