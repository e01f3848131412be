package dev.mqbridge.interop.openwire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.jms.BytesMessage;
import javax.jms.Connection;
import javax.jms.DeliveryMode;
import javax.jms.Destination;
import javax.jms.InvalidClientIDException;
import javax.jms.InvalidDestinationException;
import javax.jms.JMSException;
import javax.jms.MapMessage;
import javax.jms.Message;
import javax.jms.MessageConsumer;
import javax.jms.MessageProducer;
import javax.jms.ObjectMessage;
import javax.jms.Queue;
import javax.jms.QueueBrowser;
import javax.jms.Session;
import javax.jms.StreamMessage;
import javax.jms.TemporaryQueue;
import javax.jms.TemporaryTopic;
import javax.jms.TextMessage;
import javax.jms.Topic;
import javax.jms.TopicSubscriber;
import org.apache.activemq.ActiveMQConnection;
import org.apache.activemq.ActiveMQConnectionFactory;
import org.apache.activemq.ActiveMQSession;
import org.apache.activemq.DestinationDoesNotExistException;
import org.apache.activemq.transport.TransportListener;
import org.apache.activemq.util.MarshallingSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The stock ActiveMQ JMS client against OPENWIRE_URL: every JMS feature a legacy application
 * uses. Runs unchanged against ActiveMQ 5.17 (BROKER_KIND=activemq, the reference) and mqbridge;
 * the few broker-specific assertions branch on {@link Env#isActiveMq()} and are listed in
 * tests/interop/README.md. CI (scripts/test.sh) runs the whole class against both.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class JmsClientTest {
  static final long WAIT = 5_000;

  private final List<Connection> connections = new ArrayList<>();

  Connection open() throws JMSException {
    return open(Env.factory());
  }

  Connection open(ActiveMQConnectionFactory f) throws JMSException {
    Connection c = f.createConnection();
    connections.add(c);
    c.start();
    return c;
  }

  @AfterEach
  void closeAll() {
    Collections.reverse(connections);
    for (Connection c : connections) {
      try {
        c.close();
      } catch (JMSException ignored) {
        // the test may have closed it, or the broker went away
      }
    }
  }

  static List<String> drainTexts(MessageConsumer c, long firstWait, long nextWait)
      throws JMSException {
    List<String> out = new ArrayList<>();
    Message m = c.receive(firstWait);
    while (m != null) {
      out.add(((TextMessage) m).getText());
      m = c.receive(nextWait);
    }
    return out;
  }

  static void sendTexts(Session s, Destination d, String... texts) throws JMSException {
    MessageProducer p = s.createProducer(d);
    for (String t : texts) {
      p.send(s.createTextMessage(t));
    }
    p.close();
  }

  // ------------------------------------------------------------------ connection, sessions

  @Test
  void connectWithClientIdAndDuplicateIsRefused() throws Exception {
    String id = Env.name("client");
    Connection c = Env.factory().createConnection();
    connections.add(c);
    c.setClientID(id);
    c.start();
    assertEquals(id, c.getClientID());
    Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
    Queue q = s.createQueue(Env.name("cid"));
    sendTexts(s, q, "hello");
    assertEquals("hello", ((TextMessage) s.createConsumer(q).receive(WAIT)).getText());

    Connection dup = Env.factory().createConnection();
    connections.add(dup);
    JMSException e =
        assertThrows(
            JMSException.class,
            () -> {
              dup.setClientID(id);
              dup.start();
            });
    assertInstanceOf(InvalidClientIDException.class, e, e.toString());
  }

  @Test
  void sessionsProducersConsumersOnOneConnection() throws Exception {
    Connection c = open();
    Session s1 = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
    Session s2 = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
    Queue q = s1.createQueue(Env.name("sessions"));
    MessageConsumer consumer = s2.createConsumer(q);
    MessageProducer p = s1.createProducer(q);
    assertEquals(DeliveryMode.PERSISTENT, p.getDeliveryMode());
    for (int i = 0; i < 5; i++) {
      TextMessage m = s1.createTextMessage("m" + i);
      p.send(m);
      assertNotNull(m.getJMSMessageID());
      assertTrue(m.getJMSMessageID().startsWith("ID:"), m.getJMSMessageID());
    }
    p.setDeliveryMode(DeliveryMode.NON_PERSISTENT);
    p.send(s1.createTextMessage("np"));
    Set<String> ids = new HashSet<>();
    for (int i = 0; i < 5; i++) {
      Message m = consumer.receive(WAIT);
      assertNotNull(m, "message " + i);
      assertEquals("m" + i, ((TextMessage) m).getText());
      assertEquals(DeliveryMode.PERSISTENT, m.getJMSDeliveryMode());
      assertEquals(q, m.getJMSDestination());
      assertFalse(m.getJMSRedelivered());
      assertTrue(ids.add(m.getJMSMessageID()), "message ids are unique");
    }
    Message np = consumer.receive(WAIT);
    assertEquals("np", ((TextMessage) np).getText());
    assertEquals(DeliveryMode.NON_PERSISTENT, np.getJMSDeliveryMode());
    assertNull(consumer.receive(300));
  }

  // ------------------------------------------------------------------ prefetch, selectors

  @Test
  void prefetchOneHoldsOnlyOneMessage() throws Exception {
    ActiveMQConnectionFactory one = Env.factory();
    one.getPrefetchPolicy().setQueuePrefetch(1);
    Connection ca = open(one);
    Session sa = ca.createSession(false, Session.AUTO_ACKNOWLEDGE);
    Queue q = sa.createQueue(Env.name("prefetch"));
    String[] texts = new String[10];
    for (int i = 0; i < texts.length; i++) {
      texts[i] = "m" + i;
    }
    sendTexts(sa, q, texts);

    CountDownLatch got = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    List<String> seenByA = Collections.synchronizedList(new ArrayList<>());
    sa.createConsumer(q)
        .setMessageListener(
            m -> {
              try {
                seenByA.add(((TextMessage) m).getText());
                got.countDown();
                release.await(20, TimeUnit.SECONDS);
              } catch (Exception e) {
                throw new RuntimeException(e);
              }
            });
    assertTrue(got.await(WAIT, TimeUnit.MILLISECONDS), "A got its first message");
    Thread.sleep(300);

    // A (prefetch 1) is blocked in onMessage: the broker must not have given it any other one.
    Connection cb = open();
    Session sb = cb.createSession(false, Session.AUTO_ACKNOWLEDGE);
    List<String> b = drainTexts(sb.createConsumer(q), WAIT, 1_000);
    assertEquals(9, b.size(), "B got every message but A's one: " + b + " A: " + seenByA);
    assertEquals(List.of("m0"), seenByA);
    assertFalse(b.contains("m0"));
    release.countDown();
  }

  @Test
  void selectorsFilterOnTypedProperties() throws Exception {
    Connection c = open();
    Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
    Queue q = s.createQueue(Env.name("selector"));
    MessageProducer p = s.createProducer(q);
    for (int i = 0; i < 6; i++) {
      TextMessage m = s.createTextMessage("m" + i);
      m.setIntProperty("n", i);
      m.setStringProperty("color", i % 2 == 0 ? "red" : "blue");
      m.setJMSType(i == 5 ? "special" : "plain");
      p.send(m);
    }
    MessageConsumer red = s.createConsumer(q, "color = 'red' AND n > 1");
    assertEquals(List.of("m2", "m4"), drainTexts(red, WAIT, 500));
    red.close();
    MessageConsumer typed = s.createConsumer(q, "JMSType = 'special' OR n = 1");
    assertEquals(List.of("m1", "m5"), drainTexts(typed, WAIT, 500));
    typed.close();
    assertEquals(List.of("m0", "m3"), drainTexts(s.createConsumer(q), WAIT, 500));
  }

  @Test
  void noLocalTopicConsumerSkipsItsOwnConnection() throws Exception {
    Connection c1 = open();
    Connection c2 = open();
    Session s1 = c1.createSession(false, Session.AUTO_ACKNOWLEDGE);
    Session s2 = c2.createSession(false, Session.AUTO_ACKNOWLEDGE);
    Topic t = s1.createTopic(Env.name("nolocal"));
    MessageConsumer noLocal = s1.createConsumer(t, null, true);
    MessageConsumer all = s1.createConsumer(t, null, false);
    sendTexts(s1, t, "local");
    sendTexts(s2, t, "remote");
    assertEquals(List.of("remote"), drainTexts(noLocal, WAIT, 500));
    List<String> everything = drainTexts(all, WAIT, 500);
    Collections.sort(everything);
    assertEquals(List.of("local", "remote"), everything);
  }

  @Test
  void exclusiveConsumerGetsEverythingUntilItCloses() throws Exception {
    Connection c = open();
    Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
    String name = Env.name("exclusive");
    Queue q = s.createQueue(name + "?consumer.exclusive=true");
    MessageConsumer first = s.createConsumer(q);
    MessageConsumer second = s.createConsumer(q);
    sendTexts(s, s.createQueue(name), "a", "b", "c", "d");
    assertEquals(List.of("a", "b", "c", "d"), drainTexts(first, WAIT, 500));
    assertNull(second.receive(300));
    first.close();
    sendTexts(s, s.createQueue(name), "e");
    assertEquals(List.of("e"), drainTexts(second, WAIT, 300));
  }

  // ------------------------------------------------------------------ durable subscriptions

  @Test
  void durableSubscriptionKeepsMessagesWhileOfflineAndUnsubscribeDropsIt() throws Exception {
    String clientId = Env.name("durable-client");
    Connection c = Env.factory().createConnection();
    connections.add(c);
    c.setClientID(clientId);
    c.start();
    Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
    Topic t = s.createTopic(Env.name("durable"));
    TopicSubscriber sub = s.createDurableSubscriber(t, "sub1");
    sendTexts(s, t, "online");
    assertEquals(List.of("online"), drainTexts(sub, WAIT, 300));
    // an active subscription cannot be removed
    assertThrows(JMSException.class, () -> s.unsubscribe("sub1"));
    sub.close();

    sendTexts(s, t, "offline1", "offline2");
    sub = s.createDurableSubscriber(t, "sub1");
    assertEquals(List.of("offline1", "offline2"), drainTexts(sub, WAIT, 500));
    sub.close();

    sendTexts(s, t, "offline3");
    s.unsubscribe("sub1");
    sendTexts(s, t, "after-unsubscribe");
    sub = s.createDurableSubscriber(t, "sub1");
    assertNull(sub.receive(500), "a new subscription starts empty");
    sendTexts(s, t, "new");
    assertEquals(List.of("new"), drainTexts(sub, WAIT, 300));
    sub.close();
    s.unsubscribe("sub1");
  }

  // ------------------------------------------------------------------ acks and redelivery

  @Test
  void redeliveryCounterAfterConsumerCloseWithoutAck() throws Exception {
    Connection c = open();
    Session s = c.createSession(false, Session.CLIENT_ACKNOWLEDGE);
    Queue q = s.createQueue(Env.name("redelivery"));
    sendTexts(s, q, "x");
    for (int delivery = 1; delivery <= 3; delivery++) {
      MessageConsumer consumer = s.createConsumer(q);
      Message m = consumer.receive(WAIT);
      assertNotNull(m, "delivery " + delivery);
      assertEquals("x", ((TextMessage) m).getText());
      assertEquals(delivery > 1, m.getJMSRedelivered(), "JMSRedelivered on delivery " + delivery);
      assertEquals(delivery, m.getIntProperty("JMSXDeliveryCount"));
      if (delivery == 3) {
        m.acknowledge();
      }
      consumer.close();
    }
    assertNull(s.createConsumer(q).receive(500));
  }

  @Test
  void autoAcknowledge() throws Exception {
    Connection c = open();
    Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
    Queue q = s.createQueue(Env.name("auto"));
    sendTexts(s, q, "a", "b", "c");
    MessageConsumer consumer = s.createConsumer(q);
    assertEquals(List.of("a", "b", "c"), drainTexts(consumer, WAIT, 300));
    consumer.close();
    assertNull(s.createConsumer(q).receive(500), "auto-acked messages are gone");
  }

  @Test
  void clientAcknowledgeAcksEverythingConsumedInTheSession() throws Exception {
    Connection c = open();
    Session s = c.createSession(false, Session.CLIENT_ACKNOWLEDGE);
    Queue q = s.createQueue(Env.name("client"));
    sendTexts(s, q, "a", "b", "c", "d");
    MessageConsumer consumer = s.createConsumer(q);
    Message a = consumer.receive(WAIT);
    Message b = consumer.receive(WAIT);
    Message cc = consumer.receive(WAIT);
    assertEquals("c", ((TextMessage) cc).getText());
    b.acknowledge(); // acknowledges a, b and c
    Message d = consumer.receive(WAIT);
    assertEquals("d", ((TextMessage) d).getText());
    consumer.close(); // d is not acknowledged
    assertNotNull(a);
    MessageConsumer again = s.createConsumer(q);
    Message redelivered = again.receive(WAIT);
    assertEquals("d", ((TextMessage) redelivered).getText());
    assertTrue(redelivered.getJMSRedelivered());
    redelivered.acknowledge();
    assertNull(again.receive(500));
  }

  @Test
  void dupsOkAcknowledge() throws Exception {
    Connection c = open();
    Session s = c.createSession(false, Session.DUPS_OK_ACKNOWLEDGE);
    Queue q = s.createQueue(Env.name("dupsok"));
    sendTexts(s, q, "a", "b", "c");
    MessageConsumer consumer = s.createConsumer(q);
    assertEquals(List.of("a", "b", "c"), drainTexts(consumer, WAIT, 300));
    consumer.close(); // lazy acks are flushed at close
    Connection other = open();
    Session s2 = other.createSession(false, Session.AUTO_ACKNOWLEDGE);
    assertNull(s2.createConsumer(q).receive(500), "dups-ok acked messages are gone");
  }

  @Test
  void individualAcknowledgeAcksOnlyThatMessage() throws Exception {
    Connection c = open();
    Session s = c.createSession(false, ActiveMQSession.INDIVIDUAL_ACKNOWLEDGE);
    Queue q = s.createQueue(Env.name("individual"));
    sendTexts(s, q, "a", "b", "c");
    MessageConsumer consumer = s.createConsumer(q);
    List<Message> got = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      got.add(consumer.receive(WAIT));
    }
    assertEquals("b", ((TextMessage) got.get(1)).getText());
    got.get(1).acknowledge();
    consumer.close();
    MessageConsumer again = s.createConsumer(q);
    List<String> rest = new ArrayList<>();
    for (Message m = again.receive(WAIT); m != null; m = again.receive(500)) {
      assertTrue(m.getJMSRedelivered(), "redelivered flag on " + ((TextMessage) m).getText());
      assertEquals(2, m.getIntProperty("JMSXDeliveryCount"));
      rest.add(((TextMessage) m).getText());
      m.acknowledge();
    }
    assertEquals(List.of("a", "c"), rest);
  }

  // ------------------------------------------------------------------ transactions

  @Test
  void transactedSendsAreInvisibleUntilCommitAndRollbackDiscards() throws Exception {
    Connection c = open();
    Session tx = c.createSession(true, Session.SESSION_TRANSACTED);
    Session plain = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
    Queue q = tx.createQueue(Env.name("txsend"));
    MessageConsumer consumer = plain.createConsumer(q);
    MessageProducer p = tx.createProducer(q);
    p.send(tx.createTextMessage("one"));
    p.send(tx.createTextMessage("two"));
    assertNull(consumer.receive(500), "uncommitted sends are not delivered");
    tx.commit();
    assertEquals(List.of("one", "two"), drainTexts(consumer, WAIT, 300));
    p.send(tx.createTextMessage("rolled-back"));
    tx.rollback();
    p.send(tx.createTextMessage("three"));
    tx.commit();
    assertEquals(List.of("three"), drainTexts(consumer, WAIT, 500));
  }

  @Test
  void transactedReceiveRollbackRedeliversWithFlags() throws Exception {
    Connection c = open();
    Session tx = c.createSession(true, Session.SESSION_TRANSACTED);
    Queue q = tx.createQueue(Env.name("txrecv"));
    sendTexts(c.createSession(false, Session.AUTO_ACKNOWLEDGE), q, "a", "b");
    MessageConsumer consumer = tx.createConsumer(q);
    Message a = consumer.receive(WAIT);
    Message b = consumer.receive(WAIT);
    assertEquals("a", ((TextMessage) a).getText());
    assertEquals("b", ((TextMessage) b).getText());
    assertFalse(a.getJMSRedelivered());
    tx.rollback();
    Message a2 = consumer.receive(WAIT);
    Message b2 = consumer.receive(WAIT);
    assertEquals("a", ((TextMessage) a2).getText());
    assertEquals("b", ((TextMessage) b2).getText());
    assertTrue(a2.getJMSRedelivered());
    assertEquals(2, a2.getIntProperty("JMSXDeliveryCount"));
    assertEquals(a.getJMSMessageID(), a2.getJMSMessageID());
    tx.commit();
    consumer.close();
    assertNull(tx.createConsumer(q).receive(500), "committed receives are gone");
    tx.commit();
  }

  // ------------------------------------------------------------------ prefetch 0 (pull)

  @Test
  void prefetchZeroReceiveVariants() throws Exception {
    ActiveMQConnectionFactory zero = Env.factory();
    zero.getPrefetchPolicy().setQueuePrefetch(0);
    Connection c = open(zero);
    Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
    Queue q = s.createQueue(Env.name("pull"));
    MessageConsumer consumer = s.createConsumer(q);
    MessageConsumer other = s.createConsumer(q);

    assertNull(consumer.receiveNoWait(), "receiveNoWait on an empty queue");
    long t0 = System.nanoTime();
    assertNull(consumer.receive(600), "receive(timeout) on an empty queue");
    long waited = (System.nanoTime() - t0) / 1_000_000;
    assertTrue(waited >= 450, "receive(600) returned after " + waited + " ms");

    sendTexts(s, q, "now");
    Message m = null;
    for (int i = 0; i < 20 && m == null; i++) { // the send may not be stored yet
      m = consumer.receiveNoWait();
      if (m == null) {
        Thread.sleep(50);
      }
    }
    assertNotNull(m, "receiveNoWait returns a waiting message");
    assertEquals("now", ((TextMessage) m).getText());

    Thread later =
        new Thread(
            () -> {
              try {
                Thread.sleep(300);
                Connection pc = open();
                sendTexts(pc.createSession(false, Session.AUTO_ACKNOWLEDGE), q, "later", "later2");
              } catch (Exception e) {
                throw new RuntimeException(e);
              }
            });
    later.start();
    Message blocking = consumer.receive();
    assertEquals("later", ((TextMessage) blocking).getText());
    // prefetch 0: "later2" was not pushed to `consumer`, so `other` can pull it
    Message timed = other.receive(WAIT);
    assertEquals("later2", ((TextMessage) timed).getText());
    later.join();
    assertNull(consumer.receiveNoWait());
  }

  // ------------------------------------------------------------------ browsers

  @Test
  void queueBrowserSeesMessagesWithoutConsumingThem() throws Exception {
    Connection c = open();
    Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
    Queue q = s.createQueue(Env.name("browse"));
    MessageProducer p = s.createProducer(q);
    for (int i = 0; i < 3; i++) {
      TextMessage m = s.createTextMessage("m" + i);
      m.setIntProperty("n", i);
      p.send(m);
    }
    List<String> seen = new ArrayList<>();
    QueueBrowser browser = s.createBrowser(q);
    Enumeration<?> e = browser.getEnumeration();
    while (e.hasMoreElements()) {
      seen.add(((TextMessage) e.nextElement()).getText());
    }
    browser.close();
    assertEquals(List.of("m0", "m1", "m2"), seen);

    QueueBrowser selective = s.createBrowser(q, "n = 1");
    List<String> sel = new ArrayList<>();
    for (Enumeration<?> e2 = selective.getEnumeration(); e2.hasMoreElements(); ) {
      sel.add(((TextMessage) e2.nextElement()).getText());
    }
    selective.close();
    assertEquals(List.of("m1"), sel);

    assertEquals(List.of("m0", "m1", "m2"), drainTexts(s.createConsumer(q), WAIT, 300));
    QueueBrowser empty = s.createBrowser(q);
    assertFalse(empty.getEnumeration().hasMoreElements(), "browser on a drained queue");
  }

  // ------------------------------------------------------------------ temporary destinations

  @Test
  void temporaryQueueAndTopic() throws Exception {
    Connection c = open();
    Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
    TemporaryQueue tq = s.createTemporaryQueue();
    sendTexts(s, tq, "to-temp-queue");
    assertEquals(List.of("to-temp-queue"), drainTexts(s.createConsumer(tq), WAIT, 300));

    TemporaryTopic tt = s.createTemporaryTopic();
    MessageConsumer sub1 = s.createConsumer(tt);
    MessageConsumer sub2 = s.createConsumer(tt);
    sendTexts(s, tt, "to-temp-topic");
    assertEquals(List.of("to-temp-topic"), drainTexts(sub1, WAIT, 300));
    assertEquals(List.of("to-temp-topic"), drainTexts(sub2, WAIT, 300));
    sub1.close();
    sub2.close();
    tt.delete();
  }

  @Test
  void requestReplyOverTemporaryQueueAcrossTwoConnections() throws Exception {
    Connection requester = open();
    Connection server = open();
    Session rs = requester.createSession(false, Session.AUTO_ACKNOWLEDGE);
    Session ss = server.createSession(false, Session.AUTO_ACKNOWLEDGE);
    Queue service = rs.createQueue(Env.name("service"));
    MessageProducer replier = ss.createProducer(null);
    ss.createConsumer(service)
        .setMessageListener(
            m -> {
              try {
                TextMessage reply =
                    ss.createTextMessage("reply to " + ((TextMessage) m).getText());
                reply.setJMSCorrelationID(m.getJMSCorrelationID());
                replier.send(m.getJMSReplyTo(), reply);
              } catch (JMSException e) {
                throw new RuntimeException(e);
              }
            });

    TemporaryQueue replies = rs.createTemporaryQueue();
    MessageConsumer replyConsumer = rs.createConsumer(replies);
    MessageProducer p = rs.createProducer(service);
    for (int i = 0; i < 3; i++) {
      TextMessage req = rs.createTextMessage("req" + i);
      req.setJMSReplyTo(replies);
      req.setJMSCorrelationID("corr-" + i);
      p.send(req);
      Message reply = replyConsumer.receive(WAIT);
      assertNotNull(reply, "reply " + i);
      assertEquals("reply to req" + i, ((TextMessage) reply).getText());
      assertEquals("corr-" + i, reply.getJMSCorrelationID());
      assertEquals(replies, reply.getJMSDestination());
    }

    // once deleted, the other connection learns it (advisory) and refuses to publish to it:
    // InvalidDestinationException from createProducer or send, whichever comes first
    replyConsumer.close();
    replies.delete();
    JMSException refused = null;
    for (int i = 0; i < 50 && refused == null; i++) {
      try {
        MessageProducer late = ss.createProducer(replies);
        late.send(ss.createTextMessage("too late"));
        late.close();
        Thread.sleep(100);
      } catch (JMSException e) {
        refused = e;
      }
    }
    assertNotNull(refused, "publishing to a deleted temporary queue is refused");
    assertTrue(
        refused instanceof InvalidDestinationException
            || refused instanceof DestinationDoesNotExistException,
        refused.toString());
  }

  // ------------------------------------------------------------------ bodies and properties

  /** An ObjectMessage payload of the application's own class. */
  static final class Payload implements Serializable {
    private static final long serialVersionUID = 1L;
    final String name;
    final int[] values;

    Payload(String name, int[] values) {
      this.name = name;
      this.values = values;
    }
  }

  static final String NON_BMP = "héllo wörld \u00e9 \u4e2d\u6587 \uD83D\uDE00 \uD834\uDD1E end";

  /**
   * For property values, MapMessage and StreamMessage strings and correlation ids: the stock
   * client's own primitive-map codec turns non-BMP characters into U+FFFD (see
   * {@link #nonBmpStringsInPropertiesComeBackAsTheClientsOwnCodecMakesThem}).
   */
  static final String BMP = "héllo wörld \u00e9 \u4e2d\u6587 \u20ac end";

  @Test
  void everyBodyTypeRoundTrips() throws Exception {
    Connection c = open();
    Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
    Queue q = s.createQueue(Env.name("bodies"));
    MessageProducer p = s.createProducer(q);

    p.send(s.createTextMessage(NON_BMP));
    byte[] all = new byte[256];
    for (int i = 0; i < all.length; i++) {
      all[i] = (byte) i;
    }
    BytesMessage bytes = s.createBytesMessage();
    bytes.writeBytes(all);
    bytes.writeInt(0x01020304);
    bytes.writeUTF(NON_BMP);
    p.send(bytes);
    MapMessage map = s.createMapMessage();
    map.setBoolean("bool", true);
    map.setByte("byte", (byte) -7);
    map.setShort("short", (short) 31000);
    map.setChar("char", 'Z');
    map.setInt("int", Integer.MIN_VALUE);
    map.setLong("long", Long.MAX_VALUE);
    map.setFloat("float", 1.5f);
    map.setDouble("double", -2.25e300);
    map.setString("string", BMP);
    map.setBytes("bytes", new byte[] {0, 1, (byte) 0xff});
    p.send(map);
    p.send(s.createObjectMessage(new Payload("obj " + NON_BMP, new int[] {1, 2, 3})));
    StreamMessage stream = s.createStreamMessage();
    stream.writeBoolean(false);
    stream.writeByte((byte) 1);
    stream.writeShort((short) -2);
    stream.writeChar('c');
    stream.writeInt(3);
    stream.writeLong(-4L);
    stream.writeFloat(5.5f);
    stream.writeDouble(6.25);
    stream.writeString(BMP);
    stream.writeBytes(new byte[] {9, 8, 7});
    p.send(stream);
    Message plain = s.createMessage();
    plain.setStringProperty("kind", "plain");
    p.send(plain);

    MessageConsumer consumer = s.createConsumer(q);
    TextMessage text = assertInstanceOf(TextMessage.class, consumer.receive(WAIT));
    assertEquals(NON_BMP, text.getText());

    BytesMessage b = assertInstanceOf(BytesMessage.class, consumer.receive(WAIT));
    byte[] back = new byte[256];
    assertEquals(256, b.readBytes(back));
    assertArrayEquals(all, back);
    assertEquals(0x01020304, b.readInt());
    assertEquals(NON_BMP, b.readUTF());

    MapMessage m = assertInstanceOf(MapMessage.class, consumer.receive(WAIT));
    assertEquals(Boolean.TRUE, m.getObject("bool"));
    assertEquals(Byte.valueOf((byte) -7), m.getObject("byte"));
    assertEquals(Short.valueOf((short) 31000), m.getObject("short"));
    assertEquals(Character.valueOf('Z'), m.getObject("char"));
    assertEquals(Integer.valueOf(Integer.MIN_VALUE), m.getObject("int"));
    assertEquals(Long.valueOf(Long.MAX_VALUE), m.getObject("long"));
    assertEquals(Float.valueOf(1.5f), m.getObject("float"));
    assertEquals(Double.valueOf(-2.25e300), m.getObject("double"));
    assertEquals(BMP, m.getObject("string"));
    assertArrayEquals(new byte[] {0, 1, (byte) 0xff}, m.getBytes("bytes"));

    ObjectMessage o = assertInstanceOf(ObjectMessage.class, consumer.receive(WAIT));
    Payload payload = assertInstanceOf(Payload.class, o.getObject());
    assertEquals("obj " + NON_BMP, payload.name);
    assertArrayEquals(new int[] {1, 2, 3}, payload.values);

    StreamMessage st = assertInstanceOf(StreamMessage.class, consumer.receive(WAIT));
    assertEquals(false, st.readObject());
    assertEquals(Byte.valueOf((byte) 1), st.readObject());
    assertEquals(Short.valueOf((short) -2), st.readObject());
    assertEquals(Character.valueOf('c'), st.readObject());
    assertEquals(Integer.valueOf(3), st.readObject());
    assertEquals(Long.valueOf(-4L), st.readObject());
    assertEquals(Float.valueOf(5.5f), st.readObject());
    assertEquals(Double.valueOf(6.25), st.readObject());
    assertEquals(BMP, st.readObject());
    assertArrayEquals(new byte[] {9, 8, 7}, (byte[]) st.readObject());

    Message pl = consumer.receive(WAIT);
    assertNotNull(pl);
    assertFalse(pl instanceof TextMessage || pl instanceof BytesMessage || pl instanceof MapMessage
        || pl instanceof ObjectMessage || pl instanceof StreamMessage, pl.getClass().getName());
    assertEquals("plain", pl.getStringProperty("kind"));
  }

  @Test
  void headersAndTypedPropertiesOfEveryJavaType() throws Exception {
    Connection c = open();
    Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
    Queue q = s.createQueue(Env.name("props"));
    Queue replyTo = s.createQueue(Env.name("replyto"));
    Topic replyTopic = s.createTopic(Env.name("replytopic"));
    MessageProducer p = s.createProducer(q);
    TextMessage m = s.createTextMessage("props");
    m.setBooleanProperty("bool", true);
    m.setByteProperty("byte", (byte) -128);
    m.setShortProperty("short", (short) -32768);
    m.setIntProperty("int", 2_000_000_000);
    m.setLongProperty("long", -9_000_000_000_000L);
    m.setFloatProperty("float", 3.25f);
    m.setDoubleProperty("double", 1e-300);
    m.setStringProperty("string", BMP);
    m.setObjectProperty("object_int", 42);
    m.setStringProperty("empty", "");
    m.setJMSCorrelationID("corr-" + BMP);
    m.setJMSType("order.created");
    m.setJMSReplyTo(replyTo);
    p.send(m, DeliveryMode.PERSISTENT, 7, 60_000);
    TextMessage m2 = s.createTextMessage("reply-to-topic");
    m2.setJMSReplyTo(replyTopic);
    p.send(m2, DeliveryMode.NON_PERSISTENT, 2, 0);

    MessageConsumer consumer = s.createConsumer(q);
    Message r = consumer.receive(WAIT);
    assertNotNull(r);
    assertEquals(Boolean.TRUE, r.getObjectProperty("bool"));
    assertEquals(Byte.valueOf((byte) -128), r.getObjectProperty("byte"));
    assertEquals(Short.valueOf((short) -32768), r.getObjectProperty("short"));
    assertEquals(Integer.valueOf(2_000_000_000), r.getObjectProperty("int"));
    assertEquals(Long.valueOf(-9_000_000_000_000L), r.getObjectProperty("long"));
    assertEquals(Float.valueOf(3.25f), r.getObjectProperty("float"));
    assertEquals(Double.valueOf(1e-300), r.getObjectProperty("double"));
    assertEquals(BMP, r.getObjectProperty("string"));
    assertEquals(Integer.valueOf(42), r.getObjectProperty("object_int"));
    assertEquals("", r.getStringProperty("empty"));
    assertNull(r.getObjectProperty("absent"));
    assertEquals("corr-" + BMP, r.getJMSCorrelationID());
    assertEquals("order.created", r.getJMSType());
    assertEquals(replyTo, r.getJMSReplyTo());
    assertEquals(7, r.getJMSPriority());
    assertEquals(DeliveryMode.PERSISTENT, r.getJMSDeliveryMode());
    long now = System.currentTimeMillis();
    assertTrue(Math.abs(now - r.getJMSTimestamp()) < 10_000, "JMSTimestamp " + r.getJMSTimestamp());
    assertEquals(r.getJMSTimestamp() + 60_000, r.getJMSExpiration(), "JMSExpiration = ts + ttl");
    Set<String> names = new HashSet<>();
    for (Enumeration<?> e = r.getPropertyNames(); e.hasMoreElements(); ) {
      names.add((String) e.nextElement());
    }
    assertTrue(
        names.containsAll(
            Set.of("bool", "byte", "short", "int", "long", "float", "double", "string",
                "object_int", "empty")),
        names.toString());

    Message r2 = consumer.receive(WAIT);
    assertEquals(replyTopic, r2.getJMSReplyTo());
    assertEquals(2, r2.getJMSPriority());
    assertEquals(0, r2.getJMSExpiration());
    assertEquals(DeliveryMode.NON_PERSISTENT, r2.getJMSDeliveryMode());
  }

  /** What the client's own codec makes of a primitive map holding {@code value}. */
  static Object clientCodecRoundTrip(String value) throws Exception {
    java.io.ByteArrayOutputStream bo = new java.io.ByteArrayOutputStream();
    java.io.DataOutputStream out = new java.io.DataOutputStream(bo);
    MarshallingSupport.marshalPrimitiveMap(java.util.Map.of("v", value), out);
    out.close();
    return MarshallingSupport.unmarshalPrimitiveMap(
            new java.io.DataInputStream(new java.io.ByteArrayInputStream(bo.toByteArray())))
        .get("v");
  }

  /**
   * Non-BMP characters: a TextMessage body keeps them, but property values and MapMessage
   * strings go through the client's primitive-map codec, which encodes each surrogate on its
   * own and decodes it back as U+FFFD (5.18; found against ActiveMQ 5.17). The broker must hand
   * back exactly what the client wrote, so the value received equals the client's local round
   * trip, whatever that is for this client version.
   */
  @Test
  void nonBmpStringsInPropertiesComeBackAsTheClientsOwnCodecMakesThem() throws Exception {
    String expected = String.valueOf(clientCodecRoundTrip(NON_BMP));
    Connection c = open();
    Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
    Queue q = s.createQueue(Env.name("nonbmp"));
    TextMessage m = s.createTextMessage(NON_BMP);
    m.setStringProperty("p", NON_BMP);
    MapMessage map = s.createMapMessage();
    map.setString("v", NON_BMP);
    MessageProducer p = s.createProducer(q);
    p.send(m);
    p.send(map);
    MessageConsumer consumer = s.createConsumer(q);
    TextMessage r = assertInstanceOf(TextMessage.class, consumer.receive(WAIT));
    assertEquals(NON_BMP, r.getText(), "a text body keeps non-BMP characters");
    assertEquals(expected, r.getStringProperty("p"));
    MapMessage rm = assertInstanceOf(MapMessage.class, consumer.receive(WAIT));
    assertEquals(expected, rm.getString("v"));
  }

  @Test
  void prioritiesAndExpiration() throws Exception {
    Connection c = open();
    Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
    Queue q = s.createQueue(Env.name("priority"));
    MessageProducer p = s.createProducer(q);
    int[] order = {4, 1, 9, 0, 7, 4};
    for (int i = 0; i < order.length; i++) {
      p.send(s.createTextMessage("p" + order[i] + "-" + i), DeliveryMode.PERSISTENT, order[i], 0);
    }
    p.send(s.createTextMessage("expires"), DeliveryMode.PERSISTENT, 4, 200);
    p.send(s.createTextMessage("lives"), DeliveryMode.PERSISTENT, 4, 120_000);
    Thread.sleep(700);

    MessageConsumer consumer = s.createConsumer(q);
    List<String> got = new ArrayList<>();
    List<Integer> prios = new ArrayList<>();
    for (Message m = consumer.receive(WAIT); m != null; m = consumer.receive(500)) {
      got.add(((TextMessage) m).getText());
      prios.add(m.getJMSPriority());
      if (((TextMessage) m).getText().equals("lives")) {
        assertTrue(m.getJMSExpiration() > System.currentTimeMillis() + 100_000);
      }
    }
    assertFalse(got.contains("expires"), "an expired message is not delivered: " + got);
    assertTrue(got.contains("lives"), got.toString());
    assertEquals(order.length + 1, got.size(), got.toString());
    // ActiveMQ's default destination policy (prioritizedMessages=false) and mqbridge's JMS
    // queues (plain durable queues, shareable with AMQP clients) keep FIFO order; each
    // message's priority still round-trips.
    assertEquals(List.of("p4-0", "p1-1", "p9-2", "p0-3", "p7-4", "p4-5", "lives"), got);
    assertEquals(List.of(4, 1, 9, 0, 7, 4, 4), prios);
  }

  // ------------------------------------------------------------------ failover

  @Test
  @Timeout(value = 180, unit = TimeUnit.SECONDS)
  void failoverSurvivesBrokerRestartWithPersistentMessages() throws Exception {
    String restart = Env.env("BROKER_RESTART_CMD");
    Assumptions.assumeTrue(
        restart != null,
        "BROKER_RESTART_CMD not set: scripts/test.sh sets it (restart on the same port and data)");
    ActiveMQConnectionFactory f =
        Env.factory(
            "failover:(" + Env.openwireUrl() + ")?initialReconnectDelay=100&maxReconnectDelay=1000"
                + "&maxReconnectAttempts=-1&startupMaxReconnectAttempts=5");
    ActiveMQConnection c = (ActiveMQConnection) f.createConnection();
    connections.add(c);
    AtomicInteger interrupted = new AtomicInteger();
    AtomicInteger resumed = new AtomicInteger();
    c.addTransportListener(
        new TransportListener() {
          @Override
          public void onCommand(Object command) {}

          @Override
          public void onException(java.io.IOException error) {}

          @Override
          public void transportInterupted() {
            interrupted.incrementAndGet();
          }

          @Override
          public void transportResumed() {
            resumed.incrementAndGet();
          }
        });
    c.start();
    Session s = c.createSession(false, Session.CLIENT_ACKNOWLEDGE);
    Queue q = s.createQueue(Env.name("failover"));
    MessageProducer p = s.createProducer(q);
    p.setDeliveryMode(DeliveryMode.PERSISTENT);
    for (int i = 0; i < 5; i++) {
      p.send(s.createTextMessage("before" + i));
    }

    Process proc =
        new ProcessBuilder("bash", "-c", restart).redirectErrorStream(true).inheritIO().start();
    assertTrue(proc.waitFor(150, TimeUnit.SECONDS), "restart command finished");
    assertEquals(0, proc.exitValue(), "restart command: " + restart);

    // The same connection, session and producer go on (the failover transport replays them).
    for (int i = 0; i < 5; i++) {
      p.send(s.createTextMessage("after" + i));
    }
    MessageConsumer consumer = s.createConsumer(q);
    List<String> got = new ArrayList<>();
    for (Message m = consumer.receive(20_000); m != null; m = consumer.receive(1_000)) {
      got.add(((TextMessage) m).getText());
      m.acknowledge();
    }
    assertEquals(
        List.of("before0", "before1", "before2", "before3", "before4", "after0", "after1",
            "after2", "after3", "after4"),
        got,
        "persistent messages survive the restart");
    assertTrue(interrupted.get() >= 1, "the transport saw the broker go away");
    assertTrue(resumed.get() >= 1, "and come back");
    assertNotEquals(0, resumed.get());
  }
}
