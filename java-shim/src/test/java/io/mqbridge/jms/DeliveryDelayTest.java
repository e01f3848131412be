package io.mqbridge.jms;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Collections;
import javax.jms.Connection;
import javax.jms.JMSException;
import javax.jms.Message;
import javax.jms.MessageConsumer;
import javax.jms.MessageProducer;
import javax.jms.Queue;
import javax.jms.Session;
import javax.jms.TextMessage;
import javax.jms.Topic;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * MessageProducer.setDeliveryDelay / JMSDeliveryTime (JMS 2.0 §7.9), through the shim to
 * mqbridge and to RabbitMQ (no plugin: a TTL + dead-letter delay queue). ActiveMQ 5.18's client
 * throws UnsupportedOperationException for setDeliveryDelay, so that target is skipped.
 */
@ParameterizedClass
@MethodSource("io.mqbridge.jms.Target#all")
class DeliveryDelayTest extends TargetSuite {
    private static final long DELAY = 1500;

    @BeforeEach
    void needDelaySupport() {
        assumeTrue(target.isShim(), "ActiveMQ 5.18's client has no delivery delay");
    }

    /** Delete the delay queues this test made (they would expire by themselves later). */
    private String delayQueue(long delay, String kind, String name) {
        String q = "mqbridge.delay." + delay + "." + kind + "." + name;
        return q;
    }

    @Test
    void delayedMessageArrivesNoEarlierThanItsDeliveryTime() throws Exception {
        String name = queueName();
        try (Connection c = connect()) {
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            Queue q = s.createQueue(name);
            MessageProducer p = s.createProducer(q);
            assertEquals(0, p.getDeliveryDelay());
            p.setDeliveryDelay(DELAY);
            assertEquals(DELAY, p.getDeliveryDelay());
            MessageConsumer consumer = s.createConsumer(q);
            TextMessage m = s.createTextMessage("later");
            m.setStringProperty("k", "v");
            long before = System.currentTimeMillis();
            p.send(m);
            assertTrue(m.getJMSDeliveryTime() >= before + DELAY, "JMSDeliveryTime = send time + delay");
            assertEquals(m.getJMSTimestamp() + DELAY, m.getJMSDeliveryTime());
            assertNull(consumer.receive(DELAY / 2), "not before the delay");
            Message got = consumer.receive(10_000);
            long at = System.currentTimeMillis();
            assertNotNull(got, "delivered after the delay");
            assertTrue(at >= m.getJMSDeliveryTime(), "arrived " + (m.getJMSDeliveryTime() - at) + " ms early");
            assertEquals("later", ((TextMessage) got).getText());
            assertEquals(m.getJMSMessageID(), got.getJMSMessageID());
            assertEquals(m.getJMSDeliveryTime(), got.getJMSDeliveryTime());
            assertEquals(m.getJMSTimestamp(), got.getJMSTimestamp());
            assertEquals(q, got.getJMSDestination());
            assertFalse(got.getJMSRedelivered());
            assertEquals(java.util.List.of("k"), Collections.list(got.getPropertyNames()).stream()
                    .filter(n -> !((String) n).startsWith("JMSX")).toList(), "no transport headers leak");
        } finally {
            cleanup(delayQueue(DELAY, "queue", name));
        }
    }

    @Test
    void withoutDelayTheDeliveryTimeIsTheSendTime() throws Exception {
        String name = queueName();
        try (Connection c = connect()) {
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            Queue q = s.createQueue(name);
            TextMessage m = s.createTextMessage("now");
            s.createProducer(q).send(m);
            assertEquals(m.getJMSTimestamp(), m.getJMSDeliveryTime());
            Message got = s.createConsumer(q).receive(5000);
            assertEquals(m.getJMSTimestamp(), got.getJMSDeliveryTime());
            assertThrows(JMSException.class, () -> s.createProducer(q).setDeliveryDelay(-1));
        }
    }

    @Test
    void delayedTopicMessage() throws Exception {
        String topic = "jms.delay." + java.util.UUID.randomUUID();
        try (Connection c = connect()) {
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            Topic t = s.createTopic(topic);
            MessageConsumer sub = s.createConsumer(t);
            MessageProducer p = s.createProducer(t);
            p.setDeliveryDelay(1000);
            TextMessage m = s.createTextMessage("news later");
            p.send(m);
            assertNull(sub.receive(500));
            Message got = sub.receive(10_000);
            assertNotNull(got);
            assertTrue(System.currentTimeMillis() >= m.getJMSDeliveryTime());
            assertEquals(t, got.getJMSDestination());
            assertEquals(m.getJMSDeliveryTime(), got.getJMSDeliveryTime());
        } finally {
            cleanup(delayQueue(1000, "topic", topic));
        }
    }

    @Test
    void delayedSendInATransactionStartsAtCommit() throws Exception {
        String name = queueName();
        try (Connection c = connect()) {
            Session tx = c.createSession(true, Session.SESSION_TRANSACTED);
            Queue q = tx.createQueue(name);
            MessageProducer p = tx.createProducer(q);
            p.setDeliveryDelay(1000);
            p.send(tx.createTextMessage("committed later"));
            p.send(tx.createTextMessage("rolled back"));
            tx.rollback();
            p.send(tx.createTextMessage("committed later"));
            tx.commit();
            long committed = System.currentTimeMillis();
            Session plain = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageConsumer consumer = plain.createConsumer(q);
            Message got = consumer.receive(10_000);
            assertNotNull(got);
            assertTrue(System.currentTimeMillis() >= committed + 1000 - 50, "delayed");
            assertEquals("committed later", ((TextMessage) got).getText());
            assertNull(consumer.receive(2500), "the rolled back one never comes");
        } finally {
            cleanup(delayQueue(1000, "queue", name));
        }
    }

    @Test
    void aMessageThatExpiresBeforeItsDeliveryTimeIsNeverDelivered() throws Exception {
        String name = queueName();
        try (Connection c = connect()) {
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            Queue q = s.createQueue(name);
            MessageProducer p = s.createProducer(q);
            p.setDeliveryDelay(1000);
            p.setTimeToLive(500);
            p.send(s.createTextMessage("expired first"));
            p.setTimeToLive(60_000);
            p.send(s.createTextMessage("lives"));
            MessageConsumer consumer = s.createConsumer(q);
            Message got = consumer.receive(10_000);
            assertEquals("lives", ((TextMessage) got).getText());
            assertTrue(got.getJMSExpiration() > got.getJMSDeliveryTime(), "JMSExpiration kept");
            assertNull(consumer.receive(1500));
        } finally {
            cleanup(delayQueue(1000, "queue", name));
        }
    }

    private void cleanup(String queue) throws Exception {
        try (com.rabbitmq.client.Connection rc = amqpFactory().newConnection();
                com.rabbitmq.client.Channel ch = rc.createChannel()) {
            ch.queueDelete(queue);
        } catch (Exception e) {
            // already expired
        }
    }
}
