"""pika as the AMQP side of the OpenWire cross-protocol tests (tests/interop/openwire).

    pika_peer.py get AMQP_URL QUEUE [EXPECT_JSON]
        basic.get one message (waiting up to 10 s) and print it as JSON: exchange, routing
        key, every property, the headers table with each value's Python type, body (UTF-8
        text, or base64 when it is not). With EXPECT_JSON, check it and exit 1 on any
        difference: "properties" (exact values), "property_prefixes" (value starts with),
        "headers" (exact typed values as printed), "header_types" (type only), "body".
    pika_peer.py publish AMQP_URL QUEUE JSON
        publish one message to the default exchange; JSON has "body" (text),
        "properties" (pika BasicProperties keyword arguments) and optional "headers".

A JMS test calls it as a subprocess and asserts on what pika saw or sent.
"""

import base64
import json
import sys
import time

import pika


def typed(value):
    """A header value with the type pika decoded it to, so the JMS side can check types."""
    if isinstance(value, bool):
        return {"type": "bool", "value": value}
    if isinstance(value, int):
        return {"type": "int", "value": value}
    if isinstance(value, float):
        return {"type": "float", "value": value}
    if isinstance(value, bytes):
        return {"type": "bytes", "value": base64.b64encode(value).decode()}
    if isinstance(value, dict):
        return {"type": "table", "value": {k: typed(v) for k, v in value.items()}}
    if isinstance(value, list):
        return {"type": "array", "value": [typed(v) for v in value]}
    if value is None:
        return {"type": "void", "value": None}
    return {"type": "str", "value": str(value)}


def get(url, queue, expect=None):
    conn = pika.BlockingConnection(pika.URLParameters(url))
    try:
        ch = conn.channel()
        deadline = time.monotonic() + 10
        while True:
            method, props, body = ch.basic_get(queue, auto_ack=True)
            if method is not None:
                break
            if time.monotonic() > deadline:
                print(json.dumps({"error": f"no message in {queue}"}))
                return 1
            time.sleep(0.05)
        try:
            text, encoding = body.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            text, encoding = base64.b64encode(body).decode(), "base64"
        out = {
            "exchange": method.exchange,
            "routing_key": method.routing_key,
            "redelivered": method.redelivered,
            "properties": {
                name: getattr(props, name)
                for name in (
                    "content_type", "content_encoding", "delivery_mode", "priority",
                    "correlation_id", "reply_to", "expiration", "message_id", "timestamp",
                    "type", "user_id", "app_id",
                )
            },
            "headers": {k: typed(v) for k, v in (props.headers or {}).items()},
            "body": text,
            "body_encoding": encoding,
        }
        print(json.dumps(out))
        return check(out, json.loads(expect)) if expect else 0
    finally:
        conn.close()


def check(out, expect):
    """Every expectation that does not hold, printed; 1 if any."""
    problems = []
    for name, value in expect.get("properties", {}).items():
        if out["properties"].get(name) != value:
            problems.append(f"property {name}: expected {value!r}, got {out['properties'].get(name)!r}")
    for name, prefix in expect.get("property_prefixes", {}).items():
        got = out["properties"].get(name)
        if not isinstance(got, str) or not got.startswith(prefix):
            problems.append(f"property {name}: expected to start with {prefix!r}, got {got!r}")
    for name, value in expect.get("headers", {}).items():
        if out["headers"].get(name) != value:
            problems.append(f"header {name}: expected {value!r}, got {out['headers'].get(name)!r}")
    for name, kind in expect.get("header_types", {}).items():
        got = out["headers"].get(name, {}).get("type")
        if got != kind:
            problems.append(f"header {name}: expected type {kind}, got {got}")
    if "body" in expect and out["body"] != expect["body"]:
        problems.append(f"body: expected {expect['body']!r}, got {out['body']!r}")
    for p in problems:
        print("MISMATCH " + p)
    return 1 if problems else 0


def publish(url, queue, spec):
    message = json.loads(spec)
    conn = pika.BlockingConnection(pika.URLParameters(url))
    try:
        ch = conn.channel()
        ch.confirm_delivery()
        props = pika.BasicProperties(headers=message.get("headers"), **message.get("properties", {}))
        ch.basic_publish("", queue, message["body"].encode("utf-8"), props, mandatory=True)
        print(json.dumps({"published": True}))
        return 0
    finally:
        conn.close()


def main(argv):
    if len(argv) >= 4 and argv[1] == "get":
        return get(argv[2], argv[3], argv[4] if len(argv) >= 5 else None)
    if len(argv) >= 5 and argv[1] == "publish":
        return publish(argv[2], argv[3], argv[4])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
