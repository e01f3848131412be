//! A raw STOMP client on a plain `TcpStream`: frames as bytes, so tests can send what no
//! real client would (no colon, bad content-length, oversized frames, silence).

use std::net::SocketAddr;
use std::time::Duration;

use bytes::BytesMut;
use mqbridge::stomp::codec::{to_bytes, CodecError};
use mqbridge::stomp::{Frame, Item, Limits, StompCodec, Version};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::codec::Decoder;

pub struct StompClient {
    pub stream: Box<dyn super::Io>,
    buf: BytesMut,
    codec: StompCodec,
    /// Heart-beat EOLs received so far.
    pub heartbeats: usize,
}

/// What reading from the server gave.
#[derive(Debug)]
pub enum Read {
    Frame(Frame),
    Closed,
    TimedOut,
}

impl StompClient {
    pub async fn connect(addr: SocketAddr) -> StompClient {
        let stream = TcpStream::connect(addr).await.expect("tcp connect");
        StompClient::on(Box::new(stream))
    }

    /// A client on an already connected stream (TLS).
    pub fn on(stream: Box<dyn super::Io>) -> StompClient {
        StompClient {
            stream,
            buf: BytesMut::new(),
            codec: StompCodec::new(Version::V1_2, Limits::default()),
            heartbeats: 0,
        }
    }

    /// Connect and log in as guest on `/` with STOMP 1.2; returns the CONNECTED frame.
    pub async fn open(addr: SocketAddr) -> (StompClient, Frame) {
        StompClient::open_with(addr, &[("accept-version", "1.2"), ("host", "/")]).await
    }

    /// Connect with these CONNECT headers (plus guest's login); expects CONNECTED.
    pub async fn open_with(addr: SocketAddr, headers: &[(&str, &str)]) -> (StompClient, Frame) {
        let mut c = StompClient::connect(addr).await;
        let mut all: Vec<(&str, &str)> = headers.to_vec();
        all.push(("login", "guest"));
        all.push(("passcode", "guest"));
        c.send("CONNECT", &all, b"").await;
        let connected = c.frame().await;
        assert_eq!(connected.command, "CONNECTED", "{connected:?}");
        if let Some(v) = connected.header("version").and_then(Version::parse) {
            c.codec.version = v;
        }
        (c, connected)
    }

    pub async fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.expect("write");
    }

    pub async fn send(&mut self, command: &str, headers: &[(&str, &str)], body: &[u8]) {
        let mut frame = Frame::new(command).with_body(body.to_vec());
        for (k, v) in headers {
            frame.headers.push((k.to_string(), v.to_string()));
        }
        let bytes = to_bytes(&frame, self.codec.version);
        self.send_raw(&bytes).await;
    }

    /// The next frame (heart-beats counted and skipped), within `timeout`.
    pub async fn read(&mut self, timeout: Duration) -> Read {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match self.codec.decode(&mut self.buf) {
                Ok(Some(Item::Frame(f))) => return Read::Frame(f),
                Ok(Some(Item::Heartbeat)) => {
                    self.heartbeats += 1;
                    continue;
                }
                Ok(None) => {}
                Err(CodecError::Io(_)) => return Read::Closed,
                Err(e) => panic!("server sent a bad frame: {e}"),
            }
            match tokio::time::timeout_at(deadline, self.stream.read_buf(&mut self.buf)).await {
                Err(_) => return Read::TimedOut,
                Ok(Ok(0)) | Ok(Err(_)) => return Read::Closed,
                Ok(Ok(_)) => {}
            }
        }
    }

    /// The next frame within 5 s.
    pub async fn frame(&mut self) -> Frame {
        match self.read(Duration::from_secs(5)).await {
            Read::Frame(f) => f,
            other => panic!("expected a frame, got {other:?}"),
        }
    }

    /// Expect an ERROR frame and then the server closing the connection.
    pub async fn expect_error_and_close(&mut self) -> Frame {
        let f = self.frame().await;
        assert_eq!(f.command, "ERROR", "{f:?}");
        assert!(f.header("message").is_some_and(|m| !m.is_empty()), "{f:?}");
        self.expect_closed().await;
        f
    }

    pub async fn expect_closed(&mut self) {
        match self.read(Duration::from_secs(5)).await {
            Read::Closed => {}
            other => panic!("expected the server to close, got {other:?}"),
        }
    }

    /// Send `command` with a receipt and wait for that RECEIPT.
    pub async fn send_with_receipt(
        &mut self,
        command: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        receipt: &str,
    ) {
        let mut all = headers.to_vec();
        all.push(("receipt", receipt));
        self.send(command, &all, body).await;
        let f = self.frame().await;
        assert_eq!(f.command, "RECEIPT", "{f:?}");
        assert_eq!(f.header("receipt-id"), Some(receipt));
    }

    /// Read `n` frames; return the RECEIPT ids and the other frames separately (a MESSAGE
    /// may overtake the RECEIPT of a persistent SEND, as with RabbitMQ).
    pub async fn frames_and_receipts(&mut self, n: usize) -> (Vec<String>, Vec<Frame>) {
        let mut receipts = Vec::new();
        let mut frames = Vec::new();
        for _ in 0..n {
            let f = self.frame().await;
            if f.command == "RECEIPT" {
                receipts.push(f.header("receipt-id").unwrap_or_default().to_string());
            } else {
                frames.push(f);
            }
        }
        (receipts, frames)
    }

    /// Expect no frame for `wait`.
    pub async fn expect_silence(&mut self, wait: Duration) {
        match self.read(wait).await {
            Read::TimedOut => {}
            other => panic!("expected nothing, got {other:?}"),
        }
    }
}
