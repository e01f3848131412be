"""`mqbridge check FILE` on route files: a good file prints `FILE: ok` and exits 0; a bad one
exits 1 with `FILE:LINE:COLUMN: message`, the offending line and a caret under the column.

Each bad file below is the good one with one mistake; the expected line and column are those
of the mistaken value (or key), counted by hand from the text.
"""

import re

import pytest

import ops_lib as ol

GOOD = """\
# a route file with every kind of endpoint the check knows
listeners:
  amqp: { bind: "127.0.0.1:0" }
topology:
  queues: [ { name: alerts }, { name: orders.failed } ]
connections:
  amq:
    openwire: "failover:(tcp://127.0.0.1:61626)"
    user: admin
    password_env: ROUTES_OPS_AMQ_PASSWORD
  amq-stomp: { stomp: "tcp://127.0.0.1:61633", user: admin, password: admin }
  rabbit: { amqp: "amqp://127.0.0.1:5682/%2f", user: guest, password: guest }
  mail: { smtp: "smtp://127.0.0.1:2525", from: "bridge@example.com" }
routes:
  - name: orders
    from:
      connection: amq
      queue: orders
      selector: "region = 'EU' AND amount > 10"
    to:
      connection: rabbit
      exchange: orders
      routing_key: "orders.{header.region|none}"
    headers:
      set: { x-source: "{route}" }
    dead_letter: { queue: orders.failed }
  - name: alerts
    from: { queue: alerts }
    to: { connection: mail, to: "ops@example.com", subject: "{header.subject|alert}" }
"""

ENV = {"ROUTES_OPS_AMQ_PASSWORD": "secret"}


def check(tmp_path, text, name="routes.yaml", env=ENV):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path, ol.run_cli("check", str(path), env=env)


def assert_refused(tmp_path, text, line, column, message):
    """`check` exits 1 with PATH:LINE:COLUMN: message..., then the line and a caret."""
    path, r = check(tmp_path, text)
    assert r.returncode == 1, f"expected exit 1, got {r.returncode}:\n{r.stdout}{r.stderr}"
    assert r.stdout == "", r.stdout
    lines = r.stderr.splitlines()
    head = f"{path}:{line}:{column}: "
    assert lines[0].startswith(head), f"expected `{head}...`, got:\n{r.stderr}"
    assert message in lines[0], f"expected {message!r} in:\n{r.stderr}"
    # The snippet: ` |`, `LINE | text`, ` | ` + caret under the column.
    bad_line = text.splitlines()[line - 1]
    gutter = " " * len(str(line))
    assert lines[1] == f"{gutter} |", r.stderr
    assert lines[2] == f"{line} | {bad_line}", r.stderr
    assert lines[3] == f"{gutter} | " + " " * (column - 1) + "^", r.stderr
    return lines[0]


def replace_once(text, old, new):
    assert text.count(old) == 1, old
    return text.replace(old, new)


def test_good_file_ok(tmp_path):
    path, r = check(tmp_path, GOOD)
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"{path}: ok\n"
    assert r.stderr == ""


def test_unknown_connection(tmp_path):
    bad = replace_once(GOOD, "      connection: rabbit\n", "      connection: rabit\n")
    first = assert_refused(
        tmp_path, bad, 21, 19, "routes.orders.to.connection: no connection named 'rabit'"
    )
    # The message lists the names that do exist.
    assert "(connections: amq, amq-stomp, mail, rabbit)" in first


def test_unknown_connection_in_flow_mapping(tmp_path):
    bad = replace_once(GOOD, "to: { connection: mail,", "to: { connection: smtp,")
    assert_refused(tmp_path, bad, 29, 23, "routes.alerts.to.connection: no connection named 'smtp'")


def test_bad_selector(tmp_path):
    bad = replace_once(GOOD, "amount > 10", "amount >> 10")
    first = assert_refused(tmp_path, bad, 19, 17, "routes.orders.from.selector:")
    # Where in the selector, as a character index (1-based) inside the string.
    assert re.search(r"\(at character \d+\)$", first), first


def test_bad_template_unknown_field(tmp_path):
    bad = replace_once(GOOD, "{header.region|none}", "{headr.region|none}")
    assert_refused(tmp_path, bad, 23, 20, "routes.orders.to.routing_key: unknown field 'headr.region'")


def test_bad_template_unclosed_brace(tmp_path):
    bad = replace_once(GOOD, 'subject: "{header.subject|alert}"', 'subject: "{header.subject|alert"')
    assert_refused(tmp_path, bad, 29, 61, "routes.alerts.to.subject: a '{' without its '}'")


def test_bad_template_in_header_mapping(tmp_path):
    bad = replace_once(GOOD, 'x-source: "{route}"', 'x-source: "{rout}"')
    assert_refused(tmp_path, bad, 25, 24, "routes.orders.headers.set.x-source: unknown field 'rout'")


def test_unknown_key_in_route(tmp_path):
    bad = replace_once(GOOD, "    dead_letter:", "    dead_leter:")
    assert_refused(tmp_path, bad, 26, 5, "unknown field `dead_leter`, expected one of")


def test_unknown_key_in_endpoint(tmp_path):
    bad = replace_once(GOOD, "      exchange: orders\n", "      exchnage: orders\n")
    assert_refused(tmp_path, bad, 22, 7, "unknown field `exchnage`")


def test_unknown_key_in_connection(tmp_path):
    bad = replace_once(GOOD, "    user: admin\n", "    username: admin\n")
    assert_refused(tmp_path, bad, 9, 5, "unknown field `username`")


def test_missing_password_env(tmp_path):
    # The same good file, run without the variable it names.
    path, r = check(tmp_path, GOOD, env={"ROUTES_OPS_AMQ_PASSWORD": ""})
    assert r.returncode == 0, "an empty variable is set; it is the password"
    bad = replace_once(GOOD, "ROUTES_OPS_AMQ_PASSWORD", "ROUTES_OPS_NOT_SET_ANYWHERE")
    assert_refused(
        tmp_path,
        bad,
        10,
        19,
        "connections.amq.password_env: the environment variable ROUTES_OPS_NOT_SET_ANYWHERE is not set",
    )


def test_password_and_password_env(tmp_path):
    bad = replace_once(GOOD, "    user: admin\n", "    user: admin\n    password: admin\n")
    assert_refused(tmp_path, bad, 11, 19, "connections.amq: give password or password_env, not both")


def test_route_errors_do_not_hide_behind_yaml_errors(tmp_path):
    # A YAML syntax error is reported at its place too (here: a tab in the indentation).
    bad = replace_once(GOOD, "    to:\n      connection: rabbit", "    to:\n\tconnection: rabbit")
    path, r = check(tmp_path, bad)
    assert r.returncode == 1
    assert re.match(re.escape(str(path)) + r":21:\d+: ", r.stderr), r.stderr


def test_missing_file(tmp_path):
    r = ol.run_cli("check", str(tmp_path / "nope.yaml"))
    assert r.returncode == 1
    assert r.stderr.startswith(f"{tmp_path / 'nope.yaml'}: cannot read the file"), r.stderr


@pytest.mark.parametrize("name", ["mqbridge.yaml", "examples/routes.yaml"])
def test_shipped_files_ok(name):
    path = ol.ROOT / "config" / name
    r = ol.run_cli(
        "check",
        str(path),
        env={"AMQ_PASSWORD": "x", "RABBITMQ_PASSWORD": "x", "SMTP_PASSWORD": "x"},
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"{path}: ok\n"


def test_example_routes_needs_its_password_variables(tmp_path):
    path = ol.ROOT / "config" / "examples" / "routes.yaml"
    env = {"AMQ_PASSWORD": "", "RABBITMQ_PASSWORD": "x", "SMTP_PASSWORD": "x"}
    r = ol.run_cli("check", str(path), env={k: v for k, v in env.items() if v})
    assert r.returncode == 1
    assert "password_env: the environment variable AMQ_PASSWORD is not set" in r.stderr.splitlines()[0]
