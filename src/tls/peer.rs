//! What a verified client certificate says about its owner, and which part of it names the
//! user of a certificate login ([`CertLogin`], RabbitMQ's `ssl_cert_login_from`).
//!
//! The subject is written in RFC 4514 form the way RabbitMQ writes it, so a user named
//! after a distinguished name in RabbitMQ has the same name here: the RDNs from last to
//! first, joined by `,` (several attributes of one RDN by `+`), RabbitMQ's attribute names
//! (`CN`, `O`, `OU`, `EMAILADDRESS`, ...; the dotted OID for others), and its escaping
//! (`\` before `"+,;<>\`, before a leading space or `#` and a trailing space; `\XX` for every
//! byte below 0x20 or from 0x7E, UTF-8 bytes of non-ASCII text included).

use std::fmt::Write as _;
use std::net::IpAddr;

use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::x509::{AttributeTypeAndValue, X509Name};

use crate::config::{CertLogin, CertLoginFrom, SanType};

/// The parts of a client certificate a login can be named after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerCert {
    /// The subject in RFC 4514 form (see the module documentation).
    pub subject: String,
    /// Every common name of the subject, in certificate order.
    pub common_names: Vec<String>,
    /// The subject alternative names this module can name a user after.
    pub alt_names: Vec<(SanType, String)>,
}

impl PeerCert {
    /// Read a DER certificate; `None` when it does not parse (the TLS layer verified it,
    /// so that does not happen with a certificate the handshake accepted).
    pub fn from_der(der: &[u8]) -> Option<PeerCert> {
        let (_, cert) = X509Certificate::from_der(der).ok()?;
        let subject = cert.subject();
        let common_names = subject
            .iter_common_name()
            .filter_map(|cn| attribute_text(cn))
            .collect();
        let mut alt_names = Vec::new();
        if let Ok(Some(san)) = cert.subject_alternative_name() {
            for name in &san.value.general_names {
                let entry = match name {
                    GeneralName::DNSName(n) => (SanType::Dns, n.to_string()),
                    GeneralName::RFC822Name(n) => (SanType::Email, n.to_string()),
                    GeneralName::URI(n) => (SanType::Uri, n.to_string()),
                    GeneralName::IPAddress(bytes) => match ip_text(bytes) {
                        Some(ip) => (SanType::Ip, ip),
                        None => continue,
                    },
                    _ => continue,
                };
                alt_names.push(entry);
            }
        }
        Some(PeerCert {
            subject: rfc4514(subject),
            common_names,
            alt_names,
        })
    }

    /// The user a certificate login is for under `rule`; `None` when the certificate lacks
    /// that part (no CN, or fewer alternative names of the type than the index needs).
    pub fn login_name(&self, rule: &CertLogin) -> Option<String> {
        match rule.from {
            CertLoginFrom::CommonName if self.common_names.is_empty() => None,
            // RabbitMQ joins several CNs with a comma.
            CertLoginFrom::CommonName => Some(self.common_names.join(",")),
            CertLoginFrom::DistinguishedName => Some(self.subject.clone()),
            CertLoginFrom::SubjectAlternativeName => self
                .alt_names
                .iter()
                .filter(|(kind, _)| *kind == rule.san_type)
                .nth(rule.san_index)
                .map(|(_, name)| name.clone()),
        }
    }
}

fn ip_text(bytes: &[u8]) -> Option<String> {
    let ip = match bytes.len() {
        4 => IpAddr::from(<[u8; 4]>::try_from(bytes).ok()?),
        16 => IpAddr::from(<[u8; 16]>::try_from(bytes).ok()?),
        _ => return None,
    };
    Some(ip.to_string())
}

/// RabbitMQ's names for attribute types; anything else is written as its dotted OID.
fn attribute_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.5.4.4" => "SN",
        "2.5.4.42" => "GIVENNAME",
        "2.5.4.43" => "INITIALS",
        "2.5.4.44" => "GENERATIONQUALIFIER",
        "2.5.4.3" => "CN",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.12" => "TITLE",
        "2.5.4.6" => "C",
        "2.5.4.5" => "SERIALNUMBER",
        "2.5.4.65" => "PSEUDONYM",
        "0.9.2342.19200300.100.1.25" => "DC",
        "1.2.840.113549.1.9.1" => "EMAILADDRESS",
        "2.5.4.9" => "STREET",
        "0.9.2342.19200300.100.1.1" => "UID",
        _ => return None,
    })
}

/// An attribute's value as text: the directory string types (UTF-8, printable, IA5,
/// teletex as Latin-1, BMP) decoded; anything else `None`.
fn attribute_text(atv: &AttributeTypeAndValue<'_>) -> Option<String> {
    atv.as_str().map(str::to_string).ok().or_else(|| {
        let value = atv.attr_value();
        let data = value.data;
        match value.header.tag().0 {
            // TeletexString: Latin-1, as RabbitMQ reads it.
            20 => Some(data.iter().map(|&b| char::from(b)).collect()),
            // BMPString: UCS-2, big-endian.
            30 => {
                let units: Vec<u16> = data
                    .chunks_exact(2)
                    .map(|p| u16::from_be_bytes([p[0], p[1]]))
                    .collect();
                String::from_utf16(&units).ok()
            }
            _ => None,
        }
    })
}

fn rfc4514(name: &X509Name<'_>) -> String {
    let mut rdns: Vec<String> = name
        .iter()
        .map(|rdn| {
            rdn.iter()
                .map(|atv| {
                    let oid = atv.attr_type().to_id_string();
                    let kind = attribute_name(&oid).map_or(oid.clone(), str::to_string);
                    let value = attribute_text(atv).unwrap_or_default();
                    format!("{kind}={}", escape_value(&value))
                })
                .collect::<Vec<_>>()
                .join("+")
        })
        .collect();
    // RFC 4514 writes the last RDN first.
    rdns.reverse();
    rdns.join(",")
}

fn escape_value(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = String::with_capacity(bytes.len());
    for (i, &b) in bytes.iter().enumerate() {
        let first = i == 0;
        let last = i + 1 == bytes.len();
        match b {
            b' ' | b'#' if first => {
                out.push('\\');
                out.push(char::from(b));
            }
            b' ' if last => out.push_str("\\ "),
            b'"' | b'+' | b',' | b';' | b'<' | b'>' | b'\\' => {
                out.push('\\');
                out.push(char::from(b));
            }
            b if !(0x20..0x7E).contains(&b) => {
                let _ = write!(out, "\\{b:02X}");
            }
            b => out.push(char::from(b)),
        }
    }
    out
}

#[cfg(test)]
mod tests;
