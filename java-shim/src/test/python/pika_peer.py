"""pika's side of PikaInteropTest: a plain AMQP 0-9-1 client facing the java-shim.

  pika_peer.py consume URL QUEUE COUNT   print the next COUNT messages of QUEUE as one JSON
                                         list (properties, headers, body), acking them
  pika_peer.py publish URL QUEUE         publish the fixed set of messages the Java test
                                         expects (see PUBLISHED) to QUEUE, with confirms

Exit status 0 on success; a message that does not come within 15 s is an error (exit 1).
"""

import base64
import datetime
import decimal
import json
import sys
import time

import pika


def jsonable(value):
    """Header values as JSON, keeping what JSON cannot say apart (bytes) visible."""
    if isinstance(value, bytes):
        return {"$bytes": base64.b64encode(value).decode()}
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    if isinstance(value, decimal.Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, datetime.datetime):
        return {"$timestamp": int(value.timestamp())}
    return value


def describe(props, body, routing_key, redelivered):
    return {
        "routing_key": routing_key,
        "redelivered": redelivered,
        "content_type": props.content_type,
        "correlation_id": props.correlation_id,
        "message_id": props.message_id,
        "type": props.type,
        "reply_to": props.reply_to,
        "priority": props.priority,
        "delivery_mode": props.delivery_mode,
        "expiration": props.expiration,
        "timestamp": props.timestamp,
        "headers": jsonable(props.headers or {}),
        "body_b64": base64.b64encode(body).decode(),
    }


def consume(url, queue, count):
    conn = pika.BlockingConnection(pika.URLParameters(url))
    ch = conn.channel()
    got = []
    deadline = time.monotonic() + 15
    while len(got) < count:
        method, props, body = ch.basic_get(queue, auto_ack=False)
        if method is None:
            if time.monotonic() > deadline:
                print(f"only {len(got)} of {count} messages arrived on {queue}", file=sys.stderr)
                sys.exit(1)
            time.sleep(0.05)
            continue
        got.append(describe(props, body, method.routing_key, method.redelivered))
        ch.basic_ack(method.delivery_tag)
    conn.close()
    print(json.dumps(got))


# What `publish` sends, in order; PikaInteropTest asserts the JMS view of each.
PUBLISHED = [
    (
        b"hello from pika",
        pika.BasicProperties(
            content_type="text/plain",
            correlation_id="corr-pika",
            message_id="pika-1",
            type="order.created",
            reply_to="replies",
            priority=6,
            delivery_mode=2,
            timestamp=1700000000,
            headers={
                "n": 42,
                "big": 1 << 40,
                "ratio": decimal.Decimal("1.5"),  # pika writes no floats; a decimal
                "flag": True,
                "name": "eu-west",
                "raw": b"\x00\x01",
                "nothing": None,
            },
        ),
    ),
    (b"\x01\x02\x03", pika.BasicProperties(headers={"kind": "bytes"})),
    (b'{"a": 1, "b": "two"}', pika.BasicProperties(content_type="application/json", reply_to="/topic/news")),
    (b"short-lived", pika.BasicProperties(content_type="text/plain", expiration="60000")),
]


def publish(url, queue):
    conn = pika.BlockingConnection(pika.URLParameters(url))
    ch = conn.channel()
    ch.confirm_delivery()
    for body, props in PUBLISHED:
        ch.basic_publish("", queue, body, props, mandatory=True)
    conn.close()


def main():
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    mode, url, queue = sys.argv[1:4]
    if mode == "consume" and len(sys.argv) == 5:
        consume(url, queue, int(sys.argv[4]))
    elif mode == "publish":
        publish(url, queue)
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
