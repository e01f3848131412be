//! The `mqbridge` binary's command line: `check`, `--version`, `hash-password`.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn mqbridge(args: &[&str]) -> Output {
    match Command::new(env!("CARGO_BIN_EXE_mqbridge"))
        .args(args)
        .output()
    {
        Ok(out) => out,
        Err(e) => panic!("cannot run mqbridge: {e}"),
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn check_accepts_the_default_config() {
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/config/mqbridge.yaml");
    let out = mqbridge(&["check", file]);
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    assert_eq!(text(&out.stdout), format!("{file}: ok\n"));
}

#[test]
fn check_reports_file_line_column_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.yaml");
    std::fs::write(
        &file,
        "listeners:\n  amqp:\n    bind: \"0.0.0.0:5672\"\n  stomp:\n    bnd: \"0.0.0.0:61613\"\n",
    )
    .unwrap();
    let file = file.display().to_string();
    let out = mqbridge(&["check", &file]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with(&format!("{file}:5:5: unknown field `bnd`")),
        "stderr: {stderr}"
    );
    assert!(out.stdout.is_empty());

    // A semantic error points at the value.
    std::fs::write(&file, "listeners:\n  amqp: { bind: \"nowhere\" }\n").unwrap();
    let out = mqbridge(&["check", &file]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with(&format!(
            "{file}:2:17: listeners.amqp.bind: invalid bind address"
        )),
        "stderr: {stderr}"
    );
}

#[test]
fn check_a_missing_file_fails() {
    let out = mqbridge(&["check", "/nonexistent/mqbridge.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).starts_with("/nonexistent/mqbridge.yaml: cannot read the file"));
}

#[test]
fn version() {
    let out = mqbridge(&["--version"]);
    assert!(out.status.success());
    assert_eq!(
        text(&out.stdout).trim(),
        format!("mqbridge {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn hash_password_prints_an_argon2id_phc_string() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mqbridge"))
        .arg("hash-password")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"s3cret\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    let hash = text(&out.stdout);
    assert!(hash.starts_with("$argon2id$v=19$"), "{hash}");
    assert_eq!(hash.lines().count(), 1);
}

#[test]
fn json_logs_are_one_object_per_line_with_the_listener_fields() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("c.yaml");
    std::fs::write(&config, "listeners:\n  amqp: { bind: \"127.0.0.1:0\" }\n").expect("write");
    let mut child = Command::new(env!("CARGO_BIN_EXE_mqbridge"))
        .args(["--log-format", "json", "run", "--config"])
        .arg(&config)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn mqbridge");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stderr));
    let mut listening = None;
    for line in lines.by_ref().take(20) {
        let line = line.expect("a log line");
        let event: serde_json::Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(
            event["timestamp"].is_string() && event["level"].is_string(),
            "{line}"
        );
        if event["message"] == "Listening." {
            listening = Some(event);
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let event = listening.expect("a Listening event");
    assert_eq!(event["listener"], "amqp");
    assert!(event["address"]
        .as_str()
        .is_some_and(|a| a.starts_with("127.0.0.1:")));
}
