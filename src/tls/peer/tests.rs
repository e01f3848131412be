use rcgen::{CertificateParams, DistinguishedName, DnType, DnValue, KeyPair, SanType as Rcgen};

use super::*;

/// A self-signed certificate with `subject` (in certificate order) and `sans`.
fn cert(subject: &[(DnType, DnValue)], sans: Vec<Rcgen>) -> PeerCert {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    let mut dn = DistinguishedName::new();
    for (kind, value) in subject {
        dn.push(kind.clone(), value.clone());
    }
    params.distinguished_name = dn;
    params.subject_alt_names = sans;
    let der = params.self_signed(&key).unwrap().der().to_vec();
    PeerCert::from_der(&der).unwrap()
}

fn utf8(s: &str) -> DnValue {
    DnValue::Utf8String(s.to_string())
}

fn rule(from: CertLoginFrom, san_type: SanType, san_index: usize) -> CertLogin {
    CertLogin {
        from,
        san_type,
        san_index,
    }
}

#[test]
fn the_subject_is_written_as_rabbitmq_writes_it() {
    let c = cert(
        &[
            (
                DnType::CountryName,
                DnValue::PrintableString("DE".try_into().unwrap()),
            ),
            (DnType::OrganizationName, utf8("Acme, Inc.")),
            (DnType::OrganizationalUnitName, utf8("#ops")),
            (DnType::CommonName, utf8(" app+1 ")),
        ],
        vec![],
    );
    // Last RDN first; `,` and `+` escaped; a leading `#` and the leading and trailing
    // spaces escaped.
    assert_eq!(c.subject, r"CN=\ app\+1\ ,OU=\#ops,O=Acme\, Inc.,C=DE");
    assert_eq!(c.common_names, vec![" app+1 ".to_string()]);
}

#[test]
fn non_ascii_and_unknown_attributes_are_escaped_bytes_and_dotted_oids() {
    let c = cert(
        &[
            (DnType::CustomDnType(vec![2, 5, 4, 97]), utf8("x")),
            (DnType::CommonName, utf8("Grüße~<a>;\"q\"\\")),
        ],
        vec![],
    );
    assert_eq!(
        c.subject,
        r#"CN=Gr\C3\BC\C3\9Fe\7E\<a\>\;\"q\"\\,2.5.4.97=x"#
    );
}

#[test]
fn the_login_name_follows_the_rule() {
    let c = cert(
        &[
            (DnType::OrganizationName, utf8("Acme")),
            (DnType::CommonName, utf8("orders-app")),
        ],
        vec![
            Rcgen::DnsName("first.example".try_into().unwrap()),
            Rcgen::Rfc822Name("ops@example.com".try_into().unwrap()),
            Rcgen::DnsName("second.example".try_into().unwrap()),
            Rcgen::URI("spiffe://acme/orders".try_into().unwrap()),
            Rcgen::IpAddress("10.1.2.3".parse().unwrap()),
        ],
    );
    let name = |r| c.login_name(&r);
    let any = SanType::Dns;
    assert_eq!(name(CertLogin::default()).as_deref(), Some("orders-app"));
    assert_eq!(
        name(rule(CertLoginFrom::DistinguishedName, any, 0)).as_deref(),
        Some("CN=orders-app,O=Acme")
    );
    let san = |t, i| name(rule(CertLoginFrom::SubjectAlternativeName, t, i));
    assert_eq!(san(SanType::Dns, 0).as_deref(), Some("first.example"));
    assert_eq!(san(SanType::Dns, 1).as_deref(), Some("second.example"));
    assert_eq!(san(SanType::Dns, 2), None);
    assert_eq!(san(SanType::Email, 0).as_deref(), Some("ops@example.com"));
    assert_eq!(
        san(SanType::Uri, 0).as_deref(),
        Some("spiffe://acme/orders")
    );
    assert_eq!(san(SanType::Ip, 0).as_deref(), Some("10.1.2.3"));
}

#[test]
fn a_certificate_without_the_part_names_no_one() {
    let c = cert(&[(DnType::OrganizationName, utf8("Acme"))], vec![]);
    assert_eq!(c.login_name(&CertLogin::default()), None);
    let san = rule(CertLoginFrom::SubjectAlternativeName, SanType::Dns, 0);
    assert_eq!(c.login_name(&san), None);
    // Several CNs are joined with a comma, as RabbitMQ does (rcgen writes one CN at most).
    let two = PeerCert {
        subject: "CN=b+CN=a".into(),
        common_names: vec!["a".into(), "b".into()],
        alt_names: vec![],
    };
    assert_eq!(
        two.login_name(&CertLogin::default()).as_deref(),
        Some("a,b")
    );
}

#[test]
fn garbage_is_no_certificate() {
    assert_eq!(PeerCert::from_der(b"not a certificate"), None);
}
