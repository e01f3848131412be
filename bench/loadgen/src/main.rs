//! `mqbridge-loadgen`: the AMQP 0-9-1 and STOMP load generator behind `bench/run.sh`.
//!
//! One run = one fresh queue, N producers and M consumers (each on its own connection by
//! default), publishing through the default exchange as fast as the broker lets them.
//! The first 8 bytes of every body carry the send time (ns since a process-wide
//! `Instant`), so the consumer computes the end-to-end latency without clock games.
//! After a warm-up, a measurement window of `--duration` seconds counts consumed
//! messages, records latencies and (with `--broker-pid`) samples the broker's CPU time.
//! The result is one JSON line on stdout; progress and errors go to stderr.
//!
//! Flow limits, so a slow broker is measured rather than flooded:
//! - publishes in flight (handed to lapin, not yet written to the socket) per producer:
//!   `--send-window`;
//! - with `--confirm`, unconfirmed publishes per producer: `--confirm-window`;
//! - queue depth: producers pause while published − consumed > `--max-depth`.
//!
//! Consumers use manual acks with `--prefetch` and ack with `multiple` every
//! `--ack-every` deliveries.
//!
//! `--protocol stomp` makes the producers STOMP clients (`SEND` to `/queue/<queue>`,
//! `persistent:true` with `--persistent`, a `receipt` on every SEND with `--confirm`: receipts
//! are STOMP's publisher confirms, bounded by the same `--confirm-window`), and
//! `--consumer-protocol` picks STOMP (`SUBSCRIBE` `ack:client`, cumulative ACK every
//! `--ack-every`, prefetch sent as both `prefetch-count` and `activemq.prefetchSize`) or AMQP
//! consumers reading the same queue (RabbitMQ and mqbridge map `/queue/X` to the durable
//! AMQP queue `X`). With `--url`, the queue is declared (durable when STOMP is involved) and
//! deleted over AMQP; without it (ActiveMQ) the STOMP consumers drain the queue after the
//! window instead. See `stomp.rs`.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use clap::Parser;
use futures_util::stream::{FuturesOrdered, StreamExt};
use hdrhistogram::Histogram;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions,
    ConfirmSelectOptions, QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Channel, Confirmation, Connection, ConnectionProperties};
use serde::Serialize;
use tokio::sync::watch;

mod stomp;

type BoxError = Box<dyn std::error::Error + Send + Sync>;
pub(crate) type Result<T> = std::result::Result<T, BoxError>;

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum Protocol {
    Amqp,
    Stomp,
}

#[derive(Parser, Debug, Clone)]
#[command(
    name = "mqbridge-loadgen",
    about = "AMQP 0-9-1 / STOMP load generator: throughput, latency and broker CPU per message"
)]
pub(crate) struct Args {
    /// AMQP broker URL, e.g. amqp://guest:guest@127.0.0.1:5682/%2f. Required for AMQP
    /// producers or consumers; with STOMP only, optional (used to declare and delete the queue).
    #[arg(long)]
    url: Option<String>,
    /// Producer protocol.
    #[arg(long, value_enum, default_value_t = Protocol::Amqp)]
    protocol: Protocol,
    /// Consumer protocol (default: the same as --protocol).
    #[arg(long, value_enum)]
    consumer_protocol: Option<Protocol>,
    /// STOMP broker address host:port (with --protocol stomp or --consumer-protocol stomp).
    #[arg(long)]
    stomp_addr: Option<String>,
    /// STOMP CONNECT `host` header (RabbitMQ and mqbridge: the virtual host).
    #[arg(long, default_value = "/")]
    stomp_host: String,
    /// STOMP login.
    #[arg(long, default_value = "guest")]
    stomp_login: String,
    /// STOMP passcode.
    #[arg(long, default_value = "guest")]
    stomp_passcode: String,
    /// Number of producers (one connection + channel each).
    #[arg(long, default_value_t = 1)]
    producers: usize,
    /// Number of consumers (one connection + channel each).
    #[arg(long, default_value_t = 1)]
    consumers: usize,
    /// Message body size in bytes (>= 8: the first 8 bytes carry the send timestamp).
    #[arg(long, default_value_t = 16)]
    size: usize,
    /// Enable publisher confirms (STOMP: a receipt header on every SEND).
    #[arg(long)]
    confirm: bool,
    /// Durable queue and delivery-mode 2 (persistent) messages.
    #[arg(long)]
    persistent: bool,
    /// Measurement window in seconds (after the warm-up).
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Warm-up in seconds, excluded from every figure.
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,
    /// Queue name; default: a fresh `bench-<pid>-<ns>` name. Deleted at the end.
    #[arg(long)]
    queue: Option<String>,
    /// Consumer prefetch (basic.qos prefetch_count per channel; STOMP: prefetch-count and
    /// activemq.prefetchSize).
    #[arg(long, default_value_t = 200)]
    prefetch: u16,
    /// Ack with multiple=true every N deliveries (must be <= prefetch).
    #[arg(long, default_value_t = 50)]
    ack_every: u64,
    /// Unconfirmed publishes allowed per producer (with --confirm).
    #[arg(long, default_value_t = 1000)]
    confirm_window: usize,
    /// Publishes handed to lapin but not yet written, per producer.
    #[arg(long, default_value_t = 64)]
    send_window: usize,
    /// Producers pause while published - consumed exceeds this.
    #[arg(long, default_value_t = 10_000)]
    max_depth: u64,
    /// Tokio worker threads: 1 = current_thread runtime, >1 = multi-thread runtime.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Put every producer and consumer channel on one shared connection (AMQP only).
    #[arg(long)]
    shared_connection: bool,
    /// Broker process id whose CPU time (utime+stime, all threads) is sampled
    /// at the start and end of the measurement window.
    #[arg(long)]
    broker_pid: Option<u32>,
    /// Clock ticks per second for /proc/<pid>/stat (`getconf CLK_TCK`).
    #[arg(long, default_value_t = 100)]
    clk_tck: u64,
    /// Label copied into the JSON output.
    #[arg(long, default_value = "")]
    label: String,
}

/// Process-wide time base: body timestamps are ns since this instant.
fn base() -> Instant {
    static BASE: OnceLock<Instant> = OnceLock::new();
    *BASE.get_or_init(Instant::now)
}

pub(crate) fn now_ns() -> u64 {
    u64::try_from(base().elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// Counters shared by producers, consumers and the coordinator.
pub(crate) struct Shared {
    /// Messages handed to the broker (all phases).
    published: AtomicU64,
    /// Messages received by consumers (all phases).
    consumed: AtomicU64,
    /// True during the measurement window.
    measuring: AtomicBool,
    /// Messages published during the measurement window.
    published_window: AtomicU64,
    /// Producers pausing on the depth cap (count of pauses).
    depth_pauses: AtomicU64,
    /// Confirms that came back as nack.
    nacks: AtomicU64,
}

#[derive(Serialize)]
struct Report {
    label: String,
    protocol: Protocol,
    consumer_protocol: Protocol,
    size: usize,
    producers: usize,
    consumers: usize,
    confirm: bool,
    persistent: bool,
    duration_s: f64,
    /// Messages consumed inside the measurement window.
    messages: u64,
    /// Consumed messages per second inside the window.
    msgs_per_s: f64,
    /// Published messages per second inside the window.
    published_per_s: f64,
    p50_us: f64,
    p99_us: f64,
    p999_us: f64,
    max_us: f64,
    /// Broker CPU time in the window (µs), if --broker-pid was given.
    broker_cpu_us: Option<f64>,
    /// Broker CPU µs per consumed message in the window.
    broker_cpu_us_per_msg: Option<f64>,
    /// This load generator's own CPU time in the window (µs).
    loadgen_cpu_us: Option<f64>,
    depth_pauses: u64,
    nacks: u64,
    threads: usize,
    shared_connection: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Err(msg) = validate(&args) {
        eprintln!("loadgen: {msg}");
        return ExitCode::from(2);
    }
    let _ = base();
    let runtime = if args.threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(args.threads)
            .enable_all()
            .build()
    };
    let runtime = match runtime {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("loadgen: cannot start the tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    // A broker that stops answering must not hang the whole benchmark.
    let limit = Duration::from_secs_f64(args.warmup + args.duration + 60.0);
    let outcome = runtime.block_on(async {
        match tokio::time::timeout(limit, run(args)).await {
            Ok(r) => r,
            Err(_) => Err(format!(
                "gave up after {}s: the broker stopped answering",
                limit.as_secs()
            )
            .into()),
        }
    });
    runtime.shutdown_background();
    match outcome {
        Ok(report) => match serde_json::to_string(&report) {
            Ok(line) => {
                println!("{line}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("loadgen: cannot encode the report: {e}");
                ExitCode::FAILURE
            }
        },
        Err(e) => {
            eprintln!("loadgen: {e}");
            ExitCode::FAILURE
        }
    }
}

fn validate(args: &Args) -> std::result::Result<(), String> {
    if args.size < 8 {
        return Err("--size must be at least 8 (the body carries an 8-byte timestamp)".into());
    }
    if args.producers == 0 || args.consumers == 0 {
        return Err("--producers and --consumers must be at least 1".into());
    }
    if args.ack_every == 0 || args.ack_every > u64::from(args.prefetch) {
        return Err("--ack-every must be between 1 and --prefetch".into());
    }
    if args.confirm_window == 0 || args.send_window == 0 {
        return Err("--confirm-window and --send-window must be at least 1".into());
    }
    let consumer_protocol = args.consumer_protocol.unwrap_or(args.protocol);
    let amqp = args.protocol == Protocol::Amqp || consumer_protocol == Protocol::Amqp;
    let stomp = args.protocol == Protocol::Stomp || consumer_protocol == Protocol::Stomp;
    if amqp && args.url.is_none() {
        return Err("--url is required with AMQP producers or consumers".into());
    }
    if stomp && args.stomp_addr.is_none() {
        return Err("--stomp-addr is required with STOMP producers or consumers".into());
    }
    if !args.duration.is_finite()
        || args.duration <= 0.0
        || !args.warmup.is_finite()
        || args.warmup < 0.0
    {
        return Err("--duration must be > 0 and --warmup >= 0".into());
    }
    Ok(())
}

async fn connect(url: &str, name: &str) -> Result<Connection> {
    let props = ConnectionProperties::default().with_connection_name(name.into());
    Connection::connect(url, props)
        .await
        .map_err(|e| format!("connect {name} to {url}: {e}").into())
}

/// Reads utime+stime (in µs) of a process, all threads included, from /proc/<pid>/stat.
fn cpu_us(pid: Option<u32>, clk_tck: u64) -> Option<f64> {
    let path = match pid {
        Some(p) => format!("/proc/{p}/stat"),
        None => "/proc/self/stat".to_string(),
    };
    let stat = std::fs::read_to_string(path).ok()?;
    // The command name (field 2) may contain spaces: parse after the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state); utime is field 14, stime field 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) as f64 * 1e6 / clk_tck as f64)
}

async fn run(args: Args) -> Result<Report> {
    let queue = args.queue.clone().unwrap_or_else(|| {
        let ns = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        format!("bench-{}-{ns}", std::process::id())
    });

    let consumer_protocol = args.consumer_protocol.unwrap_or(args.protocol);
    let uses_stomp = args.protocol == Protocol::Stomp || consumer_protocol == Protocol::Stomp;
    let destination = format!("/queue/{queue}");
    let stomp_target = stomp::StompTarget {
        addr: args.stomp_addr.clone().unwrap_or_default(),
        host: args.stomp_host.clone(),
        login: args.stomp_login.clone(),
        passcode: args.stomp_passcode.clone(),
    };
    let url = args.url.clone().unwrap_or_default();

    // Declared over AMQP when there is an AMQP URL. A STOMP `/queue/X` is the durable
    // queue X on RabbitMQ (and mqbridge): declared durable whenever STOMP is involved, so the
    // broker's own STOMP-side declare matches.
    let mut setup_conn = None;
    let mut setup = None;
    if args.url.is_some() {
        let c = connect(&url, "loadgen-setup").await?;
        let ch = c.create_channel().await?;
        let declare = QueueDeclareOptions {
            durable: args.persistent || uses_stomp,
            ..QueueDeclareOptions::default()
        };
        ch.queue_declare(queue.as_str().into(), declare, FieldTable::default())
            .await
            .map_err(|e| format!("queue.declare {queue}: {e}"))?;
        setup_conn = Some(c);
        setup = Some(ch);
    }
    let after_stop = if setup.is_some() {
        stomp::AfterStop::Leave
    } else {
        stomp::AfterStop::Drain
    };

    let shared = Arc::new(Shared {
        published: AtomicU64::new(0),
        consumed: AtomicU64::new(0),
        measuring: AtomicBool::new(false),
        published_window: AtomicU64::new(0),
        depth_pauses: AtomicU64::new(0),
        nacks: AtomicU64::new(0),
    });
    let (stop_tx, stop_rx) = watch::channel(false);

    // Connections: one per client, or one shared by all.
    let mut conns: Vec<Connection> = Vec::new();
    let shared_conn = if args.shared_connection && !uses_stomp {
        Some(connect(&url, "loadgen").await?)
    } else {
        None
    };
    let mut open_channel = async |name: String| -> Result<Channel> {
        match &shared_conn {
            Some(c) => Ok(c.create_channel().await?),
            None => {
                let c = connect(&url, &name).await?;
                let ch = c.create_channel().await?;
                conns.push(c);
                Ok(ch)
            }
        }
    };

    // Consumers first, so that nothing piles up before they are attached.
    let mut consumer_tasks = Vec::new();
    for i in 0..args.consumers {
        if consumer_protocol == Protocol::Stomp {
            let conn = stomp::connect(&stomp_target).await?;
            consumer_tasks.push(tokio::spawn(stomp::consume(
                conn,
                destination.clone(),
                i,
                args.clone(),
                shared.clone(),
                stop_rx.clone(),
                after_stop,
            )));
            continue;
        }
        let ch = open_channel(format!("loadgen-consumer-{i}")).await?;
        ch.basic_qos(args.prefetch, BasicQosOptions::default())
            .await?;
        let consumer = ch
            .basic_consume(
                queue.as_str().into(),
                format!("loadgen-c{i}").as_str().into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await
            .map_err(|e| format!("basic.consume {queue}: {e}"))?;
        consumer_tasks.push(tokio::spawn(consume(
            ch,
            consumer,
            args.ack_every,
            shared.clone(),
            stop_rx.clone(),
        )));
    }
    let mut producer_tasks = Vec::new();
    for i in 0..args.producers {
        if args.protocol == Protocol::Stomp {
            let conn = stomp::connect(&stomp_target).await?;
            producer_tasks.push(tokio::spawn(stomp::produce(
                conn,
                destination.clone(),
                args.clone(),
                shared.clone(),
                stop_rx.clone(),
            )));
            continue;
        }
        let ch = open_channel(format!("loadgen-producer-{i}")).await?;
        if args.confirm {
            ch.confirm_select(ConfirmSelectOptions::default()).await?;
        }
        producer_tasks.push(tokio::spawn(produce(
            ch,
            queue.clone(),
            args.clone(),
            shared.clone(),
            stop_rx.clone(),
        )));
    }

    // Warm-up, then the measurement window.
    tokio::time::sleep(Duration::from_secs_f64(args.warmup)).await;
    let consumed_before = shared.consumed.load(Ordering::Relaxed);
    let broker_cpu_before = args.broker_pid.and_then(|p| cpu_us(Some(p), args.clk_tck));
    let self_cpu_before = cpu_us(None, args.clk_tck);
    let window_start = Instant::now();
    shared.measuring.store(true, Ordering::Release);
    tokio::time::sleep(Duration::from_secs_f64(args.duration)).await;
    shared.measuring.store(false, Ordering::Release);
    let window = window_start.elapsed().as_secs_f64();
    let broker_cpu_after = args.broker_pid.and_then(|p| cpu_us(Some(p), args.clk_tck));
    let self_cpu_after = cpu_us(None, args.clk_tck);
    let consumed_after = shared.consumed.load(Ordering::Relaxed);
    let _ = stop_tx.send(true);

    // Collect the results; a task that failed fails the run (a benchmark figure
    // from a half-broken run would be misleading).
    let mut hist = new_histogram()?;
    let mut failure: Option<String> = None;
    for t in producer_tasks {
        match t.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => failure = failure.or(Some(format!("producer: {e}"))),
            Err(e) => failure = failure.or(Some(format!("producer task: {e}"))),
        }
    }
    let mut messages = 0u64;
    for t in consumer_tasks {
        match t.await {
            Ok(Ok((h, n))) => {
                hist.add(&h)
                    .map_err(|e| format!("merging histograms: {e}"))?;
                messages += n;
            }
            Ok(Err(e)) => failure = failure.or(Some(format!("consumer: {e}"))),
            Err(e) => failure = failure.or(Some(format!("consumer task: {e}"))),
        }
    }
    // Tear down: delete the queue (drops what is left in it), then close.
    let deleted = match &setup {
        Some(ch) => Some(
            ch.queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
                .await,
        ),
        None => None,
    };
    for c in conns
        .iter()
        .chain(shared_conn.iter())
        .chain(setup_conn.iter())
    {
        let _ = c.close(200, "bench done".into()).await;
    }
    if let Some(f) = failure {
        return Err(f.into());
    }
    if let Some(Err(e)) = deleted {
        eprintln!("loadgen: warning: queue.delete {queue}: {e}");
    }
    eprintln!(
        "loadgen: window consumed {} (counter delta {}), published total {}, consumed total {}",
        messages,
        consumed_after.saturating_sub(consumed_before),
        shared.published.load(Ordering::Relaxed),
        shared.consumed.load(Ordering::Relaxed),
    );

    let broker_cpu = match (broker_cpu_before, broker_cpu_after) {
        (Some(a), Some(b)) => Some(b - a),
        _ => None,
    };
    let loadgen_cpu = match (self_cpu_before, self_cpu_after) {
        (Some(a), Some(b)) => Some(b - a),
        _ => None,
    };
    let q = |p: f64| hist.value_at_quantile(p) as f64 / 1000.0;
    Ok(Report {
        label: args.label.clone(),
        protocol: args.protocol,
        consumer_protocol,
        size: args.size,
        producers: args.producers,
        consumers: args.consumers,
        confirm: args.confirm,
        persistent: args.persistent,
        duration_s: window,
        messages,
        msgs_per_s: messages as f64 / window,
        published_per_s: shared.published_window.load(Ordering::Relaxed) as f64 / window,
        p50_us: q(0.50),
        p99_us: q(0.99),
        p999_us: q(0.999),
        max_us: hist.max() as f64 / 1000.0,
        broker_cpu_us: broker_cpu,
        broker_cpu_us_per_msg: broker_cpu
            .filter(|_| messages > 0)
            .map(|c| c / messages as f64),
        loadgen_cpu_us: loadgen_cpu,
        depth_pauses: shared.depth_pauses.load(Ordering::Relaxed),
        nacks: shared.nacks.load(Ordering::Relaxed),
        threads: args.threads,
        shared_connection: args.shared_connection && !uses_stomp,
    })
}

/// Latency histogram in ns, 1 µs .. 120 s, 3 significant digits.
pub(crate) fn new_histogram() -> Result<Histogram<u64>> {
    Histogram::<u64>::new_with_bounds(1_000, 120_000_000_000, 3)
        .map_err(|e| format!("histogram: {e}").into())
}

type SendFuture = Pin<Box<dyn Future<Output = lapin::Result<lapin::PublisherConfirm>> + Send>>;

async fn produce(
    ch: Channel,
    queue: String,
    args: Args,
    shared: Arc<Shared>,
    stop: watch::Receiver<bool>,
) -> Result<()> {
    let props = if args.persistent {
        BasicProperties::default().with_delivery_mode(2)
    } else {
        BasicProperties::default().with_delivery_mode(1)
    };
    let routing_key: lapin::types::ShortString = queue.as_str().into();
    let mut sends: FuturesOrdered<SendFuture> = FuturesOrdered::new();
    let mut confirms: VecDeque<lapin::PublisherConfirm> = VecDeque::new();
    let mut paused = false;
    loop {
        let stopping = *stop.borrow();
        // Fill the send window unless a limit holds.
        while !stopping
            && sends.len() < args.send_window
            && sends.len() + confirms.len() < args.confirm_window
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
            let mut body = vec![0u8; args.size];
            body[..8].copy_from_slice(&now_ns().to_le_bytes());
            let ch = ch.clone();
            let rk = routing_key.clone();
            let props = props.clone();
            sends.push_back(Box::pin(async move {
                ch.basic_publish("".into(), rk, BasicPublishOptions::default(), &body, props)
                    .await
            }));
            shared.published.fetch_add(1, Ordering::Relaxed);
            if shared.measuring.load(Ordering::Relaxed) {
                shared.published_window.fetch_add(1, Ordering::Relaxed);
            }
        }
        if stopping && sends.is_empty() {
            break;
        }
        let window_full = confirms.len() + sends.len() >= args.confirm_window;
        if let Some(front) = confirms.front_mut() {
            if window_full || sends.is_empty() {
                // Window full (or nothing else to do): wait for the oldest confirm.
                let res = tokio::select! {
                    r = front => Some(r),
                    _ = tokio::time::sleep(Duration::from_millis(1)), if paused => None,
                };
                if let Some(r) = res {
                    confirms.pop_front();
                    note_confirm(r?, &shared);
                }
                continue;
            }
        }
        if sends.is_empty() {
            // Paused on the depth cap: let the consumers catch up.
            tokio::time::sleep(Duration::from_micros(500)).await;
            continue;
        }
        match sends.next().await {
            Some(Ok(confirm)) if args.confirm => confirms.push_back(confirm),
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(format!("basic.publish: {e}").into()),
            None => {}
        }
        // Collect confirms that already arrived, without waiting.
        while let Some(front) = confirms.front_mut() {
            match futures_util::FutureExt::now_or_never(front) {
                Some(r) => {
                    confirms.pop_front();
                    note_confirm(r?, &shared);
                }
                None => break,
            }
        }
    }
    // Outstanding confirms at the end are not waited for: the window is over and the
    // queue is deleted next.
    Ok(())
}

fn note_confirm(c: Confirmation, shared: &Shared) {
    if c.is_nack() {
        shared.nacks.fetch_add(1, Ordering::Relaxed);
    }
}

async fn consume(
    ch: Channel,
    mut consumer: lapin::Consumer,
    ack_every: u64,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) -> Result<(Histogram<u64>, u64)> {
    let mut hist = new_histogram()?;
    let mut counted = 0u64;
    let mut unacked = 0u64;
    let mut last_tag = 0u64;
    loop {
        let delivery = tokio::select! {
            d = consumer.next() => d,
            _ = stop.changed() => break,
        };
        let delivery = match delivery {
            Some(Ok(d)) => d,
            Some(Err(e)) => {
                if *stop.borrow() {
                    break;
                }
                return Err(format!("consumer: {e}").into());
            }
            None => break,
        };
        let now = now_ns();
        shared.consumed.fetch_add(1, Ordering::Relaxed);
        if shared.measuring.load(Ordering::Relaxed) {
            record_latency(&mut hist, &delivery.data, now)?;
            counted += 1;
        }
        last_tag = delivery.delivery_tag;
        unacked += 1;
        if unacked >= ack_every {
            ch.basic_ack(last_tag, BasicAckOptions { multiple: true })
                .await
                .map_err(|e| format!("basic.ack: {e}"))?;
            unacked = 0;
        }
    }
    if unacked > 0 && last_tag > 0 {
        let _ = ch
            .basic_ack(last_tag, BasicAckOptions { multiple: true })
            .await;
    }
    Ok((hist, counted))
}

/// Records receive time `now` − the send time in the body's first 8 bytes.
pub(crate) fn record_latency(hist: &mut Histogram<u64>, body: &[u8], now: u64) -> Result<()> {
    let sent = body
        .get(..8)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map(u64::from_le_bytes)
        .ok_or("a delivered body is shorter than 8 bytes")?;
    let lat = now.saturating_sub(sent).clamp(1_000, 120_000_000_000);
    // Clamped into the histogram's range, so `record` cannot fail.
    let _ = hist.record(lat);
    Ok(())
}
