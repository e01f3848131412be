"""Real clients over TLS to mqbridge (scripts/lib/tls.sh, `tls_interop`, starts the bridge):
pika (AMQPS, PLAIN and EXTERNAL), stomp.py (STOMP over TLS, passcode and certificate
logins) and the stock ActiveMQ JMS client (ssl:// with javax.net.ssl.trustStore and
keyStore) connect and exchange messages; plain clients on TLS ports get nowhere.

Environment: TLS_PKI_DIR (from tls_make_pki), AMQP_PORT, AMQPS_PORT, STOMP_PORT,
STOMP_TLS_PORT, OPENWIRE_TLS_PORT, JMS_TOOL_JAR, MQBRIDGE_LOG_FILE.
"""

import json
import os
import pathlib
import socket
import ssl
import subprocess
import time
import uuid

import pika
import pytest
import stomp

PKI = pathlib.Path(os.environ["TLS_PKI_DIR"])
HOST = "127.0.0.1"
AMQP_PORT = int(os.environ["AMQP_PORT"])
AMQPS_PORT = int(os.environ["AMQPS_PORT"])
STOMP_PORT = int(os.environ["STOMP_PORT"])
STOMP_TLS_PORT = int(os.environ["STOMP_TLS_PORT"])
OPENWIRE_TLS_PORT = int(os.environ["OPENWIRE_TLS_PORT"])
JMS_TOOL = os.environ["JMS_TOOL_JAR"]
LOG = pathlib.Path(os.environ["MQBRIDGE_LOG_FILE"])


def logins(protocol, user):
    """How many `<protocol> connection opened.` lines for `user` the bridge has logged."""
    return sum(
        1
        for line in LOG.read_text(errors="replace").splitlines()
        if f"{protocol} connection opened." in line and f"user={user} " in line + " "
    )


def context(cert=None):
    """A client context trusting the test CA, presenting `cert` (client, stranger) if given."""
    ctx = ssl.create_default_context(cafile=str(PKI / "ca.pem"))
    if cert:
        ctx.load_cert_chain(str(PKI / f"{cert}.pem"), str(PKI / f"{cert}.key"))
    return ctx


def amqps(cert=None, credentials=None, port=AMQPS_PORT):
    params = pika.ConnectionParameters(
        host=HOST,
        port=port,
        credentials=credentials or pika.PlainCredentials("guest", "guest"),
        ssl_options=pika.SSLOptions(context(cert), server_hostname=HOST),
        connection_attempts=1,
        socket_timeout=10,
        blocked_connection_timeout=10,
    )
    return pika.BlockingConnection(params)


def roundtrip(conn, body):
    """Declare a queue, publish `body` with confirms, get it back."""
    ch = conn.channel()
    ch.confirm_delivery()
    q = ch.queue_declare(queue="", exclusive=True).method.queue
    ch.basic_publish("", q, body)
    for _ in range(50):
        method, _, got = ch.basic_get(q, auto_ack=True)
        if method:
            return got
        time.sleep(0.1)
    return None


def test_pika_amqps_with_a_password():
    conn = amqps()
    try:
        assert roundtrip(conn, b"pika over tls") == b"pika over tls"
    finally:
        conn.close()


def test_pika_external_login_with_a_client_certificate():
    before = logins("AMQP", "cert-user")
    conn = amqps(cert="client", credentials=pika.credentials.ExternalCredentials())
    try:
        assert roundtrip(conn, b"external") == b"external"
    finally:
        conn.close()
    # The bridge logged who that was: the certificate's CN.
    assert logins("AMQP", "cert-user") == before + 1


def test_pika_external_refused_without_a_matching_user():
    with pytest.raises(pika.exceptions.AMQPConnectionError) as e:
        amqps(cert="stranger", credentials=pika.credentials.ExternalCredentials())
    assert "ACCESS_REFUSED" in repr(e.value) or "403" in repr(e.value), repr(e.value)


def test_pika_external_not_offered_without_a_certificate():
    # pika refuses locally when the server does not offer EXTERNAL.
    with pytest.raises(pika.exceptions.AMQPConnectionError):
        amqps(credentials=pika.credentials.ExternalCredentials())


class Listener(stomp.ConnectionListener):
    def __init__(self):
        self.messages = []
        self.errors = []

    def on_message(self, frame):
        self.messages.append(frame.body)

    def on_error(self, frame):
        self.errors.append(frame)


def stomp_tls(cert=None, port=STOMP_TLS_PORT):
    conn = stomp.Connection12([(HOST, port)], timeout=10, reconnect_attempts_max=1, vhost="/")
    kwargs = {"for_hosts": [(HOST, port)], "ca_certs": str(PKI / "ca.pem")}
    if cert:
        kwargs.update(cert_file=str(PKI / f"{cert}.pem"), key_file=str(PKI / f"{cert}.key"))
    conn.set_ssl(**kwargs)
    listener = Listener()
    conn.set_listener("l", listener)
    return conn, listener


def wait_for(pred, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


@pytest.mark.parametrize("login", ["passcode", "certificate"])
def test_stomp_over_tls(login):
    user = "cert-user" if login == "certificate" else "guest"
    before = logins("STOMP", user)
    conn, listener = stomp_tls(cert="client" if login == "certificate" else None)
    if login == "passcode":
        conn.connect("guest", "guest", wait=True)
    else:
        # No login header: the client certificate's CN logs in.
        conn.connect(wait=True)
    try:
        dest = f"/queue/tls-{login}-{uuid.uuid4().hex[:8]}"
        conn.subscribe(dest, id="1", ack="auto")
        conn.send(dest, body=f"stomp {login}", receipt="r1")
        assert wait_for(lambda: listener.messages), listener.errors
        assert listener.messages == [f"stomp {login}"]
    finally:
        conn.disconnect()
    assert logins("STOMP", user) == before + 1


def test_stomp_tls_to_amqps():
    queue = f"tls-x-{uuid.uuid4().hex[:8]}"
    conn, _ = stomp_tls()
    conn.connect("guest", "guest", wait=True)
    try:
        conn.send(f"/queue/{queue}", body="across", receipt="r1")
    finally:
        conn.disconnect()
    amqp = amqps()
    try:
        ch = amqp.channel()
        method, _, body = None, None, None
        for _ in range(50):
            method, _, body = ch.basic_get(queue, auto_ack=True)
            if method:
                break
            time.sleep(0.1)
        assert body == b"across"
    finally:
        amqp.close()


def jms(*args, keystore=False, timeout=120):
    props = [
        f"-Djavax.net.ssl.trustStore={PKI / 'truststore.p12'}",
        "-Djavax.net.ssl.trustStorePassword=changeit",
        "-Djavax.net.ssl.trustStoreType=PKCS12",
    ]
    if keystore:
        props += [
            f"-Djavax.net.ssl.keyStore={PKI / 'client.p12'}",
            "-Djavax.net.ssl.keyStorePassword=changeit",
            "-Djavax.net.ssl.keyStoreType=PKCS12",
        ]
    return subprocess.run(
        ["java", *props, "-jar", JMS_TOOL, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.parametrize("login", ["guest", "certificate"])
def test_activemq_jms_client_over_ssl(login):
    url = f"ssl://{HOST}:{OPENWIRE_TLS_PORT}"
    queue = f"tls-jms-{login}-{uuid.uuid4().hex[:8]}"
    user = ["--user", "guest", "--password", "guest"] if login == "guest" else []
    keystore = login == "certificate"
    who = "guest" if login == "guest" else "cert-user"
    before = logins("OpenWire", who)
    r = jms("produce", "--url", url, "--queue", queue, "--count", "20", "--batch", "0", *user,
            keystore=keystore)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout.strip().splitlines()[-1])["sent"] == 20
    r = jms("consume", "--url", url, "--queue", queue, "--expect", "20", "--idle", "10", *user,
            keystore=keystore)
    assert r.returncode == 0, r.stderr
    got = [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]
    assert len(got) == 20, r.stderr
    assert sorted(m["body"] for m in got) == sorted(f"m-{i}" for i in range(20)), got[:2]
    # Without --user the certificate's CN logged in, not the default guest.
    assert logins("OpenWire", who) == before + 2


def test_activemq_jms_client_without_truststore_is_refused():
    # The bridge's certificate is signed by the test CA only: the JVM's default trust
    # store does not know it, so the handshake fails and nothing is sent.
    r = subprocess.run(
        ["java", "-jar", JMS_TOOL, "produce", "--url", f"ssl://{HOST}:{OPENWIRE_TLS_PORT}",
         "--queue", "tls-untrusted", "--count", "1", "--batch", "0"],
        capture_output=True, text=True, timeout=120,
    )
    assert r.returncode != 0
    assert "SSL" in r.stderr or "certificate" in r.stderr or "PKIX" in r.stderr, r.stderr[-2000:]


def plain_answer(port, hello):
    """What a plain-TCP client gets for `hello` (until EOF, reset or 5 s of silence)."""
    s = socket.create_connection((HOST, port), timeout=5)
    got = b""
    try:
        s.sendall(hello)
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            got += chunk
    except (ConnectionResetError, socket.timeout):
        pass
    finally:
        s.close()
    return got


@pytest.mark.parametrize(
    "port_name,hello",
    [
        ("AMQPS_PORT", b"AMQP\x00\x00\x09\x01"),
        ("STOMP_TLS_PORT", b"CONNECT\naccept-version:1.2\nhost:/\nlogin:guest\npasscode:guest\n\n\x00"),
        ("OPENWIRE_TLS_PORT", b"\x00\x00\x01\x00\x01\x00\x08ActiveMQ"),
    ],
)
def test_plain_client_on_a_tls_port_gets_no_protocol_answer(port_name, hello):
    failed = LOG.read_text(errors="replace").count("TLS handshake failed.")
    got = plain_answer(int(os.environ[port_name]), hello)
    # Nothing, or a TLS alert record (content type 21), never AMQP/STOMP/OpenWire.
    assert got == b"" or got[0] == 21, got[:64]
    for word in (b"AMQP", b"CONNECTED", b"ERROR", b"ActiveMQ"):
        assert word not in got, got[:64]
    # The bridge logged the failed handshake and carries on.
    assert wait_for(lambda: LOG.read_text(errors="replace").count("TLS handshake failed.") > failed)


def test_pika_plain_on_the_amqps_port_fails():
    params = pika.ConnectionParameters(host=HOST, port=AMQPS_PORT, connection_attempts=1,
                                       socket_timeout=5)
    with pytest.raises(pika.exceptions.AMQPConnectionError):
        pika.BlockingConnection(params)
    # ...and the plain port next to it still works.
    conn = pika.BlockingConnection(pika.ConnectionParameters(host=HOST, port=AMQP_PORT))
    conn.close()
