//! `mqbridge-routes-load`: the loader and the stopwatch of `bench/routes.sh`, which times a
//! route (or a RabbitMQ shovel) moving N messages that already sit in a source queue.
//!
//! - `fill-amqp`: publishes N persistent messages to a durable AMQP 0-9-1 queue with
//!   publisher confirms (window 1000) and returns once all are confirmed.
//! - `fill-stomp`: SENDs N `persistent:true` messages to `/queue/Q` over STOMP (ActiveMQ),
//!   the last one with a receipt: the broker handles one connection's frames in order, so
//!   that receipt means every message before it is stored.
//! - `watch`: declares the destination queue (durable), polls its depth with passive
//!   `queue.declare` every `--poll-ms` and prints one JSON line once it holds N messages:
//!   time of the first arrival, time of the last, the rate in between, the CPU the given
//!   processes spent in between, then (after `--settle-ms`, to catch late duplicates) it
//!   drains the queue and counts distinct message ids, duplicates and missing ones.
//!   `--ready-file` is created once the watcher polls, so the caller starts the mover only
//!   then and the first arrival is never missed.
//! - `delete-amqp`: deletes queues; `drain-stomp`: empties an ActiveMQ queue (cleanup).
//!
//! Bodies are `--size` bytes: the message's sequence number as 12 ASCII digits, then `x`s,
//! so every hop (JMS BytesMessage, AMQP 1.0 data section, STOMP frame) keeps the id readable.
//! A separate binary rather than a mode of `mqbridge-loadgen`: that one measures a steady
//! state over a time window, this one a fixed batch end to end.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use futures_util::stream::StreamExt;
use lapin::options::{
    BasicConsumeOptions, BasicPublishOptions, BasicQosOptions, ConfirmSelectOptions,
    QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties};
use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// Digits of the sequence number at the start of every body.
const ID_DIGITS: usize = 12;

#[derive(Parser, Debug)]
#[command(
    name = "mqbridge-routes-load",
    about = "Loader and stopwatch for bench/routes.sh"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Publish N persistent messages to a durable AMQP queue, with confirms.
    FillAmqp {
        #[arg(long)]
        url: String,
        #[arg(long)]
        queue: String,
        #[arg(long)]
        count: u64,
        #[arg(long, default_value_t = 1024)]
        size: usize,
    },
    /// SEND N persistent messages to /queue/Q over STOMP (the last one with a receipt).
    FillStomp {
        /// host:port
        #[arg(long)]
        addr: String,
        #[arg(long)]
        queue: String,
        #[arg(long)]
        count: u64,
        #[arg(long, default_value_t = 1024)]
        size: usize,
        #[arg(long, default_value = "admin")]
        login: String,
        #[arg(long, default_value = "admin")]
        passcode: String,
    },
    /// Time the arrival of N messages in an AMQP queue, then verify them (see the module doc).
    Watch {
        #[arg(long)]
        url: String,
        #[arg(long)]
        queue: String,
        #[arg(long)]
        count: u64,
        /// Label copied into the JSON line.
        #[arg(long, default_value = "")]
        label: String,
        #[arg(long, default_value_t = 5)]
        poll_ms: u64,
        /// Give up (and report how far it got) after this many seconds without progress.
        #[arg(long, default_value_t = 30)]
        stall_s: u64,
        /// Wait this long after the N-th message before draining, to see late duplicates.
        #[arg(long, default_value_t = 300)]
        settle_ms: u64,
        /// Processes whose CPU (utime+stime) between first and last arrival is reported:
        /// `name=PID`, repeatable.
        #[arg(long = "pid")]
        pids: Vec<String>,
        #[arg(long, default_value_t = 100)]
        clk_tck: u64,
        /// Created once the watcher polls the queue.
        #[arg(long)]
        ready_file: Option<String>,
        /// Leave the queue (do not drain, verify and delete it).
        #[arg(long)]
        no_verify: bool,
        /// Print `seconds-since-ready depth` to stderr every this many ms (0: never), to see
        /// whether a mover runs steadily or in bursts.
        #[arg(long, default_value_t = 0)]
        trace_ms: u64,
    },
    /// Consume (auto ack) and discard what is left in /queue/Q over STOMP, until 2 s pass
    /// without a message; prints how many. ActiveMQ cannot delete a queue over STOMP: this
    /// keeps a failed run's messages from piling up in its store.
    DrainStomp {
        /// host:port
        #[arg(long)]
        addr: String,
        #[arg(long)]
        queue: String,
        #[arg(long, default_value = "admin")]
        login: String,
        #[arg(long, default_value = "admin")]
        passcode: String,
    },
    /// Delete AMQP queues (missing ones are fine).
    DeleteAmqp {
        #[arg(long)]
        url: String,
        queues: Vec<String>,
    },
}

fn body(seq: u64, size: usize) -> Vec<u8> {
    let mut b = format!("{seq:0ID_DIGITS$}").into_bytes();
    b.resize(size.max(ID_DIGITS), b'x');
    b
}

fn body_id(body: &[u8]) -> Option<u64> {
    std::str::from_utf8(body.get(..ID_DIGITS)?)
        .ok()?
        .parse()
        .ok()
}

async fn connect(url: &str, name: &str) -> Result<Connection> {
    let props = ConnectionProperties::default().with_connection_name(name.into());
    Connection::connect(url, props)
        .await
        .map_err(|e| format!("connect {name} to {url}: {e}").into())
}

async fn declare(ch: &Channel, queue: &str, passive: bool) -> Result<u32> {
    let opts = QueueDeclareOptions {
        durable: true,
        passive,
        ..QueueDeclareOptions::default()
    };
    let q = ch
        .queue_declare(queue.into(), opts, FieldTable::default())
        .await
        .map_err(|e| format!("queue.declare {queue}: {e}"))?;
    Ok(q.message_count())
}

async fn fill_amqp(url: &str, queue: &str, count: u64, size: usize) -> Result<()> {
    let conn = connect(url, "routes-fill").await?;
    let ch = conn.create_channel().await?;
    declare(&ch, queue, false).await?;
    ch.confirm_select(ConfirmSelectOptions::default()).await?;
    let props = BasicProperties::default().with_delivery_mode(2);
    let mut pending = std::collections::VecDeque::new();
    for seq in 0..count {
        let confirm = ch
            .basic_publish(
                "".into(),
                queue.into(),
                BasicPublishOptions::default(),
                &body(seq, size),
                props.clone(),
            )
            .await
            .map_err(|e| format!("basic.publish: {e}"))?;
        pending.push_back(confirm);
        while pending.len() >= 1000 {
            if let Some(c) = pending.pop_front() {
                if c.await?.is_nack() {
                    return Err("a publish was nacked".into());
                }
            }
        }
    }
    for c in pending {
        if c.await?.is_nack() {
            return Err("a publish was nacked".into());
        }
    }
    let _ = conn.close(200, "done".into()).await;
    Ok(())
}

/// Reads frames until one whose command is `want` arrives; an ERROR frame fails.
async fn stomp_expect(s: &mut TcpStream, buf: &mut Vec<u8>, want: &str) -> Result<()> {
    loop {
        // Frames end with NUL; heart-beat newlines between frames are skipped.
        while let Some(end) = buf.iter().position(|&b| b == 0) {
            let frame: Vec<u8> = buf.drain(..=end).collect();
            let text = String::from_utf8_lossy(&frame);
            let command = text
                .trim_start_matches(['\r', '\n'])
                .lines()
                .next()
                .unwrap_or("");
            if command == want {
                return Ok(());
            }
            if command == "ERROR" {
                return Err(format!("STOMP ERROR: {}", text.trim_end_matches('\0')).into());
            }
        }
        let mut chunk = [0u8; 4096];
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            return Err(format!("STOMP: connection closed while waiting for {want}").into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

async fn fill_stomp(
    addr: &str,
    queue: &str,
    count: u64,
    size: usize,
    login: &str,
    passcode: &str,
) -> Result<()> {
    let mut buf = Vec::new();
    let mut s = stomp_connect(addr, login, passcode, &mut buf).await?;
    let mut out = Vec::with_capacity(64 * (size + 128));
    for seq in 0..count {
        let receipt = if seq + 1 == count {
            "receipt:fill-done\n"
        } else {
            ""
        };
        // content-length: ActiveMQ makes a BytesMessage of it, whatever the bytes are.
        out.extend_from_slice(
            format!(
                "SEND\ndestination:/queue/{queue}\npersistent:true\ncontent-length:{}\n{receipt}\n",
                size.max(ID_DIGITS)
            )
            .as_bytes(),
        );
        out.extend_from_slice(&body(seq, size));
        out.push(0);
        if seq % 64 == 63 || seq + 1 == count {
            s.write_all(&out).await?;
            out.clear();
        }
    }
    if count > 0 {
        stomp_expect(&mut s, &mut buf, "RECEIPT").await?;
    }
    let _ = s.write_all(b"DISCONNECT\n\n\0").await;
    Ok(())
}

/// Opens a STOMP session (ActiveMQ: `host:localhost`, no heart-beats).
async fn stomp_connect(
    addr: &str,
    login: &str,
    passcode: &str,
    buf: &mut Vec<u8>,
) -> Result<TcpStream> {
    let mut s = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("STOMP connect to {addr}: {e}"))?;
    s.set_nodelay(true)?;
    let connect = format!(
        "CONNECT\naccept-version:1.2\nhost:localhost\nlogin:{login}\npasscode:{passcode}\nheart-beat:0,0\n\n\0"
    );
    s.write_all(connect.as_bytes()).await?;
    stomp_expect(&mut s, buf, "CONNECTED").await?;
    Ok(s)
}

async fn drain_stomp(addr: &str, queue: &str, login: &str, passcode: &str) -> Result<u64> {
    let mut buf = Vec::new();
    let mut s = stomp_connect(addr, login, passcode, &mut buf).await?;
    let subscribe = format!(
        "SUBSCRIBE\nid:drain\ndestination:/queue/{queue}\nack:auto\nactivemq.prefetchSize:1000\n\n\0"
    );
    s.write_all(subscribe.as_bytes()).await?;
    let mut drained = 0u64;
    loop {
        let Ok(r) = tokio::time::timeout(
            Duration::from_secs(2),
            stomp_expect(&mut s, &mut buf, "MESSAGE"),
        )
        .await
        else {
            break;
        };
        r?;
        drained += 1;
    }
    let _ = s.write_all(b"DISCONNECT\n\n\0").await;
    Ok(drained)
}

fn cpu_us(pid: u32, clk_tck: u64) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may contain spaces: parse after the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) as f64 * 1e6 / clk_tck as f64)
}

#[derive(Serialize)]
struct CpuReport {
    name: String,
    pid: u32,
    cpu_us_per_msg: Option<f64>,
}

#[derive(Serialize)]
struct WatchReport {
    label: String,
    queue: String,
    count: u64,
    /// Whether all `count` messages arrived.
    complete: bool,
    /// Depth when the watcher gave up, or `count`.
    arrived: u64,
    /// Seconds from ready (the caller then starts the mover) to the first arrival: the
    /// mover's start-up (process start, connections, `rabbitmqctl`), coarse.
    setup_s: Option<f64>,
    /// Seconds from the first arrival to the N-th.
    move_s: Option<f64>,
    /// Messages moved after the first arrival ÷ move_s.
    msgs_per_s: Option<f64>,
    /// Messages ÷ (setup_s + move_s).
    msgs_per_s_with_setup: Option<f64>,
    cpu: Vec<CpuReport>,
    /// Depth after the settle time (> count: duplicates arrived late).
    depth_after_settle: Option<u64>,
    /// From draining the queue: distinct ids, extra copies, ids in 0..count never seen.
    distinct: Option<u64>,
    duplicates: Option<u64>,
    missing: Option<u64>,
    /// Bodies that do not start with an id (a hop changed the body).
    unreadable: Option<u64>,
    error: Option<String>,
}

#[allow(clippy::too_many_arguments)]
async fn watch(
    url: &str,
    queue: &str,
    count: u64,
    label: String,
    poll: Duration,
    stall: Duration,
    settle: Duration,
    pids: &[(String, u32)],
    clk_tck: u64,
    ready_file: Option<&str>,
    verify: bool,
    trace: Option<Duration>,
) -> Result<WatchReport> {
    let conn = connect(url, "routes-watch").await?;
    let ch = conn.create_channel().await?;
    let start_depth = declare(&ch, queue, false).await?;
    if start_depth != 0 {
        return Err(format!("destination {queue} already holds {start_depth} messages").into());
    }
    if let Some(f) = ready_file {
        std::fs::write(f, b"ready\n")?;
    }
    let ready = Instant::now();
    let mut first: Option<(Instant, u64, Vec<Option<f64>>)> = None;
    let mut last_progress = Instant::now();
    let mut depth = 0u64;
    let mut error = None;
    let mut done_at = None;
    let mut cpu_end = Vec::new();
    let mut last_trace = ready;
    loop {
        let d = u64::from(declare(&ch, queue, true).await?);
        let now = Instant::now();
        if let Some(every) = trace {
            if now.duration_since(last_trace) >= every {
                eprintln!("{:.3} {d}", now.duration_since(ready).as_secs_f64());
                last_trace = now;
            }
        }
        if d != depth {
            last_progress = now;
            depth = d;
        }
        if d > 0 && first.is_none() {
            let cpu = pids.iter().map(|(_, p)| cpu_us(*p, clk_tck)).collect();
            first = Some((now, d, cpu));
        }
        if d >= count {
            cpu_end = pids.iter().map(|(_, p)| cpu_us(*p, clk_tck)).collect();
            done_at = Some(now);
            break;
        }
        if now.duration_since(last_progress) > stall {
            error = Some(format!(
                "stalled: {d} of {count} after {:.1}s without progress",
                stall.as_secs_f64()
            ));
            break;
        }
        tokio::time::sleep(poll).await;
    }
    let mut report = WatchReport {
        label,
        queue: queue.to_string(),
        count,
        complete: done_at.is_some(),
        arrived: depth,
        setup_s: first
            .as_ref()
            .map(|(t, _, _)| t.duration_since(ready).as_secs_f64()),
        move_s: None,
        msgs_per_s: None,
        msgs_per_s_with_setup: None,
        cpu: Vec::new(),
        depth_after_settle: None,
        distinct: None,
        duplicates: None,
        missing: None,
        unreadable: None,
        error,
    };
    if let (Some((t1, n1, cpu1)), Some(t2)) = (&first, done_at) {
        let secs = t2.duration_since(*t1).as_secs_f64();
        let moved = count.saturating_sub(*n1);
        report.move_s = Some(secs);
        if secs > 0.0 {
            report.msgs_per_s = Some(moved as f64 / secs);
        }
        let total = t2.duration_since(ready).as_secs_f64();
        if total > 0.0 {
            report.msgs_per_s_with_setup = Some(count as f64 / total);
        }
        for (i, (name, pid)) in pids.iter().enumerate() {
            let per_msg = match (
                cpu1.get(i).copied().flatten(),
                cpu_end.get(i).copied().flatten(),
            ) {
                (Some(a), Some(b)) if moved > 0 => Some((b - a) / moved as f64),
                _ => None,
            };
            report.cpu.push(CpuReport {
                name: name.clone(),
                pid: *pid,
                cpu_us_per_msg: per_msg,
            });
        }
    }
    if verify {
        tokio::time::sleep(settle).await;
        let after = u64::from(declare(&ch, queue, true).await?);
        report.depth_after_settle = Some(after);
        let d = drain(&ch, queue, count, after).await?;
        report.distinct = Some(d.distinct);
        report.duplicates = Some(d.duplicates);
        report.missing = Some(d.missing);
        report.unreadable = Some(d.unreadable);
        let _ = ch
            .queue_delete(queue.into(), QueueDeleteOptions::default())
            .await;
    }
    let _ = conn.close(200, "done".into()).await;
    Ok(report)
}

struct Drained {
    distinct: u64,
    duplicates: u64,
    missing: u64,
    unreadable: u64,
}

/// Consumes `depth` messages (no-ack) and counts their ids.
async fn drain(ch: &Channel, queue: &str, count: u64, depth: u64) -> Result<Drained> {
    ch.basic_qos(1000, BasicQosOptions::default()).await?;
    let mut consumer = ch
        .basic_consume(
            queue.into(),
            "routes-verify".into(),
            BasicConsumeOptions {
                no_ack: true,
                ..BasicConsumeOptions::default()
            },
            FieldTable::default(),
        )
        .await?;
    let mut seen = HashSet::new();
    let mut dups = 0u64;
    let mut unreadable = 0u64;
    let mut got = 0u64;
    while got < depth {
        // A queue already at `depth` delivers without pause; 2 s of silence means no more.
        let next = tokio::time::timeout(Duration::from_secs(2), consumer.next()).await;
        let delivery = match next {
            Ok(Some(Ok(d))) => d,
            Ok(Some(Err(e))) => return Err(format!("verify consumer: {e}").into()),
            Ok(None) | Err(_) => break,
        };
        got += 1;
        match body_id(&delivery.data) {
            Some(id) if !seen.insert(id) => dups += 1,
            Some(_) => {}
            None => unreadable += 1,
        }
    }
    let distinct = seen.len() as u64;
    let missing = (0..count).filter(|id| !seen.contains(id)).count() as u64;
    Ok(Drained {
        distinct,
        duplicates: dups,
        missing,
        unreadable,
    })
}

async fn delete_amqp(url: &str, queues: &[String]) -> Result<()> {
    let conn = connect(url, "routes-cleanup").await?;
    for q in queues {
        // A fresh channel per queue: a failed delete closes its channel.
        let ch = conn.create_channel().await?;
        let _ = ch
            .queue_delete(q.as_str().into(), QueueDeleteOptions::default())
            .await;
    }
    let _ = conn.close(200, "done".into()).await;
    Ok(())
}

fn parse_pids(specs: &[String]) -> Result<Vec<(String, u32)>> {
    specs
        .iter()
        .map(|s| {
            let (name, pid) = s.split_once('=').ok_or("--pid takes name=PID")?;
            let pid = pid.parse().map_err(|_| format!("--pid {s}: not a pid"))?;
            Ok((name.to_string(), pid))
        })
        .collect()
}

async fn run(cli: Cli) -> Result<()> {
    match cli.cmd {
        Cmd::FillAmqp {
            url,
            queue,
            count,
            size,
        } => fill_amqp(&url, &queue, count, size).await,
        Cmd::FillStomp {
            addr,
            queue,
            count,
            size,
            login,
            passcode,
        } => fill_stomp(&addr, &queue, count, size, &login, &passcode).await,
        Cmd::Watch {
            url,
            queue,
            count,
            label,
            poll_ms,
            stall_s,
            settle_ms,
            pids,
            clk_tck,
            ready_file,
            no_verify,
            trace_ms,
        } => {
            let pids = parse_pids(&pids)?;
            let report = watch(
                &url,
                &queue,
                count,
                label,
                Duration::from_millis(poll_ms.max(1)),
                Duration::from_secs(stall_s.max(1)),
                Duration::from_millis(settle_ms),
                &pids,
                clk_tck.max(1),
                ready_file.as_deref(),
                !no_verify,
                (trace_ms > 0).then(|| Duration::from_millis(trace_ms)),
            )
            .await?;
            println!("{}", serde_json::to_string(&report)?);
            Ok(())
        }
        Cmd::DrainStomp {
            addr,
            queue,
            login,
            passcode,
        } => {
            let n = drain_stomp(&addr, &queue, &login, &passcode).await?;
            println!("{n}");
            Ok(())
        }
        Cmd::DeleteAmqp { url, queues } => delete_amqp(&url, &queues).await,
    }
}

fn main() {
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("mqbridge-routes-load: tokio runtime: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = rt.block_on(run(cli)) {
        eprintln!("mqbridge-routes-load: {e}");
        std::process::exit(1);
    }
}
