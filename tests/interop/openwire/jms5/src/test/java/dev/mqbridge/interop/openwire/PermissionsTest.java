package dev.mqbridge.interop.openwire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.jms.BytesMessage;
import javax.jms.Connection;
import javax.jms.DeliveryMode;
import javax.jms.JMSException;
import javax.jms.JMSSecurityException;
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
 * Per-vhost permissions as the stock ActiveMQ JMS client sees them: a refused producer,
 * send, consumer or login is a {@code JMSSecurityException} whose text reads like ActiveMQ's
 * AuthorizationBroker ("User u is not authorized to write to: queue://X").
 *
 * <p>Needs the perm-* users of tests/interop/permissions.yaml (scripts/lib/permissions.sh
 * starts mqbridge with them and sets {@code PERM_USERS=1}); skipped otherwise, so the
 * ActiveMQ reference run (no authorization plugin configured) skips it too.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class PermissionsTest {
  static final String PASSWORD = "perm-pw";

  private final List<Connection> connections = new ArrayList<>();

  @BeforeEach
  void needsUsers() {
    Assumptions.assumeTrue("1".equals(Env.env("PERM_USERS")),
        "PERM_USERS=1 not set: the perm-* users are not configured on this broker");
  }

  @AfterEach
  void closeAll() {
    for (Connection c : connections) {
      try {
        c.close();
      } catch (JMSException e) {
        // already broken by the test
      }
    }
  }

  Connection open(String user) throws JMSException {
    Connection c = Env.factory().createConnection(user, user == null ? null : PASSWORD);
    connections.add(c);
    c.start();
    return c;
  }

  Connection openGuest() throws JMSException {
    Connection c = Env.factory().createConnection();
    connections.add(c);
    c.start();
    return c;
  }

  @Test
  void sendWithoutWriteIsAJmsSecurityException() throws Exception {
    Session s = open("perm-ro").createSession(false, Session.AUTO_ACKNOWLEDGE);
    Queue q = s.createQueue(Env.name("ro"));
    JMSException e = assertThrows(JMSException.class, () -> {
      MessageProducer p = s.createProducer(q);
      p.setDeliveryMode(DeliveryMode.PERSISTENT);
      p.send(s.createTextMessage("refused"));
    });
    assertInstanceOf(JMSSecurityException.class, e, e.toString());
    assertTrue(e.getMessage().startsWith("User perm-ro is not authorized to write to: queue://" + q.getQueueName()),
        e.getMessage());
    assertTrue(e.getMessage().contains("access to exchange 'amq.default' in vhost '/' refused for user 'perm-ro'"),
        e.getMessage());
  }

  @Test
  void consumerWithoutReadIsAJmsSecurityException() throws Exception {
    Session s = open("perm-wo").createSession(false, Session.AUTO_ACKNOWLEDGE);
    Queue q = s.createQueue(Env.name("wo"));
    JMSException e = assertThrows(JMSException.class, () -> s.createConsumer(q));
    assertInstanceOf(JMSSecurityException.class, e, e.toString());
    assertTrue(e.getMessage().startsWith("User perm-wo is not authorized to read from: queue://" + q.getQueueName()),
        e.getMessage());
    JMSException t = assertThrows(JMSException.class, () -> s.createConsumer(s.createTopic("perm.news")));
    assertInstanceOf(JMSSecurityException.class, t, t.toString());
    // Write is granted: the same user sends.
    MessageProducer p = s.createProducer(q);
    p.send(s.createTextMessage("allowed"));
  }

  @Test
  void readOnlyUserConsumesWhatOthersSent() throws Exception {
    String name = Env.name("ro-read");
    Session g = openGuest().createSession(false, Session.AUTO_ACKNOWLEDGE);
    g.createProducer(g.createQueue(name)).send(g.createTextMessage("for perm-ro"));
    Session s = open("perm-ro").createSession(false, Session.AUTO_ACKNOWLEDGE);
    MessageConsumer c = s.createConsumer(s.createQueue(name));
    TextMessage m = (TextMessage) c.receive(5_000);
    assertNotNull(m);
    assertEquals("for perm-ro", m.getText());
  }

  @Test
  void creatingAQueueWithoutConfigureIsAJmsSecurityException() throws Exception {
    Session s = open("perm-nc").createSession(false, Session.AUTO_ACKNOWLEDGE);
    Queue q = s.createQueue(Env.name("nc"));
    JMSException e = assertThrows(JMSException.class, () -> s.createConsumer(q));
    assertInstanceOf(JMSSecurityException.class, e, e.toString());
    assertTrue(e.getMessage().startsWith("User perm-nc is not authorized to create: queue://" + q.getQueueName()),
        e.getMessage());
  }

  @Test
  void userWithoutTheVhostCannotConnect() throws Exception {
    JMSException e = assertThrows(JMSException.class, () -> open("perm-novhost"));
    assertInstanceOf(JMSSecurityException.class, e, e.toString());
    assertEquals("access to vhost '/' refused for user 'perm-novhost'", e.getMessage());
  }

  @Test
  void messageAboveMaxMessageSizeIsRefused() throws Exception {
    String max = Env.env("PERM_MAX_MESSAGE_SIZE");
    Assumptions.assumeTrue(max != null, "PERM_MAX_MESSAGE_SIZE not set");
    int limit = Integer.parseInt(max);
    Session s = openGuest().createSession(false, Session.AUTO_ACKNOWLEDGE);
    MessageProducer p = s.createProducer(s.createQueue(Env.name("size")));
    p.setDeliveryMode(DeliveryMode.PERSISTENT);
    BytesMessage ok = s.createBytesMessage();
    ok.writeBytes(new byte[limit]);
    p.send(ok);
    BytesMessage big = s.createBytesMessage();
    big.writeBytes(new byte[limit + 1]);
    JMSException e = assertThrows(JMSException.class, () -> p.send(big));
    assertFalse(e instanceof JMSSecurityException, e.toString());
    assertTrue(e.getMessage().contains(
        "message size " + (limit + 1) + " is larger than configured max size " + limit), e.getMessage());
  }
}
