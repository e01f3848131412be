//! The session state machine without sockets: frames in, [`Next`] and [`Outgoing`] out.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};

use super::codec::Version;
use super::frame::Frame;
use super::session::{Next, SessionContext, StompSession};
use super::writer::{message_frame, Outgoing};
use crate::auth::Users;
use crate::broker::store::MemoryStore;
use crate::broker::Broker;
use crate::config::Config;

const LOOPBACK: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 40000);

fn session() -> (StompSession, UnboundedReceiver<Outgoing>) {
    let broker = Broker::open(Arc::new(MemoryStore::new()), &["/".to_string()]).unwrap();
    let users = Arc::new(Users::from_config(&Config::default()).unwrap());
    let (out, rx) = unbounded_channel();
    let ctx = Arc::new(SessionContext { broker, users });
    (StompSession::new(ctx, LOOPBACK, out), rx)
}

fn connect(s: &mut StompSession, rx: &mut UnboundedReceiver<Outgoing>) {
    let next = s.handle_frame(
        Frame::new("CONNECT")
            .with("accept-version", "1.1,1.2")
            .with("host", "/")
            .with("heart-beat", "5000,10"),
    );
    assert_eq!(
        next,
        Next::Connected {
            version: Version::V1_2,
            send: Duration::from_millis(100),
            expect: Duration::from_millis(5000),
        }
    );
    let connected = frame(rx);
    assert_eq!(connected.command, "CONNECTED");
    assert_eq!(connected.header("heart-beat"), Some("100,5000"));
    assert!(matches!(rx.try_recv(), Ok(Outgoing::Negotiated { .. })));
}

/// The next frame written, MESSAGE deliveries encoded as the writer would.
fn frame(rx: &mut UnboundedReceiver<Outgoing>) -> Frame {
    match rx.try_recv() {
        Ok(Outgoing::Frame(f)) => f,
        Ok(Outgoing::Deliver(d, info)) => message_frame(&d, &info, Version::V1_2),
        other => panic!("expected a frame, got {other:?}"),
    }
}

#[test]
fn frames_before_connect_are_refused() {
    let (mut s, mut rx) = session();
    let next = s.handle_frame(Frame::new("SEND").with("destination", "/queue/a"));
    assert_eq!(next, Next::Close);
    let e = frame(&mut rx);
    assert_eq!(e.command, "ERROR");
    assert_eq!(e.header("message"), Some("not connected"));
}

#[tokio::test]
async fn send_subscribe_ack_and_receipts() {
    let (mut s, mut rx) = session();
    connect(&mut s, &mut rx);
    let sub = Frame::new("SUBSCRIBE")
        .with("destination", "/queue/q")
        .with("id", "s")
        .with("ack", "client-individual")
        .with("receipt", "r1");
    assert_eq!(s.handle_frame(sub), Next::Continue);
    assert_eq!(frame(&mut rx).header("receipt-id"), Some("r1"));
    let send = Frame::new("SEND")
        .with("destination", "/queue/q")
        .with("receipt", "r2")
        .with_body(&b"hi"[..]);
    assert_eq!(s.handle_frame(send), Next::Continue);
    let mut got = [frame(&mut rx), frame(&mut rx)];
    got.sort_by(|a, b| a.command.cmp(&b.command));
    assert_eq!(got[0].command, "MESSAGE");
    assert_eq!(&got[0].body[..], b"hi");
    assert_eq!(got[1].header("receipt-id"), Some("r2"));
    let ack = got[0].header("ack").unwrap().to_string();
    assert_eq!(
        s.handle_frame(Frame::new("ACK").with("id", ack.clone())),
        Next::Continue
    );
    // The same id twice is unknown now.
    assert_eq!(
        s.handle_frame(Frame::new("ACK").with("id", ack)),
        Next::Close
    );
    assert_eq!(frame(&mut rx).header("message"), Some("unknown ack id"));
}

#[tokio::test]
async fn disconnect_hands_the_receipt_to_the_listener() {
    let (mut s, mut rx) = session();
    connect(&mut s, &mut rx);
    let next = s.handle_frame(Frame::new("DISCONNECT").with("receipt", "bye"));
    assert_eq!(next, Next::Disconnect(Some("bye".into())));
}

#[tokio::test]
async fn a_bad_selector_names_its_position() {
    let (mut s, mut rx) = session();
    connect(&mut s, &mut rx);
    let sub = Frame::new("SUBSCRIBE")
        .with("destination", "/topic/t")
        .with("id", "s")
        .with("selector", "a >");
    assert_eq!(s.handle_frame(sub), Next::Close);
    let e = frame(&mut rx);
    assert!(
        e.header("message")
            .unwrap()
            .starts_with("invalid selector at position "),
        "{e:?}"
    );
}

#[tokio::test]
async fn queue_arguments_from_x_headers() {
    let (mut s, mut rx) = session();
    connect(&mut s, &mut rx);
    let send = Frame::new("SEND")
        .with("destination", "/queue/args")
        .with("x-max-length", "1")
        .with("x-message-ttl", "60000");
    assert_eq!(s.handle_frame(send), Next::Continue);
    let q = s.vhost().unwrap().queue("args").unwrap();
    assert_eq!(q.args.max_length, Some(1));
    assert_eq!(q.args.message_ttl, Some(60000));
    let bad = Frame::new("SEND")
        .with("destination", "/queue/args2")
        .with("x-max-length", "lots");
    assert_eq!(s.handle_frame(bad), Next::Close);
    assert_eq!(frame(&mut rx).header("message"), Some("bad queue argument"));
}

#[tokio::test]
async fn selectors_compare_numeric_string_headers_as_numbers_like_activemq() {
    let (mut s, mut rx) = session();
    connect(&mut s, &mut rx);
    let sub = Frame::new("SUBSCRIBE")
        .with("destination", "/queue/sel2")
        .with("id", "s2")
        .with("selector", "color = 'red' AND n > 2");
    assert_eq!(s.handle_frame(sub), Next::Continue);
    for (color, n) in [("red", "1"), ("red", "3"), ("blue", "5"), ("red", "7.5")] {
        let send = Frame::new("SEND")
            .with("destination", "/queue/sel2")
            .with("color", color)
            .with("n", n)
            .with_body(format!("{color}{n}"));
        assert_eq!(s.handle_frame(send), Next::Continue);
    }
    let mut bodies = Vec::new();
    while let Ok(item) = rx.try_recv() {
        if let Outgoing::Deliver(d, _) = item {
            bodies.push(String::from_utf8_lossy(&d.message.body).to_string());
        }
    }
    assert_eq!(bodies, ["red3", "red7.5"]);
}
