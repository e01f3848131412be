package io.mqbridge.jms;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.rabbitmq.client.Channel;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import javax.jms.Connection;
import javax.jms.JMSException;
import javax.jms.Message;
import javax.jms.MessageConsumer;
import javax.jms.MessageProducer;
import javax.jms.Queue;
import javax.jms.Session;
import javax.jms.TemporaryQueue;
import javax.jms.TemporaryTopic;
import javax.jms.TextMessage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Connection.stop()/start() (JMS 2.0 §6.1.5: stop pauses delivery to receive calls and
 * MessageListeners without closing anything) and temporary destinations arriving as
 * JMSReplyTo, for every {@link Target}.
 */
@ParameterizedClass
@MethodSource("io.mqbridge.jms.Target#all")
class StopStartTest {
    @Parameter
    Target target;

    private final List<String> queues = new ArrayList<>();

    String queueName() {
        String q = "jms-stop-" + UUID.randomUUID();
        queues.add(q);
        return q;
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
                    // already gone
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

    @Test
    void receiveWaitsWhileStoppedAndGetsTheMessageAfterStart() throws Exception {
        try (Connection c = connect(); Connection sender = connect()) {
            Session s = c.createSession();
            Queue q = s.createQueue(queueName());
            MessageConsumer consumer = s.createConsumer(q);
            c.stop();
            sender.createSession().createProducer(q).send(s.createTextMessage("paused"));
            long t0 = System.nanoTime();
            assertNull(consumer.receive(700), "nothing is delivered while stopped");
            assertTrue((System.nanoTime() - t0) / 1_000_000 >= 600, "receive waited its timeout");
            assertNull(consumer.receiveNoWait());
            // A receive blocked in another thread returns once the connection starts again.
            CompletableFuture<Message> waiting = CompletableFuture.supplyAsync(() -> {
                try {
                    return consumer.receive(20_000);
                } catch (JMSException e) {
                    throw new RuntimeException(e);
                }
            });
            Thread.sleep(500);
            assertTrue(!waiting.isDone(), "still blocked while stopped");
            c.start();
            Message m = waiting.get(10, TimeUnit.SECONDS);
            assertNotNull(m);
            assertEquals("paused", ((TextMessage) m).getText());
            // Stop and start again: nothing was closed.
            c.stop();
            c.start();
            sender.createSession().createProducer(q).send(s.createTextMessage("again"));
            assertEquals("again", ((TextMessage) consumer.receive(5000)).getText());
        }
    }

    @Test
    void listenersPauseWhileStopped() throws Exception {
        try (Connection c = connect(); Connection sender = connect()) {
            Session s = c.createSession();
            Queue q = s.createQueue(queueName());
            MessageConsumer consumer = s.createConsumer(q);
            List<String> got = new CopyOnWriteArrayList<>();
            consumer.setMessageListener(m -> {
                try {
                    got.add(((TextMessage) m).getText());
                } catch (JMSException e) {
                    throw new RuntimeException(e);
                }
            });
            Session ss = sender.createSession();
            MessageProducer p = ss.createProducer(q);
            p.send(ss.createTextMessage("before"));
            waitFor(() -> got.size() == 1);
            c.stop();
            p.send(ss.createTextMessage("during"));
            Thread.sleep(800);
            assertEquals(List.of("before"), got, "no delivery while stopped");
            c.start();
            waitFor(() -> got.size() == 2);
            assertEquals(List.of("before", "during"), got);
        }
    }

    @Test
    void stopFromItsOwnListenerIsAnIllegalStateException() throws Exception {
        assumeTrue(target.isShim(), "JMS 2.0 requires the check; ActiveMQ 5's client does not make it");
        try (Connection c = connect()) {
            Session s = c.createSession();
            Queue q = s.createQueue(queueName());
            MessageConsumer consumer = s.createConsumer(q);
            AtomicReference<Exception> thrown = new AtomicReference<>();
            CompletableFuture<Void> done = new CompletableFuture<>();
            consumer.setMessageListener(m -> {
                try {
                    c.stop();
                } catch (Exception e) {
                    thrown.set(e);
                }
                done.complete(null);
            });
            s.createProducer(q).send(s.createTextMessage("x"));
            done.get(10, TimeUnit.SECONDS);
            assertInstanceOf(javax.jms.IllegalStateException.class, thrown.get());
        }
    }

    @Test
    void temporaryQueueAsReplyToArrivesAsATemporaryQueue() throws Exception {
        try (Connection requester = connect(); Connection responder = connect()) {
            Session rs = requester.createSession();
            TemporaryQueue replies = rs.createTemporaryQueue();
            Queue requests = rs.createQueue(queueName());
            TextMessage req = rs.createTextMessage("ping");
            req.setJMSReplyTo(replies);
            rs.createProducer(requests).send(req);

            Session ps = responder.createSession();
            Message got = ps.createConsumer(requests).receive(5000);
            assertNotNull(got);
            TemporaryQueue replyTo = assertInstanceOf(TemporaryQueue.class, got.getJMSReplyTo());
            assertEquals(replies.getQueueName(), replyTo.getQueueName());
            ps.createProducer(replyTo).send(ps.createTextMessage("pong"));

            Message reply = rs.createConsumer(replies).receive(5000);
            assertNotNull(reply);
            assertEquals("pong", ((TextMessage) reply).getText());
            assertEquals(replies, reply.getJMSDestination());
        }
    }

    @Test
    void temporaryTopicAsReplyToArrivesAsATemporaryTopic() throws Exception {
        try (Connection requester = connect(); Connection responder = connect()) {
            Session rs = requester.createSession();
            TemporaryTopic replies = rs.createTemporaryTopic();
            MessageConsumer replyConsumer = rs.createConsumer(replies);
            Queue requests = rs.createQueue(queueName());
            TextMessage req = rs.createTextMessage("ping");
            req.setJMSReplyTo(replies);
            rs.createProducer(requests).send(req);

            Session ps = responder.createSession();
            Message got = ps.createConsumer(requests).receive(5000);
            assertNotNull(got);
            TemporaryTopic replyTo = assertInstanceOf(TemporaryTopic.class, got.getJMSReplyTo());
            assertEquals(replies.getTopicName(), replyTo.getTopicName());
            ps.createProducer(replyTo).send(ps.createTextMessage("pong"));
            Message reply = replyConsumer.receive(5000);
            assertNotNull(reply);
            assertEquals("pong", ((TextMessage) reply).getText());
        }
    }

    static void waitFor(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 10_000;
        while (!condition.getAsBoolean() && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
        }
        assertTrue(condition.getAsBoolean(), "condition not reached in 10 s");
    }
}
