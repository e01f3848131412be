"""A core queue -> SMTP route into tests/interop/python/smtp_sink.py (aiosmtpd), which writes
every accepted mail as an .eml file (with X-Sink-Rcpt-To: the envelope recipients).

Checked on the mails as received: recipients and subject from the route's templates and the
message's headers, a text body as the text part, a binary body as an attachment with its
content type and file name, message properties and headers as X-Mqbridge- mail headers; a
relay answering 451 twice then 250 gets the mail once, after two retries (counted in the
bridge's debug log); a recipient refused with 550 sends the message to the route's dead-letter
queue with x-mqbridge-reason=rejected, and the route goes on with the next message; a relay
that always answers 4xx dead-letters after the route's attempts (reason=refused); a message
whose recipient template has no value dead-letters at once (reason=untranslatable); with no
relay listening the messages wait in the queue and are mailed, in order, once it is up.
"""

import email
import email.policy
import re
import time
import uuid

import pika

import ops_lib as ol

LOG_FILTER = "info,mqbridge::routes=debug"


def route_config(q, dead, sink_port):
    return f"""\
# routes_ops SMTP route test
listeners:
  amqp: {{ bind: "127.0.0.1:0" }}
topology:
  queues: [ {{ name: {q} }}, {{ name: {dead} }} ]
connections:
  mail: {{ smtp: "smtp://127.0.0.1:{sink_port}", from: "bridge@example.com", pool_size: 2 }}
routes:
  - name: mail
    from: {{ queue: {q} }}
    to:
      connection: mail
      to: ["{{header.owner}}", "ops@example.com"]
      cc: "{{header.cc|audit@example.com}}"
      subject: "[{{header.severity|info}}] {{header.subject|alert}}"
    retry: {{ attempts: 5, backoff: "100ms..400ms" }}
    dead_letter: {{ queue: {dead} }}
    in_flight: 1
"""


def start(tmp_path, bridges, sinks, *sink_args):
    t = uuid.uuid4().hex[:8]
    q, dead = f"mail.{t}", f"mail.{t}.dead"
    sink = sinks(*sink_args)
    path = tmp_path / "mqbridge.yaml"
    path.write_text(route_config(q, dead, sink.port), encoding="utf-8")
    bridge = bridges(path, env={"MQBRIDGE_LOG": LOG_FILTER})
    return bridge, sink, q, dead


def publish(url, queue, body, headers, **props):
    conn = pika.BlockingConnection(pika.URLParameters(url))
    try:
        ch = conn.channel()
        ch.confirm_delivery()
        ch.basic_publish(
            "", queue, body, pika.BasicProperties(headers=headers, delivery_mode=2, **props), mandatory=True
        )
    finally:
        conn.close()


def wait_mails(sink, bridge, n, timeout=30):
    return ol.wait_until(
        f"{n} mail(s) in the sink", lambda: len(sink.mails()) >= n and sink.mails(), timeout, 0.1, log=bridge.tail
    )[:n]


def read(path):
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)


def rcpts(mail):
    return sorted(a.strip() for a in mail["X-Sink-Rcpt-To"].split(","))


def get_all(url, queue):
    conn = pika.BlockingConnection(pika.URLParameters(url))
    try:
        ch = conn.channel()
        out = []
        while True:
            method, props, body = ch.basic_get(queue, auto_ack=True)
            if method is None:
                return out
            out.append((props, body))
    finally:
        conn.close()


def test_text_message_as_mail(tmp_path, bridges, sinks):
    bridge, sink, q, _ = start(tmp_path, bridges, sinks)
    text = "Disk /var is 95% full on db-1.\nSecond line: ünïcödé.\n"
    publish(
        bridge.amqp_url,
        q,
        text.encode("utf-8"),
        {"owner": "alice@example.com", "severity": "high", "subject": "disk full", "region": "EU", "count": 3},
        content_type="text/plain",
        message_id="m-1",
        correlation_id="c-1",
    )
    [path] = wait_mails(sink, bridge, 1)
    mail = read(path)
    assert rcpts(mail) == ["alice@example.com", "audit@example.com", "ops@example.com"]
    assert mail["X-Sink-Mail-From"] == "bridge@example.com"
    assert "alice@example.com" in mail["To"] and "ops@example.com" in mail["To"]
    assert mail["Cc"] == "audit@example.com"
    assert mail["Subject"] == "[high] disk full"
    assert "bridge@example.com" in mail["From"]
    assert not mail.is_multipart()
    assert mail.get_content_type() == "text/plain"
    # SMTP carries CRLF line ends; the text is the same.
    assert mail.get_content().replace("\r\n", "\n") == text
    # Properties and headers as X- headers.
    assert mail["X-Mqbridge-Message-Id"] == "m-1"
    assert mail["X-Mqbridge-Correlation-Id"] == "c-1"
    assert mail["X-Mqbridge-Content-Type"] == "text/plain"
    assert mail["X-Mqbridge-Routing-Key"] == q
    assert mail["X-Mqbridge-Header-region"] == "EU"
    assert mail["X-Mqbridge-Header-count"] == "3"
    assert mail["X-Mqbridge-Header-owner"] == "alice@example.com"


def test_defaults_from_templates(tmp_path, bridges, sinks):
    bridge, sink, q, _ = start(tmp_path, bridges, sinks)
    publish(bridge.amqp_url, q, b"plain", {"owner": "bob@example.com", "cc": "carol@example.com"})
    [path] = wait_mails(sink, bridge, 1)
    mail = read(path)
    assert rcpts(mail) == ["bob@example.com", "carol@example.com", "ops@example.com"]
    assert mail["Subject"] == "[info] alert"
    assert mail.get_content().rstrip("\r\n") == "plain"


def test_binary_message_as_attachment(tmp_path, bridges, sinks):
    bridge, sink, q, _ = start(tmp_path, bridges, sinks)
    body = b"%PDF-1.4\n" + bytes(range(256)) * 4 + b"\x00\xff%%EOF"
    publish(
        bridge.amqp_url,
        q,
        body,
        {"owner": "alice@example.com", "subject": "report", "filename": "reports/q3.pdf"},
        content_type="application/pdf",
    )
    [path] = wait_mails(sink, bridge, 1)
    mail = read(path)
    assert mail.get_content_type() == "multipart/mixed"
    attachments = list(mail.iter_attachments())
    assert len(attachments) == 1, [p.get_content_type() for p in mail.walk()]
    att = attachments[0]
    assert att.get_content_type() == "application/pdf"
    assert att.get_filename() == "q3.pdf"
    assert att.get_content() == body
    text_parts = [p for p in mail.walk() if p.get_content_type() == "text/plain"]
    assert text_parts and "attached" in text_parts[0].get_content()
    assert mail["X-Mqbridge-Header-filename"] == "reports/q3.pdf"


def test_451_then_250_is_delivered_after_retries(tmp_path, bridges, sinks):
    bridge, sink, q, dead = start(tmp_path, bridges, sinks, "--fail-first-4xx", "2")
    publish(bridge.amqp_url, q, b"retry me", {"owner": "alice@example.com", "subject": "retry"})
    [path] = wait_mails(sink, bridge, 1)
    assert read(path)["Subject"] == "[info] retry"
    # Two refusals (attempts 1 and 2), delivered at the third attempt, and nothing else.
    refused = [line for line in bridge.log().splitlines() if "target refused a message" in line]
    attempts = [int(m.group(1)) for line in refused for m in [re.search(r"attempt=(\d+)", line)] if m]
    assert attempts == [1, 2], "\n".join(refused) or bridge.tail()
    assert all("451" in line for line in refused), refused
    time.sleep(1)
    assert len(sink.mails()) == 1
    assert get_all(bridge.amqp_url, dead) == []
    assert get_all(bridge.amqp_url, q) == []


def test_550_recipient_is_dead_lettered(tmp_path, bridges, sinks):
    bridge, sink, q, dead = start(tmp_path, bridges, sinks, "--reject-rcpt-5xx", "nobody@example.com")
    publish(
        bridge.amqp_url,
        q,
        b"to nobody",
        {"owner": "nobody@example.com", "subject": "lost"},
        message_id="dl-1",
    )
    publish(bridge.amqp_url, q, b"to alice", {"owner": "alice@example.com", "subject": "fine"}, message_id="ok-1")
    # The route goes on: the second message is mailed.
    [path] = wait_mails(sink, bridge, 1)
    assert read(path)["Subject"] == "[info] fine"

    def dead_letters():
        got = get_all(bridge.amqp_url, dead)
        dead_letters.seen.extend(got)
        return dead_letters.seen

    dead_letters.seen = []
    [(props, body)] = ol.wait_until("the dead letter", dead_letters, 20, 0.2, log=bridge.tail)
    assert body == b"to nobody"
    assert props.message_id == "dl-1"
    h = props.headers
    assert h["x-mqbridge-reason"] == "rejected", h
    assert h["x-mqbridge-route"] == "mail"
    assert h["x-mqbridge-attempts"] == 1
    assert "550" in h["x-mqbridge-error"], h
    assert h["owner"] == "nobody@example.com"
    assert h["x-mqbridge-original-routing-key"] == q
    # Not retried: a 5xx is final.
    assert not [line for line in bridge.log().splitlines() if "target refused a message" in line]
    assert len(sink.mails()) == 1


def dead_letters_of(bridge, dead, n, timeout=20):
    seen = []

    def poll():
        seen.extend(get_all(bridge.amqp_url, dead))
        return len(seen) >= n and seen

    return ol.wait_until(f"{n} dead letter(s) in {dead}", poll, timeout, 0.2, log=bridge.tail)


def test_4xx_every_time_is_dead_lettered_after_the_attempts(tmp_path, bridges, sinks):
    bridge, sink, q, dead = start(tmp_path, bridges, sinks, "--fail-first-4xx", "1000")
    publish(bridge.amqp_url, q, b"never", {"owner": "alice@example.com"}, message_id="r-1")
    [(props, body)] = dead_letters_of(bridge, dead, 1)
    assert body == b"never"
    h = props.headers
    assert h["x-mqbridge-reason"] == "refused", h
    assert h["x-mqbridge-attempts"] == 5, h  # retry.attempts in the route
    assert "451" in h["x-mqbridge-error"], h
    refused = [line for line in bridge.log().splitlines() if "target refused a message" in line]
    assert len(refused) == 4, refused  # attempts 1-4 were retried, the 5th dead-lettered
    assert sink.mails() == []


def test_untranslatable_message_is_dead_lettered_at_once(tmp_path, bridges, sinks):
    # `to: {header.owner}` has no default: without the header there is no recipient.
    bridge, sink, q, dead = start(tmp_path, bridges, sinks)
    publish(bridge.amqp_url, q, b"no owner", {"subject": "orphan"}, message_id="u-1")
    publish(bridge.amqp_url, q, b"owner", {"owner": "alice@example.com", "subject": "fine"})
    [(props, body)] = dead_letters_of(bridge, dead, 1)
    assert body == b"no owner"
    assert props.headers["x-mqbridge-reason"] == "untranslatable", props.headers
    assert "owner" in props.headers["x-mqbridge-error"], props.headers
    [path] = wait_mails(sink, bridge, 1)
    assert read(path)["Subject"] == "[info] fine"


def test_mail_server_down_keeps_the_messages(tmp_path, bridges, sinks):
    """No relay listening: the route waits and reconnects, the messages stay in the queue
    (not dead-lettered); once the relay is up they are all mailed, each once, in order."""
    t = uuid.uuid4().hex[:8]
    q, dead = f"mail.{t}", f"mail.{t}.dead"
    port = ol.free_port()
    path = tmp_path / "mqbridge.yaml"
    path.write_text(route_config(q, dead, port), encoding="utf-8")
    bridge = bridges(path, env={"MQBRIDGE_LOG": LOG_FILTER})
    for i in range(5):
        publish(bridge.amqp_url, q, f"m{i}".encode(), {"owner": "alice@example.com", "subject": f"s{i}"})
    time.sleep(2)
    assert get_all(bridge.amqp_url, dead) == []
    sink = sinks(port=port)
    mails = wait_mails(sink, bridge, 5, timeout=60)
    # In order (in_flight: 1): the sink numbers mails as it accepts them.
    subjects = [read(p)["Subject"] for p in mails]
    assert subjects == [f"[info] s{i}" for i in range(5)]
    assert bridge.count(r"route interrupted route=mail") >= 1, bridge.tail()
    time.sleep(1)
    assert len(sink.mails()) == 5
    assert get_all(bridge.amqp_url, dead) == []


def test_reload_moves_the_route_to_another_relay(tmp_path, bridges, sinks):
    """The connection's URL changes in the file: the route using it restarts on the new
    relay (a connection change counts as a route change), without restarting the bridge."""
    bridge, first, q, dead = start(tmp_path, bridges, sinks)
    second = sinks()
    for i in range(3):
        publish(bridge.amqp_url, q, b"one", {"owner": "alice@example.com", "subject": f"first {i}"})
    wait_mails(first, bridge, 3)
    ol.write_by_rename(bridge.config, route_config(q, dead, second.port))
    line = bridge.wait_reloads(1)
    assert ol.route_names(line, "restarted") == ["mail"], line
    for i in range(3):
        publish(bridge.amqp_url, q, b"two", {"owner": "alice@example.com", "subject": f"second {i}"})
    mails = wait_mails(second, bridge, 3)
    assert [read(p)["Subject"] for p in mails] == [f"[info] second {i}" for i in range(3)]
    assert len(first.mails()) == 3
    assert bridge.count(r"starting mqbridge") == 1
