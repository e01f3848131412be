package dev.mqbridge.interop.openwire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.jms.BytesMessage;
import javax.jms.Connection;
import javax.jms.DeliveryMode;
import javax.jms.Message;
import javax.jms.MessageConsumer;
import javax.jms.MessageProducer;
import javax.jms.Queue;
import javax.jms.Session;
import javax.jms.TextMessage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * JMS (OpenWire) and pika on mqbridge: a TextMessage with headers and typed properties sent by
 * the stock JMS client is read by pika with the documented AMQP fields (docs/mapping.md), and a
 * pika publish is read by the JMS client as the documented message type with its properties.
 * The pika side is tests/interop/python/pika_peer.py, run with PIKA_PYTHON (the project's
 * .venv python); it checks what pika saw and exits 1 on a difference. mqbridge only.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PikaJmsTest {
  private Connection jms;
  private Session session;
  private String amqpUrl;
  private String python;
  private Path peer;

  @BeforeEach
  void open() throws Exception {
    Env.assumeMqbridge("pika side");
    amqpUrl = Env.env("AMQP_URL");
    python = Env.env("PIKA_PYTHON");
    Assumptions.assumeTrue(amqpUrl != null, "AMQP_URL not set");
    Assumptions.assumeTrue(python != null, "PIKA_PYTHON not set (scripts/test.sh sets it)");
    peer = findPeer();
    jms = Env.factory().createConnection();
    jms.start();
    session = jms.createSession(false, Session.AUTO_ACKNOWLEDGE);
  }

  @AfterEach
  void close() throws Exception {
    if (jms != null) {
      jms.close();
    }
  }

  /** tests/interop/python/pika_peer.py, from the module directory Maven runs in. */
  private static Path findPeer() {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      Path candidate = dir.resolve("tests/interop/python/pika_peer.py");
      if (Files.exists(candidate)) {
        return candidate;
      }
    }
    throw new AssertionError("tests/interop/python/pika_peer.py not found above the working dir");
  }

  /** Runs pika_peer.py; returns its output, failing the test with it on a non-zero exit. */
  private String pika(String... args) throws Exception {
    List<String> command = new java.util.ArrayList<>(List.of(python, peer.toString()));
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    p.getInputStream().transferTo(out);
    assertTrue(p.waitFor(30, TimeUnit.SECONDS), "pika_peer.py finished");
    String text = out.toString(StandardCharsets.UTF_8);
    assertEquals(0, p.exitValue(), "pika_peer.py " + args[0] + ":\n" + text);
    return text;
  }

  @Test
  void jmsTextMessageWithTypedPropertiesIsReadByPika() throws Exception {
    String name = Env.name("to-pika");
    Queue q = session.createQueue(name);
    MessageProducer producer = session.createProducer(q);
    TextMessage m = session.createTextMessage("h\u00e9llo \ud834\udd1e");
    m.setJMSCorrelationID("corr-42");
    m.setJMSType("order.created");
    m.setStringProperty("region", "EU");
    m.setIntProperty("qty", 3);
    m.setLongProperty("big", 1L << 40);
    m.setBooleanProperty("rush", true);
    m.setDoubleProperty("price", 9.5);
    m.setShortProperty("small", (short) 7);
    producer.send(m, DeliveryMode.PERSISTENT, 7, 0);

    // pika 1.4 decodes AMQP doubles ('d') through int(), so `price` arrives truncated to 9
    // with pika's long type; AmqpJmsTest checks the exact double with the RabbitMQ Java client.
    String expect =
        "{\"properties\": {\"content_type\": \"text/plain; charset=utf-8\", \"delivery_mode\": 2,"
            + " \"priority\": 7, \"correlation_id\": \"corr-42\", \"type\": \"order.created\","
            + " \"expiration\": null},"
            + " \"property_prefixes\": {\"message_id\": \"ID:\"},"
            + " \"headers\": {\"region\": {\"type\": \"str\", \"value\": \"EU\"},"
            + " \"qty\": {\"type\": \"int\", \"value\": 3},"
            + " \"big\": {\"type\": \"int\", \"value\": 1099511627776},"
            + " \"rush\": {\"type\": \"bool\", \"value\": true},"
            + " \"price\": {\"type\": \"int\", \"value\": 9},"
            + " \"small\": {\"type\": \"int\", \"value\": 7},"
            + " \"x-jms-msg-type\": {\"type\": \"str\", \"value\": \"text\"}},"
            + " \"header_types\": {\"JMSTimestamp\": \"int\"},"
            + " \"body\": \"h\u00e9llo \ud834\udd1e\"}";
    String seen = pika("get", amqpUrl, name, expect);
    assertTrue(seen.contains("\"routing_key\": \"" + name + "\""), seen);
  }

  @Test
  void pikaPublishIsReadByJmsWithItsTypeAndProperties() throws Exception {
    String text = Env.name("from-pika");
    Queue tq = session.createQueue(text);
    MessageConsumer textConsumer = session.createConsumer(tq);
    String bytes = Env.name("from-pika-bytes");
    MessageConsumer bytesConsumer = session.createConsumer(session.createQueue(bytes));
    Thread.sleep(200);

    pika(
        "publish",
        amqpUrl,
        text,
        "{\"body\": \"hi from pika\", \"properties\": {\"content_type\": \"text/plain\","
            + " \"correlation_id\": \"c-7\", \"type\": \"greeting\", \"priority\": 3,"
            + " \"delivery_mode\": 2}, \"headers\": {\"region\": \"EU\", \"qty\": 5,"
            + " \"rush\": true}}");
    Message m = textConsumer.receive(10_000);
    assertNotNull(m, "the pika message reached the JMS consumer");
    TextMessage t = assertInstanceOf(TextMessage.class, m, "text/plain gives a TextMessage");
    assertEquals("hi from pika", t.getText());
    assertEquals("c-7", t.getJMSCorrelationID());
    assertEquals("greeting", t.getJMSType());
    assertEquals(3, t.getJMSPriority());
    assertEquals(DeliveryMode.PERSISTENT, t.getJMSDeliveryMode());
    assertEquals("EU", t.getStringProperty("region"));
    assertEquals(5L, ((Number) t.getObjectProperty("qty")).longValue());
    assertEquals(true, t.getObjectProperty("rush"));

    pika(
        "publish",
        amqpUrl,
        bytes,
        "{\"body\": \"raw\", \"properties\": {\"content_type\": \"application/octet-stream\"}}");
    Message b = bytesConsumer.receive(10_000);
    assertNotNull(b, "the pika message reached the JMS consumer");
    BytesMessage bm = assertInstanceOf(BytesMessage.class, b, "octet-stream gives a BytesMessage");
    byte[] body = new byte[(int) bm.getBodyLength()];
    bm.readBytes(body);
    assertEquals("raw", new String(body, StandardCharsets.UTF_8));
  }
}
