//! Handshake tests over an in-memory duplex pipe, no sockets.

use std::net::Ipv4Addr;

use amq_protocol::types::ShortString;
use tokio::io::{AsyncReadExt, DuplexStream};

use super::*;
use crate::amqp::codec::{encode_method, FrameDecoder};

struct OnlyGuest;

impl Authenticator for OnlyGuest {
    fn authenticate(&self, user: &str, pass: &str, _peer: IpAddr) -> Result<String, String> {
        if user == "guest" && pass == "guest" {
            Ok(user.to_string())
        } else {
            Err("bad credentials".into())
        }
    }
}

const TUNING: Tuning = Tuning {
    channel_max: 2047,
    frame_max: 131_072,
    heartbeat: 60,
};

/// The client side of the pipe.
struct Client {
    io: DuplexStream,
    buf: bytes::BytesMut,
}

impl Client {
    async fn send(&mut self, method: AMQPClass) {
        let mut out = Vec::new();
        encode_method(&mut out, 0, method).unwrap();
        self.io.write_all(&out).await.unwrap();
    }

    async fn recv(&mut self) -> AMQPClass {
        let decoder = FrameDecoder::new(0);
        loop {
            if let Some(Frame::Method(_, m)) = decoder.decode(&mut self.buf).unwrap() {
                return *m;
            }
            let n = self.io.read_buf(&mut self.buf).await.unwrap();
            assert!(n > 0, "server closed the pipe");
        }
    }
}

fn start_ok(mechanism: &str, response: &[u8]) -> AMQPClass {
    let mut caps = FieldTable::default();
    caps.insert("consumer_cancel_notify".into(), AMQPValue::Boolean(true));
    let mut props = FieldTable::default();
    props.insert("capabilities".into(), AMQPValue::FieldTable(caps));
    AMQPClass::Connection(connection::AMQPMethod::StartOk(connection::StartOk {
        client_properties: props,
        mechanism: ShortString::from(mechanism),
        response: LongString::from(response.to_vec()),
        locale: "en_US".into(),
    }))
}

fn tune_ok(channel_max: u16, frame_max: u32, heartbeat: u16) -> AMQPClass {
    AMQPClass::Connection(connection::AMQPMethod::TuneOk(connection::TuneOk {
        channel_max,
        frame_max,
        heartbeat,
    }))
}

fn open(vhost: &str) -> AMQPClass {
    AMQPClass::Connection(connection::AMQPMethod::Open(connection::Open {
        virtual_host: ShortString::from(vhost),
    }))
}

/// Run the server handshake against a scripted client.
async fn run<F, Fut>(script: F) -> Result<Negotiated, HandshakeError>
where
    F: FnOnce(Client) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (server, client) = tokio::io::duplex(64 * 1024);
    let client_task = tokio::spawn(script(Client {
        io: client,
        buf: Default::default(),
    }));
    let (read, mut write) = tokio::io::split(server);
    let mut reader = FrameReader::new(read, TUNING.frame_max);
    let result = handshake(
        &mut reader,
        &mut write,
        IpAddr::V4(Ipv4Addr::LOCALHOST),
        None,
        TUNING,
        Arc::new(OnlyGuest),
        |n: &Negotiated| {
            if n.vhost == "/" {
                Ok(())
            } else {
                Err(format!("vhost '{}' not found", n.vhost))
            }
        },
    )
    .await
    .map(|(negotiated, ())| negotiated);
    drop((reader, write));
    let _ = client_task.await;
    result
}

#[tokio::test]
async fn plain_login_and_negotiation() {
    let result = run(|mut c| async move {
        c.io.write_all(PROTOCOL_HEADER).await.unwrap();
        let AMQPClass::Connection(connection::AMQPMethod::Start(start)) = c.recv().await else {
            panic!("no start");
        };
        assert_eq!(start.mechanisms.to_string(), "PLAIN AMQPLAIN");
        assert_eq!(start.locales.to_string(), "en_US");
        let Some(AMQPValue::FieldTable(caps)) = start.server_properties.inner().get("capabilities")
        else {
            panic!("no capabilities");
        };
        assert_eq!(
            caps.inner().get("publisher_confirms"),
            Some(&AMQPValue::Boolean(true))
        );
        assert_eq!(
            caps.inner().get("direct_reply_to"),
            Some(&AMQPValue::Boolean(false))
        );
        c.send(start_ok("PLAIN", b"\0guest\0guest")).await;
        let AMQPClass::Connection(connection::AMQPMethod::Tune(tune)) = c.recv().await else {
            panic!("no tune");
        };
        assert_eq!(
            (tune.channel_max, tune.frame_max, tune.heartbeat),
            (2047, 131_072, 60)
        );
        c.send(tune_ok(100, 8192, 5)).await;
        c.send(open("/")).await;
        assert!(matches!(
            c.recv().await,
            AMQPClass::Connection(connection::AMQPMethod::OpenOk(_))
        ));
    })
    .await
    .expect("handshake succeeds");
    assert_eq!(result.user, "guest");
    assert_eq!(
        (result.channel_max, result.frame_max, result.heartbeat),
        (100, 8192, 5)
    );
    assert!(result.capabilities.consumer_cancel_notify);
    assert!(!result.capabilities.connection_blocked);
}

#[tokio::test]
async fn zero_means_the_server_limit() {
    let result = run(|mut c| async move {
        c.io.write_all(PROTOCOL_HEADER).await.unwrap();
        c.recv().await;
        c.send(start_ok("PLAIN", b"\0guest\0guest")).await;
        c.recv().await;
        c.send(tune_ok(0, 0, 0)).await;
        c.send(open("/")).await;
        c.recv().await;
    })
    .await
    .expect("handshake succeeds");
    assert_eq!(
        (result.channel_max, result.frame_max, result.heartbeat),
        (2047, 131_072, 0)
    );
}

async fn refused_with(script_tail: fn(Client) -> futures_tail::Tail) -> u16 {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let result = run(move |c| async move {
        let code = script_tail(c).await;
        let _ = tx.send(code);
    })
    .await;
    assert!(
        matches!(result, Err(HandshakeError::Refused(..))),
        "{result:?}"
    );
    rx.await.expect("the client saw connection.close")
}

/// Boxed client scripts that end by reading the server's `connection.close` code.
mod futures_tail {
    pub type Tail = std::pin::Pin<Box<dyn std::future::Future<Output = u16> + Send>>;
}

async fn expect_close(c: &mut Client) -> u16 {
    match c.recv().await {
        AMQPClass::Connection(connection::AMQPMethod::Close(close)) => close.reply_code,
        other => panic!("expected connection.close, got {other:?}"),
    }
}

#[tokio::test]
async fn bad_password_is_403() {
    let code = refused_with(|mut c| {
        Box::pin(async move {
            c.io.write_all(PROTOCOL_HEADER).await.unwrap();
            c.recv().await;
            c.send(start_ok("PLAIN", b"\0guest\0nope")).await;
            expect_close(&mut c).await
        })
    })
    .await;
    assert_eq!(code, 403);
}

#[tokio::test]
async fn unknown_mechanism_is_403() {
    let code = refused_with(|mut c| {
        Box::pin(async move {
            c.io.write_all(PROTOCOL_HEADER).await.unwrap();
            c.recv().await;
            c.send(start_ok("EXTERNAL", b"")).await;
            expect_close(&mut c).await
        })
    })
    .await;
    assert_eq!(code, 403);
}

#[tokio::test]
async fn frame_max_below_4096_is_530() {
    let code = refused_with(|mut c| {
        Box::pin(async move {
            c.io.write_all(PROTOCOL_HEADER).await.unwrap();
            c.recv().await;
            c.send(start_ok("PLAIN", b"\0guest\0guest")).await;
            c.recv().await;
            c.send(tune_ok(0, 1024, 0)).await;
            expect_close(&mut c).await
        })
    })
    .await;
    assert_eq!(code, 530);
}

#[tokio::test]
async fn raising_channel_max_is_530() {
    let code = refused_with(|mut c| {
        Box::pin(async move {
            c.io.write_all(PROTOCOL_HEADER).await.unwrap();
            c.recv().await;
            c.send(start_ok("PLAIN", b"\0guest\0guest")).await;
            c.recv().await;
            c.send(tune_ok(4000, 0, 0)).await;
            expect_close(&mut c).await
        })
    })
    .await;
    assert_eq!(code, 530);
}

#[tokio::test]
async fn unknown_vhost_is_530() {
    let code = refused_with(|mut c| {
        Box::pin(async move {
            c.io.write_all(PROTOCOL_HEADER).await.unwrap();
            c.recv().await;
            c.send(start_ok("PLAIN", b"\0guest\0guest")).await;
            c.recv().await;
            c.send(tune_ok(0, 0, 0)).await;
            c.send(open("elsewhere")).await;
            expect_close(&mut c).await
        })
    })
    .await;
    assert_eq!(code, 530);
}

#[tokio::test]
async fn out_of_order_method_is_503() {
    let code = refused_with(|mut c| {
        Box::pin(async move {
            c.io.write_all(PROTOCOL_HEADER).await.unwrap();
            c.recv().await;
            c.send(open("/")).await;
            expect_close(&mut c).await
        })
    })
    .await;
    assert_eq!(code, 503);
}

#[tokio::test]
async fn wrong_header_gets_ours() {
    let result = run(|mut c| async move {
        c.io.write_all(b"HELO").await.unwrap();
        let mut got = Vec::new();
        c.io.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, PROTOCOL_HEADER);
    })
    .await;
    assert!(matches!(result, Err(HandshakeError::BadProtocolHeader)));
}

#[test]
fn plain_and_amqplain_credentials() {
    let ok = |mechanism: &str, response: &[u8]| {
        let AMQPClass::Connection(connection::AMQPMethod::StartOk(s)) =
            start_ok(mechanism, response)
        else {
            unreachable!()
        };
        credentials(&s)
    };
    assert_eq!(ok("PLAIN", b"\0u\0p"), Ok(("u".into(), "p".into())));
    assert_eq!(ok("PLAIN", b"authz\0u\0p"), Ok(("u".into(), "p".into())));
    assert!(ok("PLAIN", b"u:p").is_err());
    assert!(ok("PLAIN", b"\0u\0p\0x").is_err());
    // AMQPLAIN as lapin and RabbitMQ encode it: a field table without its length prefix.
    let amqplain = amq_protocol::auth::Credentials::new("u".into(), "p w".into())
        .sasl_auth_string(amq_protocol::auth::SASLMechanism::AMQPlain);
    assert_eq!(
        ok("AMQPLAIN", amqplain.as_bytes()),
        Ok(("u".into(), "p w".into()))
    );
    assert!(ok("AMQPLAIN", b"\x05LOGIN").is_err());
}
