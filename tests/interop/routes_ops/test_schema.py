"""The JSON Schema of the config file (config/mqbridge.schema.json, from `mqbridge schema`):
every YAML file under config/ points at it, validates against it and passes `mqbridge check`;
files with a shape error are refused by both; and what only the check can know (a name that
must resolve) passes the schema and is refused by the check.
"""

import json
import re

import jsonschema
import pytest
import yaml

import ops_lib as ol

CONFIG = ol.ROOT / "config"
SCHEMA_PATH = CONFIG / "mqbridge.schema.json"
YAML_FILES = sorted(p for p in CONFIG.rglob("*.y*ml"))
# config/examples/routes.yaml reads its passwords from these.
PASSWORD_ENV = {"AMQ_PASSWORD": "x", "RABBITMQ_PASSWORD": "x", "SMTP_PASSWORD": "x"}


@pytest.fixture(scope="module")
def validator():
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    assert cls is jsonschema.Draft7Validator, "editors read draft-07 best"
    return cls(schema)


def errors(validator, text):
    return sorted(validator.iter_errors(yaml.safe_load(text)), key=lambda e: list(e.path))


def messages(found):
    """Every message, including those inside anyOf/oneOf (an optional section is
    `anyOf: [section, null]`, so the real reason is one level down)."""
    out = []
    for e in found:
        out.append(e.message)
        out.extend(messages(e.context or []))
    return out


def test_the_committed_schema_is_what_the_binary_prints():
    r = ol.run_cli("schema")
    assert r.returncode == 0, r.stderr
    assert r.stdout == SCHEMA_PATH.read_text(encoding="utf-8"), (
        "config/mqbridge.schema.json is stale: cargo run --quiet -- schema > config/mqbridge.schema.json"
    )


def test_there_are_config_files():
    names = {p.relative_to(CONFIG).as_posix() for p in YAML_FILES}
    assert {"mqbridge.yaml", "examples/minimal.yaml", "examples/routes.yaml"} <= names


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: p.relative_to(CONFIG).as_posix())
def test_config_file_points_at_validates_and_checks(validator, path):
    text = path.read_text(encoding="utf-8")
    # The editor hint is the first line, and its relative path leads to the schema.
    first = text.splitlines()[0]
    m = re.fullmatch(r"# yaml-language-server: \$schema=(\S+)", first)
    assert m, f"{path}: first line is {first!r}"
    assert (path.parent / m.group(1)).resolve() == SCHEMA_PATH.resolve()
    problems = [f"{'.'.join(map(str, e.path))}: {e.message}" for e in errors(validator, text)]
    assert problems == []
    r = ol.run_cli("check", str(path), env=PASSWORD_ENV)
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"{path}: ok\n"


BASE = """\
listeners:
  amqp: { bind: "127.0.0.1:0", heartbeat: 30 }
topology:
  exchanges: [ { name: orders, type: topic } ]
  queues: [ { name: q1 } ]
connections:
  rabbit: { amqp: "amqp://127.0.0.1:5682/%2f" }
routes:
  - name: r1
    from: { queue: q1 }
    to: { connection: rabbit, exchange: orders }
"""

# (name, old, new, what the schema says, line:column and words of the check's error).
# A missing key is reported at the first key of the mapping that lacks it (serde-saphyr's
# place for it): `{ heartbeat: 30 }` -> the column of `heartbeat`.
BAD = [
    ("unknown top-level key", "listeners:", "listners:", "Additional properties", "1:1", "unknown field `listners`"),
    ("wrong type", "heartbeat: 30", 'heartbeat: "thirty"', "is not of type", "2:43", "heartbeat"),
    ("bad enum value", "type: topic", "type: topix", "is not one of", "4:38", "unknown variant `topix`"),
    # A listener needs `bind`, `tls_bind` or both: reported at the listener's mapping.
    ("missing required key", '{ bind: "127.0.0.1:0", heartbeat: 30 }', "{ heartbeat: 30 }", "'bind' is a required property", "2:9", "needs bind, tls_bind or both"),
    ("unknown endpoint key", "from: { queue: q1 }", "from: { queue: q1, selektor: x }", "Additional properties", "10:24", "unknown field `selektor`"),
    ("unknown route key", "    to: {", "    ot: {", "Additional properties", "11:5", "unknown field `ot`"),
    ("connection URL of the wrong type", '{ amqp: "amqp://127.0.0.1:5682/%2f" }', "{ amqp: 5682 }", "is not valid under any of the given schemas", "7:19", "amqp"),
]


@pytest.mark.parametrize("case", BAD, ids=[c[0] for c in BAD])
def test_bad_file_refused_by_schema_and_check(validator, tmp_path, case):
    _, old, new, schema_says, at, check_says = case
    assert BASE.count(old) == 1, old
    text = BASE.replace(old, new)
    found = errors(validator, text)
    assert found, "the schema accepted it"
    assert any(schema_says in m for m in messages(found)), messages(found)
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    r = ol.run_cli("check", str(path))
    assert r.returncode == 1, r.stdout
    first = r.stderr.splitlines()[0]
    assert first.startswith(f"{path}:{at}: "), first
    assert check_says in first, first


def test_base_is_good(validator, tmp_path):
    assert errors(validator, BASE) == []
    path = tmp_path / "base.yaml"
    path.write_text(BASE, encoding="utf-8")
    r = ol.run_cli("check", str(path))
    assert r.returncode == 0, r.stderr


def test_what_only_the_check_knows(validator, tmp_path):
    # The shape is right, so the schema accepts it; the connection does not exist.
    text = BASE.replace("connection: rabbit,", "connection: rabit,")
    assert errors(validator, text) == []
    path = tmp_path / "semantic.yaml"
    path.write_text(text, encoding="utf-8")
    r = ol.run_cli("check", str(path))
    assert r.returncode == 1
    assert r.stderr.startswith(f"{path}:11:23: routes.r1.to.connection: no connection named 'rabit'"), r.stderr


def test_schema_documents_fields_for_editors(validator):
    schema = validator.schema
    defs = schema["definitions"]
    # Every property of every object has a description (what an editor shows on hover),
    # except the topology lists, which are described by their item types.
    undocumented = [
        f"{name}.{prop}"
        for name, d in [("(root)", schema), *defs.items()]
        for prop, s in d.get("properties", {}).items()
        if "description" not in s and name != "RawTopology"
    ]
    assert undocumented == []
    # deny_unknown_fields everywhere: additionalProperties false on every object with keys.
    open_objects = [n for n, d in defs.items() if "properties" in d and d.get("additionalProperties") is not False]
    assert open_objects == []
