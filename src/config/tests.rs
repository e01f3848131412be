use std::path::{Path, PathBuf};
use std::time::Duration;

use super::*;

/// A well-formed argon2id PHC string (hand-made: config validation only decodes it).
const ARGON2_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$GpZ3sK/oH9p7VIiV56G/64Zo/8GaUw434IimaPqxwCo";
/// RabbitMQ SHA-256 of "guest" with salt 908dc60a (see auth tests for how it was made).
const SHA256_HASH: &str = "kI3GCrswBLNZQzHJJ95QLoyfAVooYhnvf7jbqiW9BjOYUloe";

fn err(text: &str) -> ConfigError {
    match parse(text, "config/bad.yaml") {
        Ok(c) => panic!("expected an error, got {c:?}"),
        Err(e) => e,
    }
}

/// Asserts the first line of the error is exactly `config/bad.yaml:LINE:COL: ` + message
/// start, and that a snippet follows.
fn assert_err(text: &str, line: u64, column: u64, message_start: &str) {
    let e = err(text);
    let shown = e.to_string();
    let first = shown.lines().next().unwrap_or_default();
    let expected = format!("config/bad.yaml:{line}:{column}: {message_start}");
    assert!(
        first.starts_with(&expected),
        "expected `{expected}...`, got:\n{shown}"
    );
    assert_eq!(e.position(), Some(Position { line, column }), "{shown}");
    assert!(shown.lines().count() >= 3, "no snippet in:\n{shown}");
}

#[test]
fn full_valid_file() {
    let text = format!(
        r#"
listeners:
  amqp: {{ bind: "0.0.0.0:5672", heartbeat: 30, frame_max: 65536, channel_max: 100 }}
  stomp: {{ bind: "[::1]:61613" }}
  openwire: {{ bind: "localhost:61616" }}
  http: {{ bind: "127.0.0.1:15672" }}
storage: {{ dir: ./data, sync: 50ms }}
limits: {{ memory_high_watermark: "1GiB", disk_free_limit: "50MB" }}
vhosts: ["/", staging]
users:
  - name: orders-app
    password_hash: "{ARGON2_HASH}"
    hashing_algorithm: argon2id
    tags: [administrator, monitoring]
  - name: legacy
    password_hash: {SHA256_HASH}
    hashing_algorithm: rabbit_password_hashing_sha256
    loopback_only: true
topology:
  exchanges:
    - {{ name: orders, type: topic, durable: true, auto_delete: false, internal: false, arguments: {{}} }}
    - {{ name: dlx, type: fanout, vhost: staging, arguments: {{ alternate-exchange: unrouted }} }}
  queues:
    - name: orders
      durable: true
      arguments:
        x-dead-letter-exchange: dlx
        x-max-length: 1000
        x-message-ttl: 60000
        x-ratio: 0.5
        x-flag: true
        x-list: [1, "two", {{ three: 3 }}]
        x-quoted: "1000"
  bindings:
    - {{ source: orders, destination: orders, destination_type: queue, routing_key: "eu.#", arguments: {{}} }}
    - {{ source: amq.topic, destination: orders, destination_type: exchange }}
"#
    );
    let c = match parse(&text, "full.yaml") {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    };
    let amqp = c
        .listeners
        .amqp
        .clone()
        .unwrap_or_else(|| panic!("no amqp"));
    assert_eq!(
        amqp,
        AmqpListenerConfig {
            bind: Some("0.0.0.0:5672".into()),
            tls_bind: None,
            heartbeat: 30,
            frame_max: 65536,
            channel_max: 100
        }
    );
    assert_eq!(
        amqp.bind_addr().unwrap(),
        Ok("0.0.0.0:5672".parse().unwrap())
    );
    let stomp = c.listeners.stomp.clone().unwrap();
    assert_eq!(
        stomp.bind_addr().unwrap(),
        Ok("[::1]:61613".parse().unwrap())
    );
    let openwire = c.listeners.openwire.clone().unwrap();
    assert_eq!(
        openwire.bind_addr().unwrap(),
        Ok("127.0.0.1:61616".parse().unwrap())
    );
    assert_eq!(
        c.listeners.http,
        Some(ListenerConfig::new("127.0.0.1:15672"))
    );
    assert_eq!(
        c.storage,
        Storage {
            dir: Some(PathBuf::from("./data")),
            sync: SyncSetting::Interval(Duration::from_millis(50))
        }
    );
    assert_eq!(
        c.limits,
        Limits {
            memory_high_watermark: Some(1 << 30),
            disk_free_limit: Some(50_000_000),
            max_connections: None,
            max_message_size: None,
            max_frame_size: None,
        }
    );
    assert_eq!(c.vhosts, vec!["/".to_string(), "staging".to_string()]);
    assert_eq!(c.users.len(), 2);
    assert_eq!(c.users[0].name, "orders-app");
    assert_eq!(c.users[0].hashing_algorithm, HashingAlgorithm::Argon2id);
    assert_eq!(c.users[0].tags, vec!["administrator", "monitoring"]);
    assert_eq!(c.users[0].loopback_only, None);
    assert_eq!(
        c.users[1].hashing_algorithm,
        HashingAlgorithm::RabbitPasswordHashingSha256
    );
    assert_eq!(c.users[1].loopback_only, Some(true));
    assert!(!format!("{:?}", c.users[1]).contains(SHA256_HASH));

    let t = &c.topology;
    assert_eq!(t.exchanges.len(), 2);
    assert_eq!(t.exchanges[0].kind, ExchangeType::Topic);
    assert!(t.exchanges[0].durable);
    assert_eq!(t.exchanges[1].vhost, "staging");
    assert_eq!(t.exchanges[1].kind, ExchangeType::Fanout);
    assert!(t.exchanges[1].durable, "durable defaults to true");
    let q = &t.queues[0];
    assert_eq!(q.vhost, "/");
    assert_eq!(
        q.arguments.get("x-dead-letter-exchange"),
        Some(&ArgValue::String("dlx".into()))
    );
    assert_eq!(q.arguments.get("x-max-length"), Some(&ArgValue::Int(1000)));
    assert_eq!(q.arguments.get("x-ratio"), Some(&ArgValue::Float(0.5)));
    assert_eq!(q.arguments.get("x-flag"), Some(&ArgValue::Bool(true)));
    assert_eq!(
        q.arguments.get("x-quoted"),
        Some(&ArgValue::String("1000".into()))
    );
    let table = q.arguments.to_field_table();
    let inner = table.inner();
    assert_eq!(
        inner.get("x-max-length"),
        Some(&AMQPValue::LongLongInt(1000))
    );
    assert_eq!(
        inner.get("x-dead-letter-exchange"),
        Some(&AMQPValue::LongString("dlx".into()))
    );
    assert_eq!(inner.get("x-ratio"), Some(&AMQPValue::Double(0.5)));
    assert_eq!(inner.get("x-flag"), Some(&AMQPValue::Boolean(true)));
    let mut nested = FieldTable::default();
    nested.insert("three".into(), AMQPValue::LongLongInt(3));
    assert_eq!(
        inner.get("x-list"),
        Some(&AMQPValue::FieldArray(
            vec![
                AMQPValue::LongLongInt(1),
                AMQPValue::LongString("two".into()),
                AMQPValue::FieldTable(nested)
            ]
            .into()
        ))
    );
    assert_eq!(t.bindings.len(), 2);
    assert_eq!(t.bindings[0].routing_key, "eu.#");
    assert_eq!(t.bindings[0].destination_type, DestinationType::Queue);
    assert_eq!(t.bindings[1].destination_type, DestinationType::Exchange);
    assert_eq!(t.bindings[1].routing_key, "");
}

#[test]
fn defaults_when_sections_are_absent() {
    let c = parse("listeners:\n  amqp: { bind: \"127.0.0.1:0\" }\n", "t.yaml").unwrap();
    assert_eq!(
        c.listeners.amqp,
        Some(AmqpListenerConfig::new("127.0.0.1:0"))
    );
    assert_eq!(c.listeners.stomp, None);
    assert_eq!(c.storage, Storage::default());
    assert_eq!(c.storage.dir, None);
    assert_eq!(c.storage.sync, SyncSetting::EveryBatch);
    assert_eq!(c.limits, Limits::default());
    assert_eq!(c.vhosts, vec!["/"]);
    assert!(c.users.is_empty());
    assert_eq!(c.topology, Topology::default());
    // An explicit null dir is in-memory too.
    let c = parse("storage: { dir: null }\n", "t.yaml").unwrap();
    assert_eq!(c.storage.dir, None);
}

#[test]
fn unknown_field_reports_file_line_column() {
    assert_err(
        "listeners:\n  amqp:\n    bind: \"0.0.0.0:5672\"\n  stomp:\n    bind: \"0.0.0.0:61613\"\n  http:\n    bnd: x\n",
        7,
        5,
        "unknown field `bnd`, expected one of bind",
    );
    assert_err(
        "listeners: {}\nstorage: { dir: ./d }\nusers: []\nlimts: {}\n",
        4,
        1,
        "unknown field `limts`",
    );
}

#[test]
fn wrong_type_and_strict_booleans() {
    assert_err(
        "listeners:\n  amqp: { bind: \"0.0.0.0:5672\", heartbeat: 70000 }\n",
        2,
        44,
        "heartbeat: invalid u16",
    );
    assert_err(
        "topology:\n  queues:\n    - name: q\n      durable: yes\n",
        4,
        16,
        "durable: invalid boolean",
    );
}

#[test]
fn syntax_error_and_missing_field() {
    assert_err("listeners: [\n", 1, 12, "");
    assert_err(
        "listeners:\n  amqp:\n    heartbeat: 5\n",
        3,
        5,
        "listeners.amqp: needs bind, tls_bind or both",
    );
}

/// A CA-signed server certificate and key, another key, and the CA, as PEM files.
fn tls_files() -> tempfile::TempDir {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
    let dir = tempfile::tempdir().unwrap();
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, "test CA");
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .signed_by(&key, &issuer)
        .unwrap();
    let other = KeyPair::generate().unwrap();
    for (name, pem) in [
        ("ca.pem", ca_cert.pem()),
        ("server.pem", cert.pem()),
        ("server.key", key.serialize_pem()),
        ("other.key", other.serialize_pem()),
        ("garbage.pem", "not PEM at all\n".to_string()),
    ] {
        std::fs::write(dir.path().join(name), pem).unwrap();
    }
    dir
}

#[test]
fn tls_section_and_tls_binds() {
    let dir = tls_files();
    let d = dir.path().display();
    let text = format!(
        "tls:\n  cert: {d}/server.pem\n  key: {d}/server.key\n  ca: {d}/ca.pem\n\
         listeners:\n  amqp: {{ bind: \"127.0.0.1:5672\", tls_bind: \"127.0.0.1:5671\" }}\n  \
         stomp: {{ tls_bind: \"127.0.0.1:61614\" }}\n  openwire: {{ bind: null, tls_bind: \"127.0.0.1:61617\" }}\n"
    );
    let c = parse(&text, "tls.yaml").unwrap();
    let tls = c.tls.clone().unwrap();
    assert_eq!(tls.cert, dir.path().join("server.pem"));
    assert_eq!(tls.ca, Some(dir.path().join("ca.pem")));
    // A CA without `verify` asks for client certificates but does not require them.
    assert_eq!(tls.verify, TlsVerify::Optional);
    let amqp = c.listeners.amqp.unwrap();
    assert_eq!(amqp.bind.as_deref(), Some("127.0.0.1:5672"));
    assert_eq!(amqp.tls_bind.as_deref(), Some("127.0.0.1:5671"));
    let stomp = c.listeners.stomp.unwrap();
    assert_eq!(
        (stomp.bind, stomp.tls_bind.as_deref()),
        (None, Some("127.0.0.1:61614"))
    );
    assert_eq!(c.listeners.openwire.unwrap().bind, None);

    let by_san = format!(
        "tls: {{ cert: {d}/server.pem, key: {d}/server.key, cert_login_from: subject_alt_name, \
         cert_login_san_type: email, cert_login_san_index: 2 }}\n"
    );
    let login = parse(&by_san, "x").unwrap().tls.unwrap().cert_login;
    assert_eq!(
        login,
        CertLogin {
            from: CertLoginFrom::SubjectAlternativeName,
            san_type: SanType::Email,
            san_index: 2,
        }
    );
    assert_eq!(tls.cert_login, CertLogin::default());
    let no_ca = format!("tls: {{ cert: {d}/server.pem, key: {d}/server.key }}\n");
    assert_eq!(
        parse(&no_ca, "x").unwrap().tls.unwrap().verify,
        TlsVerify::None
    );
}

#[test]
fn tls_errors_point_at_the_value() {
    let dir = tls_files();
    let d = dir.path().display();
    assert_err(
        "listeners:\n  amqp: { tls_bind: \"127.0.0.1:5671\" }\n",
        2,
        21,
        "listeners.amqp.tls_bind: needs the top-level tls section",
    );
    assert_err(
        &format!("tls: {{ cert: {d}/server.pem, key: {d}/server.key }}\nlisteners:\n  stomp: {{ tls_bind: \"nope\" }}\n"),
        3,
        22,
        "listeners.stomp.tls_bind: invalid bind address 'nope'",
    );
    assert_err(
        &format!("tls:\n  cert: {d}/missing.pem\n  key: {d}/server.key\n"),
        2,
        9,
        &format!("tls.cert: cannot read {d}/missing.pem"),
    );
    assert_err(
        &format!("tls:\n  cert: {d}/garbage.pem\n  key: {d}/server.key\n"),
        2,
        9,
        &format!("tls.cert: {d}/garbage.pem: no CERTIFICATE"),
    );
    assert_err(
        &format!("tls:\n  cert: {d}/server.pem\n  key: {d}/other.key\n"),
        3,
        8,
        "tls.key: the key does not match the certificate",
    );
    assert_err(
        &format!("tls:\n  cert: {d}/server.pem\n  key: {d}/server.pem\n"),
        3,
        8,
        &format!("tls.key: {d}/server.pem: no usable private key"),
    );
    assert_err(
        &format!("tls:\n  cert: {d}/server.pem\n  key: {d}/server.key\n  ca: {d}/garbage.pem\n"),
        4,
        7,
        &format!("tls.ca: {d}/garbage.pem: no CERTIFICATE"),
    );
    assert_err(
        &format!("tls:\n  cert: {d}/server.pem\n  key: {d}/server.key\n  verify: required\n"),
        4,
        11,
        "tls.verify: checking client certificates needs tls.ca",
    );
    assert_err(
        &format!(
            "tls:\n  cert: {d}/server.pem\n  key: {d}/server.key\n  cert_login_san_index: 1\n"
        ),
        4,
        25,
        "tls.cert_login_san_index: only used with cert_login_from: subject_alternative_name",
    );
    assert_err(
        &format!(
            "tls:\n  cert: {d}/server.pem\n  key: {d}/server.key\n  cert_login_from: serial\n"
        ),
        4,
        20,
        "cert_login_from: unknown variant `serial`",
    );
    assert_err(
        &format!("tls:\n  cert: {d}/server.pem\n  key: {d}/server.key\n  verify: sometimes\n"),
        4,
        11,
        "verify: unknown variant",
    );
}

#[test]
fn bad_bind_addresses() {
    assert_err(
        "listeners:\n  amqp: { bind: \"0.0.0.0\" }\n",
        2,
        17,
        "listeners.amqp.bind: invalid bind address '0.0.0.0': expected host:port",
    );
    assert_err(
        "listeners:\n  stomp:\n    bind: \"example.com:61613\"\n",
        3,
        11,
        "listeners.stomp.bind: invalid bind address 'example.com:61613': the host must be an IP address or localhost",
    );
    assert_err(
        "listeners:\n  http: { bind: \"127.0.0.1:99999\" }\n",
        2,
        17,
        "listeners.http.bind: invalid bind address '127.0.0.1:99999': the port",
    );
    assert_err(
        "listeners:\n  openwire: { bind: \"::1:61616\" }\n",
        2,
        21,
        "listeners.openwire.bind: invalid bind address '::1:61616': an IPv6 address must be in brackets",
    );
}

#[test]
fn bind_addr_forms() {
    let ok = |s: &str| parse_bind_addr(s).unwrap();
    assert_eq!(ok("0.0.0.0:5672"), "0.0.0.0:5672".parse().unwrap());
    assert_eq!(ok("[::]:5672"), "[::]:5672".parse().unwrap());
    assert_eq!(ok("[::1]:0"), "[::1]:0".parse().unwrap());
    assert_eq!(ok("localhost:15672"), "127.0.0.1:15672".parse().unwrap());
    assert_eq!(ok("LOCALHOST:1"), "127.0.0.1:1".parse().unwrap());
    assert!(parse_bind_addr(":5672").is_err());
    assert!(parse_bind_addr("localhost").is_err());
}

#[test]
fn bad_amqp_tuning() {
    assert_err(
        "listeners:\n  amqp: { bind: \"0.0.0.0:5672\", frame_max: 1024 }\n",
        2,
        44,
        "listeners.amqp.frame_max: 1024 is below AMQP's minimum of 4096",
    );
    assert_err(
        "listeners:\n  amqp:\n    bind: \"0.0.0.0:5672\"\n    channel_max: 0\n",
        4,
        18,
        "listeners.amqp.channel_max: must be from 1 to 65535",
    );
}

#[test]
fn bad_storage() {
    assert_err(
        "storage:\n  dir: ./data\n  sync: sometimes\n",
        3,
        9,
        "storage.sync: 'sometimes' is not every-batch or an interval such as 50ms",
    );
    assert_err(
        "storage: { sync: 0ms }\n",
        1,
        18,
        "storage.sync: a zero interval",
    );
    assert_err("storage: { dir: \"\" }\n", 1, 17, "storage.dir: empty");
    let c = parse("storage: { sync: 2s }\n", "t.yaml").unwrap();
    assert_eq!(
        c.storage.sync,
        SyncSetting::Interval(Duration::from_secs(2))
    );
}

#[test]
fn bad_sizes() {
    assert_err(
        "limits:\n  memory_high_watermark: \"1GiB\"\n  disk_free_limit: \"50 furlongs\"\n",
        3,
        20,
        "limits.disk_free_limit: '50 furlongs' is not a size",
    );
    assert_err(
        "limits:\n  memory_high_watermark: 1.5\n",
        2,
        26,
        "limits.memory_high_watermark: the fraction 1.5 must be above 0 and at most 1",
    );
    assert_err(
        "limits:\n  disk_free_limit: 0.5\n",
        2,
        20,
        "limits.disk_free_limit: a fraction is only accepted for memory_high_watermark",
    );
}

#[test]
fn sizes_resolve_to_bytes() {
    assert_eq!(validate::parse_size("1024"), Some(1024));
    assert_eq!(validate::parse_size("1B"), Some(1));
    assert_eq!(validate::parse_size("2KiB"), Some(2048));
    assert_eq!(validate::parse_size("3 MiB"), Some(3 << 20));
    assert_eq!(validate::parse_size("1GiB"), Some(1 << 30));
    assert_eq!(validate::parse_size("2KB"), Some(2000));
    assert_eq!(validate::parse_size("50MB"), Some(50_000_000));
    assert_eq!(validate::parse_size("1gb"), Some(1_000_000_000));
    assert_eq!(validate::parse_size("GiB"), None);
    assert_eq!(validate::parse_size("1.5GiB"), None);
    assert_eq!(validate::parse_size("99999999999999999999GiB"), None);
    let c = parse("limits: { disk_free_limit: 1048576 }\n", "t.yaml").unwrap();
    assert_eq!(c.limits.disk_free_limit, Some(1 << 20));
    if Path::new("/proc/meminfo").exists() {
        let c = parse("limits: { memory_high_watermark: 0.4 }\n", "t.yaml").unwrap();
        assert!(c.limits.memory_high_watermark.is_some_and(|b| b > 0));
        let c = parse("limits: { memory_high_watermark: \"0.4\" }\n", "t.yaml").unwrap();
        assert!(c.limits.memory_high_watermark.is_some_and(|b| b > 0));
    }
}

#[test]
fn unknown_hashing_algorithm() {
    assert_err(
        "users:\n  - name: a\n    password_hash: x\n    hashing_algorithm: md5\n",
        4,
        24,
        "hashing_algorithm: unknown variant `md5`, expected one of argon2id, rabbit_password_hashing_sha256",
    );
}

#[test]
fn duplicate_user() {
    let text = format!(
        "users:\n  - name: app\n    password_hash: \"{ARGON2_HASH}\"\n  - name: other\n    password_hash: \"{ARGON2_HASH}\"\n  - name: app\n    password_hash: \"{ARGON2_HASH}\"\n"
    );
    assert_err(
        &text,
        6,
        11,
        "users[2].name: duplicate user 'app' (first defined on line 2)",
    );
}

#[test]
fn undecodable_password_hashes() {
    assert_err(
        "users:\n  - name: a\n    password_hash: not-a-phc-string\n",
        3,
        20,
        "users[0].password_hash: not a valid argon2id hash: not a PHC string",
    );
    assert_err(
        "users:\n  - name: a\n    password_hash: \"$argon2i$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$GpZ3sK/oH9p7VIiV56G/64Zo/8GaUw434IimaPqxwCo\"\n",
        3,
        20,
        "users[0].password_hash: not a valid argon2id hash: the PHC string is for argon2i",
    );
    assert_err(
        "users:\n  - name: a\n    hashing_algorithm: rabbit_password_hashing_sha256\n    password_hash: \"!!!\"\n",
        4,
        20,
        "users[0].password_hash: not a valid rabbit_password_hashing_sha256 hash: not base64",
    );
    assert_err(
        "users:\n  - name: a\n    hashing_algorithm: rabbit_password_hashing_sha256\n    password_hash: \"c2hvcnQ=\"\n",
        4,
        20,
        "users[0].password_hash: not a valid rabbit_password_hashing_sha256 hash: decodes to 5 bytes",
    );
}

#[test]
fn bad_vhosts() {
    assert_err(
        "vhosts: [\"/\", a, \"/\"]\n",
        1,
        18,
        "vhosts[2]: duplicate vhost '/'",
    );
    assert_err("vhosts:\n  - \"\"\n", 2, 5, "vhosts[0]: must not be empty");
    assert_err("listeners: {}\nvhosts: []\n", 2, 9, "vhosts: empty");
    assert_err(
        "vhosts: [a]\ntopology:\n  queues:\n    - { name: q, vhost: b }\n",
        4,
        25,
        "topology.queues[0].vhost: 'b' is not in vhosts (a)",
    );
    assert_err(
        "vhosts: [a]\ntopology:\n  queues:\n    - { name: q }\n",
        4,
        15,
        "topology.queues[0]: has no vhost and '/' is not in vhosts",
    );
}

#[test]
fn bad_topology() {
    assert_err(
        "topology:\n  exchanges:\n    - { name: orders, type: topic }\n    - { name: orders, type: direct }\n",
        4,
        15,
        "topology.exchanges[1].name: exchange 'orders' is declared twice in vhost '/'",
    );
    assert_err(
        "topology:\n  exchanges:\n    - { name: amq.custom, type: topic }\n",
        3,
        15,
        "topology.exchanges[0].name: 'amq.custom': the amq. prefix is reserved",
    );
    assert_err(
        "topology:\n  exchanges:\n    - { name: x, type: topix }\n",
        3,
        24,
        "type: unknown variant `topix`, expected one of direct, fanout, topic, headers",
    );
    assert_err(
        "topology:\n  queues:\n    - { name: a }\n    - { name: a }\n",
        4,
        15,
        "topology.queues[1].name: queue 'a' is declared twice in vhost '/'",
    );
    let long = "q".repeat(256);
    assert_err(
        &format!("topology:\n  queues:\n    - name: {long}\n"),
        3,
        13,
        "topology.queues[0].name: 256 bytes long; AMQP names are at most 255 bytes",
    );
    assert_err(
        "topology:\n  queues:\n    - name: q\n      arguments:\n        x-max-length: -1\n",
        5,
        23,
        "topology.queues[0].arguments.x-max-length: must be a non-negative integer",
    );
    assert_err(
        "topology:\n  queues:\n    - name: q\n      arguments: { x-dead-letter-exchange: 5 }\n",
        4,
        44,
        "topology.queues[0].arguments.x-dead-letter-exchange: must be a string",
    );
    assert_err(
        "topology:\n  queues:\n    - name: q\n      arguments: { x-overflow: drop-tail }\n",
        4,
        32,
        "topology.queues[0].arguments.x-overflow: must be drop-head",
    );
    assert_err(
        "topology:\n  bindings:\n    - { source: \"\", destination: q }\n",
        3,
        17,
        "topology.bindings[0].source: must not be empty",
    );
    assert_err(
        "topology:\n  bindings:\n    - { source: x, destination: q, destination_type: table }\n",
        3,
        54,
        "destination_type: unknown variant `table`, expected one of queue, exchange",
    );
}

#[test]
fn binding_to_undeclared_entities_is_ok() {
    let c = parse(
        "topology:\n  bindings:\n    - { source: amq.topic, destination: nowhere, routing_key: \"a.*\" }\n",
        "t.yaml",
    )
    .unwrap();
    assert_eq!(c.topology.bindings[0].source, "amq.topic");
    assert_eq!(c.topology.bindings[0].destination, "nowhere");
}

#[test]
fn unreadable_file_names_the_path() {
    let e = match load(Path::new("/nonexistent/mqbridge.yaml")) {
        Ok(_) => panic!("loaded a missing file"),
        Err(e) => e,
    };
    assert_eq!(e.position(), None);
    assert!(
        e.to_string()
            .starts_with("/nonexistent/mqbridge.yaml: cannot read the file"),
        "{e}"
    );
}

#[test]
fn every_shipped_config_validates() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
    let mut files = Vec::new();
    for dir in [root.clone(), root.join("examples")] {
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for entry in entries {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|x| x == "yaml" || x == "yml") {
                files.push(path);
            }
        }
    }
    files.sort();
    assert!(
        files.len() >= 4,
        "expected mqbridge.yaml and three examples, found {files:?}"
    );
    // config/examples/routes.yaml reads its passwords from the environment, as it should.
    for var in ["AMQ_PASSWORD", "RABBITMQ_PASSWORD", "SMTP_PASSWORD"] {
        std::env::set_var(var, "example");
    }
    for file in &files {
        if let Err(e) = load(file) {
            panic!("{e}");
        }
    }
    let default = load(&root.join("mqbridge.yaml")).unwrap();
    assert_eq!(
        default.listeners.amqp,
        Some(AmqpListenerConfig::new("0.0.0.0:5672"))
    );
    assert_eq!(default.storage.dir, Some(PathBuf::from("./data")));
    assert_eq!(default.storage.sync, SyncSetting::EveryBatch);
    assert!(default.users.is_empty());
}

// ----- permissions and limits -----

#[test]
fn permissions_absent_empty_and_given() {
    let text = format!(
        r#"
vhosts: ["/", "staging"]
users:
  - {{ name: old, password_hash: "{SHA256_HASH}", hashing_algorithm: rabbit_password_hashing_sha256 }}
  - {{ name: none, password_hash: "{SHA256_HASH}", hashing_algorithm: rabbit_password_hashing_sha256, permissions: {{}} }}
  - name: app
    password_hash: "{SHA256_HASH}"
    hashing_algorithm: rabbit_password_hashing_sha256
    permissions:
      "/": {{ configure: "^app\\.", write: ".*", read: "" }}
      staging: {{ configure: "", write: "", read: "^orders$" }}
"#
    );
    let c = parse(&text, "t.yaml").unwrap();
    assert_eq!(c.users[0].permissions, None);
    assert_eq!(c.users[1].permissions, Some(BTreeMap::new()));
    let p = c.users[2].permissions.as_ref().unwrap();
    assert_eq!(
        p["/"],
        PermissionConfig {
            configure: "^app\\.".to_string(),
            write: ".*".to_string(),
            read: String::new(),
        }
    );
    assert_eq!(p["staging"].read, "^orders$");
}

#[test]
fn permissions_for_an_unknown_vhost_are_refused_at_the_vhost_key() {
    let text = format!(
        "users:\n  - name: app\n    password_hash: \"{SHA256_HASH}\"\n    hashing_algorithm: rabbit_password_hashing_sha256\n    permissions:\n      \"/\": {{ configure: \".*\", write: \".*\", read: \".*\" }}\n      prod: {{ configure: \".*\", write: \".*\", read: \".*\" }}\n"
    );
    assert_err(
        &text,
        7,
        7,
        "users[0].permissions: vhost 'prod' is not in vhosts (/)",
    );
}

#[test]
fn permissions_with_a_bad_regex_are_refused_at_the_regex() {
    let text = format!(
        "users:\n  - name: app\n    password_hash: \"{SHA256_HASH}\"\n    hashing_algorithm: rabbit_password_hashing_sha256\n    permissions:\n      \"/\":\n        configure: \".*\"\n        write: \"orders(\"\n        read: \".*\"\n"
    );
    assert_err(
        &text,
        8,
        16,
        "users[0].permissions./.write: 'orders(' is not a valid regex: unclosed group",
    );
}

#[test]
fn permissions_need_all_three_regexes() {
    let text = format!(
        "users:\n  - name: app\n    password_hash: \"{SHA256_HASH}\"\n    hashing_algorithm: rabbit_password_hashing_sha256\n    permissions: {{ \"/\": {{ configure: \".*\", read: \".*\" }} }}\n"
    );
    let e = err(&text);
    assert!(e.to_string().contains("write"), "{e}");
}

#[test]
fn message_and_frame_size_limits() {
    let c = parse(
        "limits: { max_message_size: 16MiB, max_frame_size: 65536 }\n",
        "t.yaml",
    )
    .unwrap();
    assert_eq!(c.limits.max_message_size, Some(16 << 20));
    assert_eq!(c.limits.max_message_size(), 16 << 20);
    assert_eq!(c.limits.max_frame_size, Some(65536));
    let d = parse("vhosts: [\"/\"]\n", "t.yaml").unwrap();
    assert_eq!(d.limits.max_message_size(), DEFAULT_MAX_MESSAGE_SIZE);
    assert_eq!(d.limits.max_frame_size, None);
    assert_err(
        "limits:\n  max_message_size: 1GiB\n",
        2,
        21,
        "limits.max_message_size: 1073741824 must be from 1 to 536870912 (512MiB)",
    );
    assert_err(
        "limits:\n  max_message_size: 0\n",
        2,
        21,
        "limits.max_message_size: 0 must be from 1",
    );
    assert_err(
        "limits:\n  max_frame_size: 100\n",
        2,
        19,
        "limits.max_frame_size: 100 must be from 4096",
    );
}
