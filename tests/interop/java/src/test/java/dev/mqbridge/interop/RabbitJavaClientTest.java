package dev.mqbridge.interop;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.BuiltinExchangeType;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import com.rabbitmq.client.GetResponse;
import com.rabbitmq.client.LongString;
import com.rabbitmq.client.MessageProperties;
import com.rabbitmq.client.ShutdownSignalException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Interop tests with the RabbitMQ Java client. The broker comes from AMQP_URL. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class RabbitJavaClientTest {

  private Connection conn;
  private final List<String> queues = new ArrayList<>();

  static ConnectionFactory factory() throws Exception {
    String url = System.getenv("AMQP_URL");
    assertNotNull(url, "AMQP_URL must be set (amqp://guest:guest@127.0.0.1:PORT/%2f)");
    assertFalse(url.isBlank(), "AMQP_URL must be set");
    ConnectionFactory f = new ConnectionFactory();
    f.setUri(url);
    f.setAutomaticRecoveryEnabled(false);
    f.setConnectionTimeout(10_000);
    return f;
  }

  String queue(String label) {
    String q = "it.java." + UUID.randomUUID().toString().substring(0, 8) + "." + label;
    queues.add(q);
    return q;
  }

  @BeforeEach
  void connect() throws Exception {
    conn = factory().newConnection("mqbridge-interop-java");
  }

  @AfterEach
  void cleanup() throws Exception {
    try (Connection c = factory().newConnection()) {
      for (String q : queues) {
        Channel ch = c.createChannel();
        try {
          ch.queueDelete(q);
          ch.close();
        } catch (IOException | ShutdownSignalException ignored) {
          // already gone
        }
      }
    }
    if (conn != null && conn.isOpen()) {
      conn.close();
    }
  }

  static int settledCount(Channel ch, String q, int expected) throws Exception {
    int n = -1;
    for (int i = 0; i < 60; i++) {
      n = ch.queueDeclarePassive(q).getMessageCount();
      if (n == expected) {
        return n;
      }
      Thread.sleep(50);
    }
    return n;
  }

  @Test
  void connectsAndReportsServerProperties() throws Exception {
    assertTrue(conn.isOpen());
    Map<String, Object> props = conn.getServerProperties();
    @SuppressWarnings("unchecked")
    Map<String, Object> caps = (Map<String, Object>) props.get("capabilities");
    assertNotNull(caps);
    assertEquals(Boolean.TRUE, caps.get("publisher_confirms"));
    assertEquals(Boolean.TRUE, caps.get("consumer_cancel_notify"));
    assertTrue(conn.getFrameMax() >= 4096);
    Channel ch = conn.createChannel();
    assertTrue(ch.isOpen());
    ch.close();
  }

  @Test
  void publisherConfirmsWaitForConfirmsOrDie() throws Exception {
    Channel ch = conn.createChannel();
    String q = queue("confirms");
    ch.queueDeclare(q, true, false, false, null);
    ch.confirmSelect();
    long firstSeq = ch.getNextPublishSeqNo();
    assertEquals(1, firstSeq);
    for (int i = 0; i < 500; i++) {
      ch.basicPublish("", q, MessageProperties.PERSISTENT_BASIC, ("c" + i).getBytes(StandardCharsets.UTF_8));
    }
    assertEquals(501, ch.getNextPublishSeqNo());
    ch.waitForConfirmsOrDie(10_000);
    assertEquals(500, settledCount(ch, q, 500));
  }

  @Test
  void headersWithTypedValuesRoundTripExactly() throws Exception {
    Channel ch = conn.createChannel();
    String q = queue("headers");
    ch.queueDeclare(q, false, false, false, null);
    Map<String, Object> nested = new HashMap<>();
    nested.put("inner-int", 7);
    nested.put("inner-str", "deep");
    Map<String, Object> headers = new HashMap<>();
    headers.put("int", 42);
    headers.put("negative-int", -2_000_000_000);
    headers.put("long", 9_000_000_000L);
    headers.put("bool-true", true);
    headers.put("bool-false", false);
    headers.put("double", 3.141592653589793);
    headers.put("string", "héllo wörld");
    headers.put("nested", nested);
    headers.put("list", List.of(1, "two", 3L));
    headers.put("bytes", new byte[] {0, 1, (byte) 0xff});
    AMQP.BasicProperties props = new AMQP.BasicProperties.Builder()
        .headers(headers).contentType("application/octet-stream").messageId("typed-1").build();
    ch.basicPublish("", q, props, new byte[] {1, 2, 3});
    GetResponse r = null;
    for (int i = 0; i < 50 && r == null; i++) {
      r = ch.basicGet(q, true);
      if (r == null) {
        Thread.sleep(50);
      }
    }
    assertNotNull(r);
    assertArrayEquals(new byte[] {1, 2, 3}, r.getBody());
    Map<String, Object> got = r.getProps().getHeaders();
    assertEquals(headers.size(), got.size());
    assertInstanceOf(Integer.class, got.get("int"));
    assertEquals(42, got.get("int"));
    assertEquals(-2_000_000_000, got.get("negative-int"));
    assertInstanceOf(Long.class, got.get("long"));
    assertEquals(9_000_000_000L, got.get("long"));
    assertEquals(Boolean.TRUE, got.get("bool-true"));
    assertEquals(Boolean.FALSE, got.get("bool-false"));
    assertInstanceOf(Double.class, got.get("double"));
    assertEquals(3.141592653589793, (Double) got.get("double"), 0.0);
    assertInstanceOf(LongString.class, got.get("string"));
    assertEquals("héllo wörld", got.get("string").toString());
    @SuppressWarnings("unchecked")
    Map<String, Object> gotNested = (Map<String, Object>) got.get("nested");
    assertEquals(7, gotNested.get("inner-int"));
    assertEquals("deep", gotNested.get("inner-str").toString());
    List<?> list = (List<?>) got.get("list");
    assertEquals(3, list.size());
    assertEquals(1, list.get(0));
    assertEquals("two", list.get(1).toString());
    assertEquals(3L, list.get(2));
    assertArrayEquals(new byte[] {0, 1, (byte) 0xff}, (byte[]) got.get("bytes"));
    assertEquals("application/octet-stream", r.getProps().getContentType());
    assertEquals("typed-1", r.getProps().getMessageId());
  }

  @Test
  void consumeAndAck() throws Exception {
    Channel ch = conn.createChannel();
    String q = queue("consume");
    ch.queueDeclare(q, false, false, false, null);
    ch.basicQos(5);
    BlockingQueue<String> got = new LinkedBlockingQueue<>();
    CountDownLatch all = new CountDownLatch(30);
    String tag = ch.basicConsume(q, false, new DefaultConsumer(ch) {
      @Override
      public void handleDelivery(String consumerTag, Envelope env, AMQP.BasicProperties p, byte[] body)
          throws IOException {
        got.add(new String(body, StandardCharsets.UTF_8) + (env.isRedeliver() ? "!" : ""));
        getChannel().basicAck(env.getDeliveryTag(), false);
        all.countDown();
      }
    });
    assertNotNull(tag);
    Channel pub = conn.createChannel();
    for (int i = 0; i < 30; i++) {
      pub.basicPublish("", q, null, ("m" + i).getBytes(StandardCharsets.UTF_8));
    }
    assertTrue(all.await(10, TimeUnit.SECONDS), "all 30 delivered");
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      expected.add("m" + i);
    }
    assertEquals(expected, new ArrayList<>(got));
    ch.basicCancel(tag);
    Thread.sleep(200);
    assertEquals(0, ch.queueDeclarePassive(q).getMessageCount());
    assertEquals(0, ch.queueDeclarePassive(q).getConsumerCount());
  }

  @Test
  void basicGetAndGetEmpty() throws Exception {
    Channel ch = conn.createChannel();
    String q = queue("get");
    ch.queueDeclare(q, false, false, false, null);
    assertNull(ch.basicGet(q, true));
    ch.basicPublish("", q, null, "a".getBytes(StandardCharsets.UTF_8));
    ch.basicPublish("", q, null, "b".getBytes(StandardCharsets.UTF_8));
    assertEquals(2, settledCount(ch, q, 2));
    GetResponse r = ch.basicGet(q, false);
    assertEquals("a", new String(r.getBody(), StandardCharsets.UTF_8));
    assertEquals(1, r.getMessageCount());
    assertFalse(r.getEnvelope().isRedeliver());
    assertEquals(q, r.getEnvelope().getRoutingKey());
    ch.basicReject(r.getEnvelope().getDeliveryTag(), true);
    GetResponse again = ch.basicGet(q, true);
    assertEquals("a", new String(again.getBody(), StandardCharsets.UTF_8));
    assertTrue(again.getEnvelope().isRedeliver());
    assertEquals("b", new String(ch.basicGet(q, true).getBody(), StandardCharsets.UTF_8));
    assertNull(ch.basicGet(q, true));
  }

  @Test
  void channelError404ThenConnectionStillWorks() throws Exception {
    Channel ch = conn.createChannel();
    String missing = queue("missing");
    IOException e = assertThrows(IOException.class, () -> ch.queueDeclarePassive(missing));
    ShutdownSignalException sse = assertInstanceOf(ShutdownSignalException.class, e.getCause());
    assertFalse(sse.isHardError(), "a channel error, not a connection error");
    AMQP.Channel.Close close = (AMQP.Channel.Close) sse.getReason();
    assertEquals(404, close.getReplyCode());
    assertTrue(close.getReplyText().startsWith("NOT_FOUND - no queue"), close.getReplyText());
    assertFalse(ch.isOpen());
    assertTrue(conn.isOpen());
    Channel ch2 = conn.createChannel();
    String q = ch2.queueDeclare().getQueue();
    assertTrue(q.startsWith("amq.gen-"), q);
    ch2.basicPublish("", q, null, "after-error".getBytes(StandardCharsets.UTF_8));
    GetResponse r = null;
    for (int i = 0; i < 50 && r == null; i++) {
      r = ch2.basicGet(q, true);
      if (r == null) {
        Thread.sleep(50);
      }
    }
    assertNotNull(r);
    assertEquals("after-error", new String(r.getBody(), StandardCharsets.UTF_8));
  }

  @Test
  void consumerCancelNotificationOnQueueDelete() throws Exception {
    Channel ch = conn.createChannel();
    String q = queue("cancel");
    ch.queueDeclare(q, false, false, false, null);
    BlockingQueue<String> cancelled = new LinkedBlockingQueue<>();
    String tag = ch.basicConsume(q, true, new DefaultConsumer(ch) {
      @Override
      public void handleCancel(String consumerTag) {
        cancelled.add(consumerTag);
      }
    });
    try (Connection other = factory().newConnection()) {
      Channel och = other.createChannel();
      och.queueDelete(q);
    }
    String got = cancelled.poll(10, TimeUnit.SECONDS);
    assertEquals(tag, got, "broker-initiated basic.cancel for our consumer");
    assertTrue(ch.isOpen(), "channel stays open after a consumer cancel");
    assertEquals(Collections.emptyList(), new ArrayList<>(cancelled));
  }

  @Test
  void topicExchangeAndMandatoryReturn() throws Exception {
    Channel ch = conn.createChannel();
    String x = "it.java." + UUID.randomUUID().toString().substring(0, 8) + ".topic";
    ch.exchangeDeclare(x, BuiltinExchangeType.TOPIC, false, true, null);
    String q = ch.queueDeclare().getQueue();
    ch.queueBind(q, x, "a.*");
    BlockingQueue<Integer> returns = new LinkedBlockingQueue<>();
    ch.addReturnListener(ret -> returns.add(ret.getReplyCode()));
    ch.basicPublish(x, "a.b", true, null, "routed".getBytes(StandardCharsets.UTF_8));
    ch.basicPublish(x, "b.c", true, null, "unroutable".getBytes(StandardCharsets.UTF_8));
    assertEquals(312, returns.poll(10, TimeUnit.SECONDS));
    GetResponse r = ch.basicGet(q, true);
    assertNotNull(r);
    assertEquals("routed", new String(r.getBody(), StandardCharsets.UTF_8));
    assertNull(returns.poll(200, TimeUnit.MILLISECONDS));
  }
}
