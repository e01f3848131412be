package dev.mqbridge.interop.openwire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.jms.BytesMessage;
import javax.jms.Connection;
import javax.jms.DeliveryMode;
import javax.jms.MessageConsumer;
import javax.jms.MessageProducer;
import javax.jms.Queue;
import javax.jms.Session;
import javax.jms.TextMessage;
import javax.jms.Topic;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * JMS (OpenWire) and STOMP on the same broker: OPENWIRE_URL and STOMP_HOST_PORT. Runs against
 * both ActiveMQ (its STOMP connector) and mqbridge; skipped when STOMP_HOST_PORT is not set.
 * Both sides only use what ActiveMQ and mqbridge map the same way (README: intended
 * differences for the rest, e.g. content-length without content-type).
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class StompJmsTest {
  private Connection conn;
  private Session session;
  private Stomp stomp;

  @BeforeEach
  void open() throws Exception {
    String hp = Env.env("STOMP_HOST_PORT");
    Assumptions.assumeTrue(hp != null, "STOMP_HOST_PORT not set");
    conn = Env.factory().createConnection();
    conn.start();
    session = conn.createSession(false, Session.AUTO_ACKNOWLEDGE);
    stomp = Stomp.connect(hp);
  }

  @AfterEach
  void close() throws Exception {
    if (stomp != null) {
      stomp.close();
    }
    if (conn != null) {
      conn.close();
    }
  }

  @Test
  void jmsTextToStompSubscriber() throws Exception {
    String name = Env.name("jms2stomp");
    Queue q = session.createQueue(name);
    MessageProducer p = session.createProducer(q);
    TextMessage m = session.createTextMessage("héllo from JMS");
    m.setJMSCorrelationID("corr-1");
    m.setJMSType("greeting");
    m.setStringProperty("color", "red");
    m.setIntProperty("n", 5);
    p.send(m, DeliveryMode.PERSISTENT, 6, 0);
    BytesMessage b = session.createBytesMessage();
    b.writeBytes(new byte[] {0, 1, 2, (byte) 0xff, 0});
    p.send(b);

    stomp.send("SUBSCRIBE", Map.of("id", "s1", "destination", "/queue/" + name, "ack", "auto"), null);
    Stomp.Frame f = stomp.read(5_000);
    assertNotNull(f, "MESSAGE for the text message");
    assertEquals("MESSAGE", f.command());
    assertEquals("héllo from JMS", f.text());
    assertEquals("/queue/" + name, f.headers().get("destination"));
    assertEquals("corr-1", f.headers().get("correlation-id"));
    assertEquals("greeting", f.headers().get("type"));
    assertEquals("red", f.headers().get("color"));
    assertEquals("5", f.headers().get("n"));
    assertEquals("6", f.headers().get("priority"));
    assertEquals("true", f.headers().get("persistent"));
    Stomp.Frame fb = stomp.read(5_000);
    assertNotNull(fb, "MESSAGE for the bytes message");
    assertArrayEquals(new byte[] {0, 1, 2, (byte) 0xff, 0}, fb.body());
    assertEquals("5", fb.headers().get("content-length"));
  }

  @Test
  void stompSendToJmsQueueConsumer() throws Exception {
    String name = Env.name("stomp2jms");
    Queue q = session.createQueue(name);
    MessageConsumer consumer = session.createConsumer(q);
    stomp.sendWithReceipt(
        Map.of("destination", "/queue/" + name, "content-type", "text/plain", "color", "blue",
            "correlation-id", "c-7", "persistent", "true"),
        "héllo from STOMP".getBytes(StandardCharsets.UTF_8));
    byte[] binary = {0, 10, 13, (byte) 0x80, (byte) 0xff};
    stomp.sendWithReceipt(
        Map.of("destination", "/queue/" + name, "content-length", String.valueOf(binary.length)),
        binary);

    TextMessage t = assertInstanceOf(TextMessage.class, consumer.receive(5_000));
    assertEquals("héllo from STOMP", t.getText());
    assertEquals("blue", t.getStringProperty("color"));
    assertEquals("c-7", t.getJMSCorrelationID());
    assertEquals(DeliveryMode.PERSISTENT, t.getJMSDeliveryMode());
    BytesMessage b = assertInstanceOf(BytesMessage.class, consumer.receive(5_000));
    byte[] back = new byte[(int) b.getBodyLength()];
    b.readBytes(back);
    assertArrayEquals(binary, back);
  }

  @Test
  void stompTopicToJmsTopicSubscriber() throws Exception {
    String name = Env.name("stomptopic");
    Topic t = session.createTopic(name);
    MessageConsumer sub = session.createConsumer(t);
    stomp.sendWithReceipt(Map.of("destination", "/topic/" + name, "content-type", "text/plain"),
        "to the topic".getBytes(StandardCharsets.UTF_8));
    TextMessage m = assertInstanceOf(TextMessage.class, sub.receive(5_000));
    assertEquals("to the topic", m.getText());
    assertEquals(t, m.getJMSDestination());
  }
}
