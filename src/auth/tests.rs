use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::*;
use crate::config::UserConfig;

const LOCAL4: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
const LOCAL6: IpAddr = IpAddr::V6(Ipv6Addr::LOCALHOST);
const REMOTE: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 5));

/// RabbitMQ's rabbit_password_hashing_sha256 of the password "guest" with salt 90 8d c6 0a,
/// computed independently of this crate with Python:
///
/// ```text
/// import hashlib, base64
/// salt = bytes([0x90, 0x8d, 0xc6, 0x0a])
/// base64.b64encode(salt + hashlib.sha256(salt + b"guest").digest())
/// ```
const GUEST_SHA256: &str = "kI3GCrswBLNZQzHJJ95QLoyfAVooYhnvf7jbqiW9BjOYUloe";
/// The same with salt 01 02 03 04 and the non-ASCII password "pässwörd" (UTF-8 bytes).
const UMLAUT_SHA256: &str = "AQIDBPwtq5ZIwNBPpzi5rjcenzm3jkMbdjQ9/km2mOuj20ER";

fn user(name: &str, algorithm: HashingAlgorithm, hash: &str) -> UserConfig {
    UserConfig {
        name: name.to_string(),
        password_hash: hash.to_string(),
        hashing_algorithm: algorithm,
        tags: vec!["monitoring".to_string()],
        loopback_only: None,
    }
}

fn users(list: Vec<UserConfig>) -> Users {
    let config = Config {
        users: list,
        ..Config::default()
    };
    Users::from_config(&config).unwrap()
}

#[test]
fn builtin_guest_is_loopback_only() {
    let u = users(vec![]);
    let ok = u.authenticate("guest", "guest", LOCAL4).unwrap();
    assert_eq!(ok.name, "guest");
    assert_eq!(ok.tags, vec!["administrator"]);
    assert!(u.authenticate("guest", "guest", LOCAL6).is_ok());
    // An IPv4 loopback peer seen through a dual-stack socket.
    let mapped: IpAddr = "::ffff:127.0.0.1".parse().unwrap();
    assert!(u.authenticate("guest", "guest", mapped).is_ok());
    let e = u.authenticate("guest", "guest", REMOTE).unwrap_err();
    assert_eq!(e, AuthError::LoopbackOnly("guest".into()));
    assert_eq!(e.to_string(), "user 'guest' can only connect via localhost");
}

#[test]
fn unknown_user_and_bad_password() {
    let u = users(vec![]);
    let e = u.authenticate("nobody", "guest", LOCAL4).unwrap_err();
    assert_eq!(e, AuthError::UnknownUser("nobody".into()));
    let e2 = u.authenticate("guest", "wrong", LOCAL4).unwrap_err();
    assert_eq!(e2, AuthError::BadPassword("guest".into()));
    // A wrong password from afar is a bad password, not a hint that guest exists locally.
    assert_eq!(
        u.authenticate("guest", "wrong", REMOTE).unwrap_err(),
        AuthError::BadPassword("guest".into())
    );
    assert_eq!(
        e2.to_string(),
        "login refused for user 'guest': unknown user or bad password"
    );
}

#[test]
fn rabbit_sha256_matches_independent_vectors() {
    let StoredHash::RabbitSha256 { salt, digest } =
        StoredHash::parse(HashingAlgorithm::RabbitPasswordHashingSha256, GUEST_SHA256).unwrap()
    else {
        panic!("wrong kind");
    };
    assert_eq!(salt, [0x90, 0x8d, 0xc6, 0x0a]);
    assert_eq!(rabbit_sha256_digest(&salt, "guest"), digest);

    let u = users(vec![
        user(
            "legacy",
            HashingAlgorithm::RabbitPasswordHashingSha256,
            GUEST_SHA256,
        ),
        user(
            "umlaut",
            HashingAlgorithm::RabbitPasswordHashingSha256,
            UMLAUT_SHA256,
        ),
    ]);
    let ok = u.authenticate("legacy", "guest", REMOTE).unwrap();
    assert_eq!(
        ok,
        AuthenticatedUser {
            name: "legacy".into(),
            tags: vec!["monitoring".into()]
        }
    );
    assert!(u.authenticate("umlaut", "pässwörd", REMOTE).is_ok());
    assert_eq!(
        u.authenticate("legacy", "Guest", REMOTE).unwrap_err(),
        AuthError::BadPassword("legacy".into())
    );
}

#[test]
fn rabbit_sha256_round_trip() {
    let hash = hash_password(HashingAlgorithm::RabbitPasswordHashingSha256, "s3cret").unwrap();
    assert_eq!(BASE64.decode(&hash).unwrap().len(), 36);
    let u = users(vec![user(
        "app",
        HashingAlgorithm::RabbitPasswordHashingSha256,
        &hash,
    )]);
    assert!(u.authenticate("app", "s3cret", REMOTE).is_ok());
    assert!(u.authenticate("app", "s3cret!", REMOTE).is_err());
}

#[test]
fn argon2id_round_trip() {
    let hash = hash_password(HashingAlgorithm::Argon2id, "correct horse").unwrap();
    assert!(hash.starts_with("$argon2id$v=19$"), "{hash}");
    check_password_hash(HashingAlgorithm::Argon2id, &hash).unwrap();
    let u = users(vec![user("orders-app", HashingAlgorithm::Argon2id, &hash)]);
    let ok = u
        .authenticate("orders-app", "correct horse", REMOTE)
        .unwrap();
    assert_eq!(ok.name, "orders-app");
    assert_eq!(
        u.authenticate("orders-app", "wrong horse", REMOTE)
            .unwrap_err(),
        AuthError::BadPassword("orders-app".into())
    );
}

#[test]
fn config_guest_overrides_builtin_and_stays_loopback_only() {
    let hash = hash_password(HashingAlgorithm::RabbitPasswordHashingSha256, "new").unwrap();
    let u = users(vec![user(
        "guest",
        HashingAlgorithm::RabbitPasswordHashingSha256,
        &hash,
    )]);
    assert_eq!(
        u.authenticate("guest", "guest", LOCAL4).unwrap_err(),
        AuthError::BadPassword("guest".into())
    );
    assert!(u.authenticate("guest", "new", LOCAL4).is_ok());
    assert_eq!(
        u.authenticate("guest", "new", REMOTE).unwrap_err(),
        AuthError::LoopbackOnly("guest".into())
    );

    let mut open = user(
        "guest",
        HashingAlgorithm::RabbitPasswordHashingSha256,
        &hash,
    );
    open.loopback_only = Some(false);
    let u = users(vec![open]);
    assert!(u.authenticate("guest", "new", REMOTE).is_ok());
}

#[test]
fn loopback_only_on_another_user() {
    let mut local = user(
        "ops",
        HashingAlgorithm::RabbitPasswordHashingSha256,
        GUEST_SHA256,
    );
    local.loopback_only = Some(true);
    let u = users(vec![local]);
    assert!(u.authenticate("ops", "guest", LOCAL6).is_ok());
    assert_eq!(
        u.authenticate("ops", "guest", REMOTE).unwrap_err(),
        AuthError::LoopbackOnly("ops".into())
    );
}

#[test]
fn undecodable_hash_is_refused() {
    let config = Config {
        users: vec![user("bad", HashingAlgorithm::Argon2id, "nope")],
        ..Config::default()
    };
    let e = Users::from_config(&config).unwrap_err();
    assert_eq!(e.user, "bad");
    assert!(check_password_hash(HashingAlgorithm::RabbitPasswordHashingSha256, "AAAA").is_err());
}

#[test]
fn debug_output_hides_hashes() {
    let u = users(vec![user(
        "legacy",
        HashingAlgorithm::RabbitPasswordHashingSha256,
        GUEST_SHA256,
    )]);
    let shown = format!("{u:?}");
    assert!(!shown.contains(GUEST_SHA256));
    assert!(shown.contains("redacted"));
}
