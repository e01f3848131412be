package dev.mqbridge.interop.openwire.spring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.jms.ConnectionFactory;
import javax.jms.JMSException;
import javax.jms.MapMessage;
import javax.jms.Message;
import javax.jms.TextMessage;
import org.apache.activemq.ActiveMQConnectionFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.springframework.context.annotation.AnnotationConfigApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jms.connection.CachingConnectionFactory;
import org.springframework.jms.core.JmsTemplate;
import org.springframework.jms.listener.DefaultMessageListenerContainer;
import org.springframework.jms.listener.SessionAwareMessageListener;

/**
 * A small order service written the way legacy Spring JMS apps are: a CachingConnectionFactory
 * over the stock ActiveMQ factory, JmsTemplate to send, a transacted
 * DefaultMessageListenerContainer to consume and reply. The broker is OPENWIRE_URL.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LegacyOrderAppTest {
  static final String ORDERS = "it.ow.spring." + UUID.randomUUID().toString().substring(0, 8) + ".orders";
  static final String CONFIRMATIONS = ORDERS + ".confirmations";

  /** The app's listener: confirms an order; fails the first delivery of a "flaky" order. */
  static final class OrderListener implements SessionAwareMessageListener<Message> {
    final JmsTemplate template;
    final AtomicInteger flakyAttempts = new AtomicInteger();
    volatile boolean flakyRedeliveredSeen;

    OrderListener(JmsTemplate template) {
      this.template = template;
    }

    @Override
    public void onMessage(Message message, javax.jms.Session session) throws JMSException {
      MapMessage order = (MapMessage) message;
      String id = order.getString("id");
      if (id.startsWith("flaky") && flakyAttempts.incrementAndGet() == 1) {
        throw new IllegalStateException("first attempt fails: the transaction rolls back");
      }
      if (id.startsWith("flaky")) {
        flakyRedeliveredSeen = message.getJMSRedelivered();
      }
      String text = "confirmed " + id + " x" + order.getInt("qty");
      if (message.getJMSReplyTo() != null) {
        template.send(message.getJMSReplyTo(), s -> {
          TextMessage t = s.createTextMessage(text);
          t.setJMSCorrelationID(message.getJMSCorrelationID());
          return t;
        });
      } else {
        template.convertAndSend(CONFIRMATIONS, text);
      }
    }
  }

  @Configuration
  static class AppConfig {
    @Bean
    ConnectionFactory connectionFactory() {
      String url = System.getenv("OPENWIRE_URL");
      assertNotNull(url, "OPENWIRE_URL must be set");
      ActiveMQConnectionFactory amq = new ActiveMQConnectionFactory(url);
      amq.getRedeliveryPolicy().setInitialRedeliveryDelay(200);
      return new CachingConnectionFactory(amq);
    }

    @Bean
    JmsTemplate jmsTemplate(ConnectionFactory cf) {
      JmsTemplate t = new JmsTemplate(cf);
      t.setReceiveTimeout(10_000);
      return t;
    }

    @Bean
    OrderListener orderListener(JmsTemplate t) {
      return new OrderListener(t);
    }

    @Bean
    DefaultMessageListenerContainer orderContainer(ConnectionFactory cf, OrderListener l) {
      DefaultMessageListenerContainer c = new DefaultMessageListenerContainer();
      c.setConnectionFactory(cf);
      c.setDestinationName(ORDERS);
      c.setMessageListener(l);
      c.setSessionTransacted(true);
      c.setConcurrentConsumers(2);
      c.setReceiveTimeout(500);
      return c;
    }
  }

  private AnnotationConfigApplicationContext ctx;
  private JmsTemplate template;

  @BeforeEach
  void start() {
    ctx = new AnnotationConfigApplicationContext(AppConfig.class);
    template = ctx.getBean(JmsTemplate.class);
  }

  @AfterEach
  void stop() {
    if (ctx != null) {
      ctx.close();
    }
  }

  @Test
  void convertAndSendMapIsConsumedAndConfirmed() throws Exception {
    template.convertAndSend(ORDERS, Map.of("id", "o-1", "qty", 3));
    template.convertAndSend(ORDERS, Map.of("id", "o-2", "qty", 5));
    java.util.Set<Object> got = new java.util.HashSet<>();
    got.add(template.receiveAndConvert(CONFIRMATIONS));
    got.add(template.receiveAndConvert(CONFIRMATIONS));
    assertEquals(java.util.Set.of("confirmed o-1 x3", "confirmed o-2 x5"), got);
  }

  @Test
  void listenerExceptionRollsBackAndTheMessageIsRedelivered() throws Exception {
    template.convertAndSend(ORDERS, Map.of("id", "flaky-1", "qty", 1));
    assertEquals("confirmed flaky-1 x1", template.receiveAndConvert(CONFIRMATIONS));
    OrderListener l = ctx.getBean(OrderListener.class);
    assertEquals(2, l.flakyAttempts.get());
    assertTrue(l.flakyRedeliveredSeen, "the second delivery has JMSRedelivered");
  }

  @Test
  void sendAndReceiveOverATemporaryQueue() throws Exception {
    Message reply =
        template.sendAndReceive(ORDERS, s -> {
          MapMessage m = s.createMapMessage();
          m.setString("id", "rr-1");
          m.setInt("qty", 9);
          m.setJMSCorrelationID("corr-rr-1");
          return m;
        });
    TextMessage t = assertInstanceOf(TextMessage.class, reply);
    assertEquals("confirmed rr-1 x9", t.getText());
    assertEquals("corr-rr-1", t.getJMSCorrelationID());
  }
}
