//! The AMQP 0-9-1 connection handshake, as one linear chain of awaited steps:
//!
//! 1. protocol header (a wrong one gets `AMQP\x00\x00\x09\x01` and the socket closed),
//! 2. `connection.start` → `start-ok` (PLAIN or AMQPLAIN, checked by an [`Authenticator`];
//!    on TLS with a verified client certificate also EXTERNAL: the user is named by the
//!    certificate's CN, subject DN or an alternative name (`tls.cert_login_from`, as
//!    RabbitMQ's `rabbitmq_auth_mechanism_ssl` with `ssl_cert_login_from`); it must be a
//!    configured user, no password),
//! 3. `connection.tune` → `tune-ok` (the client may lower our limits, never raise them),
//! 4. `connection.open` (the vhost must exist and the user have permissions on it) → `open-ok`.
//!
//! Failures after the header are answered with `connection.close` and the right reply code
//! (403 for a refused login, as RabbitMQ does for `authentication_failure_close` clients;
//! 530 for an unknown or refused vhost; 503 for an out-of-order method). The caller drops the socket.

use std::net::IpAddr;
use std::sync::Arc;

use amq_protocol::protocol::{connection, AMQPClass};
use amq_protocol::types::{AMQPValue, FieldTable, LongString};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

use super::codec::{Frame, PROTOCOL_HEADER};
use super::reply::connection_close;
use super::transport::{write_method, FrameReader, ReadError};
use crate::auth::AuthenticatedUser;
use crate::config::MIN_FRAME_MAX;
use crate::error::ReplyCode;

/// Checks a login. Implemented for [`crate::auth::Users`]; tests use their own.
pub trait Authenticator: Send + Sync + 'static {
    /// `Ok(user)` or `Err(reason for the log)`. May be slow (argon2): it is run on the
    /// blocking pool.
    fn authenticate(
        &self,
        username: &str,
        password: &str,
        peer: IpAddr,
    ) -> Result<AuthenticatedUser, String>;

    /// An EXTERNAL login: `username` is what a client certificate the TLS layer has
    /// verified names (its CN by default); the user must exist (no password). Refused unless implemented.
    fn authenticate_external(
        &self,
        username: &str,
        peer: IpAddr,
    ) -> Result<AuthenticatedUser, String> {
        let _ = peer;
        Err(format!("EXTERNAL login of '{username}' is not supported"))
    }
}

/// What the server proposes in `connection.tune`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tuning {
    pub channel_max: u16,
    pub frame_max: u32,
    pub heartbeat: u16,
}

/// Optional features the client announced in `client-properties.capabilities`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientCapabilities {
    pub consumer_cancel_notify: bool,
    pub connection_blocked: bool,
}

/// The outcome of a successful handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiated {
    pub user: AuthenticatedUser,
    pub vhost: String,
    /// Highest channel number the client may use (never 0 after negotiation).
    pub channel_max: u16,
    /// Largest frame either side sends; never 0 after negotiation.
    pub frame_max: u32,
    /// Seconds; 0 = no heartbeats.
    pub heartbeat: u16,
    pub capabilities: ClientCapabilities,
    /// `client_properties.product`, if the client sent one.
    pub product: Option<String>,
}

/// Why the handshake ended without an open connection (already answered on the wire).
#[derive(Debug)]
pub enum HandshakeError {
    /// Not an AMQP 0-9-1 client; our protocol header was sent back.
    BadProtocolHeader,
    /// `connection.close` was sent with this code and text.
    Refused(ReplyCode, String),
    /// The socket failed or the peer went away.
    Io(String),
}

/// Run the server side of the handshake.
///
/// `cert_user` is the user the client's verified TLS certificate names
/// ([`crate::tls::TlsInfo::peer_cert_login`]): when set, EXTERNAL is offered and logs in as
/// that user. `admit` decides `connection.open` (vhost, connection
/// limit). On success the reader's frame limit is the negotiated `frame_max`.
#[allow(clippy::too_many_arguments)]
pub async fn handshake<R, W, G>(
    reader: &mut FrameReader<R>,
    write: &mut W,
    peer: IpAddr,
    cert_user: Option<&str>,
    tuning: Tuning,
    auth: Arc<dyn Authenticator>,
    admit: impl FnOnce(&Negotiated) -> Result<G, String>,
) -> Result<(Negotiated, G), HandshakeError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    read_protocol_header(reader, write).await?;

    send(write, start_method(cert_user.is_some())).await?;
    let start_ok = match next_method(reader, write).await? {
        AMQPClass::Connection(connection::AMQPMethod::StartOk(ok)) => ok,
        other => return Err(refuse_out_of_order(write, &other, "connection.start-ok").await),
    };
    let capabilities = client_capabilities(&start_ok.client_properties);
    let product = match start_ok.client_properties.inner().get("product") {
        Some(AMQPValue::LongString(s)) => Some(String::from_utf8_lossy(s.as_bytes()).into_owned()),
        _ => None,
    };
    let mechanism = start_ok.mechanism.as_str().to_string();
    let (username, outcome) = if mechanism == "EXTERNAL" {
        // RabbitMQ ignores the response (an optional authorization identity) and takes the
        // user from the certificate; so do we.
        let Some(cert_user) = cert_user else {
            let text = "ACCESS_REFUSED - EXTERNAL needs a TLS connection with a verified client \
                        certificate";
            return Err(refuse(write, ReplyCode::AccessRefused, text, 10, 11).await);
        };
        let login = cert_user.to_string();
        let outcome = auth.authenticate_external(&login, peer);
        (login, Ok(outcome))
    } else {
        let (username, password) = match credentials(&start_ok) {
            Ok(c) => c,
            Err(text) => return Err(refuse(write, ReplyCode::AccessRefused, &text, 10, 11).await),
        };
        let login = username.clone();
        let outcome =
            tokio::task::spawn_blocking(move || auth.authenticate(&login, &password, peer)).await;
        (username, outcome)
    };
    let user = match outcome {
        Ok(Ok(user)) => user,
        Ok(Err(reason)) => {
            tracing::info!(peer = %peer, user = %username, reason = %reason, "AMQP login refused.");
            let text = format!(
                "ACCESS_REFUSED - Login was refused using authentication mechanism {mechanism}. \
                 For details see the broker logfile."
            );
            return Err(refuse(write, ReplyCode::AccessRefused, &text, 10, 11).await);
        }
        Err(e) => {
            let text = format!("INTERNAL_ERROR - authentication failed: {e}");
            return Err(refuse(write, ReplyCode::InternalError, &text, 10, 11).await);
        }
    };

    send(
        write,
        AMQPClass::Connection(connection::AMQPMethod::Tune(connection::Tune {
            channel_max: tuning.channel_max,
            frame_max: tuning.frame_max,
            heartbeat: tuning.heartbeat,
        })),
    )
    .await?;
    let tune_ok = match next_method(reader, write).await? {
        AMQPClass::Connection(connection::AMQPMethod::TuneOk(ok)) => ok,
        other => return Err(refuse_out_of_order(write, &other, "connection.tune-ok").await),
    };
    let (channel_max, frame_max) = match negotiate(tuning, &tune_ok) {
        Ok(v) => v,
        Err(text) => return Err(refuse(write, ReplyCode::NotAllowed, &text, 10, 31).await),
    };
    reader.decoder.set_frame_max(frame_max);

    let open = match next_method(reader, write).await? {
        AMQPClass::Connection(connection::AMQPMethod::Open(open)) => open,
        other => return Err(refuse_out_of_order(write, &other, "connection.open").await),
    };
    let negotiated = Negotiated {
        user,
        vhost: open.virtual_host.as_str().to_string(),
        channel_max,
        frame_max,
        heartbeat: tune_ok.heartbeat,
        capabilities,
        product,
    };
    let admitted = match admit(&negotiated) {
        Ok(admitted) => admitted,
        Err(text) => {
            let text = format!("NOT_ALLOWED - {text}");
            return Err(refuse(write, ReplyCode::NotAllowed, &text, 10, 40).await);
        }
    };
    send(
        write,
        AMQPClass::Connection(connection::AMQPMethod::OpenOk(connection::OpenOk {})),
    )
    .await?;
    Ok((negotiated, admitted))
}

/// Read the 8-byte protocol header; answer a wrong one with ours (spec §4.2.2) and fail.
/// A mismatch in the first bytes is answered at once, without waiting for all 8.
async fn read_protocol_header<R, W>(
    reader: &mut FrameReader<R>,
    write: &mut W,
) -> Result<(), HandshakeError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    loop {
        let got = reader.buffered();
        let n = got.len().min(PROTOCOL_HEADER.len());
        if got[..n] != PROTOCOL_HEADER[..n] {
            let _ = write.write_all(PROTOCOL_HEADER).await;
            let _ = write.flush().await;
            let _ = write.shutdown().await;
            return Err(HandshakeError::BadProtocolHeader);
        }
        if n == PROTOCOL_HEADER.len() {
            reader.consume(n);
            return Ok(());
        }
        reader.fill().await.map_err(read_error)?;
    }
}

fn read_error(e: ReadError) -> HandshakeError {
    match e {
        ReadError::Io(e) => HandshakeError::Io(e.to_string()),
        ReadError::Eof => HandshakeError::Io("peer closed the connection".into()),
        ReadError::Frame(f) => HandshakeError::Refused(f.code, f.text),
    }
}

/// The next method frame on channel 0, skipping heartbeats. A frame error is answered.
async fn next_method<R, W>(
    reader: &mut FrameReader<R>,
    write: &mut W,
) -> Result<AMQPClass, HandshakeError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    loop {
        match reader.next_frame().await {
            Ok(Frame::Heartbeat) => continue,
            Ok(Frame::Method(0, method)) => return Ok(*method),
            Ok(_) => {
                let text = "COMMAND_INVALID - expected a method on channel 0 during the handshake";
                return Err(refuse(write, ReplyCode::CommandInvalid, text, 0, 0).await);
            }
            Err(ReadError::Frame(f)) => {
                let text = format!("{} - {}", f.code.name(), f.text);
                return Err(refuse(write, f.code, &text, f.class_id, f.method_id).await);
            }
            Err(e) => return Err(read_error(e)),
        }
    }
}

async fn send<W: AsyncWrite + Unpin>(
    write: &mut W,
    method: AMQPClass,
) -> Result<(), HandshakeError> {
    write_method(write, 0, method)
        .await
        .map_err(|e| HandshakeError::Io(e.to_string()))
}

/// Send `connection.close` and return the error to end the handshake with.
async fn refuse<W: AsyncWrite + Unpin>(
    write: &mut W,
    code: ReplyCode,
    text: &str,
    class_id: u16,
    method_id: u16,
) -> HandshakeError {
    let _ = write_method(write, 0, connection_close(code, text, class_id, method_id)).await;
    HandshakeError::Refused(code, text.to_string())
}

async fn refuse_out_of_order<W: AsyncWrite + Unpin>(
    write: &mut W,
    got: &AMQPClass,
    expected: &str,
) -> HandshakeError {
    let text = format!("COMMAND_INVALID - expected {expected} during the handshake");
    refuse(
        write,
        ReplyCode::CommandInvalid,
        &text,
        got.get_amqp_class_id(),
        got.get_amqp_method_id(),
    )
    .await
}

/// `connection.start` with RabbitMQ-like server properties; `external` offers EXTERNAL too
/// (a TLS connection with a verified client certificate).
pub fn start_method(external: bool) -> AMQPClass {
    let mut caps = FieldTable::default();
    for (name, on) in [
        ("publisher_confirms", true),
        ("exchange_exchange_bindings", true),
        ("basic.nack", true),
        ("consumer_cancel_notify", true),
        ("connection.blocked", true),
        ("consumer_priorities", true),
        ("authentication_failure_close", true),
        ("per_consumer_qos", true),
        ("direct_reply_to", false),
        // basic.consume argument `x-selector`: a JMS selector filters the consumer.
        ("x-selector", true),
    ] {
        caps.insert(name.into(), AMQPValue::Boolean(on));
    }
    let mut props = FieldTable::default();
    props.insert("capabilities".into(), AMQPValue::FieldTable(caps));
    for (name, value) in [
        ("product", "mqbridge"),
        ("version", env!("CARGO_PKG_VERSION")),
        ("platform", "Rust"),
        (
            "information",
            "An AMQP 0-9-1 broker core inside a JMS-to-AMQP bridge",
        ),
    ] {
        props.insert(name.into(), AMQPValue::LongString(LongString::from(value)));
    }
    AMQPClass::Connection(connection::AMQPMethod::Start(connection::Start {
        version_major: 0,
        version_minor: 9,
        server_properties: props,
        mechanisms: LongString::from(if external {
            "PLAIN AMQPLAIN EXTERNAL"
        } else {
            "PLAIN AMQPLAIN"
        }),
        locales: LongString::from("en_US"),
    }))
}

/// The user name and password from `start-ok`, for PLAIN or AMQPLAIN.
pub fn credentials(start_ok: &connection::StartOk) -> Result<(String, String), String> {
    let response = start_ok.response.as_bytes();
    match start_ok.mechanism.as_str() {
        // RFC 4616: [authzid] NUL authcid NUL passwd.
        "PLAIN" => {
            let mut parts = response.split(|b| *b == 0);
            let (_authz, user, pass) =
                match (parts.next(), parts.next(), parts.next(), parts.next()) {
                    (Some(a), Some(u), Some(p), None) => (a, u, p),
                    _ => return Err("ACCESS_REFUSED - malformed PLAIN response".into()),
                };
            let user = String::from_utf8(user.to_vec())
                .map_err(|_| "ACCESS_REFUSED - user name is not UTF-8".to_string())?;
            let pass = String::from_utf8(pass.to_vec())
                .map_err(|_| "ACCESS_REFUSED - password is not UTF-8".to_string())?;
            Ok((user, pass))
        }
        // A field table *without* its length prefix (RabbitMQ's and lapin's encoding).
        "AMQPLAIN" => {
            let table = parse_amqplain(response)
                .ok_or_else(|| "ACCESS_REFUSED - malformed AMQPLAIN response".to_string())?;
            let text = |key: &str| match table.inner().get(key) {
                Some(AMQPValue::LongString(s)) => String::from_utf8(s.as_bytes().to_vec()).ok(),
                Some(AMQPValue::ShortString(s)) => Some(s.as_str().to_string()),
                _ => None,
            };
            match (text("LOGIN"), text("PASSWORD")) {
                (Some(u), Some(p)) => Ok((u, p)),
                _ => Err("ACCESS_REFUSED - AMQPLAIN response lacks LOGIN or PASSWORD".into()),
            }
        }
        other => Err(format!("ACCESS_REFUSED - unsupported mechanism '{other}'")),
    }
}

fn parse_amqplain(response: &[u8]) -> Option<FieldTable> {
    use amq_protocol::types::parsing::parse_field_table;
    let len = u32::try_from(response.len()).ok()?;
    let mut framed = Vec::with_capacity(response.len() + 4);
    framed.extend_from_slice(&len.to_be_bytes());
    framed.extend_from_slice(response);
    match parse_field_table(&framed[..]) {
        Ok(([], table)) => Some(table),
        // Some clients do send the length prefix.
        _ => match parse_field_table(response) {
            Ok(([], table)) => Some(table),
            _ => None,
        },
    }
}

fn client_capabilities(props: &FieldTable) -> ClientCapabilities {
    let Some(AMQPValue::FieldTable(caps)) = props.inner().get("capabilities") else {
        return ClientCapabilities::default();
    };
    let on = |name: &str| matches!(caps.inner().get(name), Some(AMQPValue::Boolean(true)));
    ClientCapabilities {
        consumer_cancel_notify: on("consumer_cancel_notify"),
        connection_blocked: on("connection.blocked"),
    }
}

/// RabbitMQ's rules: 0 from the client means "no limit", i.e. ours; a client may lower a
/// limit but not raise it; frame_max is at least 4096.
fn negotiate(ours: Tuning, theirs: &connection::TuneOk) -> Result<(u16, u32), String> {
    let channel_max = match (ours.channel_max, theirs.channel_max) {
        (0, 0) => u16::MAX,
        (0, c) => c,
        (s, 0) => s,
        (s, c) if c > s => {
            return Err(format!("NOT_ALLOWED - channel_max={c} > {s} max"));
        }
        (_, c) => c,
    };
    let frame_max = match (ours.frame_max, theirs.frame_max) {
        (s, 0) => s,
        (_, c) if c < MIN_FRAME_MAX => {
            return Err(format!(
                "NOT_ALLOWED - frame_max={c} < {MIN_FRAME_MAX} min size"
            ));
        }
        (s, c) if s != 0 && c > s => {
            return Err(format!("NOT_ALLOWED - frame_max={c} > {s} max size"));
        }
        (_, c) => c,
    };
    Ok((channel_max, frame_max))
}

#[cfg(test)]
#[path = "handshake_tests.rs"]
mod tests;
