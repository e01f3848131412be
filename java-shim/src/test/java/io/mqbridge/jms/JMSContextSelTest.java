package io.mqbridge.jms;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import javax.jms.InvalidSelectorRuntimeException;
import javax.jms.JMSRuntimeException;
import javax.jms.JMSConsumer;
import javax.jms.JMSContext;
import javax.jms.Message;
import javax.jms.Queue;
import javax.jms.Topic;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * JMSContext over the Session's selectors, noLocal, shared subscriptions and Connection.stop:
 * the context only delegates.
 */
@ParameterizedClass
@MethodSource("io.mqbridge.jms.Target#all")
class JMSContextSelTest {
    @Parameter
    Target target;

    private final List<String> queues = new ArrayList<>();

    String queueName() {
        String q = "jmsctx-sel-" + UUID.randomUUID();
        queues.add(q);
        return q;
    }

    @AfterEach
    void deleteQueues() throws Exception {
        if (queues.isEmpty()) {
            return;
        }
        com.rabbitmq.client.ConnectionFactory f = new com.rabbitmq.client.ConnectionFactory();
        f.setUri(target.amqpUri());
        try (com.rabbitmq.client.Connection rc = f.newConnection()) {
            for (String q : queues) {
                try (com.rabbitmq.client.Channel ch = rc.createChannel()) {
                    ch.queueDelete(q);
                } catch (Exception e) {
                    // never declared
                }
            }
        }
        queues.clear();
    }

    @Test
    void selectorFiltersAndAnInvalidOneIsInvalidSelectorRuntimeException() throws Exception {
        try (JMSContext ctx = target.factory().createContext()) {
            Queue q = ctx.createQueue(queueName());
            if (!target.isMqbridge()) {
                // RabbitMQ cannot filter a queue: the Session refuses, the context says so unchecked.
                JMSRuntimeException e = assertThrows(JMSRuntimeException.class,
                        () -> ctx.createConsumer(q, "color = 'red'"));
                assertTrue(e.getMessage().contains("selector"), e.getMessage());
                assertThrows(InvalidSelectorRuntimeException.class, () -> ctx.createConsumer(q, "color = = 'x'"));
                return;
            }
            JMSConsumer red = ctx.createConsumer(q, "color = 'red' AND n > 1");
            ctx.createProducer().setProperty("color", "blue").setProperty("n", 5).send(q, "blue");
            ctx.createProducer().setProperty("color", "red").setProperty("n", 5).send(q, "red");
            Message m = red.receive(5000);
            assertEquals("red", m.getBody(String.class));
            assertEquals("color = 'red' AND n > 1", red.getMessageSelector());
            assertThrows(InvalidSelectorRuntimeException.class, () -> ctx.createConsumer(q, "color = = 'x'"));
        }
    }

    @Test
    void noLocalTopicConsumerSkipsItsOwnConnectionsMessages() throws Exception {
        try (JMSContext ctx = target.factory().createContext(); JMSContext other = target.factory().createContext()) {
            Topic t = ctx.createTopic("jmsctx.nolocal." + UUID.randomUUID());
            JMSConsumer c = ctx.createConsumer(t, null, true);
            ctx.createProducer().send(t, "own");
            other.createProducer().send(t, "other");
            assertEquals("other", c.receive(5000).getBody(String.class));
            assertNull(c.receive(300));
        }
    }

    @Test
    void sharedConsumersSplitTheSubscription() throws Exception {
        assumeTrue(target.isShim(), "ActiveMQ 5.18 has no shared subscriptions");
        try (JMSContext a = target.factory().createContext(); JMSContext b = target.factory().createContext()) {
            Topic t = a.createTopic("jmsctx.shared." + UUID.randomUUID());
            String sub = "shared-" + UUID.randomUUID();
            JMSConsumer ca = a.createSharedConsumer(t, sub);
            JMSConsumer cb = b.createSharedConsumer(t, sub);
            for (int i = 0; i < 4; i++) {
                a.createProducer().send(t, "m" + i);
            }
            int got = 0;
            for (JMSConsumer c : new JMSConsumer[] {ca, cb}) {
                Message m;
                while ((m = c.receive(1000)) != null) {
                    assertNotNull(m.getBody(String.class));
                    got++;
                }
            }
            assertEquals(4, got, "each message once across the shared consumers");
        }
    }

    @Test
    void stopHoldsDeliveriesUntilStart() throws Exception {
        try (JMSContext ctx = target.factory().createContext()) {
            Queue q = ctx.createQueue(queueName());
            JMSConsumer c = ctx.createConsumer(q);
            ctx.stop();
            ctx.createProducer().send(q, "held");
            assertNull(c.receive(500));
            ctx.start();
            assertEquals("held", c.receive(5000).getBody(String.class));
        }
    }
}
