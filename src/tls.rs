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

use crate::config::{TlsConfig, TlsVerify};

pub use tokio_rustls::TlsAcceptor;

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
    server_config(config)
        .map(TlsAcceptor::from)
        .map_err(|e| e.to_string())
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
    /// The client certificate's subject (RFC 4514 form), when the client sent one; the
    /// verifier accepted it, so it chains to the configured `ca`.
    pub peer_cert_subject: Option<String>,
    /// The common name (CN) of that subject: the user name of an EXTERNAL login
    /// (RabbitMQ's `ssl_cert_login_from = common_name`).
    pub peer_cert_cn: Option<String>,
}

impl TlsInfo {
    /// What `conn` negotiated.
    pub fn of(conn: &ServerConnection) -> TlsInfo {
        let (peer_cert_subject, peer_cert_cn) = conn
            .peer_certificates()
            .and_then(|certs| certs.first())
            .map(|cert| subject_and_cn(cert))
            .unwrap_or((None, None));
        TlsInfo {
            protocol: conn
                .protocol_version()
                .map(|v| format!("{v:?}"))
                .unwrap_or_default(),
            cipher: conn
                .negotiated_cipher_suite()
                .map(|s| format!("{:?}", s.suite()))
                .unwrap_or_default(),
            peer_cert_subject,
            peer_cert_cn,
        }
    }
}

/// The subject and its first common name, from a DER certificate.
pub fn subject_and_cn(der: &[u8]) -> (Option<String>, Option<String>) {
    match x509_parser::parse_x509_certificate(der) {
        Ok((_, cert)) => {
            let subject = cert.subject();
            let cn = subject
                .iter_common_name()
                .next()
                .and_then(|cn| cn.as_str().ok())
                .map(str::to_string);
            (Some(subject.to_string()), cn)
        }
        Err(_) => (None, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subject_of_garbage_is_none() {
        assert_eq!(subject_and_cn(b"not a certificate"), (None, None));
    }
}
