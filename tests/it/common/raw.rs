//! A raw AMQP 0-9-1 client on a plain `TcpStream`, for tests that send what no real client
//! would: bad headers, oversized frames, methods on unopened channels, silence.

use std::net::SocketAddr;
use std::time::Duration;

use amq_protocol::protocol::{channel, connection, AMQPClass};
use amq_protocol::types::{FieldTable, LongString};
use bytes::BytesMut;
use mqbridge::amqp::codec::{encode_method, Frame, FrameDecoder, PROTOCOL_HEADER};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub struct RawClient {
    pub stream: TcpStream,
    buf: BytesMut,
    decoder: FrameDecoder,
}

/// What reading from the server gave.
#[derive(Debug)]
pub enum Read {
    Frame(Frame),
    /// The server closed the socket (EOF or reset).
    Closed,
    TimedOut,
}

impl RawClient {
    pub async fn connect(addr: SocketAddr) -> RawClient {
        let stream = TcpStream::connect(addr).await.expect("tcp connect");
        RawClient {
            stream,
            buf: BytesMut::new(),
            decoder: FrameDecoder::new(0),
        }
    }

    /// Connect and complete the handshake as guest on vhost `/`, asking for `heartbeat`.
    pub async fn open(addr: SocketAddr, heartbeat: u16) -> RawClient {
        RawClient::open_with(addr, heartbeat, FieldTable::default()).await
    }

    /// Like [`RawClient::open`], announcing `client_properties` (e.g. capabilities).
    pub async fn open_with(
        addr: SocketAddr,
        heartbeat: u16,
        client_properties: FieldTable,
    ) -> RawClient {
        RawClient::open_tuned(addr, heartbeat, None, client_properties).await
    }

    /// The full form: `frame_max` lowers the server's proposal when given.
    pub async fn open_tuned(
        addr: SocketAddr,
        heartbeat: u16,
        frame_max: Option<u32>,
        client_properties: FieldTable,
    ) -> RawClient {
        let mut c = RawClient::connect(addr).await;
        c.send_raw(PROTOCOL_HEADER).await;
        match c.method().await {
            AMQPClass::Connection(connection::AMQPMethod::Start(_)) => {}
            other => panic!("expected connection.start, got {other:?}"),
        }
        c.send(
            0,
            AMQPClass::Connection(connection::AMQPMethod::StartOk(connection::StartOk {
                client_properties,
                mechanism: "PLAIN".into(),
                response: LongString::from("\0guest\0guest"),
                locale: "en_US".into(),
            })),
        )
        .await;
        let tune = match c.method().await {
            AMQPClass::Connection(connection::AMQPMethod::Tune(t)) => t,
            other => panic!("expected connection.tune, got {other:?}"),
        };
        c.send(
            0,
            AMQPClass::Connection(connection::AMQPMethod::TuneOk(connection::TuneOk {
                channel_max: tune.channel_max,
                frame_max: frame_max.unwrap_or(tune.frame_max),
                heartbeat,
            })),
        )
        .await;
        c.send(
            0,
            AMQPClass::Connection(connection::AMQPMethod::Open(connection::Open {
                virtual_host: "/".into(),
            })),
        )
        .await;
        c.decoder = FrameDecoder::new(frame_max.unwrap_or(tune.frame_max));
        match c.method().await {
            AMQPClass::Connection(connection::AMQPMethod::OpenOk(_)) => {}
            other => panic!("expected connection.open-ok, got {other:?}"),
        }
        c
    }

    pub async fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.expect("write");
    }

    pub async fn send(&mut self, channel: u16, method: AMQPClass) {
        let mut out = Vec::new();
        encode_method(&mut out, channel, method).expect("encode");
        self.send_raw(&out).await;
    }

    pub async fn open_channel(&mut self, channel: u16) {
        self.send(
            channel,
            AMQPClass::Channel(channel::AMQPMethod::Open(channel::Open {})),
        )
        .await;
        match self.method().await {
            AMQPClass::Channel(channel::AMQPMethod::OpenOk(_)) => {}
            other => panic!("expected channel.open-ok, got {other:?}"),
        }
    }

    /// The next frame, skipping heartbeats, within 5 s.
    pub async fn read(&mut self) -> Read {
        self.read_within(Duration::from_secs(5)).await
    }

    pub async fn read_within(&mut self, limit: Duration) -> Read {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            match self.decoder.decode(&mut self.buf) {
                Ok(Some(Frame::Heartbeat)) => continue,
                Ok(Some(frame)) => return Read::Frame(frame),
                Ok(None) => {}
                Err(e) => panic!("server sent an undecodable frame: {e:?}"),
            }
            match tokio::time::timeout_at(deadline, self.stream.read_buf(&mut self.buf)).await {
                Err(_) => return Read::TimedOut,
                Ok(Ok(0)) | Ok(Err(_)) => return Read::Closed,
                Ok(Ok(_)) => {}
            }
        }
    }

    /// The next method frame (panics on anything else).
    pub async fn method(&mut self) -> AMQPClass {
        match self.read().await {
            Read::Frame(Frame::Method(_, m)) => *m,
            other => panic!("expected a method frame, got {other:?}"),
        }
    }

    /// Expect `connection.close`; returns its reply code and text.
    pub async fn expect_connection_close(&mut self) -> (u16, String) {
        match self.method().await {
            AMQPClass::Connection(connection::AMQPMethod::Close(c)) => {
                (c.reply_code, c.reply_text.to_string())
            }
            other => panic!("expected connection.close, got {other:?}"),
        }
    }

    /// Read raw bytes until the server closes the socket; returns them, or None on timeout.
    pub async fn read_to_close(&mut self, limit: Duration) -> Option<Vec<u8>> {
        let mut all = self.buf.split().to_vec();
        let deadline = tokio::time::Instant::now() + limit;
        let mut chunk = [0u8; 4096];
        loop {
            match tokio::time::timeout_at(deadline, self.stream.read(&mut chunk)).await {
                Err(_) => return None,
                Ok(Ok(0)) | Ok(Err(_)) => return Some(all),
                Ok(Ok(n)) => all.extend_from_slice(&chunk[..n]),
            }
        }
    }
}
