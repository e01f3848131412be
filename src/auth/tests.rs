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
        permissions: None,
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
    assert_eq!(ok.name, "legacy");
    assert_eq!(ok.tags, vec!["monitoring".to_string()]);
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

// ----- permissions -----

fn perms(configure: &str, write: &str, read: &str) -> VhostPermissions {
    VhostPermissions::new(configure, write, read).unwrap()
}

fn grants(vhost: &str, p: VhostPermissions) -> Grants {
    Grants::Vhosts([(vhost.to_string(), p)].into_iter().collect())
}

#[test]
fn regexes_match_unanchored_like_rabbitmq() {
    // RabbitMQ matches with re:run, which searches: "ord" grants "orders" and "reorder".
    let p = perms("ord", "^orders$", "^app\\.");
    assert!(p.allows(Access::Configure, "orders"));
    assert!(p.allows(Access::Configure, "reorder"));
    assert!(!p.allows(Access::Configure, "invoices"));
    // Anchors restrict to the whole name.
    assert!(p.allows(Access::Write, "orders"));
    assert!(!p.allows(Access::Write, "orders2"));
    assert!(!p.allows(Access::Write, "my-orders"));
    assert!(p.allows(Access::Read, "app.q1"));
    assert!(!p.allows(Access::Read, "appxq1"));
    assert!(!p.allows(Access::Read, "my.app.q1"));
}

#[test]
fn empty_grants_nothing_and_dot_star_everything() {
    let p = perms("", ".*", "");
    for name in ["", "a", "amq.default", "amq.gen-xyz"] {
        assert!(!p.allows(Access::Configure, name), "{name}");
        assert!(p.allows(Access::Write, name), "{name}");
        assert!(!p.allows(Access::Read, name), "{name}");
    }
    // A regex that can match the empty string matches every name (unanchored).
    let q = perms("x*", "x*", "x*");
    assert!(q.allows(Access::Read, "anything"));
}

#[test]
fn alternation_and_classes() {
    let p = perms("^(orders|invoices)$", "^q[0-9]+$", "^amq\\.gen-");
    assert!(p.allows(Access::Configure, "invoices"));
    assert!(!p.allows(Access::Configure, "orders.dlq"));
    assert!(p.allows(Access::Write, "q17"));
    assert!(!p.allows(Access::Write, "q"));
    assert!(p.allows(Access::Read, "amq.gen-abc"));
}

#[test]
fn a_bad_regex_does_not_compile() {
    assert!(VhostPermissions::new("(", ".*", ".*").is_err());
    assert!(VhostPermissions::new(".*", "[a-", ".*").is_err());
}

#[test]
fn refusal_texts_are_rabbitmqs() {
    let g = grants("/", perms("", "", ""));
    let e = g
        .check("u", "/", Access::Read, Resource::Queue("q"))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "access to queue 'q' in vhost '/' refused for user 'u'"
    );
    let e = g
        .check("u", "/", Access::Write, Resource::exchange(""))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "access to exchange 'amq.default' in vhost '/' refused for user 'u'"
    );
    let e = g.check_vhost("u", "staging").unwrap_err();
    assert_eq!(
        e.to_string(),
        "access to vhost 'staging' refused for user 'u'"
    );
    // A vhost without an entry refuses every resource too.
    assert!(g
        .check("u", "staging", Access::Read, Resource::Queue("q"))
        .is_err());
}

fn user_with(name: &str, permissions: Option<&[(&str, &str, &str, &str)]>) -> UserConfig {
    let mut u = user(
        name,
        HashingAlgorithm::RabbitPasswordHashingSha256,
        GUEST_SHA256,
    );
    u.permissions = permissions.map(|list| {
        list.iter()
            .map(|(v, c, w, r)| {
                (
                    v.to_string(),
                    crate::config::PermissionConfig {
                        configure: c.to_string(),
                        write: w.to_string(),
                        read: r.to_string(),
                    },
                )
            })
            .collect()
    });
    u
}

#[test]
fn absent_permissions_grant_every_vhost_and_empty_map_none() {
    let u = users(vec![
        user_with("old", None),
        user_with("none", Some(&[])),
        user_with("app", Some(&[("/", "", "^out$", ".*")])),
    ]);
    let old = u.authenticate("old", "guest", LOCAL4).unwrap();
    assert!(old.check_vhost("/").is_ok());
    assert!(old.check_vhost("any").is_ok());
    assert!(old
        .check("any", Access::Configure, Resource::Queue("x"))
        .is_ok());
    let none = u.authenticate("none", "guest", LOCAL4).unwrap();
    assert!(none.check_vhost("/").is_err());
    let app = u.authenticate("app", "guest", LOCAL4).unwrap();
    assert!(app.check_vhost("/").is_ok());
    assert!(app
        .check("/", Access::Write, Resource::Exchange("out"))
        .is_ok());
    assert!(app
        .check("/", Access::Write, Resource::exchange(""))
        .is_err());
    assert!(app
        .check("/", Access::Configure, Resource::Queue("out"))
        .is_err());
    // The built-in guest keeps full access.
    let guest = u.authenticate("guest", "guest", LOCAL4).unwrap();
    assert!(guest
        .check("/", Access::Configure, Resource::Queue("x"))
        .is_ok());
}

#[test]
fn permission_changes_reach_logged_in_users() {
    let u = users(vec![user_with("app", Some(&[("/", ".*", ".*", ".*")]))]);
    let app = u.authenticate("app", "guest", LOCAL4).unwrap();
    assert!(app.check("/", Access::Read, Resource::Queue("q")).is_ok());
    assert!(u.set_permissions("app", "/", Some(perms(".*", ".*", "^other$")), &[]));
    let e = app
        .check("/", Access::Read, Resource::Queue("q"))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "access to queue 'q' in vhost '/' refused for user 'app'"
    );
    // Upsert keeps the cell: the open login sees the replacement's permissions.
    u.upsert(&user_with("app", Some(&[("/", ".*", ".*", "^q$")])))
        .unwrap();
    assert!(app.check("/", Access::Read, Resource::Queue("q")).is_ok());
    // Clearing a vhost refuses it.
    assert!(u.set_permissions("app", "/", None, &[]));
    assert!(app.check_vhost("/").is_err());
    assert!(!u.set_permissions("nobody", "/", None, &[]));
    // A user with access everywhere keeps `.*` on the other vhosts when one is set.
    u.upsert(&user_with("old", None)).unwrap();
    assert!(u.set_permissions(
        "old",
        "/",
        Some(perms("", "", "")),
        &["/".to_string(), "staging".to_string()]
    ));
    let old = u.authenticate("old", "guest", LOCAL4).unwrap();
    assert!(old.check("/", Access::Read, Resource::Queue("q")).is_err());
    assert!(old
        .check("staging", Access::Read, Resource::Queue("q"))
        .is_ok());
    // Deleting a user takes everything away from its open logins.
    assert!(u.delete("app"));
    assert!(app.check_vhost("/").is_err());
    assert!(u.authenticate("app", "guest", LOCAL4).is_err());
}

#[test]
fn list_shows_users_and_grants_without_hashes() {
    let u = users(vec![user_with("app", Some(&[("/", "a", "b", "c")]))]);
    let list = u.list();
    let names: Vec<&str> = list.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, vec!["app", "guest"]);
    let Grants::Vhosts(map) = &list[0].grants else {
        panic!("app has per-vhost grants");
    };
    assert_eq!(
        (map["/"].configure(), map["/"].write(), map["/"].read()),
        ("a", "b", "c")
    );
    assert_eq!(list[1].grants, Grants::AllVhosts);
    assert!(list[1].loopback_only);
}

#[test]
fn upsert_adds_a_user_and_refuses_a_bad_hash() {
    let u = users(vec![]);
    u.upsert(&user_with("new", Some(&[("/", ".*", ".*", ".*")])))
        .unwrap();
    assert!(u.authenticate("new", "guest", REMOTE).is_ok());
    let mut bad = user_with("bad", None);
    bad.password_hash = "not base64!".into();
    assert!(u.upsert(&bad).is_err());
    assert!(!u.contains("bad"));
}
