//! A minimal OpenWire client on the bridge's own codec, for driving the listener like the
//! stock ActiveMQ JMS client does (loose encoding, no cache).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::codec::{Decoder, Encoder};

use mqbridge::openwire::codec::{
    BaseCommand, Command, ConnectionId, ConnectionInfo, ConsumerId, ConsumerInfo, DataStructure,
    Destination, Limits, Message, MessageAck, MessageDispatch, MessageId, MessageKind,
    OpenWireCodec, ProducerId, ProducerInfo, RemoveInfo, SessionId, SessionInfo, WireFormatInfo,
};
use mqbridge::openwire::message::{JmsBody, JmsValue};

/// One client connection.
pub struct OwClient {
    stream: Box<dyn super::Io>,
    /// The `brokerURL` of the server's BrokerInfo.
    pub broker_url: Option<String>,
    codec: OpenWireCodec,
    buf: BytesMut,
    next_id: i32,
    pub connection_id: String,
    pub client_id: String,
    /// Commands read while waiting for something else.
    pending: VecDeque<Command>,
    producer_seq: i64,
    next_consumer: i64,
}

pub fn base(id: i32, rr: bool) -> BaseCommand {
    BaseCommand::new(id, rr)
}

impl OwClient {
    /// TCP connect and exchange WireFormatInfo (reads the server's WFI and BrokerInfo).
    pub async fn open(addr: SocketAddr) -> OwClient {
        OwClient::open_with_inactivity(addr, 30_000).await
    }

    /// [`OwClient::open`] announcing `MaxInactivityDuration` = `inactivity_ms`.
    pub async fn open_with_inactivity(addr: SocketAddr, inactivity_ms: i64) -> OwClient {
        let stream = TcpStream::connect(addr).await.expect("connect");
        OwClient::open_on(Box::new(stream), inactivity_ms).await
    }

    /// Exchange WireFormatInfo on an already connected stream (TLS).
    pub async fn open_on(stream: Box<dyn super::Io>, inactivity_ms: i64) -> OwClient {
        let local = WireFormatInfo::server(inactivity_ms, 1 << 20, "it-client");
        let mut c = OwClient {
            stream,
            broker_url: None,
            codec: OpenWireCodec::new(local.clone(), Limits::default()),
            buf: BytesMut::new(),
            next_id: 1,
            connection_id: format!("ID:it-{}", rand_suffix()),
            client_id: String::new(),
            pending: VecDeque::new(),
            producer_seq: 0,
            next_consumer: 1,
        };
        c.write(Command::WireFormatInfo(local)).await;
        match c.read().await {
            Command::WireFormatInfo(w) => assert_eq!(w.version, 12),
            other => panic!("expected WireFormatInfo first, got {other:?}"),
        }
        match c.read().await {
            Command::BrokerInfo(info) => c.broker_url = info.broker_url,
            other => panic!("expected BrokerInfo, got {other:?}"),
        }
        c
    }

    /// [`OwClient::open`] + ConnectionInfo (client id `client_id`) + SessionInfo 1.
    pub async fn connect(addr: SocketAddr, client_id: &str) -> OwClient {
        let mut c = OwClient::open(addr).await;
        let reply = c.connection_info(client_id).await;
        assert!(matches!(reply, Command::Response(_)), "{reply:?}");
        c.write(Command::SessionInfo(SessionInfo {
            base: base(0, false),
            session_id: Some(SessionId {
                connection_id: Some(c.connection_id.clone()),
                value: 1,
            }),
        }))
        .await;
        c
    }

    pub async fn connection_info(&mut self, client_id: &str) -> Command {
        self.client_id = client_id.to_string();
        let info = ConnectionInfo {
            base: base(0, true),
            connection_id: Some(ConnectionId::new(self.connection_id.clone())),
            client_id: Some(client_id.to_string()),
            manageable: true,
            client_master: true,
            ..ConnectionInfo::default()
        };
        self.request(Command::ConnectionInfo(info)).await
    }

    pub fn next_command_id(&mut self) -> i32 {
        self.next_id += 1;
        self.next_id
    }

    pub async fn write(&mut self, command: Command) {
        let mut out = BytesMut::new();
        self.codec.encode(command, &mut out).expect("encode");
        self.stream.write_all(&out).await.expect("write");
    }

    /// Raw bytes onto the socket (hand-made frames).
    pub async fn write_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.expect("write");
    }

    /// The next command from the server (KeepAliveInfo skipped), within 5 s.
    pub async fn read(&mut self) -> Command {
        if let Some(c) = self.pending.pop_front() {
            return c;
        }
        self.read_raw(Duration::from_secs(5))
            .await
            .expect("timed out waiting for a command")
    }

    /// The next command within `wait`, None if nothing came (or the socket closed).
    pub async fn read_within(&mut self, wait: Duration) -> Option<Command> {
        if let Some(c) = self.pending.pop_front() {
            return Some(c);
        }
        self.read_raw(wait).await
    }

    /// The next command within `wait`, KeepAliveInfo included.
    pub async fn read_any_within(&mut self, wait: Duration) -> Option<Command> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(c) = self.codec.decode(&mut self.buf).expect("decode") {
                return Some(c);
            }
            match tokio::time::timeout_at(deadline, self.stream.read_buf(&mut self.buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return None,
                Ok(Ok(_)) => {}
            }
        }
    }

    async fn read_raw(&mut self, wait: Duration) -> Option<Command> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(c) = self.codec.decode(&mut self.buf).expect("decode") {
                if matches!(c, Command::KeepAliveInfo(_)) {
                    continue;
                }
                return Some(c);
            }
            match tokio::time::timeout_at(deadline, self.stream.read_buf(&mut self.buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return None,
                Ok(Ok(_)) => {}
            }
        }
    }

    /// True when the server closed the connection within `wait`.
    pub async fn closed_within(&mut self, wait: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.stream.read_buf(&mut self.buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => return true,
                Ok(Ok(_)) => continue,
                Err(_) => return false,
            }
        }
    }

    /// Send `command` with a fresh command id and rr=true; return its Response or
    /// ExceptionResponse (other commands read meanwhile are kept for [`OwClient::read`]).
    pub async fn request(&mut self, mut command: Command) -> Command {
        let id = self.next_command_id();
        set_base(&mut command, base(id, true));
        self.write(command).await;
        let mut kept = Vec::new();
        let reply = loop {
            let c = self
                .read_raw(Duration::from_secs(5))
                .await
                .expect("no response in time");
            match &c {
                Command::Response(r) if r.correlation_id == id => break c,
                Command::ExceptionResponse(r) if r.correlation_id == id => break c,
                _ => kept.push(c),
            }
        };
        self.pending.extend(kept);
        reply
    }

    pub fn producer_id(&self) -> ProducerId {
        ProducerId {
            connection_id: Some(self.connection_id.clone()),
            value: 1,
            session_id: 1,
        }
    }

    pub async fn producer(&mut self, destination: Option<Destination>) {
        let info = ProducerInfo {
            base: base(0, true),
            producer_id: Some(self.producer_id()),
            destination,
            ..ProducerInfo::default()
        };
        let reply = self.request(Command::ProducerInfo(info)).await;
        assert!(matches!(reply, Command::Response(_)), "{reply:?}");
    }

    /// A JMS message from this client's producer to `destination`.
    pub fn message(&mut self, destination: Destination, body: &JmsBody) -> Message {
        self.producer_seq += 1;
        let mut m = Message {
            producer_id: Some(self.producer_id()),
            destination: Some(destination),
            message_id: Some(MessageId {
                text_view: None,
                producer_id: Some(self.producer_id()),
                producer_sequence_id: self.producer_seq,
                broker_sequence_id: 0,
            }),
            persistent: true,
            priority: 4,
            timestamp: 1_700_000_000_123,
            ..Message::default()
        };
        m.set_body(body, false).expect("body");
        m
    }

    /// Send synchronously (rr=true); returns the reply.
    pub async fn send_sync(&mut self, message: Message) -> Command {
        self.request(Command::Message(Box::new(message))).await
    }

    /// Send without waiting (rr=false).
    pub async fn send_async(&mut self, mut message: Message) {
        message.base = base(self.next_command_id(), false);
        self.write(Command::Message(Box::new(message))).await;
    }

    pub fn consumer_id(&mut self) -> ConsumerId {
        let id = ConsumerId {
            connection_id: Some(self.connection_id.clone()),
            session_id: 1,
            value: self.next_consumer,
        };
        self.next_consumer += 1;
        id
    }

    /// A ConsumerInfo with prefetch `prefetch`; returns its id and the reply.
    pub async fn consume(
        &mut self,
        destination: Destination,
        prefetch: i32,
        adjust: impl FnOnce(&mut ConsumerInfo),
    ) -> (ConsumerId, Command) {
        let id = self.consumer_id();
        let mut info = ConsumerInfo {
            base: base(0, true),
            consumer_id: Some(id.clone()),
            destination: Some(destination),
            prefetch_size: prefetch,
            dispatch_async: true,
            client_id: Some(self.client_id.clone()),
            ..ConsumerInfo::default()
        };
        adjust(&mut info);
        let reply = self.request(Command::ConsumerInfo(info)).await;
        (id, reply)
    }

    /// The next MessageDispatch (other commands are a failure).
    pub async fn dispatch(&mut self) -> MessageDispatch {
        match self.read().await {
            Command::MessageDispatch(d) => d,
            other => panic!("expected a MessageDispatch, got {other:?}"),
        }
    }

    /// A MessageAck of `ack_type` for `first..=last` of consumer `id`.
    pub async fn ack(
        &mut self,
        id: &ConsumerId,
        ack_type: u8,
        first: Option<&MessageDispatch>,
        last: &MessageDispatch,
        count: i32,
        transaction: Option<mqbridge::openwire::codec::TransactionId>,
    ) {
        let msg_id = |d: &MessageDispatch| d.message.as_ref().and_then(|m| m.message_id.clone());
        let ack = MessageAck {
            base: base(self.next_command_id(), false),
            destination: last.destination.clone(),
            transaction_id: transaction,
            consumer_id: Some(id.clone()),
            ack_type,
            first_message_id: first.and_then(msg_id),
            last_message_id: msg_id(last),
            message_count: count,
            poison_cause: None,
        };
        self.write(Command::MessageAck(ack)).await;
    }

    pub async fn remove(&mut self, object: DataStructure) {
        let info = RemoveInfo {
            base: base(self.next_command_id(), false),
            object_id: Some(object),
            last_delivered_sequence_id: -1,
        };
        self.write(Command::RemoveInfo(info)).await;
    }
}

/// The body of a dispatched message.
pub fn body(d: &MessageDispatch) -> JmsBody {
    d.message.as_ref().expect("a message").body().expect("body")
}

pub fn text(d: &MessageDispatch) -> String {
    match body(d) {
        JmsBody::Text(t) => t,
        other => panic!("expected a text body, got {other:?}"),
    }
}

pub fn property(d: &MessageDispatch, name: &str) -> Option<JmsValue> {
    d.message
        .as_ref()
        .expect("a message")
        .property(name)
        .expect("properties")
}

pub fn kind(d: &MessageDispatch) -> MessageKind {
    d.message.as_ref().expect("a message").kind
}

fn set_base(command: &mut Command, b: BaseCommand) {
    match command {
        Command::ConnectionInfo(c) => c.base = b,
        Command::SessionInfo(c) => c.base = b,
        Command::ConsumerInfo(c) => c.base = b,
        Command::ProducerInfo(c) => c.base = b,
        Command::TransactionInfo(c) => c.base = b,
        Command::DestinationInfo(c) => c.base = b,
        Command::RemoveSubscriptionInfo(c) => c.base = b,
        Command::RemoveInfo(c) => c.base = b,
        Command::MessagePull(c) => c.base = b,
        Command::MessageAck(c) => c.base = b,
        Command::Message(c) => c.base = b,
        Command::KeepAliveInfo(c) => c.base = b,
        other => panic!("set_base: {other:?}"),
    }
}

fn rand_suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}
