//! `mqbridge route test` and `mqbridge check` as a user runs them: the binary, files on disk.

use std::path::Path;
use std::process::Command;

const CONFIG: &str = r#"connections:
  amq: { openwire: "tcp://127.0.0.1:1", user: app, password: secret }
  rabbit: { amqp: "amqp://bridge:pw@127.0.0.1:1/%2f" }
routes:
  - name: to-rabbit
    from: { connection: amq, queue: orders, selector: "region = 'EU'" }
    to: { connection: rabbit, exchange: orders, routing_key: "{type}.{header.region}" }
    headers: { set: { x-source: activemq } }
    dead_letter: { queue: orders.failed }
"#;

fn mqbridge(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mqbridge"))
        .args(args)
        .output()
        .expect("run mqbridge");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path.display().to_string()
}

#[test]
fn route_test_prints_every_hop_and_connects_nowhere() {
    let dir = tempfile::tempdir().expect("dir");
    let config = write(dir.path(), "c.yaml", CONFIG);
    let sample = write(
        dir.path(),
        "m.yaml",
        "properties: { type: created, correlation_id: c-1 }\nheaders: { region: EU }\nbody: hi\n",
    );
    // The peers' ports are 1: nothing listens there, so any connection attempt would fail.
    let (ok, out, err) = mqbridge(&["route", "test", &config, "to-rabbit", "--message", &sample]);
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("1. source: openwire connection 'amq', queue 'orders'"),
        "{out}"
    );
    assert!(
        out.contains("selector \"region = 'EU'\": selected"),
        "{out}"
    );
    assert!(
        out.contains("exchange 'orders', routing key 'created.EU'"),
        "{out}"
    );
    assert!(out.contains("header x-source = activemq"), "{out}");

    let no_region = write(
        dir.path(),
        "n.yaml",
        "properties: { type: created }\nbody: hi\n",
    );
    let (ok, out, _) = mqbridge(&[
        "route",
        "test",
        &config,
        "to-rabbit",
        "--message",
        &no_region,
    ]);
    assert!(ok);
    assert!(out.contains("NOT selected"), "{out}");
}

#[test]
fn route_test_and_check_refuse_bad_files_with_line_and_column() {
    let dir = tempfile::tempdir().expect("dir");
    let bad = CONFIG.replace("{header.region}", "{header.}");
    let config = write(dir.path(), "bad.yaml", &bad);
    let sample = write(dir.path(), "m.yaml", "body: hi\n");
    let (ok, _, err) = mqbridge(&["route", "test", &config, "to-rabbit", "--message", &sample]);
    assert!(!ok);
    assert!(
        err.starts_with(&format!(
            "{config}:7:62: routes.to-rabbit.to.routing_key: 'header.' needs a header name"
        )),
        "{err}"
    );
    let (ok, _, err2) = mqbridge(&["check", &config]);
    assert!(!ok);
    assert_eq!(err, err2);

    let good = write(dir.path(), "good.yaml", CONFIG);
    let (ok, out, _) = mqbridge(&["check", &good]);
    assert!(ok);
    assert!(out.contains(": ok"), "{out}");
    let (ok, _, err) = mqbridge(&["route", "test", &good, "nope", "--message", &sample]);
    assert!(!ok);
    assert!(
        err.contains("no route named 'nope' (routes: to-rabbit)"),
        "{err}"
    );
    let bad_sample = write(dir.path(), "b.yaml", "colour: red\n");
    let (ok, _, err) = mqbridge(&[
        "route",
        "test",
        &good,
        "to-rabbit",
        "--message",
        &bad_sample,
    ]);
    assert!(!ok);
    assert!(err.contains("colour"), "{err}");
}
