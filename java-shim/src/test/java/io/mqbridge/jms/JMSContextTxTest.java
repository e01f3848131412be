package io.mqbridge.jms;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.jms.CompletionListener;
import javax.jms.ConnectionFactory;
import javax.jms.JMSConsumer;
import javax.jms.JMSContext;
import javax.jms.Message;
import javax.jms.Queue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * JMSContext over the Session's transactions, asynchronous sends and delivery delay: the
 * context only delegates, so these run where the Session has the feature.
 */
@ParameterizedClass
@MethodSource("io.mqbridge.jms.Target#all")
class JMSContextTxTest {
    @Parameter
    Target target;

    private final List<String> queues = new ArrayList<>();

    String queueName() {
        String q = "jmsctx-tx-" + UUID.randomUUID();
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

    JMSContext context(int mode) {
        ConnectionFactory f = target.factory();
        return target.isShim() ? f.createContext(mode) : f.createContext("guest", "guest", mode);
    }

    @Test
    void transactedContextCommitsAndRollsBack() throws Exception {
        String name = queueName();
        try (JMSContext tx = context(JMSContext.SESSION_TRANSACTED); JMSContext plain = context(JMSContext.AUTO_ACKNOWLEDGE)) {
            assertTrue(tx.getTransacted());
            Queue q = tx.createQueue(name);
            JMSConsumer watcher = plain.createConsumer(plain.createQueue(name));
            tx.createProducer().send(q, "rolled back");
            tx.rollback();
            tx.createProducer().send(q, "committed");
            assertNull(watcher.receive(300), "nothing before commit");
            tx.commit();
            Message m = watcher.receive(5000);
            assertEquals("committed", m.getBody(String.class));
            assertNull(watcher.receive(300));
            watcher.close();
            // consumed in a transaction: rollback redelivers, commit consumes
            plain.createProducer().send(plain.createQueue(name), "consume me");
            JMSConsumer c = tx.createConsumer(q);
            assertEquals("consume me", c.receive(5000).getBody(String.class));
            tx.rollback();
            Message again = c.receive(5000);
            assertEquals("consume me", again.getBody(String.class));
            assertTrue(again.getJMSRedelivered());
            tx.commit();
            assertNull(c.receive(300));
        }
    }

    @Test
    void asyncSendCallsTheCompletionListener() throws Exception {
        assumeTrue(target.isShim(), "ActiveMQ 5.18's JMSProducer has no setAsync");
        String name = queueName();
        try (JMSContext ctx = context(JMSContext.AUTO_ACKNOWLEDGE)) {
            Queue q = ctx.createQueue(name);
            CompletableFuture<Message> done = new CompletableFuture<>();
            ctx.createProducer().setAsync(new CompletionListener() {
                @Override
                public void onCompletion(Message m) {
                    done.complete(m);
                }

                @Override
                public void onException(Message m, Exception e) {
                    done.completeExceptionally(e);
                }
            }).send(q, "async");
            assertNotNull(done.get(10, TimeUnit.SECONDS));
            assertEquals("async", ctx.createConsumer(q).receive(5000).getBody(String.class));
        }
    }

    @Test
    void deliveryDelayHoldsTheMessage() throws Exception {
        assumeTrue(target.isShim(), "ActiveMQ 5.18's JMSProducer has no delivery delay");
        String name = queueName();
        try (JMSContext ctx = context(JMSContext.AUTO_ACKNOWLEDGE)) {
            Queue q = ctx.createQueue(name);
            JMSConsumer c = ctx.createConsumer(q);
            long t0 = System.currentTimeMillis();
            ctx.createProducer().setDeliveryDelay(1500).send(q, "later");
            ctx.createProducer().send(q, "now");
            assertEquals("now", c.receive(5000).getBody(String.class));
            Message later = c.receive(10_000);
            assertNotNull(later);
            assertEquals("later", later.getBody(String.class));
            assertTrue(System.currentTimeMillis() - t0 >= 1400, "held for the delay");
        }
    }
}
