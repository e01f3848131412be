//! A minimal STOMP 1.2 client for the load generator: CONNECT, SEND (with `receipt`),
//! SUBSCRIBE, ACK, over tokio + `bytes`.
//!
//! Why not a STOMP crate or mqbridge's own codec: the loadgen must not depend on the mqbridge
//! crate it measures (a codec bug would then hide on both sides of the wire), and the STOMP
//! crates on crates.io are either unmaintained or pull in a second async stack. Frames are
//! simple text, and the loadgen needs only a handful of them.
//!
//! Header values are kept in their wire (escaped) form: the only ones read back are echoed
//! verbatim (`ack`, `message-id` into ACK), counted (RECEIPT) or printed (ERROR), so no
//! unescaping is needed. Every SEND carries `content-length` (bodies hold arbitrary bytes).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use hdrhistogram::Histogram;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedReadHalf;
use tokio::net::TcpStream;
use tokio::sync::{watch, Notify};

use crate::{new_histogram, now_ns, record_latency, Args, Result, Shared};

/// Largest frame accepted from a broker (a 4 KiB body plus headers fits many times over).
const MAX_FRAME: usize = 16 * 1024 * 1024;

/// One received frame; header names and values are raw (escaped) wire bytes.
pub struct Frame {
    pub command: Bytes,
    pub headers: Vec<(Bytes, Bytes)>,
    pub body: Bytes,
}

impl Frame {
    /// First header with this name (STOMP: the first occurrence wins).
    pub fn header(&self, name: &str) -> Option<&Bytes> {
        self.headers
            .iter()
            .find(|(n, _)| n.as_ref() == name.as_bytes())
            .map(|(_, v)| v)
    }

    fn describe(&self) -> String {
        let msg = self
            .header("message")
            .map(|m| String::from_utf8_lossy(m).into_owned())
            .unwrap_or_default();
        format!(
            "{} {msg}: {}",
            String::from_utf8_lossy(&self.command),
            String::from_utf8_lossy(&self.body).trim_end()
        )
    }
}

fn find(hay: &[u8], byte: u8) -> Option<usize> {
    hay.iter().position(|&b| b == byte)
}

/// Parses one frame off the front of `buf` (heart-beat EOLs before it are skipped).
/// `Ok(None)`: not complete yet.
pub fn parse_frame(buf: &mut BytesMut) -> Result<Option<Frame>> {
    // Heart-beats / EOLs between frames.
    let skip = buf
        .iter()
        .position(|&b| b != b'\n' && b != b'\r')
        .unwrap_or(buf.len());
    buf.advance(skip);
    if buf.is_empty() {
        return Ok(None);
    }
    // Header block: lines up to an empty line.
    let mut lines: Vec<(usize, usize)> = Vec::with_capacity(12);
    let mut pos = 0;
    let head_end = loop {
        let Some(nl) = find(&buf[pos..], b'\n') else {
            if buf.len() > MAX_FRAME {
                return Err("STOMP frame header too long".into());
            }
            return Ok(None);
        };
        let mut end = pos + nl;
        if end > pos && buf[end - 1] == b'\r' {
            end -= 1;
        }
        if end == pos {
            break pos + nl + 1;
        }
        lines.push((pos, end));
        pos += nl + 1;
    };
    let mut content_length: Option<usize> = None;
    for &(s, e) in lines.iter().skip(1) {
        let line = &buf[s..e];
        if line.starts_with(b"content-length:") && content_length.is_none() {
            let v = std::str::from_utf8(&line[15..])
                .ok()
                .and_then(|v| v.trim().parse().ok())
                .ok_or("bad content-length from the broker")?;
            content_length = Some(v);
        }
    }
    let body_end = match content_length {
        Some(n) => {
            if buf.len() < head_end + n + 1 {
                if head_end + n > MAX_FRAME {
                    return Err("STOMP frame too large".into());
                }
                return Ok(None);
            }
            if buf[head_end + n] != 0 {
                return Err("STOMP frame: no NUL after content-length octets".into());
            }
            head_end + n
        }
        None => match find(&buf[head_end..], 0) {
            Some(i) => head_end + i,
            None => {
                if buf.len() > MAX_FRAME {
                    return Err("STOMP frame too large".into());
                }
                return Ok(None);
            }
        },
    };
    let frame = buf.split_to(body_end + 1).freeze();
    let (cs, ce) = lines[0];
    let command = frame.slice(cs..ce);
    let mut headers = Vec::with_capacity(lines.len() - 1);
    for &(s, e) in lines.iter().skip(1) {
        let colon = find(&frame[s..e], b':').map(|c| s + c).unwrap_or(e);
        let value_start = (colon + 1).min(e);
        headers.push((frame.slice(s..colon), frame.slice(value_start..e)));
    }
    let body = frame.slice(head_end..body_end);
    Ok(Some(Frame {
        command,
        headers,
        body,
    }))
}

/// Reads the next frame (`Ok(None)` on EOF).
async fn read_frame(rd: &mut OwnedReadHalf, buf: &mut BytesMut) -> Result<Option<Frame>> {
    loop {
        if let Some(f) = parse_frame(buf)? {
            return Ok(Some(f));
        }
        buf.reserve(64 * 1024);
        if rd.read_buf(buf).await? == 0 {
            return Ok(None);
        }
    }
}

/// STOMP connection parameters.
#[derive(Clone, Debug)]
pub struct StompTarget {
    pub addr: String,
    pub host: String,
    pub login: String,
    pub passcode: String,
}

/// A connected STOMP session, split into halves.
pub struct StompConn {
    pub rd: OwnedReadHalf,
    pub wr: tokio::net::tcp::OwnedWriteHalf,
    pub buf: BytesMut,
}

pub async fn connect(t: &StompTarget) -> Result<StompConn> {
    let stream = TcpStream::connect(&t.addr)
        .await
        .map_err(|e| format!("STOMP connect to {}: {e}", t.addr))?;
    stream.set_nodelay(true)?;
    let (rd, mut wr) = stream.into_split();
    let connect = format!(
        "CONNECT\naccept-version:1.2\nhost:{}\nlogin:{}\npasscode:{}\nheart-beat:0,0\n\n\0",
        t.host, t.login, t.passcode
    );
    wr.write_all(connect.as_bytes()).await?;
    let mut c = StompConn {
        rd,
        wr,
        buf: BytesMut::with_capacity(64 * 1024),
    };
    match read_frame(&mut c.rd, &mut c.buf).await? {
        Some(f) if f.command.as_ref() == b"CONNECTED" => Ok(c),
        Some(f) => Err(format!("STOMP CONNECT to {}: {}", t.addr, f.describe()).into()),
        None => Err(format!("STOMP CONNECT to {}: connection closed", t.addr).into()),
    }
}

/// Producer: SENDs to `destination` as fast as the limits let it (see the crate doc);
/// with `--confirm` every SEND asks for a receipt and at most `--confirm-window` are
/// outstanding. Up to `--send-window` frames are written per `write_all`.
pub async fn produce(
    conn: StompConn,
    destination: String,
    args: Args,
    shared: Arc<Shared>,
    stop: watch::Receiver<bool>,
) -> Result<()> {
    let StompConn { rd, mut wr, buf } = conn;
    let receipts = Arc::new(AtomicU64::new(0));
    let notify = Arc::new(Notify::new());
    let reader = tokio::spawn(receipt_reader(rd, buf, receipts.clone(), notify.clone()));

    let mut head = format!(
        "SEND\ndestination:{destination}\ncontent-length:{}\n",
        args.size
    );
    if args.persistent {
        head.push_str("persistent:true\n");
    }
    let mut out = BytesMut::with_capacity(args.send_window * (head.len() + args.size + 32));
    let mut body = vec![0u8; args.size];
    let mut asked = 0u64;
    let mut paused = false;
    let result: Result<()> = async {
        loop {
            if reader.is_finished() {
                break;
            }
            if *stop.borrow() {
                break;
            }
            out.clear();
            let mut n = 0;
            while n < args.send_window
                && (!args.confirm
                    || asked - receipts.load(Ordering::Acquire) < args.confirm_window as u64)
            {
                let depth = shared
                    .published
                    .load(Ordering::Relaxed)
                    .saturating_sub(shared.consumed.load(Ordering::Relaxed));
                if depth > args.max_depth {
                    if !paused {
                        shared.depth_pauses.fetch_add(1, Ordering::Relaxed);
                        paused = true;
                    }
                    break;
                }
                paused = false;
                out.put_slice(head.as_bytes());
                if args.confirm {
                    asked += 1;
                    out.put_slice(b"receipt:");
                    out.put_slice(asked.to_string().as_bytes());
                    out.put_u8(b'\n');
                }
                out.put_u8(b'\n');
                body[..8].copy_from_slice(&now_ns().to_le_bytes());
                out.put_slice(&body);
                out.put_u8(0);
                n += 1;
                shared.published.fetch_add(1, Ordering::Relaxed);
                if shared.measuring.load(Ordering::Relaxed) {
                    shared.published_window.fetch_add(1, Ordering::Relaxed);
                }
            }
            if n > 0 {
                wr.write_all(&out).await.map_err(|e| format!("SEND: {e}"))?;
                continue;
            }
            if args.confirm && !paused {
                // Receipt window full: wait for a receipt (or re-check the stop flag).
                let _ = tokio::time::timeout(Duration::from_millis(5), notify.notified()).await;
            } else {
                // Paused on the depth cap: let the consumers catch up.
                tokio::time::sleep(Duration::from_micros(500)).await;
            }
        }
        Ok(())
    }
    .await;
    // Outstanding receipts at the end are not waited for (as with AMQP confirms).
    if reader.is_finished() {
        match reader.await {
            Ok(Err(e)) => return Err(e),
            Err(e) => return Err(format!("receipt reader task: {e}").into()),
            Ok(Ok(())) if !*stop.borrow() => {
                return Err("STOMP producer connection closed by the broker".into())
            }
            Ok(Ok(())) => {}
        }
    } else {
        reader.abort();
    }
    result?;
    let _ = wr.write_all(b"DISCONNECT\n\n\0").await;
    let _ = wr.shutdown().await;
    Ok(())
}

async fn receipt_reader(
    mut rd: OwnedReadHalf,
    mut buf: BytesMut,
    receipts: Arc<AtomicU64>,
    notify: Arc<Notify>,
) -> Result<()> {
    while let Some(f) = read_frame(&mut rd, &mut buf).await? {
        match f.command.as_ref() {
            b"RECEIPT" => {
                receipts.fetch_add(1, Ordering::AcqRel);
                notify.notify_one();
            }
            b"ERROR" => return Err(format!("broker sent {}", f.describe()).into()),
            _ => {}
        }
    }
    Ok(())
}

/// How a STOMP consumer behaves once the window is over.
#[derive(Clone, Copy)]
pub enum AfterStop {
    /// Stop at once (the queue is deleted over AMQP next).
    Leave,
    /// Keep consuming (and acking) until the queue has been idle for a while, so a broker
    /// whose queues cannot be deleted from here (ActiveMQ) is left empty for the next run.
    Drain,
}

/// Consumer: SUBSCRIBE with `ack:client` and a prefetch (`prefetch-count` for RabbitMQ and
/// mqbridge, `activemq.prefetchSize` for ActiveMQ: both are sent), cumulative ACK every
/// `ack_every` messages.
pub async fn consume(
    conn: StompConn,
    destination: String,
    index: usize,
    args: Args,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
    after: AfterStop,
) -> Result<(Histogram<u64>, u64)> {
    let StompConn {
        mut rd,
        mut wr,
        mut buf,
    } = conn;
    let sub_id = format!("loadgen-c{index}");
    let subscribe = format!(
        "SUBSCRIBE\nid:{sub_id}\ndestination:{destination}\nack:client\nprefetch-count:{p}\nactivemq.prefetchSize:{p}\n\n\0",
        p = args.prefetch
    );
    wr.write_all(subscribe.as_bytes()).await?;
    let mut hist = new_histogram()?;
    let mut counted = 0u64;
    let mut unacked = 0u64;
    let mut last: Option<(Bytes, Bytes)> = None;
    let mut stopping = false;
    let idle = Duration::from_millis(1500);
    let drain_deadline = Duration::from_secs(20);
    let mut drain_started: Option<tokio::time::Instant> = None;
    loop {
        let frame = if stopping {
            let Some(t0) = drain_started else { break };
            if t0.elapsed() > drain_deadline {
                break;
            }
            match tokio::time::timeout(idle, read_frame(&mut rd, &mut buf)).await {
                Ok(r) => r,
                Err(_) => break, // idle: drained
            }
        } else {
            tokio::select! {
                r = read_frame(&mut rd, &mut buf) => r,
                _ = stop.changed() => {
                    stopping = true;
                    if let AfterStop::Drain = after {
                        drain_started = Some(tokio::time::Instant::now());
                    }
                    continue;
                }
            }
        };
        let frame = match frame {
            Ok(Some(f)) => f,
            Ok(None) if stopping || *stop.borrow() => break,
            Ok(None) => return Err("STOMP consumer connection closed by the broker".into()),
            Err(e) => return Err(e),
        };
        match frame.command.as_ref() {
            b"MESSAGE" => {}
            b"ERROR" => return Err(format!("broker sent {}", frame.describe()).into()),
            _ => continue,
        }
        let now = now_ns();
        shared.consumed.fetch_add(1, Ordering::Relaxed);
        if shared.measuring.load(Ordering::Relaxed) {
            record_latency(&mut hist, &frame.body, now)?;
            counted += 1;
        }
        let message_id = frame.header("message-id").cloned().unwrap_or_default();
        let ack_id = frame
            .header("ack")
            .cloned()
            .unwrap_or_else(|| message_id.clone());
        last = Some((ack_id, message_id));
        unacked += 1;
        if unacked >= args.ack_every {
            send_ack(&mut wr, last.as_ref(), &sub_id).await?;
            unacked = 0;
        }
    }
    if unacked > 0 {
        let _ = send_ack(&mut wr, last.as_ref(), &sub_id).await;
    }
    let _ = wr.write_all(b"DISCONNECT\n\n\0").await;
    let _ = wr.shutdown().await;
    Ok((hist, counted))
}

/// Cumulative ACK (`ack:client`): 1.2 `id` plus the 1.0/1.1 `message-id` and `subscription`
/// headers, so it reads the same whatever version a broker settles on.
async fn send_ack(
    wr: &mut tokio::net::tcp::OwnedWriteHalf,
    last: Option<&(Bytes, Bytes)>,
    sub_id: &str,
) -> Result<()> {
    let Some((ack_id, message_id)) = last else {
        return Ok(());
    };
    let mut f = BytesMut::with_capacity(64 + ack_id.len() + message_id.len());
    f.put_slice(b"ACK\nid:");
    f.put_slice(ack_id);
    f.put_slice(b"\nmessage-id:");
    f.put_slice(message_id);
    f.put_slice(b"\nsubscription:");
    f.put_slice(sub_id.as_bytes());
    f.put_slice(b"\n\n\0");
    wr.write_all(&f).await.map_err(|e| format!("ACK: {e}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_frames_split_anywhere() {
        let mut wire = Vec::new();
        wire.extend_from_slice(b"\n\r\nMESSAGE\r\nmessage-id:ID\\c1\nack:7\ncontent-length:5\n\n");
        wire.extend_from_slice(&[1, 0, 2, 0, 3, 0]);
        wire.extend_from_slice(b"\nRECEIPT\nreceipt-id:9\n\n\0");
        for cut in 0..wire.len() {
            let mut buf = BytesMut::from(&wire[..cut]);
            let mut frames = Vec::new();
            while let Some(f) = parse_frame(&mut buf).unwrap() {
                frames.push(f);
            }
            buf.extend_from_slice(&wire[cut..]);
            while let Some(f) = parse_frame(&mut buf).unwrap() {
                frames.push(f);
            }
            assert_eq!(frames.len(), 2, "cut at {cut}");
            assert_eq!(frames[0].command.as_ref(), b"MESSAGE");
            assert_eq!(frames[0].header("message-id").unwrap().as_ref(), b"ID\\c1");
            assert_eq!(frames[0].header("ack").unwrap().as_ref(), b"7");
            assert_eq!(frames[0].body.as_ref(), &[1, 0, 2, 0, 3]);
            assert_eq!(frames[1].command.as_ref(), b"RECEIPT");
            assert_eq!(frames[1].header("receipt-id").unwrap().as_ref(), b"9");
            assert!(frames[1].body.is_empty());
        }
    }
}
