//! TLS listeners: AMQPS with PLAIN and EXTERNAL logins, STOMP and OpenWire over TLS with
//! client-certificate logins, `verify: required` refusing clients without a valid
//! certificate, and plain clients on TLS ports getting no protocol answer. The PKI (a CA,
//! a server certificate for 127.0.0.1, client certificates, a second "rogue" CA) is made
//! with rcgen at test time.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use amq_protocol::protocol::{connection, AMQPClass};
use amq_protocol::types::{FieldTable, LongString, ShortString};
use bytes::BytesMut;
use mqbridge::amqp::codec::{encode_method, Frame, FrameDecoder, PROTOCOL_HEADER};
use mqbridge::config::{
    CertLogin, CertLoginFrom, HashingAlgorithm, SanType, TlsConfig, TlsVerify, UserConfig,
};
use mqbridge::openwire::codec::Command;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio_rustls::rustls::{ClientConfig, RootCertStore};
use tokio_rustls::TlsConnector;

use crate::common::openwire::OwClient;
use crate::common::stomp::StompClient;
use crate::common::{start_bridge_with, Io, TestBridge};

/// The configured user that client certificates with CN `cert-user` log in as.
const CERT_USER: &str = "cert-user";

/// A client certificate and key, PEM.
struct ClientCert {
    cert: String,
    key: String,
}

/// A test PKI written to a temp dir.
struct Pki {
    dir: tempfile::TempDir,
    ca_pem: String,
    /// Signed by the CA, CN = `cert-user`.
    user: ClientCert,
    /// Signed by the CA, CN = `stranger` (no such user).
    stranger: ClientCert,
    /// Signed by another CA, CN = `cert-user`.
    rogue: ClientCert,
    /// The test CA, for more client certificates.
    issuer: Issuer<'static, KeyPair>,
}

fn ca(name: &str) -> (CertificateParams, KeyPair, String) {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let cert = params.self_signed(&key).unwrap();
    (params, key, cert.pem())
}

fn client_cert(issuer: &Issuer<'_, KeyPair>, cn: &str) -> ClientCert {
    client_cert_with_sans(issuer, cn, &[])
}

/// A client certificate with `dns_names` as subject alternative names.
fn client_cert_with_sans(issuer: &Issuer<'_, KeyPair>, cn: &str, dns_names: &[&str]) -> ClientCert {
    let key = KeyPair::generate().unwrap();
    let names: Vec<String> = dns_names.iter().map(|n| n.to_string()).collect();
    let mut params = CertificateParams::new(names).unwrap();
    params.distinguished_name.push(DnType::CommonName, cn);
    params
        .distinguished_name
        .push(DnType::OrganizationName, "mqbridge tests");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let cert = params.signed_by(&key, issuer).unwrap();
    ClientCert {
        cert: cert.pem(),
        key: key.serialize_pem(),
    }
}

fn pki() -> Pki {
    let dir = tempfile::tempdir().unwrap();
    let (ca_params, ca_key, ca_pem) = ca("mqbridge test CA");
    let issuer = Issuer::new(ca_params, ca_key);
    let server_key = KeyPair::generate().unwrap();
    let mut params =
        CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let server = params.signed_by(&server_key, &issuer).unwrap();
    std::fs::write(dir.path().join("ca.pem"), &ca_pem).unwrap();
    std::fs::write(dir.path().join("server.pem"), server.pem()).unwrap();
    std::fs::write(dir.path().join("server.key"), server_key.serialize_pem()).unwrap();
    let (rogue_params, rogue_key, _) = ca("rogue CA");
    let rogue_issuer = Issuer::new(rogue_params, rogue_key);
    Pki {
        user: client_cert(&issuer, CERT_USER),
        stranger: client_cert(&issuer, "stranger"),
        rogue: client_cert(&rogue_issuer, CERT_USER),
        issuer,
        ca_pem,
        dir,
    }
}

impl Pki {
    fn client_cert_with_dns_names(&self, cn: &str, names: &[&str]) -> ClientCert {
        client_cert_with_sans(&self.issuer, cn, names)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn tls_config(&self, verify: TlsVerify) -> TlsConfig {
        TlsConfig {
            cert: self.path("server.pem"),
            key: self.path("server.key"),
            ca: Some(self.path("ca.pem")),
            verify,
            cert_login: CertLogin::default(),
        }
    }

    /// A client that trusts the test CA and presents `cert`, if any.
    fn connector(&self, cert: Option<&ClientCert>) -> TlsConnector {
        let mut roots = RootCertStore::empty();
        for c in CertificateDer::pem_slice_iter(self.ca_pem.as_bytes()) {
            roots.add(c.unwrap()).unwrap();
        }
        let provider = Arc::new(tokio_rustls::rustls::crypto::aws_lc_rs::default_provider());
        let builder = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots);
        let config = match cert {
            None => builder.with_no_client_auth(),
            Some(c) => {
                let chain = CertificateDer::pem_slice_iter(c.cert.as_bytes())
                    .map(|c| c.unwrap())
                    .collect();
                let key = PrivateKeyDer::from_pem_slice(c.key.as_bytes()).unwrap();
                builder.with_client_auth_cert(chain, key).unwrap()
            }
        };
        TlsConnector::from(Arc::new(config))
    }
}

use tokio_rustls::rustls::pki_types::pem::PemObject;

/// A bridge with every listener plain and TLS, and the user `cert-user`.
async fn start_tls_bridge(pki: &Pki, verify: TlsVerify) -> TestBridge {
    start_tls_bridge_with(pki, verify, CertLogin::default(), &[]).await
}

/// [`start_tls_bridge`] with certificate logins named by `cert_login`, and more users.
async fn start_tls_bridge_with(
    pki: &Pki,
    verify: TlsVerify,
    cert_login: CertLogin,
    users: &[&str],
) -> TestBridge {
    let mut tls = pki.tls_config(verify);
    tls.cert_login = cert_login;
    let hash = mqbridge::auth::hash_password(HashingAlgorithm::Argon2id, "secret").unwrap();
    let users: Vec<String> = users.iter().map(|u| u.to_string()).collect();
    start_bridge_with(move |c| {
        c.tls = Some(tls);
        for l in [c.listeners.stomp.as_mut(), c.listeners.openwire.as_mut()]
            .into_iter()
            .flatten()
        {
            l.tls_bind = Some("127.0.0.1:0".to_string());
        }
        if let Some(a) = c.listeners.amqp.as_mut() {
            a.tls_bind = Some("127.0.0.1:0".to_string());
        }
        c.listeners.http = Some(mqbridge::config::ListenerConfig {
            bind: None,
            tls_bind: Some("127.0.0.1:0".to_string()),
        });
        for name in users.iter().map(String::as_str).chain([CERT_USER]) {
            c.users.push(UserConfig {
                name: name.to_string(),
                password_hash: hash.clone(),
                hashing_algorithm: HashingAlgorithm::Argon2id,
                tags: Vec::new(),
                loopback_only: None,
                permissions: None,
            });
        }
    })
    .await
}

fn amqps(b: &TestBridge) -> SocketAddr {
    b.bridge.amqps_addr.expect("AMQPS listener")
}

fn stomp_tls(b: &TestBridge) -> SocketAddr {
    b.bridge.stomp_tls_addr.expect("STOMP TLS listener")
}

fn openwire_tls(b: &TestBridge) -> SocketAddr {
    b.bridge.openwire_tls_addr.expect("OpenWire TLS listener")
}

async fn tls_connect(
    addr: SocketAddr,
    connector: &TlsConnector,
) -> std::io::Result<tokio_rustls::client::TlsStream<TcpStream>> {
    let tcp = TcpStream::connect(addr).await?;
    let name = ServerName::try_from("127.0.0.1").unwrap();
    tokio::time::timeout(Duration::from_secs(10), connector.connect(name, tcp))
        .await
        .map_err(|_| std::io::Error::other("TLS handshake timed out"))?
}

// ---- a minimal AMQP client over any stream ----

struct Amqp<S> {
    io: S,
    buf: BytesMut,
    decoder: FrameDecoder,
}

impl<S: Io> Amqp<S> {
    fn new(io: S) -> Self {
        Amqp {
            io,
            buf: BytesMut::new(),
            decoder: FrameDecoder::new(0),
        }
    }

    async fn send(&mut self, method: AMQPClass) {
        let mut out = Vec::new();
        encode_method(&mut out, 0, method).unwrap();
        self.io.write_all(&out).await.unwrap();
        self.io.flush().await.unwrap();
    }

    /// The next method, or `None` when the stream ends or fails first.
    async fn recv(&mut self) -> Option<AMQPClass> {
        loop {
            if let Some(Frame::Method(_, m)) = self.decoder.decode(&mut self.buf).ok()? {
                return Some(*m);
            }
            let read =
                tokio::time::timeout(Duration::from_secs(10), self.io.read_buf(&mut self.buf));
            match read.await {
                Ok(Ok(n)) if n > 0 => {}
                _ => return None,
            }
        }
    }

    /// Protocol header out, `connection.start` in.
    async fn start(&mut self) -> Option<connection::Start> {
        self.io.write_all(PROTOCOL_HEADER).await.ok()?;
        self.io.flush().await.ok()?;
        match self.recv().await? {
            AMQPClass::Connection(connection::AMQPMethod::Start(s)) => Some(s),
            other => panic!("expected connection.start, got {other:?}"),
        }
    }

    /// `start-ok` with `mechanism`, then tune-ok and open `/`; the server's answer to the
    /// login: `Ok(())` after `open-ok`, or the `connection.close` code.
    async fn login(&mut self, mechanism: &str, response: &[u8]) -> Result<(), u16> {
        self.send(AMQPClass::Connection(connection::AMQPMethod::StartOk(
            connection::StartOk {
                client_properties: FieldTable::default(),
                mechanism: ShortString::from(mechanism),
                response: LongString::from(response.to_vec()),
                locale: "en_US".into(),
            },
        )))
        .await;
        match self.recv().await {
            Some(AMQPClass::Connection(connection::AMQPMethod::Tune(t))) => {
                self.send(AMQPClass::Connection(connection::AMQPMethod::TuneOk(
                    connection::TuneOk {
                        channel_max: t.channel_max,
                        frame_max: t.frame_max,
                        heartbeat: 0,
                    },
                )))
                .await;
            }
            Some(AMQPClass::Connection(connection::AMQPMethod::Close(c))) => {
                return Err(c.reply_code)
            }
            other => panic!("expected tune or close, got {other:?}"),
        }
        self.send(AMQPClass::Connection(connection::AMQPMethod::Open(
            connection::Open {
                virtual_host: ShortString::from("/"),
            },
        )))
        .await;
        match self.recv().await {
            Some(AMQPClass::Connection(connection::AMQPMethod::OpenOk(_))) => Ok(()),
            Some(AMQPClass::Connection(connection::AMQPMethod::Close(c))) => Err(c.reply_code),
            other => panic!("expected open-ok, got {other:?}"),
        }
    }
}

// ---- AMQP ----

#[tokio::test]
async fn amqps_external_login_with_a_client_certificate() {
    let pki = pki();
    let bridge = start_tls_bridge(&pki, TlsVerify::Optional).await;
    let stream = tls_connect(amqps(&bridge), &pki.connector(Some(&pki.user)))
        .await
        .expect("TLS handshake");
    let mut c = Amqp::new(stream);
    let start = c.start().await.expect("connection.start over TLS");
    assert_eq!(start.mechanisms.to_string(), "PLAIN AMQPLAIN EXTERNAL");
    // The response (an authorization identity) is ignored: the user is the certificate's CN.
    assert_eq!(c.login("EXTERNAL", b"").await, Ok(()));
    bridge.shutdown().await;
}

/// `tls.cert_login_from: distinguished_name` names the user by the certificate's subject as
/// RabbitMQ writes it; `subject_alternative_name` by the alternative name of the configured
/// type and index.
#[tokio::test]
async fn external_login_by_distinguished_name_or_alternative_name() {
    let pki = pki();
    let by_dn = CertLogin {
        from: CertLoginFrom::DistinguishedName,
        ..CertLogin::default()
    };
    let dn_user = "O=mqbridge tests,CN=cert-user";
    let bridge = start_tls_bridge_with(&pki, TlsVerify::Optional, by_dn, &[dn_user]).await;
    let login = |cert: &ClientCert, addr| {
        let connector = pki.connector(Some(cert));
        async move {
            let stream = tls_connect(addr, &connector).await.expect("TLS handshake");
            let mut c = Amqp::new(stream);
            c.start().await.expect("connection.start");
            c.login("EXTERNAL", b"").await
        }
    };
    assert_eq!(login(&pki.user, amqps(&bridge)).await, Ok(()));
    // CN=stranger's subject names no user; a user named by its CN alone does not count.
    assert_eq!(login(&pki.stranger, amqps(&bridge)).await, Err(403));
    bridge.shutdown().await;

    let by_san = CertLogin {
        from: CertLoginFrom::SubjectAlternativeName,
        san_type: SanType::Dns,
        san_index: 1,
    };
    let bridge = start_tls_bridge_with(&pki, TlsVerify::Optional, by_san, &["b.example"]).await;
    let with_sans = pki.client_cert_with_dns_names(CERT_USER, &["a.example", "b.example"]);
    assert_eq!(login(&with_sans, amqps(&bridge)).await, Ok(()));
    // No second DNS name: no certificate login (EXTERNAL is not even offered).
    let one_san = pki.client_cert_with_dns_names(CERT_USER, &["a.example"]);
    let stream = tls_connect(amqps(&bridge), &pki.connector(Some(&one_san)))
        .await
        .expect("TLS handshake");
    let mut c = Amqp::new(stream);
    let start = c.start().await.expect("connection.start");
    assert_eq!(start.mechanisms.to_string(), "PLAIN AMQPLAIN");
    bridge.shutdown().await;
}

#[tokio::test]
async fn amqps_external_refused_for_an_unknown_certificate_user() {
    let pki = pki();
    let bridge = start_tls_bridge(&pki, TlsVerify::Optional).await;
    let stream = tls_connect(amqps(&bridge), &pki.connector(Some(&pki.stranger)))
        .await
        .expect("TLS handshake");
    let mut c = Amqp::new(stream);
    let start = c.start().await.expect("connection.start");
    assert!(start.mechanisms.to_string().contains("EXTERNAL"));
    assert_eq!(c.login("EXTERNAL", b"").await, Err(403));
    bridge.shutdown().await;
}

#[tokio::test]
async fn amqps_without_a_certificate_offers_no_external_and_plain_works() {
    let pki = pki();
    let bridge = start_tls_bridge(&pki, TlsVerify::Optional).await;
    let stream = tls_connect(amqps(&bridge), &pki.connector(None))
        .await
        .expect("TLS handshake without a client certificate under verify: optional");
    let mut c = Amqp::new(stream);
    let start = c.start().await.expect("connection.start");
    assert_eq!(start.mechanisms.to_string(), "PLAIN AMQPLAIN");
    assert_eq!(c.login("PLAIN", b"\0cert-user\0secret").await, Ok(()));

    // EXTERNAL without a certificate is refused, on TLS and on the plain port alike.
    let stream = tls_connect(amqps(&bridge), &pki.connector(None))
        .await
        .unwrap();
    let mut c = Amqp::new(stream);
    c.start().await.unwrap();
    assert_eq!(c.login("EXTERNAL", b"").await, Err(403));
    let mut c = Amqp::new(TcpStream::connect(bridge.amqp_addr).await.unwrap());
    let start = c.start().await.unwrap();
    assert_eq!(start.mechanisms.to_string(), "PLAIN AMQPLAIN");
    assert_eq!(c.login("EXTERNAL", b"").await, Err(403));
    bridge.shutdown().await;
}

/// Refused in the TLS handshake: with TLS 1.3 the client may finish its side before the
/// server has judged its certificate, so the refusal can arrive as an alert on the first
/// read. Either way no `connection.start` comes.
async fn assert_refused(addr: SocketAddr, connector: &TlsConnector) {
    let Ok(stream) = tls_connect(addr, connector).await else {
        return;
    };
    let mut c = Amqp::new(stream);
    let _ = c.io.write_all(PROTOCOL_HEADER).await;
    let _ = c.io.flush().await;
    assert!(c.recv().await.is_none(), "got an AMQP answer");
}

#[tokio::test]
async fn verify_required_refuses_clients_without_a_valid_certificate() {
    let pki = pki();
    let bridge = start_tls_bridge(&pki, TlsVerify::Required).await;
    assert_refused(amqps(&bridge), &pki.connector(None)).await;
    assert_refused(amqps(&bridge), &pki.connector(Some(&pki.rogue))).await;
    // A valid certificate still gets in, by EXTERNAL or by password.
    let stream = tls_connect(amqps(&bridge), &pki.connector(Some(&pki.user)))
        .await
        .expect("TLS handshake with a valid certificate");
    let mut c = Amqp::new(stream);
    c.start().await.expect("connection.start");
    assert_eq!(c.login("EXTERNAL", b"").await, Ok(()));
    let stream = tls_connect(amqps(&bridge), &pki.connector(Some(&pki.stranger)))
        .await
        .unwrap();
    let mut c = Amqp::new(stream);
    c.start().await.unwrap();
    assert_eq!(c.login("PLAIN", b"\0guest\0guest").await, Ok(()));
    bridge.shutdown().await;
}

// ---- STOMP ----

#[tokio::test]
async fn stomp_over_tls_exchanges_a_message_and_logs_in_by_certificate() {
    let pki = pki();
    let bridge = start_tls_bridge(&pki, TlsVerify::Optional).await;
    let stream = tls_connect(stomp_tls(&bridge), &pki.connector(Some(&pki.user)))
        .await
        .expect("TLS handshake");
    let mut c = StompClient::on(Box::new(stream));
    // No login header: the certificate's CN logs in (RabbitMQ's ssl_cert_login).
    c.send("CONNECT", &[("accept-version", "1.2"), ("host", "/")], b"")
        .await;
    let connected = c.frame().await;
    assert_eq!(connected.command, "CONNECTED", "{connected:?}");
    c.send(
        "SUBSCRIBE",
        &[("destination", "/queue/tls-q"), ("id", "0")],
        b"",
    )
    .await;
    c.send(
        "SEND",
        &[("destination", "/queue/tls-q"), ("receipt", "r1")],
        b"over tls",
    )
    .await;
    let (receipts, frames) = c.frames_and_receipts(2).await;
    assert_eq!(receipts, vec!["r1".to_string()]);
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0].command, "MESSAGE");
    assert_eq!(&frames[0].body[..], b"over tls");

    // A certificate whose CN is no user is refused like a bad login.
    let stream = tls_connect(stomp_tls(&bridge), &pki.connector(Some(&pki.stranger)))
        .await
        .unwrap();
    let mut c = StompClient::on(Box::new(stream));
    c.send("CONNECT", &[("accept-version", "1.2"), ("host", "/")], b"")
        .await;
    let error = c.expect_error_and_close().await;
    assert_eq!(error.header("message"), Some("access refused"), "{error:?}");
    bridge.shutdown().await;
}

// ---- OpenWire ----

#[tokio::test]
async fn openwire_over_tls_advertises_ssl_and_logs_in_by_certificate() {
    let pki = pki();
    let bridge = start_tls_bridge(&pki, TlsVerify::Optional).await;
    let addr = openwire_tls(&bridge);
    let stream = tls_connect(addr, &pki.connector(Some(&pki.user)))
        .await
        .expect("TLS handshake");
    let mut c = OwClient::open_on(Box::new(stream), 30_000).await;
    assert_eq!(c.broker_url, Some(format!("ssl://{addr}")));
    // ConnectionInfo without a user name: the certificate's CN logs in.
    let reply = c.connection_info("tls-client").await;
    assert!(matches!(reply, Command::Response(_)), "{reply:?}");

    let stream = tls_connect(addr, &pki.connector(Some(&pki.stranger)))
        .await
        .unwrap();
    let mut c = OwClient::open_on(Box::new(stream), 30_000).await;
    let reply = c.connection_info("tls-stranger").await;
    assert!(matches!(reply, Command::ExceptionResponse(_)), "{reply:?}");
    // The plain listener still says tcp://.
    let c = OwClient::open(bridge.openwire_addr).await;
    assert_eq!(
        c.broker_url,
        Some(format!("tcp://{}", bridge.openwire_addr))
    );
    bridge.shutdown().await;
}

// ---- plain clients on TLS ports ----

/// What a plain client gets back for `hello` within 5 s (until EOF or reset).
async fn plain_answer(addr: SocketAddr, hello: &[u8]) -> Vec<u8> {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(hello).await.unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return got,
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => panic!("the TLS port neither answered nor closed within 5 s"),
        }
    }
}

fn assert_tls_alert_only(got: &[u8], what: &str) {
    // Nothing, or TLS alert records (content type 21): never the protocol's own answer.
    assert!(
        got.is_empty() || got[0] == 21,
        "{what}: a plain client got {:?}",
        String::from_utf8_lossy(got)
    );
    for needle in [&b"AMQP"[..], b"CONNECTED", b"ERROR", b"ActiveMQ"] {
        assert!(
            !got.windows(needle.len()).any(|w| w == needle),
            "{what}: the answer holds {:?}",
            String::from_utf8_lossy(needle)
        );
    }
}

#[tokio::test]
async fn plain_clients_on_tls_ports_get_no_protocol_answer() {
    let pki = pki();
    let bridge = start_tls_bridge(&pki, TlsVerify::Optional).await;
    let got = plain_answer(amqps(&bridge), PROTOCOL_HEADER).await;
    assert_tls_alert_only(&got, "AMQPS");
    let got = plain_answer(
        stomp_tls(&bridge),
        b"CONNECT\naccept-version:1.2\nhost:/\nlogin:guest\npasscode:guest\n\n\0",
    )
    .await;
    assert_tls_alert_only(&got, "STOMP TLS");
    // The start of an OpenWire WireFormatInfo (size, type 1, magic).
    let got = plain_answer(openwire_tls(&bridge), b"\0\0\x01\x00\x01ActiveMQ").await;
    assert_tls_alert_only(&got, "OpenWire SSL");
    // The listeners survived and still serve TLS clients.
    let stream = tls_connect(amqps(&bridge), &pki.connector(None))
        .await
        .expect("TLS still works");
    let mut c = Amqp::new(stream);
    c.start().await.expect("connection.start");
    assert_eq!(c.login("PLAIN", b"\0guest\0guest").await, Ok(()));
    bridge.shutdown().await;
}

#[tokio::test]
async fn tls_only_listeners() {
    let pki = pki();
    let tls = pki.tls_config(TlsVerify::None);
    let mut config = mqbridge::config::Config {
        tls: Some(tls),
        ..Default::default()
    };
    config.listeners.amqp = Some(mqbridge::config::AmqpListenerConfig {
        bind: None,
        tls_bind: Some("127.0.0.1:0".to_string()),
        ..mqbridge::config::AmqpListenerConfig::new("unused")
    });
    let bridge = mqbridge::server::start(config).await.expect("starts");
    assert_eq!(bridge.amqp_addr, None);
    let addr = bridge.amqps_addr.expect("AMQPS bound");
    let stream = tls_connect(addr, &pki.connector(None)).await.unwrap();
    let mut c = Amqp::new(stream);
    let start = c.start().await.expect("connection.start");
    // verify: none asks for no certificate, so EXTERNAL is never possible.
    assert_eq!(start.mechanisms.to_string(), "PLAIN AMQPLAIN");
    bridge.shutdown().await;
}

#[test]
fn tls_config_errors_name_the_file() {
    let pki = pki();
    let check = |c: &TlsConfig| mqbridge::tls::check(c).map_err(|e| (e.file, e.to_string()));
    assert_eq!(check(&pki.tls_config(TlsVerify::Required)), Ok(()));
    let mut c = pki.tls_config(TlsVerify::None);
    c.key = pki.path("ca.pem");
    let (file, text) = check(&c).unwrap_err();
    assert_eq!(file, mqbridge::tls::TlsFile::Key, "{text}");
    std::fs::write(pki.path("user.key"), &pki.user.key).unwrap();
    c.key = pki.path("user.key");
    assert_eq!(
        check(&c),
        Err((
            mqbridge::tls::TlsFile::Key,
            "the key does not match the certificate".to_string()
        ))
    );
    let mut c = pki.tls_config(TlsVerify::None);
    c.cert = pki.path("server.key");
    assert_eq!(check(&c).unwrap_err().0, mqbridge::tls::TlsFile::Cert);
    let mut c = pki.tls_config(TlsVerify::Required);
    c.ca = Some(Path::new("/nonexistent/ca.pem").to_path_buf());
    let (file, text) = check(&c).unwrap_err();
    assert_eq!(file, mqbridge::tls::TlsFile::Ca);
    assert!(text.contains("/nonexistent/ca.pem"), "{text}");
}

// ---- HTTPS (the helper the HTTP listener uses) ----

async fn https_get(addr: SocketAddr, connector: &TlsConnector) -> String {
    let mut s = tls_connect(addr, connector).await.expect("TLS handshake");
    s.write_all(b"GET /peer HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn https_serves_an_axum_router_with_connect_info() {
    use axum::extract::ConnectInfo;
    let pki = pki();
    let acceptor = mqbridge::tls::tls_acceptor(&pki.tls_config(TlsVerify::None)).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = axum::Router::new().route(
        "/peer",
        axum::routing::get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move {
            format!("peer {}", peer.ip())
        }),
    );
    let shutdown = tokio_util::sync::CancellationToken::new();
    let server = tokio::spawn(mqbridge::net::serve_https(
        listener,
        acceptor,
        router,
        shutdown.clone(),
    ));
    // A client that connects and says nothing does not hold up the next one: handshakes
    // run beside the accept loop.
    let _silent = TcpStream::connect(addr).await.unwrap();
    let answer = tokio::time::timeout(
        Duration::from_secs(5),
        https_get(addr, &pki.connector(None)),
    )
    .await
    .expect("served while another handshake is pending");
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
    assert!(answer.ends_with("peer 127.0.0.1"), "{answer}");
    // Plain HTTP on the HTTPS port gets no HTTP answer.
    let got = plain_answer(addr, b"GET /peer HTTP/1.1\r\nHost: localhost\r\n\r\n").await;
    assert_tls_alert_only(&got, "HTTPS");
    assert!(!String::from_utf8_lossy(&got).contains("HTTP/1.1"));
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("serve_https returns after shutdown")
        .unwrap()
        .unwrap();
}

/// GET `path` over HTTPS as guest; the JSON body.
async fn https_json(addr: SocketAddr, connector: &TlsConnector, path: &str) -> serde_json::Value {
    let mut s = tls_connect(addr, connector).await.expect("TLS handshake");
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Basic Z3Vlc3Q6Z3Vlc3Q=\r\n\
         Connection: close\r\n\r\n"
    );
    s.write_all(request.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out)).await;
    let text = String::from_utf8_lossy(&out).into_owned();
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b)
        .unwrap_or_default();
    // Small answers come with a length; chunked ones are one chunk here.
    let json = body
        .find(['{', '['])
        .map(|i| &body[i..body.rfind(['}', ']']).map_or(body.len(), |j| j + 1)])
        .unwrap_or_default();
    serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {body}"))
}

#[tokio::test]
async fn https_management_api_lists_tls_listeners_and_connections() {
    let pki = pki();
    let bridge = start_tls_bridge(&pki, TlsVerify::Optional).await;
    let https = bridge.bridge.https_addr.expect("HTTPS listener bound");
    let connector = pki.connector(None);
    let overview = https_json(https, &connector, "/api/overview").await;
    let protocols: Vec<&str> = overview["listeners"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l["protocol"].as_str())
        .collect();
    for p in [
        "amqp",
        "amqp/ssl",
        "stomp",
        "stomp/ssl",
        "openwire",
        "openwire/ssl",
        "https",
    ] {
        assert!(protocols.contains(&p), "{p} missing from {protocols:?}");
    }
    // A STOMP connection over TLS, logged in by certificate, is listed with ssl: true.
    let stream = tls_connect(stomp_tls(&bridge), &pki.connector(Some(&pki.user)))
        .await
        .unwrap();
    let mut c = StompClient::on(Box::new(stream));
    c.send("CONNECT", &[("accept-version", "1.2"), ("host", "/")], b"")
        .await;
    assert_eq!(c.frame().await.command, "CONNECTED");
    let connections = https_json(https, &connector, "/api/connections").await;
    let mine = connections
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["user"] == CERT_USER)
        .unwrap_or_else(|| panic!("no connection of {CERT_USER} in {connections}"));
    assert_eq!(mine["protocol"], "stomp");
    assert_eq!(mine["ssl"], true);
    bridge.shutdown().await;
}
