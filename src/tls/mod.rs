//! TLS for the listeners: the rustls server configuration built from the config's `tls`
//! section, and what a finished handshake tells about the client.
//!
//! This module owns reading and checking the PEM files (certificate chain, private key,
//! client CAs), the client-certificate policy (`verify: none | optional | required`, as
//! RabbitMQ's `verify_peer` / `fail_if_no_peer_cert`), and [`TlsInfo`], which carries the
//! verified client certificate's subject to the protocol front-ends (AMQP's EXTERNAL
//! login, STOMP and OpenWire certificate logins). The accept loop that runs the handshake
//! lives in [`crate::net`].
//!
//! The crypto provider is always aws-lc-rs, picked explicitly: with more than one rustls
//! provider compiled in (dependencies may enable `ring`), rustls' process default would
//! be ambiguous.

use std::path::Path;
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::sign::{CertifiedKey, SingleCertAndKey};
use rustls::{RootCertStore, ServerConfig, ServerConnection};

use crate::config::{CertLogin, TlsConfig, TlsVerify};

mod peer;

pub use peer::PeerCert;

/// The handshake side of the TLS listeners: rustls' acceptor, and the rule that names the
/// user of a certificate login (carried here so every listener applies the same one).
#[derive(Clone)]
pub struct TlsAcceptor {
    rustls: tokio_rustls::TlsAcceptor,
    cert_login: CertLogin,
}

impl TlsAcceptor {
    /// Run the server side of a handshake on `stream`.
    pub fn accept<IO>(&self, stream: IO) -> tokio_rustls::Accept<IO>
    where
        IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    {
        self.rustls.accept(stream)
    }

    pub fn cert_login(&self) -> &CertLogin {
        &self.cert_login
    }
}

/// Which file of the `tls` section a problem is about (the config check points at it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsFile {
    Cert,
    Key,
    Ca,
}

/// Why the TLS settings cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TlsError {
    pub file: TlsFile,
    pub message: String,
}

impl TlsError {
    fn new(file: TlsFile, message: String) -> Self {
        TlsError { file, message }
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// The rustls server configuration for `config`: reads the PEM files, checks that the key
/// belongs to the certificate, and sets up client-certificate verification.
pub fn server_config(config: &TlsConfig) -> Result<Arc<ServerConfig>, TlsError> {
    let certs = read_certs(&config.cert, TlsFile::Cert)?;
    let key = read_key(&config.key)?;
    let provider = provider();
    let certified = load_certified_key(&provider, certs, key)?;
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::new(TlsFile::Cert, format!("TLS setup failed: {e}")))?;
    let builder = match (config.verify, &config.ca) {
        (TlsVerify::None, _) => builder.with_no_client_auth(),
        (verify, Some(ca)) => {
            let mut roots = RootCertStore::empty();
            for cert in read_certs(ca, TlsFile::Ca)? {
                roots.add(cert).map_err(|e| {
                    TlsError::new(
                        TlsFile::Ca,
                        format!("{}: not a usable CA certificate: {e}", ca.display()),
                    )
                })?;
            }
            let verifier =
                WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone());
            let verifier = match verify {
                TlsVerify::Optional => verifier.allow_unauthenticated(),
                _ => verifier,
            };
            let verifier = verifier.build().map_err(|e| {
                TlsError::new(
                    TlsFile::Ca,
                    format!("{}: cannot verify clients with it: {e}", ca.display()),
                )
            })?;
            builder.with_client_cert_verifier(verifier)
        }
        (_, None) => {
            return Err(TlsError::new(
                TlsFile::Ca,
                "verifying client certificates needs `ca` (the CAs that sign them)".to_string(),
            ))
        }
    };
    Ok(Arc::new(builder.with_cert_resolver(Arc::new(
        SingleCertAndKey::from(certified),
    ))))
}

/// A TLS acceptor for `config` (every TLS listener, the HTTPS one included).
pub fn tls_acceptor(config: &TlsConfig) -> Result<TlsAcceptor, String> {
    let server = server_config(config).map_err(|e| e.to_string())?;
    Ok(TlsAcceptor {
        rustls: tokio_rustls::TlsAcceptor::from(server),
        cert_login: config.cert_login,
    })
}

/// Check the `tls` section as the listeners will use it (`mqbridge check`, config load).
pub fn check(config: &TlsConfig) -> Result<(), TlsError> {
    server_config(config).map(|_| ())
}

fn read_certs(path: &Path, file: TlsFile) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = std::fs::read(path)
        .map_err(|e| TlsError::new(file, format!("cannot read {}: {e}", path.display())))?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::new(file, format!("{}: invalid PEM: {e}", path.display())))?;
    if certs.is_empty() {
        return Err(TlsError::new(
            file,
            format!("{}: no CERTIFICATE in this PEM file", path.display()),
        ));
    }
    for cert in &certs {
        if x509_parser::parse_x509_certificate(cert).is_err() {
            return Err(TlsError::new(
                file,
                format!(
                    "{}: a CERTIFICATE block is not an X.509 certificate",
                    path.display()
                ),
            ));
        }
    }
    Ok(certs)
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let pem = std::fs::read(path)
        .map_err(|e| TlsError::new(TlsFile::Key, format!("cannot read {}: {e}", path.display())))?;
    PrivateKeyDer::from_pem_slice(&pem).map_err(|e| {
        TlsError::new(
            TlsFile::Key,
            format!("{}: no usable private key: {e}", path.display()),
        )
    })
}

/// The key as the provider loads it, checked against the end-entity certificate, so a
/// mismatch is reported as such rather than as a failed handshake later.
fn load_certified_key(
    provider: &CryptoProvider,
    certs: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<CertifiedKey, TlsError> {
    let signing = provider
        .key_provider
        .load_private_key(key)
        .map_err(|e| TlsError::new(TlsFile::Key, format!("unsupported private key: {e}")))?;
    let certified = CertifiedKey::new(certs, signing);
    match certified.keys_match() {
        Ok(()) | Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => {
            Ok(certified)
        }
        Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch)) => {
            Err(TlsError::new(
                TlsFile::Key,
                "the key does not match the certificate".to_string(),
            ))
        }
        Err(e) => Err(TlsError::new(
            TlsFile::Cert,
            format!("the certificate cannot be used: {e}"),
        )),
    }
}

/// What a finished TLS handshake tells about a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsInfo {
    /// `TLSv1_3`, `TLSv1_2`.
    pub protocol: String,
    /// The negotiated cipher suite, e.g. `TLS13_AES_256_GCM_SHA384`.
    pub cipher: String,
    /// The client certificate's subject (RFC 4514, as RabbitMQ writes it), when the client
    /// sent one; the verifier accepted it, so it chains to the configured `ca`.
    pub peer_cert_subject: Option<String>,
    /// The user a certificate login is for: the part of that certificate
    /// `tls.cert_login_from` names (RabbitMQ's `ssl_cert_login_from`); `None` without a
    /// certificate or when it lacks that part.
    pub peer_cert_login: Option<String>,
}

impl TlsInfo {
    /// What `conn` negotiated; `cert_login` picks the login name from its certificate.
    pub fn of(conn: &ServerConnection, cert_login: &CertLogin) -> TlsInfo {
        let peer = conn
            .peer_certificates()
            .and_then(|certs| certs.first())
            .and_then(|cert| PeerCert::from_der(cert));
        TlsInfo {
            protocol: conn
                .protocol_version()
                .map(|v| format!("{v:?}"))
                .unwrap_or_default(),
            cipher: conn
                .negotiated_cipher_suite()
                .map(|s| format!("{:?}", s.suite()))
                .unwrap_or_default(),
            peer_cert_login: peer.as_ref().and_then(|p| p.login_name(cert_login)),
            peer_cert_subject: peer.map(|p| p.subject),
        }
    }
}
