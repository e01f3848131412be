package dev.mqbridge.interop.openwire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.GetResponse;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.jms.BytesMessage;
import javax.jms.Connection;
import javax.jms.DeliveryMode;
import javax.jms.MapMessage;
import javax.jms.Message;
import javax.jms.MessageConsumer;
import javax.jms.MessageProducer;
import javax.jms.Queue;
import javax.jms.Session;
import javax.jms.StreamMessage;
import javax.jms.TextMessage;
import javax.jms.Topic;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * JMS (OpenWire) and AMQP 0-9-1 (RabbitMQ Java client, AMQP_URL) on mqbridge: the documented
 * mapping of DESIGN.md section 5 / docs/mapping.md. mqbridge only: skipped with
 * BROKER_KIND=activemq (ActiveMQ 5.17 has no AMQP 0-9-1 listener).
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class AmqpJmsTest {
  private Connection jms;
  private Session session;
  private com.rabbitmq.client.Connection amqp;
  private Channel ch;

  @BeforeEach
  void open() throws Exception {
    Env.assumeMqbridge("AMQP 0-9-1 side");
    String url = Env.env("AMQP_URL");
    Assumptions.assumeTrue(url != null, "AMQP_URL not set");
    jms = Env.factory().createConnection();
    jms.start();
    session = jms.createSession(false, Session.AUTO_ACKNOWLEDGE);
    ConnectionFactory f = new ConnectionFactory();
    f.setUri(url);
    f.setAutomaticRecoveryEnabled(false);
    amqp = f.newConnection("mqbridge-interop-openwire");
    ch = amqp.createChannel();
  }

  @AfterEach
  void close() throws Exception {
    if (amqp != null) {
      amqp.close();
    }
    if (jms != null) {
      jms.close();
    }
  }

  GetResponse get(String queue) throws Exception {
    for (int i = 0; i < 100; i++) {
      GetResponse r = ch.basicGet(queue, true);
      if (r != null) {
        return r;
      }
      Thread.sleep(50);
    }
    return null;
  }

  @Test
  void jmsTextToAmqpConsumerWithDocumentedFields() throws Exception {
    String name = Env.name("jms2amqp");
    Queue q = session.createQueue(name);
    Queue replyTo = session.createQueue(name + ".reply");
    MessageProducer p = session.createProducer(q);
    TextMessage m = session.createTextMessage("héllo AMQP \uD83D\uDE00");
    m.setJMSCorrelationID("corr-42");
    m.setJMSType("order.created");
    m.setJMSReplyTo(replyTo);
    m.setBooleanProperty("bool", true);
    m.setByteProperty("byte", (byte) 7);
    m.setShortProperty("short", (short) 300);
    m.setIntProperty("int", 70_000);
    m.setLongProperty("long", 1L << 40);
    m.setFloatProperty("float", 1.5f);
    m.setDoubleProperty("double", 2.5);
    m.setStringProperty("string", "text");
    p.send(m, DeliveryMode.PERSISTENT, 6, 60_000);

    GetResponse r = get(name); // JMS queue X = AMQP queue X
    assertNotNull(r, "the JMS message reached AMQP queue " + name);
    AMQP.BasicProperties props = r.getProps();
    assertEquals("héllo AMQP \uD83D\uDE00", new String(r.getBody(), StandardCharsets.UTF_8));
    assertEquals("text/plain; charset=utf-8", props.getContentType());
    assertEquals(2, props.getDeliveryMode());
    assertEquals(6, props.getPriority());
    assertEquals("corr-42", props.getCorrelationId());
    assertEquals("order.created", props.getType());
    assertEquals(name + ".reply", props.getReplyTo());
    assertEquals(m.getJMSMessageID(), props.getMessageId());
    int exp = Integer.parseInt(props.getExpiration());
    assertTrue(exp > 50_000 && exp <= 60_000, "relative expiration " + exp);
    assertEquals(m.getJMSTimestamp() / 1000, props.getTimestamp().getTime() / 1000);
    Map<String, Object> h = props.getHeaders();
    assertEquals(m.getJMSTimestamp(), h.get("JMSTimestamp"));
    assertEquals("text", String.valueOf(h.get("x-jms-msg-type")));
    assertEquals(Boolean.TRUE, h.get("bool"));
    assertEquals(Byte.valueOf((byte) 7), h.get("byte"));
    assertEquals(Short.valueOf((short) 300), h.get("short"));
    assertEquals(Integer.valueOf(70_000), h.get("int"));
    assertEquals(Long.valueOf(1L << 40), h.get("long"));
    assertEquals(Float.valueOf(1.5f), h.get("float"));
    assertEquals(Double.valueOf(2.5), h.get("double"));
    assertEquals("text", String.valueOf(h.get("string")));
  }

  @Test
  void jmsBodyTypesToAmqpContentTypes() throws Exception {
    String name = Env.name("bodies2amqp");
    Queue q = session.createQueue(name);
    MessageProducer p = session.createProducer(q);
    BytesMessage b = session.createBytesMessage();
    b.writeBytes(new byte[] {0, 1, 2, (byte) 0xff});
    p.send(b);
    MapMessage map = session.createMapMessage();
    map.setString("name", "widget");
    map.setInt("qty", 3);
    p.send(map);
    StreamMessage st = session.createStreamMessage();
    st.writeString("a");
    st.writeInt(1);
    p.send(st);
    p.send(session.createObjectMessage(new java.util.ArrayList<>(java.util.List.of("x"))));

    GetResponse rb = get(name);
    assertEquals("application/octet-stream", rb.getProps().getContentType());
    assertEquals("bytes", String.valueOf(rb.getProps().getHeaders().get("x-jms-msg-type")));
    assertArrayEquals(new byte[] {0, 1, 2, (byte) 0xff}, rb.getBody());
    GetResponse rm = get(name);
    assertEquals("application/json", rm.getProps().getContentType());
    assertEquals("map", String.valueOf(rm.getProps().getHeaders().get("x-jms-msg-type")));
    String json = new String(rm.getBody(), StandardCharsets.UTF_8).replace(" ", "");
    assertTrue(json.startsWith("{") && json.contains("\"name\":\"widget\"") && json.contains("\"qty\":3"), json);
    GetResponse rs = get(name);
    assertEquals("application/json", rs.getProps().getContentType());
    assertEquals("stream", String.valueOf(rs.getProps().getHeaders().get("x-jms-msg-type")));
    assertEquals("[\"a\",1]", new String(rs.getBody(), StandardCharsets.UTF_8).replace(" ", ""));
    GetResponse ro = get(name);
    assertEquals("application/x-java-serialized-object", ro.getProps().getContentType());
    assertEquals("object", String.valueOf(ro.getProps().getHeaders().get("x-jms-msg-type")));
    assertEquals((byte) 0xac, ro.getBody()[0]); // Java serialization stream magic
    assertEquals((byte) 0xed, ro.getBody()[1]);
  }

  @Test
  void amqpPublishToJmsConsumerPicksTheMessageType() throws Exception {
    String name = Env.name("amqp2jms");
    Queue q = session.createQueue(name);
    MessageConsumer consumer = session.createConsumer(q); // creates queue `name`
    Thread.sleep(200);
    Map<String, Object> headers = new HashMap<>();
    headers.put("int", 5);
    headers.put("long", 5_000_000_000L);
    headers.put("bool", true);
    headers.put("string", "s");
    headers.put("JMSTimestamp", 1_700_000_000_123L);
    ch.basicPublish("", name,
        new AMQP.BasicProperties.Builder().contentType("text/plain; charset=utf-8")
            .correlationId("c1").type("t1").priority(3).deliveryMode(2).replyTo(name + ".r")
            .timestamp(new java.util.Date(1_700_000_000_000L)).headers(headers).build(),
        "héllo JMS".getBytes(StandardCharsets.UTF_8));
    ch.basicPublish("", name,
        new AMQP.BasicProperties.Builder().contentType("application/octet-stream").build(),
        new byte[] {1, 2, 3});
    ch.basicPublish("", name, new AMQP.BasicProperties.Builder().build(), new byte[] {4});
    ch.basicPublish("", name,
        new AMQP.BasicProperties.Builder().contentType("application/octet-stream")
            .headers(Map.of("x-jms-msg-type", "text")).build(),
        "typed as text".getBytes(StandardCharsets.UTF_8));

    TextMessage t = assertInstanceOf(TextMessage.class, consumer.receive(5_000));
    assertEquals("héllo JMS", t.getText());
    assertEquals("c1", t.getJMSCorrelationID());
    assertEquals("t1", t.getJMSType());
    assertEquals(3, t.getJMSPriority());
    assertEquals(DeliveryMode.PERSISTENT, t.getJMSDeliveryMode());
    assertEquals(session.createQueue(name + ".r"), t.getJMSReplyTo());
    assertEquals(1_700_000_000_123L, t.getJMSTimestamp());
    assertEquals(Integer.valueOf(5), t.getObjectProperty("int"));
    assertEquals(Long.valueOf(5_000_000_000L), t.getObjectProperty("long"));
    assertEquals(Boolean.TRUE, t.getObjectProperty("bool"));
    assertEquals("s", t.getObjectProperty("string"));

    BytesMessage b = assertInstanceOf(BytesMessage.class, consumer.receive(5_000));
    assertEquals(3, b.getBodyLength());
    BytesMessage none = assertInstanceOf(BytesMessage.class, consumer.receive(5_000));
    assertEquals(1, none.getBodyLength());
    TextMessage typed = assertInstanceOf(TextMessage.class, consumer.receive(5_000));
    assertEquals("typed as text", typed.getText());
  }

  @Test
  void jmsTopicToAmqpQueueBoundToAmqTopic() throws Exception {
    String key = Env.name("topic");
    String q = ch.queueDeclare().getQueue();
    ch.queueBind(q, "amq.topic", key);
    String wq = ch.queueDeclare().getQueue();
    ch.queueBind(wq, "amq.topic", key + ".#");
    Topic t = session.createTopic(key);
    session.createProducer(t).send(session.createTextMessage("to amq.topic"));
    session.createProducer(session.createTopic(key + ".a.b"))
        .send(session.createTextMessage("deeper"));
    GetResponse r = get(q);
    assertNotNull(r);
    assertEquals("to amq.topic", new String(r.getBody(), StandardCharsets.UTF_8));
    assertEquals("amq.topic", r.getEnvelope().getExchange());
    assertEquals(key, r.getEnvelope().getRoutingKey());
    // AMQP's `#` matches zero or more words, so `key.#` also takes the message sent to `key`.
    GetResponse w0 = get(wq);
    assertNotNull(w0);
    assertEquals("to amq.topic", new String(w0.getBody(), StandardCharsets.UTF_8));
    GetResponse w = get(wq);
    assertNotNull(w);
    assertEquals("deeper", new String(w.getBody(), StandardCharsets.UTF_8));
  }

  @Test
  void amqpPublishToAmqTopicReachesJmsTopicSubscribers() throws Exception {
    String key = Env.name("topic");
    MessageConsumer exact = session.createConsumer(session.createTopic(key));
    MessageConsumer wildcard = session.createConsumer(session.createTopic(key + ".>"));
    Thread.sleep(200);
    ch.basicPublish("amq.topic", key,
        new AMQP.BasicProperties.Builder().contentType("text/plain").build(),
        "exact".getBytes(StandardCharsets.UTF_8));
    ch.basicPublish("amq.topic", key + ".x.y",
        new AMQP.BasicProperties.Builder().contentType("text/plain").build(),
        "deep".getBytes(StandardCharsets.UTF_8));
    Message m = exact.receive(5_000);
    assertEquals("exact", ((TextMessage) m).getText());
    // `key.>` matches zero or more words after `key`, as on ActiveMQ: it gets both.
    Message w = wildcard.receive(5_000);
    assertEquals("exact", ((TextMessage) w).getText());
    Message d = wildcard.receive(5_000);
    assertEquals("deep", ((TextMessage) d).getText());
  }
}
