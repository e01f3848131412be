package io.mqbridge.jms;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.rabbitmq.client.Channel;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import javax.jms.Connection;
import javax.jms.InvalidSelectorException;
import javax.jms.JMSException;
import javax.jms.Message;
import javax.jms.MessageConsumer;
import javax.jms.MessageProducer;
import javax.jms.Queue;
import javax.jms.Session;
import javax.jms.TextMessage;
import javax.jms.Topic;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Message selectors and noLocal (JMS 2.0 §3.8, §6.11), with the same assertions for every
 * {@link Target}. On a queue a selector leaves refused messages for other consumers; the shim
 * asks mqbridge to filter (its x-selector consume argument) and refuses a queue selector on
 * RabbitMQ, which cannot filter a queue. On a topic refused messages are not delivered to that
 * subscriber.
 */
@ParameterizedClass
@MethodSource("io.mqbridge.jms.Target#all")
class SelectorTest {
    @Parameter
    Target target;

    private final List<String> queues = new ArrayList<>();

    String queueName() {
        String q = "jms-sel-" + UUID.randomUUID();
        queues.add(q);
        return q;
    }

    static String topicName() {
        return "jms.sel." + UUID.randomUUID().toString().replace("-", "");
    }

    @AfterEach
    void deleteQueues() throws Exception {
        if (queues.isEmpty()) {
            return;
        }
        com.rabbitmq.client.ConnectionFactory cf = new com.rabbitmq.client.ConnectionFactory();
        cf.setUri(target.amqpUri());
        try (com.rabbitmq.client.Connection rc = cf.newConnection()) {
            for (String q : queues) {
                try (Channel ch = rc.createChannel()) {
                    ch.queueDelete(q);
                } catch (Exception e) {
                    // never declared or already gone
                }
            }
        }
        queues.clear();
    }

    Connection connect() throws JMSException {
        Connection c = target.factory().createConnection();
        c.start();
        return c;
    }

    static void send(Session s, javax.jms.Destination d, String text, String color, int n) throws JMSException {
        MessageProducer p = s.createProducer(d);
        TextMessage m = s.createTextMessage(text);
        m.setStringProperty("color", color);
        m.setIntProperty("n", n);
        p.send(m);
        p.close();
    }

    static List<String> drain(MessageConsumer c, long firstWaitMs) throws JMSException {
        List<String> got = new ArrayList<>();
        Message m = c.receive(firstWaitMs);
        while (m != null) {
            got.add(((TextMessage) m).getText());
            m = c.receive(500);
        }
        return got;
    }

    @Test
    void queueSelectorLeavesRefusedMessagesForOtherConsumers() throws Exception {
        try (Connection c = connect()) {
            Session s = c.createSession();
            Queue q = s.createQueue(queueName());
            if (target == Target.SHIM_RABBITMQ) {
                JMSException e = assertThrows(JMSException.class, () -> s.createConsumer(q, "color = 'red'"));
                assertFalse(e instanceof InvalidSelectorException, "a valid selector");
                assertTrue(e.getMessage().contains("cannot") && e.getMessage().contains("selector"), e.getMessage());
                return;
            }
            MessageConsumer red = s.createConsumer(q, "color = 'red' AND n >= 1");
            assertEquals("color = 'red' AND n >= 1", red.getMessageSelector());
            send(s, q, "r1", "red", 1);
            send(s, q, "b1", "blue", 2);
            send(s, q, "r2", "red", 3);
            send(s, q, "r0", "red", 0);
            assertEquals(List.of("r1", "r2"), drain(red, 5000));
            red.close();
            // The refused ones stayed, in order, for a consumer without a selector.
            MessageConsumer all = s.createConsumer(q);
            assertEquals(List.of("b1", "r0"), drain(all, 5000));
        }
    }

    @Test
    void topicSelectorFiltersOnlyThatSubscriber() throws Exception {
        try (Connection c = connect()) {
            Session s = c.createSession();
            Topic t = s.createTopic(topicName());
            MessageConsumer big = s.createConsumer(t, "n > 2 OR JMSPriority = 9");
            MessageConsumer all = s.createConsumer(t, "");
            for (int i = 1; i <= 4; i++) {
                send(s, t, "m" + i, "red", i);
            }
            MessageProducer p = s.createProducer(t);
            p.setPriority(9);
            p.send(s.createTextMessage("urgent"));
            assertEquals(List.of("m3", "m4", "urgent"), drain(big, 5000));
            assertEquals(List.of("m1", "m2", "m3", "m4", "urgent"), drain(all, 5000));
        }
    }

    @Test
    void invalidSelectorsAreInvalidSelectorExceptionsAtCreation() throws Exception {
        try (Connection c = target.factory().createConnection()) {
            c.setClientID("sel-" + UUID.randomUUID());
            c.start();
            Session s = c.createSession();
            Topic t = s.createTopic(topicName());
            Queue q = s.createQueue(queueName());
            assertThrows(InvalidSelectorException.class, () -> s.createConsumer(q, "color = "));
            assertThrows(InvalidSelectorException.class, () -> s.createConsumer(t, "n > 'x' AND"));
            assertThrows(InvalidSelectorException.class, () -> s.createConsumer(t, "color IN (1, 2)", true));
            assertThrows(InvalidSelectorException.class, () -> s.createDurableSubscriber(t, "bad", "((", false));
            // The session is still usable.
            MessageConsumer ok = s.createConsumer(t, "color = 'red'");
            send(s, t, "after", "red", 1);
            assertEquals(List.of("after"), drain(ok, 5000));
        }
    }

    @Test
    void noLocalSubscriberSkipsItsOwnConnectionsMessages() throws Exception {
        try (Connection mine = connect(); Connection other = connect()) {
            Session s = mine.createSession();
            Session os = other.createSession();
            Topic t = s.createTopic(topicName());
            MessageConsumer noLocal = s.createConsumer(t, null, true);
            if (noLocal instanceof javax.jms.TopicSubscriber) {
                assertTrue(((javax.jms.TopicSubscriber) noLocal).getNoLocal());
            }
            MessageConsumer everything = s.createConsumer(t, null, false);
            send(s, t, "own-1", "red", 1);
            send(os, t, "other-1", "red", 2);
            send(s, t, "own-2", "red", 3);
            send(os, t, "other-2", "red", 4);
            assertEquals(List.of("other-1", "other-2"), drain(noLocal, 5000));
            assertEquals(List.of("own-1", "other-1", "own-2", "other-2"), drain(everything, 5000));
        }
    }

    @Test
    void noLocalWithSelector() throws Exception {
        try (Connection mine = connect(); Connection other = connect()) {
            Session s = mine.createSession();
            Session os = other.createSession();
            Topic t = s.createTopic(topicName());
            MessageConsumer c = s.createConsumer(t, "color = 'red'", true);
            send(s, t, "own-red", "red", 1);
            send(os, t, "other-blue", "blue", 2);
            send(os, t, "other-red", "red", 3);
            assertEquals(List.of("other-red"), drain(c, 5000));
        }
    }

    @Test
    void durableSubscriptionWithSelectorAndNoLocalKeepsOnlyWhatItSelects() throws Exception {
        String clientId = "sel-durable-" + UUID.randomUUID();
        queues.add(clientId + ":sub");
        String topic = topicName();
        try (Connection mine = target.factory().createConnection(); Connection other = connect()) {
            mine.setClientID(clientId);
            mine.start();
            Session s = mine.createSession();
            Session os = other.createSession();
            Topic t = s.createTopic(topic);
            s.createDurableSubscriber(t, "sub", "color = 'red'", true).close();
            // Offline.
            send(os, t, "blue", "blue", 1);
            send(os, t, "red-1", "red", 2);
            send(s, t, "own-red", "red", 3);
            send(os, t, "red-2", "red", 4);
            javax.jms.TopicSubscriber back = s.createDurableSubscriber(t, "sub", "color = 'red'", true);
            assertEquals("color = 'red'", back.getMessageSelector());
            assertTrue(back.getNoLocal());
            assertEquals(List.of("red-1", "red-2"), drain(back, 5000));
            back.close();
            s.unsubscribe("sub");
        }
    }

    @Test
    void selectorOnHeadersAndTypedProperties() throws Exception {
        try (Connection c = connect()) {
            Session s = c.createSession();
            Topic t = s.createTopic(topicName());
            MessageConsumer sel = s.createConsumer(t,
                    "JMSType = 'order' AND JMSCorrelationID LIKE 'c-%' AND price BETWEEN 10 AND 20.5 AND vip");
            MessageProducer p = s.createProducer(t);
            for (Object[] row : new Object[][] {
                {"yes", "order", "c-1", 15.0, true},
                {"type", "other", "c-2", 15.0, true},
                {"corr", "order", "x-3", 15.0, true},
                {"price", "order", "c-4", 21.0, true},
                {"vip", "order", "c-5", 12.0, false},
                {"edge", "order", "c-6", 20.5, true},
            }) {
                TextMessage m = s.createTextMessage((String) row[0]);
                m.setJMSType((String) row[1]);
                m.setJMSCorrelationID((String) row[2]);
                m.setDoubleProperty("price", (Double) row[3]);
                m.setBooleanProperty("vip", (Boolean) row[4]);
                p.send(m);
            }
            assertEquals(List.of("yes", "edge"), drain(sel, 5000));
            assertNull(sel.receiveNoWait());
            assertNotNull(sel.getMessageSelector());
        }
    }
}
