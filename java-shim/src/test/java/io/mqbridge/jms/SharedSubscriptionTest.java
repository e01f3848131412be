package io.mqbridge.jms;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.rabbitmq.client.Channel;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import javax.jms.Connection;
import javax.jms.InvalidDestinationException;
import javax.jms.JMSException;
import javax.jms.Message;
import javax.jms.MessageConsumer;
import javax.jms.MessageProducer;
import javax.jms.Session;
import javax.jms.TextMessage;
import javax.jms.Topic;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * JMS 2.0 shared subscriptions (§4.2.2): consumers of several connections share one
 * subscription, whose messages are spread between them; a non-durable one goes with its last
 * consumer, a durable one stays until unsubscribe. ActiveMQ 5's client has no shared
 * subscriptions (its createSharedConsumer throws), so that target is skipped.
 */
@ParameterizedClass
@MethodSource("io.mqbridge.jms.Target#all")
class SharedSubscriptionTest {
    @Parameter
    Target target;

    private final List<String> queues = new ArrayList<>();

    @BeforeEach
    void sharedSubscriptionsExist() throws Exception {
        if (target.isShim()) {
            return;
        }
        try (Connection c = target.factory().createConnection()) {
            Session s = c.createSession();
            try {
                s.createSharedConsumer(s.createTopic("probe"), "probe").close();
            } catch (JMSException | UnsupportedOperationException e) {
                assumeTrue(false, "ActiveMQ's client has no shared subscriptions: " + e);
            }
        }
    }

    @AfterEach
    void deleteQueues() throws Exception {
        if (queues.isEmpty()) {
            return;
        }
        try (com.rabbitmq.client.Connection rc = amqp()) {
            for (String q : queues) {
                try (Channel ch = rc.createChannel()) {
                    ch.queueDelete(q);
                } catch (Exception e) {
                    // already gone
                }
            }
        }
        queues.clear();
    }

    com.rabbitmq.client.Connection amqp() throws Exception {
        com.rabbitmq.client.ConnectionFactory cf = new com.rabbitmq.client.ConnectionFactory();
        cf.setUri(target.amqpUri());
        return cf.newConnection();
    }

    /** Whether the AMQP queue exists (passive declare). */
    boolean queueExists(String name) throws Exception {
        try (com.rabbitmq.client.Connection rc = amqp(); Channel ch = rc.createChannel()) {
            ch.queueDeclarePassive(name);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    static String topicName() {
        return "jms.shared." + UUID.randomUUID().toString().replace("-", "");
    }

    Connection connect(String clientId) throws JMSException {
        Connection c = target.factory().createConnection();
        if (clientId != null) {
            c.setClientID(clientId);
        }
        c.start();
        return c;
    }

    static void publish(Session s, Topic t, int n, String prefix) throws JMSException {
        MessageProducer p = s.createProducer(t);
        for (int i = 0; i < n; i++) {
            TextMessage m = s.createTextMessage(prefix + i);
            m.setIntProperty("i", i);
            p.send(m);
        }
        p.close();
    }

    static List<String> drain(MessageConsumer c, long firstWaitMs) throws JMSException {
        List<String> got = new ArrayList<>();
        Message m = c.receive(firstWaitMs);
        while (m != null) {
            got.add(((TextMessage) m).getText());
            m = c.receive(300);
        }
        return got;
    }

    @Test
    void sharedConsumersOfTwoConnectionsSplitTheMessages() throws Exception {
        String name = "shared-" + UUID.randomUUID();
        queues.add(":" + name);
        try (Connection a = connect(null); Connection b = connect(null); Connection pub = connect(null)) {
            Session sa = a.createSession();
            Session sb = b.createSession();
            Topic t = sa.createTopic(topicName());
            MessageConsumer ca = sa.createSharedConsumer(t, name);
            MessageConsumer cb = sb.createSharedConsumer(t, name);
            // A plain subscriber still gets everything.
            MessageConsumer own = sa.createConsumer(t);
            publish(pub.createSession(), t, 20, "m");
            List<String> got = new ArrayList<>();
            int fromA = 0;
            int fromB = 0;
            for (int i = 0; i < 40 && got.size() < 20; i++) {
                Message m = ca.receive(200);
                if (m != null) {
                    got.add(((TextMessage) m).getText());
                    fromA++;
                }
                m = cb.receive(200);
                if (m != null) {
                    got.add(((TextMessage) m).getText());
                    fromB++;
                }
            }
            assertEquals(20, got.size(), "every message once: " + got);
            assertEquals(20, got.stream().distinct().count(), "no duplicates: " + got);
            assertTrue(fromA > 0 && fromB > 0, "spread: a=" + fromA + " b=" + fromB);
            assertNull(ca.receive(200));
            assertNull(cb.receive(200));
            assertEquals(20, drain(own, 5000).size());
        }
    }

    @Test
    void nonDurableSharedSubscriptionGoesWithItsLastConsumer() throws Exception {
        String name = "shared-nd-" + UUID.randomUUID();
        queues.add(":" + name);
        try (Connection a = connect(null); Connection b = connect(null)) {
            Session sa = a.createSession();
            Session sb = b.createSession();
            Topic t = sa.createTopic(topicName());
            MessageConsumer ca = sa.createSharedConsumer(t, name);
            MessageConsumer cb = sb.createSharedConsumer(t, name);
            assertTrue(queueExists(":" + name), "the shared queue");
            ca.close();
            // One consumer left: the subscription (and what is published to it) lives on.
            publish(sa, t, 2, "kept");
            assertEquals(List.of("kept0", "kept1"), drain(cb, 5000));
            cb.close();
            long deadline = System.currentTimeMillis() + 5000;
            while (queueExists(":" + name) && System.currentTimeMillis() < deadline) {
                Thread.sleep(50);
            }
            assertTrue(!queueExists(":" + name), "deleted with its last consumer");
            publish(sa, t, 1, "lost");
            MessageConsumer again = sa.createSharedConsumer(t, name);
            assertNull(again.receive(500), "a new subscription starts empty");
        }
    }

    @Test
    void sharedDurableSubscriptionStaysUntilUnsubscribe() throws Exception {
        String name = "shared-d-" + UUID.randomUUID();
        String clientId = "shared-client-" + UUID.randomUUID();
        queues.add(clientId + ":" + name);
        try (Connection a = connect(clientId); Connection pub = connect(null)) {
            Session sa = a.createSession();
            Topic t = sa.createTopic(topicName());
            sa.createSharedDurableConsumer(t, name).close();
            publish(pub.createSession(), t, 3, "offline");
            MessageConsumer back = sa.createSharedDurableConsumer(t, name);
            // Unsubscribing an active subscription is refused (JMS 2.0: IllegalStateException).
            assertThrows(javax.jms.IllegalStateException.class, () -> sa.unsubscribe(name));
            assertEquals(List.of("offline0", "offline1", "offline2"), drain(back, 5000));
            back.close();
            sa.unsubscribe(name);
            assertTrue(!queueExists(clientId + ":" + name), "unsubscribe deleted the subscription");
            assertThrows(InvalidDestinationException.class, () -> sa.unsubscribe(name));
        }
    }

    @Test
    void sharedDurableSubscriptionAcrossConnectionsWithSelector() throws Exception {
        String name = "shared-sel-" + UUID.randomUUID();
        queues.add(":" + name);
        try (Connection a = connect(null); Connection b = connect(null); Connection pub = connect(null)) {
            Session sa = a.createSession();
            Session sb = b.createSession();
            Topic t = sa.createTopic(topicName());
            MessageConsumer ca = sa.createSharedDurableConsumer(t, name, "i >= 2");
            MessageConsumer cb = sb.createSharedDurableConsumer(t, name, "i >= 2");
            assertEquals("i >= 2", ca.getMessageSelector());
            publish(pub.createSession(), t, 6, "m");
            List<String> got = new ArrayList<>();
            for (int i = 0; i < 30 && got.size() < 4; i++) {
                Message m = ca.receive(100);
                if (m != null) {
                    got.add(((TextMessage) m).getText());
                }
                m = cb.receive(100);
                if (m != null) {
                    got.add(((TextMessage) m).getText());
                }
            }
            got.sort(String::compareTo);
            assertEquals(List.of("m2", "m3", "m4", "m5"), got);
            ca.close();
            cb.close();
            // Without a client ID the subscription is the shared one of that name.
            sa.unsubscribe(name);
            assertTrue(!queueExists(":" + name));
        }
    }

    @Test
    void theClientIdSeparatesSharedSubscriptionsOfTheSameName() throws Exception {
        String name = "shared-cid-" + UUID.randomUUID();
        String c1 = "cid1-" + UUID.randomUUID();
        String c2 = "cid2-" + UUID.randomUUID();
        queues.add(c1 + ":" + name);
        queues.add(c2 + ":" + name);
        try (Connection a = connect(c1); Connection b = connect(c2)) {
            Session sa = a.createSession();
            Session sb = b.createSession();
            Topic t = sa.createTopic(topicName());
            MessageConsumer ca = sa.createSharedConsumer(t, name);
            MessageConsumer cb = sb.createSharedConsumer(t, name);
            publish(sa, t, 2, "x");
            assertEquals(List.of("x0", "x1"), drain(ca, 5000));
            assertEquals(List.of("x0", "x1"), drain(cb, 5000));
        }
    }

    @Test
    void unsharedDurableSubscriptionIsActiveOnlyOnce() throws Exception {
        assumeTrue(target.isShim(), "the OpenWire listener checks this per connection only");
        String clientId = "once-" + UUID.randomUUID();
        queues.add(clientId + ":sub");
        try (Connection a = connect(clientId)) {
            Session s = a.createSession();
            Topic t = s.createTopic(topicName());
            MessageConsumer first = s.createDurableConsumer(t, "sub");
            assertThrows(javax.jms.IllegalStateException.class, () -> s.createDurableConsumer(t, "sub"));
            first.close();
            s.createDurableConsumer(t, "sub").close();
            s.unsubscribe("sub");
        }
    }
}
