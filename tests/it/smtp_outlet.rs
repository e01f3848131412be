//! Integration tests: the SMTP outlet (`mqbridge::outlet::smtp`) against a real SMTP server,
//! `tests/interop/python/smtp_sink.py` (aiosmtpd), started by each test on a free port.
//!
//! Python: `.venv/bin/python` of the repo if it can import aiosmtpd, else `python3`; when
//! neither can, the tests print why and return. Mails are checked after parsing the stored
//! `.eml` files with Python's `email` package (policy `default`: RFC 2047 words decoded,
//! folded lines unfolded), so the checks are what a mail reader sees.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use bytes::Bytes;
use mqbridge::client::ErrorKind;
use mqbridge::mapping::smtp::MailSpec;
use mqbridge::message::{AMQPValue, BasicProperties, FieldTable, LongString, Message, ShortString};
use mqbridge::outlet::smtp::{SmtpConfig, SmtpOutlet};
use serde_json::Value as Json;
use tokio::io::{AsyncBufReadExt, BufReader};

fn sink_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/python/smtp_sink.py")
}

/// A Python that can import aiosmtpd, or `None` (the test is skipped).
fn python() -> Option<String> {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    let mut candidates = Vec::new();
    if venv.exists() {
        candidates.push(venv.to_string_lossy().into_owned());
    }
    candidates.push("python3".to_owned());
    for py in candidates {
        let ok = std::process::Command::new(&py)
            .args(["-c", "import aiosmtpd"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if ok {
            return Some(py);
        }
    }
    eprintln!("aiosmtpd is not importable (pip install aiosmtpd): skipping the SMTP outlet test");
    None
}

struct Sink {
    port: u16,
    dir: tempfile::TempDir,
    python: String,
    _child: tokio::process::Child,
}

impl Sink {
    async fn start(extra: &[&str]) -> Option<Sink> {
        let python = python()?;
        let dir = tempfile::tempdir().expect("temp dir");
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            l.local_addr().expect("addr").port()
        };
        let mut child = tokio::process::Command::new(&python)
            .arg(sink_script())
            .args(["--port", &port.to_string(), "--dir"])
            .arg(dir.path())
            .args(extra)
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("smtp_sink.py starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
            .await
            .expect("sink ready within 20 s")
            .expect("read")
            .expect("a line");
        assert_eq!(line, format!("listening on 127.0.0.1:{port}"));
        Some(Sink {
            port,
            dir,
            python,
            _child: child,
        })
    }

    fn outlet(&self) -> SmtpOutlet {
        SmtpOutlet::new(&SmtpConfig {
            url: format!("smtp://127.0.0.1:{}", self.port),
            user: None,
            password: None,
            from: "mqbridge <bridge@example.test>".into(),
            pool_size: 2,
            timeout: Duration::from_secs(10),
        })
        .expect("outlet")
    }

    /// The stored mails, in order.
    fn mails(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .expect("read dir")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        files.sort();
        files
    }

    /// A stored mail as Python's email package reads it.
    fn parse(&self, path: &Path) -> Json {
        const SCRIPT: &str = r#"
import sys, json, base64, email, email.policy
m = email.message_from_bytes(open(sys.argv[1], 'rb').read(), policy=email.policy.default)
parts = []
for p in (m.walk() if m.is_multipart() else [m]):
    if p.is_multipart():
        continue
    payload = p.get_payload(decode=True) or b''
    parts.append({
        'content_type': p.get_content_type(),
        'content_type_full': str(p['Content-Type']),
        'charset': p.get_content_charset(),
        'filename': p.get_filename(),
        'disposition': p.get_content_disposition(),
        'base64': base64.b64encode(payload).decode(),
        'text': payload.decode('utf-8', 'replace'),
    })
print(json.dumps({
    'headers': [[k, str(v)] for k, v in m.items()],
    'content_type': m.get_content_type(),
    'parts': parts,
}))
"#;
        let out = std::process::Command::new(&self.python)
            .args(["-c", SCRIPT])
            .arg(path)
            .output()
            .expect("python parses the mail");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("json")
    }
}

fn header<'a>(mail: &'a Json, name: &str) -> Option<&'a str> {
    mail["headers"]
        .as_array()?
        .iter()
        .find(|h| h[0].as_str().is_some_and(|n| n.eq_ignore_ascii_case(name)))
        .and_then(|h| h[1].as_str())
}

fn spec(to: &[&str]) -> MailSpec {
    MailSpec {
        to: to.iter().map(|s| s.to_string()).collect(),
        subject: "test".into(),
        ..Default::default()
    }
}

fn text_message(body: &str) -> Message {
    Message::new(
        "orders",
        "eu.new",
        BasicProperties::default(),
        Bytes::copy_from_slice(body.as_bytes()),
    )
}

async fn wait_for_mails(sink: &Sink, n: usize) -> Vec<PathBuf> {
    // The sink writes before answering 250, so this is normally immediate.
    for _ in 0..50 {
        let mails = sink.mails();
        if mails.len() >= n {
            return mails;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    sink.mails()
}

#[tokio::test]
async fn text_message_becomes_a_text_mail_with_x_headers() {
    let Some(sink) = Sink::start(&[]).await else {
        return;
    };
    let outlet = sink.outlet();
    let mut headers = FieldTable::default();
    headers.insert(ShortString::from("orderId"), AMQPValue::LongLongInt(42));
    headers.insert(
        ShortString::from("customer"),
        AMQPValue::LongString(LongString::from("Zoë Ålund – 東京")),
    );
    let long = "word ".repeat(60);
    headers.insert(
        ShortString::from("note"),
        AMQPValue::LongString(LongString::from(long.trim_end())),
    );
    headers.insert(
        ShortString::from("evil"),
        AMQPValue::LongString(LongString::from("x\r\nBcc: intruder@example.test")),
    );
    headers.insert(ShortString::from("bad name"), AMQPValue::Boolean(true));
    let props = BasicProperties::default()
        .with_content_type("text/plain".into())
        .with_message_id("msg-1".into())
        .with_correlation_id("corr-9".into())
        .with_type("order.created".into())
        .with_app_id("shop".into())
        .with_timestamp(1_700_000_000)
        .with_headers(headers);
    let message = Message::new(
        "orders",
        "eu.new",
        props,
        Bytes::from("Grüße aus der Warteschlange\nline 2\n"),
    );
    let mail = MailSpec {
        to: vec!["ann@example.test".into(), "Bob <bob@example.test>".into()],
        cc: vec!["carol@example.test".into()],
        bcc: vec!["dave@example.test".into()],
        subject: "Bestellung für Zoë".into(),
        body: None,
    };
    outlet.send(&mail, &message).await.expect("250");

    let mails = wait_for_mails(&sink, 1).await;
    assert_eq!(mails.len(), 1);
    let raw = std::fs::read_to_string(&mails[0]).expect("eml");
    let m = sink.parse(&mails[0]);
    assert_eq!(
        header(&m, "X-Sink-Rcpt-To"),
        Some("ann@example.test, bob@example.test, carol@example.test, dave@example.test")
    );
    assert_eq!(header(&m, "X-Sink-Mail-From"), Some("bridge@example.test"));
    assert_eq!(
        header(&m, "To"),
        Some("ann@example.test, Bob <bob@example.test>")
    );
    assert_eq!(header(&m, "Cc"), Some("carol@example.test"));
    assert_eq!(header(&m, "Bcc"), None, "bcc is envelope-only");
    assert_eq!(header(&m, "From"), Some("mqbridge <bridge@example.test>"));
    assert_eq!(header(&m, "Subject"), Some("Bestellung für Zoë"));
    assert_eq!(m["content_type"], "text/plain");
    assert_eq!(m["parts"][0]["charset"], "utf-8");
    assert_eq!(
        m["parts"][0]["text"]
            .as_str()
            .map(|t| t.replace("\r\n", "\n")),
        Some("Grüße aus der Warteschlange\nline 2\n".to_owned())
    );
    assert_eq!(header(&m, "X-Mqbridge-Exchange"), Some("orders"));
    assert_eq!(header(&m, "X-Mqbridge-Routing-Key"), Some("eu.new"));
    assert_eq!(header(&m, "X-Mqbridge-Message-Id"), Some("msg-1"));
    assert_eq!(header(&m, "X-Mqbridge-Correlation-Id"), Some("corr-9"));
    assert_eq!(header(&m, "X-Mqbridge-Type"), Some("order.created"));
    assert_eq!(header(&m, "X-Mqbridge-App-Id"), Some("shop"));
    assert_eq!(header(&m, "X-Mqbridge-Timestamp"), Some("1700000000"));
    assert_eq!(header(&m, "X-Mqbridge-Content-Type"), Some("text/plain"));
    assert_eq!(header(&m, "X-Mqbridge-Header-orderId"), Some("42"));
    assert_eq!(
        header(&m, "X-Mqbridge-Header-customer"),
        Some("Zoë Ålund – 東京")
    );
    assert_eq!(header(&m, "X-Mqbridge-Header-note"), Some(long.trim_end()));
    assert_eq!(
        header(&m, "X-Mqbridge-Header-evil"),
        Some("x  Bcc: intruder@example.test")
    );
    assert!(header(&m, "X-Mqbridge-Header-bad name").is_none());
    // On the wire: non-ASCII as RFC 2047 words, long values folded, no line over 998.
    assert!(
        raw.contains("X-Mqbridge-Header-customer: =?utf-8?"),
        "{raw}"
    );
    assert!(raw.lines().all(|l| l.len() <= 998));
    assert!(!raw.contains("\nBcc:"), "no injected header");
}

#[tokio::test]
async fn binary_message_becomes_an_attachment_with_its_content_type() {
    let Some(sink) = Sink::start(&[]).await else {
        return;
    };
    let outlet = sink.outlet();
    let body: Vec<u8> = (0..=255u8).chain(b"%PDF-1.7".iter().copied()).collect();
    let mut headers = FieldTable::default();
    headers.insert(
        ShortString::from("filename"),
        AMQPValue::LongString(LongString::from("reports/q3.pdf")),
    );
    let props = BasicProperties::default()
        .with_content_type("application/pdf".into())
        .with_headers(headers);
    let message = Message::new("", "q", props, Bytes::from(body.clone()));
    outlet
        .send(&spec(&["ann@example.test"]), &message)
        .await
        .expect("250");
    // Without a filename header and without a content type: message.bin, octet-stream.
    let message = Message::new(
        "",
        "q",
        BasicProperties::default(),
        Bytes::from_static(b"\xff\x00"),
    );
    let mut with_template = spec(&["ann@example.test"]);
    with_template.body = Some("Rendered by a template".into());
    outlet.send(&with_template, &message).await.expect("250");

    let mails = wait_for_mails(&sink, 2).await;
    assert_eq!(mails.len(), 2);
    let m = sink.parse(&mails[0]);
    assert_eq!(m["content_type"], "multipart/mixed");
    let parts = m["parts"].as_array().expect("parts");
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[0]["content_type"], "text/plain");
    assert!(
        parts[0]["text"]
            .as_str()
            .is_some_and(|t| t.contains("264 bytes")),
        "{}",
        parts[0]["text"]
    );
    assert_eq!(parts[1]["content_type"], "application/pdf");
    assert_eq!(parts[1]["filename"], "q3.pdf");
    assert_eq!(parts[1]["disposition"], "attachment");
    use base64::Engine as _;
    let got = base64::engine::general_purpose::STANDARD
        .decode(parts[1]["base64"].as_str().expect("b64"))
        .expect("base64");
    assert_eq!(got, body, "attachment bytes unchanged");

    let m = sink.parse(&mails[1]);
    let parts = m["parts"].as_array().expect("parts");
    assert_eq!(parts[0]["text"], "Rendered by a template");
    assert_eq!(parts[1]["content_type"], "application/octet-stream");
    assert_eq!(parts[1]["filename"], "message.bin");
}

#[tokio::test]
async fn a_451_is_refused_and_the_retry_is_accepted() {
    let Some(sink) = Sink::start(&["--fail-first-4xx", "1"]).await else {
        return;
    };
    let outlet = sink.outlet();
    let err = outlet
        .send(&spec(&["ann@example.test"]), &text_message("one"))
        .await
        .expect_err("451");
    assert_eq!(err.kind, ErrorKind::Refused, "{err:?}");
    assert!(err.message.starts_with("451"), "{}", err.message);
    assert!(err.message.contains("try again later"), "{}", err.message);
    assert!(sink.mails().is_empty());
    outlet
        .send(&spec(&["ann@example.test"]), &text_message("one"))
        .await
        .expect("the retry gets 250");
    assert_eq!(wait_for_mails(&sink, 1).await.len(), 1);
}

#[tokio::test]
async fn a_550_recipient_is_rejected_and_bad_addresses_never_reach_the_relay() {
    let Some(sink) = Sink::start(&["--reject-rcpt-5xx", "gone@example.test"]).await else {
        return;
    };
    let outlet = sink.outlet();
    let err = outlet
        .send(
            &spec(&["ann@example.test", "gone@example.test"]),
            &text_message("x"),
        )
        .await
        .expect_err("550");
    assert_eq!(err.kind, ErrorKind::Rejected, "{err:?}");
    assert!(err.message.starts_with("550"), "{}", err.message);
    assert!(err.message.contains("no such user"), "{}", err.message);

    for bad in ["not an address", "a@", "<broken@x", ""] {
        let err = outlet
            .send(&spec(&[bad]), &text_message("x"))
            .await
            .expect_err("invalid address");
        assert_eq!(err.kind, ErrorKind::Rejected, "{bad}: {err:?}");
    }
    let err = outlet
        .send(&spec(&[]), &text_message("x"))
        .await
        .expect_err("no recipient");
    assert_eq!(err.kind, ErrorKind::Rejected);
    // The outlet still works after all that.
    outlet
        .send(&spec(&["ann@example.test"]), &text_message("ok"))
        .await
        .expect("250");
    assert_eq!(wait_for_mails(&sink, 1).await.len(), 1);
}

#[tokio::test]
async fn the_pool_reuses_one_connection() {
    let Some(sink) = Sink::start(&[]).await else {
        return;
    };
    let outlet = sink.outlet();
    for i in 0..3 {
        outlet
            .send(
                &spec(&["ann@example.test"]),
                &text_message(&format!("m{i}")),
            )
            .await
            .expect("250");
        // lettre hands a connection back to its pool from a spawned task after the reply;
        // a send right after may find the pool empty and open a second connection.
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mails = wait_for_mails(&sink, 3).await;
    assert_eq!(mails.len(), 3);
    let peers: Vec<String> = mails
        .iter()
        .map(|p| {
            header(&sink.parse(p), "X-Sink-Peer")
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert!(!peers[0].is_empty());
    assert!(peers.iter().all(|p| p == &peers[0]), "{peers:?}");
}

#[tokio::test]
async fn no_relay_is_a_connection_error() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let outlet = SmtpOutlet::new(&SmtpConfig {
        url: format!("smtp://127.0.0.1:{port}"),
        user: None,
        password: None,
        from: "bridge@example.test".into(),
        pool_size: 1,
        timeout: Duration::from_secs(5),
    })
    .expect("outlet");
    let err = outlet
        .send(&spec(&["ann@example.test"]), &text_message("x"))
        .await
        .expect_err("refused");
    assert_eq!(err.kind, ErrorKind::Connection, "{err:?}");
}

#[tokio::test]
async fn a_pooled_connection_closed_by_the_relay_is_retried_once() {
    // lettre#743: the relay closes a pooled connection right after the pool's NOOP check;
    // the send reads EOF ("incomplete response") and the outlet retries on a new one.
    let Some(sink) = Sink::start(&["--close-after-first-noop"]).await else {
        return;
    };
    let outlet = sink.outlet();
    outlet
        .send(&spec(&["ann@example.test"]), &text_message("first"))
        .await
        .expect("250");
    tokio::time::sleep(Duration::from_millis(200)).await;
    outlet
        .send(&spec(&["ann@example.test"]), &text_message("second"))
        .await
        .expect("retried on a fresh connection");
    let mails = wait_for_mails(&sink, 2).await;
    assert_eq!(mails.len(), 2);
    let peers: Vec<String> = mails
        .iter()
        .map(|p| {
            header(&sink.parse(p), "X-Sink-Peer")
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_ne!(
        peers[0], peers[1],
        "the second mail went over a new connection"
    );
}
