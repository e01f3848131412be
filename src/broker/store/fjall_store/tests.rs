//! Tests of the fjall store and its record codec.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;

use super::*;
use crate::broker::store::open_store;
use crate::message::{
    AMQPValue, BasicProperties, FieldArray, FieldTable, LongString, Message, ShortString,
};

const V: &str = "/";

fn table(entries: Vec<(&str, AMQPValue)>) -> FieldTable {
    let mut t = FieldTable::default();
    for (k, v) in entries {
        t.insert(ShortString::from(k), v);
    }
    t
}

fn nested_headers() -> FieldTable {
    let inner = table(vec![
        ("flag", AMQPValue::Boolean(true)),
        ("n", AMQPValue::LongLongInt(-9_000_000_000)),
    ]);
    table(vec![
        ("table", AMQPValue::FieldTable(inner)),
        (
            "array",
            AMQPValue::FieldArray(FieldArray::from(vec![
                AMQPValue::LongString(LongString::from("x")),
                AMQPValue::LongInt(7),
                AMQPValue::FieldArray(FieldArray::from(vec![AMQPValue::Boolean(false)])),
            ])),
        ),
        (
            "long-string",
            AMQPValue::LongString(LongString::from("é".repeat(300))),
        ),
        ("bool", AMQPValue::Boolean(false)),
        ("i64", AMQPValue::LongLongInt(i64::MIN)),
        ("f64", AMQPValue::Double(3.25)),
        ("bytes", AMQPValue::ByteArray(vec![0u8, 1, 255].into())),
        ("ts", AMQPValue::Timestamp(1_700_000_000)),
        ("void", AMQPValue::Void),
    ])
}

fn full_message() -> Message {
    let props = BasicProperties::default()
        .with_content_type("application/json".into())
        .with_content_encoding("gzip".into())
        .with_headers(nested_headers())
        .with_delivery_mode(2)
        .with_priority(7)
        .with_correlation_id("corr".into())
        .with_reply_to("replies".into())
        .with_expiration("60000".into())
        .with_message_id("id-1".into())
        .with_timestamp(1_700_000_123)
        .with_type("order".into())
        .with_user_id("guest".into())
        .with_app_id("app".into())
        .with_cluster_id("cluster".into());
    Message::new(
        "amq.topic",
        "a.b.c",
        props,
        Bytes::from_static(b"\0body\xff"),
    )
}

fn msg(seq: u64) -> Arc<Message> {
    Arc::new(Message::new(
        "",
        "q",
        BasicProperties::default().with_delivery_mode(2),
        Bytes::from(format!("body {seq}")),
    ))
}

fn enq(queue: &str, seq: u64) -> MessageOp {
    MessageOp::Enqueue {
        vhost: V.into(),
        queue: queue.into(),
        seq,
        expires_at: Some(seq * 1000),
        message: msg(seq),
    }
}

fn rem(queue: &str, seq: u64) -> MessageOp {
    MessageOp::Remove {
        vhost: V.into(),
        queue: queue.into(),
        seq,
    }
}

fn queue(name: &str) -> QueueRecord {
    QueueRecord {
        vhost: V.into(),
        name: name.into(),
        auto_delete: false,
        arguments: table(vec![("x-max-length", AMQPValue::LongInt(10))]),
    }
}

fn exchange(name: &str) -> ExchangeRecord {
    ExchangeRecord {
        vhost: V.into(),
        name: name.into(),
        kind: "topic".into(),
        auto_delete: true,
        internal: true,
        arguments: table(vec![(
            "alternate-exchange",
            AMQPValue::LongString("ae".into()),
        )]),
    }
}

fn binding(src: &str, dst: &str, kind: DestinationKind, key: &str) -> BindingRecord {
    BindingRecord {
        vhost: V.into(),
        source: src.into(),
        destination: dst.into(),
        destination_kind: kind,
        routing_key: key.into(),
        arguments: table(vec![("x-match", AMQPValue::LongString("all".into()))]),
    }
}

fn seqs(r: &Recovered, q: &str) -> Vec<u64> {
    r.queues
        .iter()
        .find(|rq| rq.record.name == q)
        .map(|rq| rq.messages.iter().map(|m| m.seq).collect())
        .unwrap_or_default()
}

fn open(dir: &Path) -> FjallStore {
    FjallStore::open(dir, SyncPolicy::EveryBatch).unwrap()
}

#[test]
fn codec_round_trips_every_record() {
    let e = exchange("ex\0odd");
    assert_eq!(
        codec::decode_exchange(&codec::encode_exchange(&e).unwrap()).unwrap(),
        e
    );
    let q = queue("q");
    assert_eq!(
        codec::decode_queue(&codec::encode_queue(&q).unwrap()).unwrap(),
        q
    );
    for kind in [DestinationKind::Queue, DestinationKind::Exchange] {
        let b = binding("src", "dst", kind, "#");
        assert_eq!(
            codec::decode_binding(&codec::encode_binding(&b).unwrap()).unwrap(),
            b
        );
    }
    let m = full_message();
    let bytes = codec::encode_message(Some(42), &m).unwrap();
    assert_eq!(bytes[0], codec::FORMAT_V1);
    let (exp, back) = codec::decode_message(&bytes).unwrap();
    assert_eq!(exp, Some(42));
    assert_eq!(back, m);
    let key = codec::message_key("vh", "q\0x", u64::MAX - 1).unwrap();
    assert_eq!(
        codec::decode_message_key(&key).unwrap(),
        ("vh".to_string(), "q\0x".to_string(), u64::MAX - 1)
    );
}

#[test]
fn truncated_or_garbled_records_are_errors_not_panics() {
    let full = codec::encode_message(Some(1), &full_message()).unwrap();
    for n in 0..full.len() {
        assert!(
            codec::decode_message(&full[..n]).is_err(),
            "prefix of {n} bytes decoded"
        );
    }
    let mut extra = full.clone();
    extra.push(0);
    assert!(codec::decode_message(&extra).is_err());
    // Flip every byte in turn: decoding may succeed (a flipped body byte) but must not panic.
    for i in 0..full.len() {
        let mut garbled = full.clone();
        garbled[i] ^= 0xff;
        let _ = codec::decode_message(&garbled);
    }
    let ex = codec::encode_exchange(&exchange("e")).unwrap();
    for n in 0..ex.len() {
        assert!(codec::decode_exchange(&ex[..n]).is_err());
    }
    assert!(codec::decode_message_key(b"\0\x05ab").is_err());
}

#[test]
fn topology_and_messages_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let m = full_message();
    {
        let s = open(dir.path());
        s.save_exchange(&exchange("x")).unwrap();
        s.save_exchange(&exchange("x2")).unwrap();
        s.save_queue(&queue("a")).unwrap();
        s.save_queue(&queue("b")).unwrap();
        s.save_binding(&binding("x", "a", DestinationKind::Queue, "k1"))
            .unwrap();
        s.save_binding(&binding("x", "x2", DestinationKind::Exchange, "k2"))
            .unwrap();
        // Submitted out of seq order and interleaved across queues.
        for seq in [5, 1, 3] {
            s.submit(vec![enq("a", seq), enq("b", seq * 10)], None);
        }
        s.submit(
            vec![MessageOp::Enqueue {
                vhost: V.into(),
                queue: "b".into(),
                seq: 1,
                expires_at: None,
                message: Arc::new(m.clone()),
            }],
            None,
        );
    }
    let s = open(dir.path());
    let r = s.recover().unwrap();
    let mut ex: Vec<_> = r.exchanges.clone();
    ex.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(ex, vec![exchange("x"), exchange("x2")]);
    assert_eq!(r.queues.len(), 2);
    assert_eq!(
        r.queues
            .iter()
            .find(|q| q.record.name == "a")
            .unwrap()
            .record,
        queue("a")
    );
    assert_eq!(seqs(&r, "a"), vec![1, 3, 5]);
    assert_eq!(seqs(&r, "b"), vec![1, 10, 30, 50]);
    let b = &r
        .queues
        .iter()
        .find(|q| q.record.name == "b")
        .unwrap()
        .messages;
    assert_eq!(b[0].message, m);
    assert_eq!(b[0].expires_at, None);
    assert_eq!(b[1].expires_at, Some(10_000));
    assert_eq!(b[1].message, *msg(10));
    assert_eq!(r.bindings.len(), 2);
}

#[test]
fn deletes_cascade_and_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = open(dir.path());
        for e in ["x", "y", "z"] {
            s.save_exchange(&exchange(e)).unwrap();
        }
        for q in ["a", "ab", "b"] {
            s.save_queue(&queue(q)).unwrap();
            s.submit(vec![enq(q, 1), enq(q, 2)], None);
        }
        s.save_binding(&binding("x", "a", DestinationKind::Queue, "k"))
            .unwrap();
        s.save_binding(&binding("y", "a", DestinationKind::Queue, "k"))
            .unwrap();
        s.save_binding(&binding("y", "b", DestinationKind::Queue, "k"))
            .unwrap();
        s.save_binding(&binding("z", "y", DestinationKind::Exchange, "k"))
            .unwrap();
        s.save_binding(&binding("y", "z", DestinationKind::Exchange, "k"))
            .unwrap();
        s.save_binding(&binding("z", "b", DestinationKind::Queue, "k"))
            .unwrap();
        // A binding deleted with other arguments does not match.
        let mut other_args = binding("z", "b", DestinationKind::Queue, "k");
        other_args.arguments = FieldTable::default();
        s.delete_binding(&other_args).unwrap();
        // Queue "a" goes with its messages and bindings; "ab" (same prefix) stays.
        s.delete_queue(V, "a").unwrap();
        // Exchange "y" goes with the bindings it is source or destination of.
        s.delete_exchange(V, "y").unwrap();
    }
    let s = open(dir.path());
    let r = s.recover().unwrap();
    let mut names: Vec<_> = r.queues.iter().map(|q| q.record.name.clone()).collect();
    names.sort();
    assert_eq!(names, vec!["ab", "b"]);
    assert_eq!(seqs(&r, "ab"), vec![1, 2]);
    assert_eq!(seqs(&r, "b"), vec![1, 2]);
    let mut ex: Vec<_> = r.exchanges.iter().map(|e| e.name.clone()).collect();
    ex.sort();
    assert_eq!(ex, vec!["x", "z"]);
    assert_eq!(
        r.bindings,
        vec![binding("z", "b", DestinationKind::Queue, "k")]
    );
    s.delete_binding(&binding("z", "b", DestinationKind::Queue, "k"))
        .unwrap();
    assert!(s.recover().unwrap().bindings.is_empty());
    // Nothing of queue "a" is left in the messages keyspace either.
    let prefix = codec::queue_messages_prefix(V, "a").unwrap();
    assert_eq!(s.shared.messages.prefix(prefix).count(), 0);
}

#[test]
fn purge_removes_only_that_queue() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = open(dir.path());
        s.save_queue(&queue("p")).unwrap();
        s.save_queue(&queue("p2")).unwrap();
        s.submit((1..=100).map(|i| enq("p", i)).collect(), None);
        s.submit(vec![enq("p2", 1)], None);
        // Submitted before the purge: purged too, even if not yet written.
        s.purge_queue(V, "p").unwrap();
        s.submit(vec![enq("p", 101)], None);
    }
    let r = open(dir.path()).recover().unwrap();
    assert_eq!(seqs(&r, "p"), vec![101]);
    assert_eq!(seqs(&r, "p2"), vec![1]);
}

#[test]
fn on_durable_runs_once_per_submit_after_the_data_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let not_visible = Arc::new(AtomicUsize::new(0));
    let n = 500u64;
    {
        let s = open(dir.path());
        s.save_queue(&queue("d")).unwrap();
        for seq in 0..n {
            let (calls, not_visible) = (calls.clone(), not_visible.clone());
            let messages = s.shared.messages.clone();
            s.submit(
                vec![enq("d", seq)],
                Some(Box::new(move |r| {
                    assert!(r.is_ok());
                    let key = codec::message_key(V, "d", seq).unwrap();
                    if !messages.contains_key(key).unwrap() {
                        not_visible.fetch_add(1, Ordering::SeqCst);
                    }
                    calls.fetch_add(1, Ordering::SeqCst);
                })),
            );
        }
        // Ops with no callback and empty submits are fine too.
        s.submit(Vec::new(), None);
        s.flush().unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), n as usize);
    }
    // Dropping ran no callback twice.
    assert_eq!(calls.load(Ordering::SeqCst), n as usize);
    assert_eq!(not_visible.load(Ordering::SeqCst), 0);
    let r = open(dir.path()).recover().unwrap();
    assert_eq!(seqs(&r, "d"), (0..n).collect::<Vec<_>>());
}

#[test]
fn callbacks_run_in_submission_order() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    let order = Arc::new(parking_lot::Mutex::new(Vec::new()));
    for i in 0..2000u64 {
        let order = order.clone();
        s.submit(
            vec![enq("o", i)],
            Some(Box::new(move |_| order.lock().push(i))),
        );
    }
    s.flush().unwrap();
    assert_eq!(*order.lock(), (0..2000).collect::<Vec<_>>());
}

#[test]
fn enqueue_and_remove_apply_in_order() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = open(dir.path());
        s.save_queue(&queue("r")).unwrap();
        // Same submit: cancels out.
        s.submit(vec![enq("r", 1), rem("r", 1)], None);
        // Separate submits, probably the same batch.
        s.submit(vec![enq("r", 2)], None);
        s.submit(vec![rem("r", 2)], None);
        // Across a flush, i.e. separate batches.
        s.submit(vec![enq("r", 3), enq("r", 4)], None);
        s.flush().unwrap();
        s.submit(vec![rem("r", 3)], None);
        // Removing what was never there is harmless.
        s.submit(vec![rem("r", 99)], None);
        s.submit(vec![enq("r", 5)], None);
    }
    let r = open(dir.path()).recover().unwrap();
    assert_eq!(seqs(&r, "r"), vec![4, 5]);
}

#[test]
fn flush_makes_everything_visible() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    s.save_queue(&queue("f")).unwrap();
    for i in 0..3000 {
        s.submit(vec![enq("f", i)], None);
    }
    s.flush().unwrap();
    let prefix = codec::queue_messages_prefix(V, "f").unwrap();
    assert_eq!(s.shared.messages.prefix(prefix).count(), 3000);
}

#[test]
fn interval_policy_confirms_after_fsync() {
    let dir = tempfile::tempdir().unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    {
        let s =
            FjallStore::open(dir.path(), SyncPolicy::Interval(Duration::from_millis(20))).unwrap();
        s.save_queue(&queue("i")).unwrap();
        for i in 0..200 {
            let c = calls.clone();
            s.submit(
                vec![enq("i", i)],
                Some(Box::new(move |r| {
                    assert!(r.is_ok());
                    c.fetch_add(1, Ordering::SeqCst);
                })),
            );
        }
        // The interval alone (no flush) confirms everything.
        let start = Instant::now();
        while calls.load(Ordering::SeqCst) < 200 && start.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(calls.load(Ordering::SeqCst), 200);
        s.submit(vec![enq("i", 200)], None);
    }
    let r = open(dir.path()).recover().unwrap();
    assert_eq!(seqs(&r, "i"), (0..=200).collect::<Vec<_>>());
}

#[test]
fn corrupt_records_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = open(dir.path());
        s.save_queue(&queue("c")).unwrap();
        s.save_exchange(&exchange("e")).unwrap();
        s.submit(vec![enq("c", 1), enq("c", 3)], None);
        s.flush().unwrap();
        let sh = &s.shared;
        // A garbled value, an unknown version, a bad key, a bad meta record.
        sh.messages
            .insert(
                codec::message_key(V, "c", 2).unwrap(),
                b"\x01garbage".to_vec(),
            )
            .unwrap();
        sh.messages
            .insert(codec::message_key(V, "c", 4).unwrap(), b"\x09".to_vec())
            .unwrap();
        sh.messages
            .insert(b"\xff\xffnot-a-key".to_vec(), b"x".to_vec())
            .unwrap();
        sh.meta
            .insert(codec::queue_key(V, "broken").unwrap(), b"\x01\x00".to_vec())
            .unwrap();
        sh.meta.insert(b"?unknown".to_vec(), b"".to_vec()).unwrap();
        sh.db.persist(PersistMode::SyncData).unwrap();
    }
    let r = open(dir.path()).recover().unwrap();
    assert_eq!(r.queues.len(), 1);
    assert_eq!(seqs(&r, "c"), vec![1, 3]);
    assert_eq!(r.exchanges, vec![exchange("e")]);
}

#[test]
fn orphaned_messages_are_dropped_at_recovery() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = open(dir.path());
        s.save_queue(&queue("kept")).unwrap();
        // Enqueued after its queue was deleted (or never saved): no one can read it.
        s.submit(vec![enq("gone", 1), enq("kept", 1)], None);
        let r = s.recover().unwrap();
        assert_eq!(seqs(&r, "kept"), vec![1]);
    }
    let s = open(dir.path());
    assert_eq!(s.shared.messages.iter().count(), 1);
}

#[test]
fn open_store_picks_the_backend() {
    let dir = tempfile::tempdir().unwrap();
    for store in [
        open_store(Some(dir.path()), SyncPolicy::EveryBatch).unwrap(),
        open_store(None, SyncPolicy::EveryBatch).unwrap(),
    ] {
        store.save_queue(&queue("q")).unwrap();
        let (tx, rx) = mpsc::channel();
        store.submit(
            vec![enq("q", 7)],
            Some(Box::new(move |r| tx.send(r.is_ok()).unwrap())),
        );
        assert!(rx.recv().unwrap());
        assert_eq!(seqs(&store.recover().unwrap(), "q"), vec![7]);
    }
}

#[test]
fn last_handle_dropped_inside_a_callback_does_not_deadlock() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(open(dir.path()));
    let (tx, rx) = mpsc::channel();
    let held = store.clone();
    store.submit(
        vec![enq("q", 1)],
        Some(Box::new(move |_| {
            drop(held);
            let _ = tx.send(());
        })),
    );
    drop(store);
    rx.recv_timeout(Duration::from_secs(10)).unwrap();
}

// ---------------------------------------------------------------------------------------
// Crash test: a child process confirms, gets SIGKILLed, the parent checks the confirms.

const CRASH_ENV: &str = "MQBRIDGE_STORE_CRASH_CHILD_DIR";

/// In the child: submit for ever, print "durable N" from each callback. Does nothing
/// when run as an ordinary test.
#[test]
fn crash_child() {
    let Ok(dir) = std::env::var(CRASH_ENV) else {
        return;
    };
    let s = open(Path::new(&dir));
    s.save_queue(&queue("crash")).unwrap();
    let confirmed = Arc::new(AtomicU64::new(0));
    let body = Bytes::from(vec![b'x'; 256]);
    let start = Instant::now();
    for i in 1u64.. {
        // Keep a bounded number in flight so batches form but memory does not grow.
        while i > confirmed.load(Ordering::SeqCst) + 2000 {
            std::thread::sleep(Duration::from_micros(100));
        }
        if start.elapsed() > Duration::from_secs(60) {
            break;
        }
        let mut ops = vec![MessageOp::Enqueue {
            vhost: V.into(),
            queue: "crash".into(),
            seq: i,
            expires_at: None,
            message: Arc::new(Message::new(
                "",
                "crash",
                BasicProperties::default(),
                body.clone(),
            )),
        }];
        if i % 4 == 0 {
            ops.push(rem("crash", i - 2));
        }
        let confirmed = confirmed.clone();
        s.submit(
            ops,
            Some(Box::new(move |r| {
                if r.is_ok() {
                    let mut out = std::io::stdout().lock();
                    let _ = writeln!(out, "durable {i}");
                    let _ = out.flush();
                    confirmed.fetch_max(i, Ordering::SeqCst);
                }
            })),
        );
    }
}

#[test]
fn confirmed_messages_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "broker::store::fjall_store::tests::crash_child",
            "--nocapture",
        ])
        .env(CRASH_ENV, dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut durable = Vec::new();
    let mut killed = false;
    let mut line = Vec::new();
    loop {
        line.clear();
        if out.read_until(b'\n', &mut line).unwrap() == 0 {
            break;
        }
        // Only whole lines: the kill may cut the last one short.
        let Some(text) = line.strip_suffix(b"\n") else {
            break;
        };
        if let Some(n) = std::str::from_utf8(text)
            .ok()
            .and_then(|t| t.strip_prefix("durable "))
        {
            durable.push(n.parse::<u64>().unwrap());
        }
        if !killed && durable.len() >= 5000 {
            child.kill().unwrap(); // SIGKILL
            killed = true;
        }
    }
    let status = child.wait().unwrap();
    assert!(
        killed,
        "child stopped on its own ({status:?}) after {} confirms",
        durable.len()
    );
    // Callbacks run in submission order, so the confirms are exactly 1..=max.
    let max = durable.iter().copied().max().unwrap_or(0);
    assert_eq!(durable, (1..=max).collect::<Vec<_>>());
    let r = open(dir.path()).recover().unwrap();
    let present: HashSet<u64> = seqs(&r, "crash").into_iter().collect();
    for i in 1..=max {
        // Submit `j` (j % 4 == 0) removed `j - 2`.
        let removed_by = (i % 4 == 2).then_some(i + 2);
        match removed_by {
            Some(j) if j <= max => {
                assert!(
                    !present.contains(&i),
                    "seq {i} removal was confirmed but it is back"
                )
            }
            // Its removal was submitted after the last confirm: it may or may not have
            // reached the disk before the kill.
            Some(_) => {}
            None => assert!(
                present.contains(&i),
                "seq {i} was confirmed durable but is missing"
            ),
        }
    }
    eprintln!(
        "crash test: {} confirmed, {} present after SIGKILL (max confirmed {:?})",
        durable.len(),
        present.len(),
        durable.iter().max()
    );
}

#[test]
fn oversized_names_are_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    assert!(s.save_queue(&queue(&"q".repeat(70_000))).is_err());
    let (tx, rx) = mpsc::channel();
    let long = "v".repeat(40_000);
    s.submit(
        vec![
            MessageOp::Enqueue {
                vhost: long.clone(),
                queue: long.clone(),
                seq: 1,
                expires_at: None,
                message: msg(1),
            },
            enq("ok", 1),
        ],
        Some(Box::new(move |r| tx.send(r.is_err()).unwrap())),
    );
    assert!(
        rx.recv().unwrap(),
        "the submit with an unstorable op must fail"
    );
    s.flush().unwrap();
    s.save_queue(&queue("ok")).unwrap();
    assert_eq!(seqs(&s.recover().unwrap(), "ok"), vec![1]);
}

/// Group-commit throughput, run by hand in release:
/// `cargo test --release --lib broker::store::fjall_store::tests::group_commit_throughput -- --ignored --nocapture`
///
/// 4 publisher threads × 20 000 messages of 256 bytes, at most 1 000 unconfirmed per
/// thread (as publishers waiting for confirms); each message is removed (acked) only once
/// its enqueue is confirmed, so an enqueue and its remove never share a batch and never
/// cancel out.
#[test]
#[ignore]
fn group_commit_throughput() {
    const THREADS: u64 = 4;
    const PER_THREAD: u64 = 20_000;
    const WINDOW: u64 = 1_000;
    let dir = tempfile::tempdir().unwrap();
    let s = Arc::new(open(dir.path()));
    let body = Bytes::from(vec![b'x'; 256]);
    let start = Instant::now();
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let (s, body) = (s.clone(), body.clone());
            std::thread::spawn(move || {
                let q = format!("bench-{t}");
                s.save_queue(&queue(&q)).unwrap();
                let (confirm_tx, confirm_rx) = mpsc::channel::<u64>();
                let (removed_tx, removed_rx) = mpsc::channel::<()>();
                let (mut sent, mut confirmed, mut removed) = (0u64, 0u64, 0u64);
                while removed < PER_THREAD {
                    while sent < PER_THREAD && sent - confirmed < WINDOW {
                        let tx = confirm_tx.clone();
                        let seq = sent;
                        s.submit(
                            vec![MessageOp::Enqueue {
                                vhost: V.into(),
                                queue: q.clone(),
                                seq,
                                expires_at: None,
                                message: Arc::new(Message::new(
                                    "",
                                    q.as_str(),
                                    BasicProperties::default().with_delivery_mode(2),
                                    body.clone(),
                                )),
                            }],
                            Some(Box::new(move |r| {
                                r.unwrap();
                                let _ = tx.send(seq);
                            })),
                        );
                        sent += 1;
                    }
                    // Wait for at least one confirm or removal, then take all that came.
                    let mut got = false;
                    while !got {
                        for seq in confirm_rx.try_iter() {
                            confirmed += 1;
                            let tx = removed_tx.clone();
                            s.submit(
                                vec![rem(&q, seq)],
                                Some(Box::new(move |r| {
                                    r.unwrap();
                                    let _ = tx.send(());
                                })),
                            );
                            got = true;
                        }
                        for () in removed_rx.try_iter() {
                            removed += 1;
                            got = true;
                        }
                        if !got {
                            if let Ok(seq) = confirm_rx.recv_timeout(Duration::from_millis(1)) {
                                confirmed += 1;
                                let tx = removed_tx.clone();
                                s.submit(
                                    vec![rem(&q, seq)],
                                    Some(Box::new(move |r| {
                                        r.unwrap();
                                        let _ = tx.send(());
                                    })),
                                );
                                got = true;
                            }
                        }
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let elapsed = start.elapsed();
    let msgs = THREADS * PER_THREAD;
    let r = s.recover().unwrap();
    assert!(r.queues.iter().all(|q| q.messages.is_empty()));
    eprintln!(
        "group commit: {msgs} enqueue+remove cycles ({} ops) in {:.2?}: {:.0} cycles/s, {:.0} ops/s",
        msgs * 2,
        elapsed,
        msgs as f64 / elapsed.as_secs_f64(),
        (msgs * 2) as f64 / elapsed.as_secs_f64()
    );
}

#[test]
fn interval_policy_waits_for_the_interval_or_a_flush() {
    let dir = tempfile::tempdir().unwrap();
    let s = FjallStore::open(dir.path(), SyncPolicy::Interval(Duration::from_secs(3600))).unwrap();
    let (tx, rx) = mpsc::channel();
    // The first write is synced at once (no fsync happened for a whole interval)...
    let t = tx.clone();
    s.submit(
        vec![enq("w", 1)],
        Some(Box::new(move |_| t.send(1).unwrap())),
    );
    assert_eq!(rx.recv_timeout(Duration::from_secs(10)), Ok(1));
    // ...the next one waits for the interval, or a flush.
    let t = tx.clone();
    s.submit(
        vec![enq("w", 2)],
        Some(Box::new(move |_| t.send(2).unwrap())),
    );
    // Cancelled out entirely: nothing to write, but it confirms after seq 2 only.
    let t = tx.clone();
    s.submit(
        vec![enq("w", 3), rem("w", 3)],
        Some(Box::new(move |_| t.send(3).unwrap())),
    );
    assert!(rx.recv_timeout(Duration::from_millis(200)).is_err());
    s.flush().unwrap();
    assert_eq!(rx.try_iter().collect::<Vec<_>>(), vec![2, 3]);
    // With nothing unsynced, a cancelled-out submit confirms at once.
    let t = tx.clone();
    s.submit(
        vec![enq("w", 4), rem("w", 4)],
        Some(Box::new(move |_| t.send(4).unwrap())),
    );
    assert_eq!(rx.recv_timeout(Duration::from_secs(10)), Ok(4));
}

#[test]
fn synchronous_calls_from_a_callback_fail_instead_of_deadlocking() {
    let dir = tempfile::tempdir().unwrap();
    let s = Arc::new(open(dir.path()));
    let (tx, rx) = mpsc::channel();
    let inner = s.clone();
    s.submit(
        vec![enq("q", 1)],
        Some(Box::new(move |_| {
            let refused = (
                inner.flush().is_err(),
                inner.save_queue(&queue("q")).is_err(),
            );
            // Submitting from a callback is fine: it only queues. It goes before the answer,
            // so the test's flush below is queued after it.
            inner.submit(vec![rem("q", 1)], None);
            tx.send(refused).unwrap();
        })),
    );
    assert_eq!(rx.recv_timeout(Duration::from_secs(10)), Ok((true, true)));
    s.flush().unwrap();
    assert_eq!(s.shared.messages.iter().count(), 0);
}

/// A held write cancelled before the store takes it never reaches the disk, and the
/// store does not run its callback (the canceller does); one left alone is written once its
/// hold is over, confirmed, and stays.
#[test]
fn a_held_write_is_written_unless_cancelled_in_time() {
    use std::sync::mpsc::channel;
    use std::time::Duration;

    let dir = tempfile::tempdir().unwrap();
    let (done_tx, done) = channel();
    {
        // Held for long enough that the cancel below is in time on a loaded machine.
        let s = open(dir.path()).holding_writes_for(Duration::from_secs(60));
        s.save_queue(&queue("q")).unwrap();
        let tx = done_tx.clone();
        let write = HeldWrite::new(
            enq("q", 1),
            Some(Box::new(move |r| tx.send((1, r.is_ok())).unwrap())),
        );
        s.hold(write.clone());
        match write.cancel() {
            crate::broker::store::Cancelled::Unwritten(Some(cb)) => cb(Ok(())),
            _ => panic!("the store took the write within its hold"),
        }
        assert_eq!(
            done.recv_timeout(Duration::from_secs(5)).unwrap(),
            (1, true)
        );
        s.flush().unwrap();
    }
    {
        let s = open(dir.path());
        let tx = done_tx.clone();
        let write = HeldWrite::new(
            enq("q", 2),
            Some(Box::new(move |r| tx.send((2, r.is_ok())).unwrap())),
        );
        s.hold(write.clone());
        assert_eq!(
            done.recv_timeout(Duration::from_secs(5)).unwrap(),
            (2, true)
        );
        assert!(matches!(
            write.cancel(),
            crate::broker::store::Cancelled::Written
        ));
        s.flush().unwrap();
        assert!(done.try_recv().is_err(), "a callback ran twice");
    }
    let s = open(dir.path());
    let r = s.recover().unwrap();
    assert_eq!(seqs(&r, "q"), vec![2]);
}

/// A synchronous call makes held writes durable first, whatever is left of their hold:
/// flush returns with them on disk, and a queue deleted right after a hold loses the
/// message with the queue instead of having it written after the delete.
#[test]
fn synchronous_calls_take_held_writes_first() {
    use std::sync::mpsc::channel;

    let dir = tempfile::tempdir().unwrap();
    {
        let s = open(dir.path());
        s.save_queue(&queue("q")).unwrap();
        s.save_queue(&queue("gone")).unwrap();
        let (done_tx, done) = channel();
        let tx = done_tx.clone();
        s.hold(HeldWrite::new(
            enq("q", 1),
            Some(Box::new(move |r| tx.send((1, r.is_ok())).unwrap())),
        ));
        s.flush().unwrap();
        assert_eq!(done.try_recv(), Ok((1, true)));

        s.hold(HeldWrite::new(enq("gone", 1), None));
        s.delete_queue(V, "gone").unwrap();
    }
    let s = open(dir.path());
    let r = s.recover().unwrap();
    assert_eq!(seqs(&r, "q"), vec![1]);
    assert!(r.queues.iter().all(|q| q.record.name != "gone"));
    assert_eq!(s.shared.messages.iter().count(), 1);
}
