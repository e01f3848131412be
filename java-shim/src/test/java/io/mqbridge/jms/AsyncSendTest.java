package io.mqbridge.jms;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.rabbitmq.client.Channel;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.jms.CompletionListener;
import javax.jms.Connection;
import javax.jms.JMSException;
import javax.jms.Message;
import javax.jms.MessageConsumer;
import javax.jms.MessageProducer;
import javax.jms.Queue;
import javax.jms.Session;
import javax.jms.TextMessage;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Asynchronous send with a CompletionListener (JMS 2.0 §7.3), through the shim to mqbridge and
 * to RabbitMQ. ActiveMQ 5.18's client throws UnsupportedOperationException for these sends,
 * so that target is skipped.
 */
@ParameterizedClass
@MethodSource("io.mqbridge.jms.Target#all")
class AsyncSendTest extends TargetSuite {

    @BeforeEach
    void needAsyncSend() {
        assumeTrue(target.isShim(), "ActiveMQ 5.18's client has no CompletionListener sends");
    }

    /** Records the callbacks. */
    static final class Recorder implements CompletionListener {
        final List<String> completed = new CopyOnWriteArrayList<>();
        final List<Exception> failed = new CopyOnWriteArrayList<>();
        final List<Thread> threads = new CopyOnWriteArrayList<>();
        final CountDownLatch done;

        Recorder(int expected) {
            done = new CountDownLatch(expected);
        }

        @Override
        public void onCompletion(Message m) {
            threads.add(Thread.currentThread());
            try {
                completed.add(((TextMessage) m).getText());
            } catch (JMSException e) {
                failed.add(e);
            }
            done.countDown();
        }

        @Override
        public void onException(Message m, Exception e) {
            threads.add(Thread.currentThread());
            failed.add(e);
            done.countDown();
        }
    }

    @Test
    void sendsCompleteInOrderOnAnotherThreadAfterTheConfirm() throws Exception {
        String name = queueName();
        try (Connection c = connect()) {
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            Queue q = s.createQueue(name);
            MessageProducer p = s.createProducer(q);
            MessageProducer anonymous = s.createProducer(null);
            int n = 60;
            Recorder r = new Recorder(n);
            List<String> expected = new java.util.ArrayList<>();
            for (int i = 0; i < n; i++) {
                TextMessage m = s.createTextMessage("m" + i);
                expected.add("m" + i);
                switch (i % 4) {
                    case 0 -> p.send(m, r);
                    case 1 -> p.send(m, javax.jms.DeliveryMode.NON_PERSISTENT, 6, 0, r);
                    case 2 -> anonymous.send(q, m, r);
                    default -> anonymous.send(q, m, javax.jms.DeliveryMode.PERSISTENT, 3, 60_000, r);
                }
                assertNotNull(m.getJMSMessageID(), "headers set when send returns");
            }
            assertTrue(r.done.await(20, TimeUnit.SECONDS), "all completed");
            assertEquals(List.of(), r.failed);
            assertEquals(expected, r.completed, "in send order");
            assertTrue(r.threads.stream().noneMatch(t -> t == Thread.currentThread()), "on another thread");
            assertEquals(n, depth(name), "confirmed = in the queue");
            // Two producers (two channels): the queue's order between them is the broker's.
            MessageConsumer consumer = s.createConsumer(q);
            java.util.Set<String> got = new java.util.TreeSet<>();
            for (int i = 0; i < n; i++) {
                TextMessage m = (TextMessage) consumer.receive(5000);
                got.add(m.getText());
                if (m.getText().equals("m1")) {
                    assertEquals(6, m.getJMSPriority());
                    assertEquals(javax.jms.DeliveryMode.NON_PERSISTENT, m.getJMSDeliveryMode());
                }
            }
            assertEquals(new java.util.TreeSet<>(expected), got);
        }
    }

    @Test
    void closeAndCommitFromTheCallbackAreIllegalAndCloseWaitsForCompletion() throws Exception {
        String name = queueName();
        try (Connection c = connect()) {
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageProducer p = s.createProducer(s.createQueue(name));
            CompletableFuture<List<Class<?>>> thrown = new CompletableFuture<>();
            p.send(s.createTextMessage("x"), new CompletionListener() {
                @Override
                public void onCompletion(Message m) {
                    List<Class<?>> errors = new java.util.ArrayList<>();
                    try {
                        p.close();
                    } catch (JMSException e) {
                        errors.add(e.getClass());
                    }
                    try {
                        s.close();
                    } catch (JMSException e) {
                        errors.add(e.getClass());
                    }
                    try {
                        c.close();
                    } catch (JMSException e) {
                        errors.add(e.getClass());
                    }
                    try {
                        s.commit();
                    } catch (JMSException e) {
                        errors.add(e.getClass());
                    }
                    thrown.complete(errors);
                }

                @Override
                public void onException(Message m, Exception e) {
                    thrown.completeExceptionally(e);
                }
            });
            assertEquals(List.of(javax.jms.IllegalStateException.class, javax.jms.IllegalStateException.class,
                    javax.jms.IllegalStateException.class, javax.jms.IllegalStateException.class),
                    thrown.get(10, TimeUnit.SECONDS));

            // close() returns only after the pending completions ran.
            Recorder r = new Recorder(20);
            for (int i = 0; i < 20; i++) {
                p.send(s.createTextMessage("y" + i), r);
            }
            p.close();
            assertEquals(20, r.completed.size() + r.failed.size(), "every callback ran before close returned");
            assertThrows(IllegalArgumentException.class,
                    () -> s.createProducer(s.createQueue(name)).send(s.createTextMessage("z"), null));
            assertThrows(javax.jms.IllegalStateException.class, () -> p.send(s.createTextMessage("late"), r));
        }
    }

    @Test
    void aRefusedMessageIsReportedToOnException() throws Exception {
        String name = queueName();
        // A queue that refuses every publish: the broker nacks it (mqbridge and RabbitMQ alike).
        try (com.rabbitmq.client.Connection rc = amqpFactory().newConnection(); Channel ch = rc.createChannel()) {
            ch.queueDeclare(name, true, false, false, Map.of("x-max-length", 0, "x-overflow", "reject-publish"));
        }
        try (Connection c = connect()) {
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageProducer p = s.createProducer(s.createQueue(name));
            Recorder r = new Recorder(1);
            p.send(s.createTextMessage("refused"), r);
            assertTrue(r.done.await(10, TimeUnit.SECONDS));
            assertEquals(List.of(), r.completed);
            assertEquals(1, r.failed.size());
            assertInstanceOf(JMSException.class, r.failed.get(0));
            assertTrue(r.failed.get(0).getMessage().contains("refused"), r.failed.get(0).getMessage());
            // The synchronous send reports the same as an exception.
            JMSException e = assertThrows(JMSException.class, () -> p.send(s.createTextMessage("refused too")));
            assertTrue(e.getMessage().contains("refused"), e.getMessage());
        }
    }

    @Test
    void inATransactionTheSendCompletesAndCommitDelivers() throws Exception {
        String name = queueName();
        try (Connection c = connect()) {
            Session tx = c.createSession(true, Session.SESSION_TRANSACTED);
            Queue q = tx.createQueue(name);
            Recorder r = new Recorder(1);
            tx.createProducer(q).send(tx.createTextMessage("in tx"), r);
            assertTrue(r.done.await(10, TimeUnit.SECONDS));
            assertEquals(List.of("in tx"), r.completed);
            assertNotEquals(Thread.currentThread(), r.threads.get(0));
            Session plain = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageConsumer consumer = plain.createConsumer(q);
            assertNull(consumer.receive(500), "not before commit");
            tx.commit();
            assertEquals("in tx", ((TextMessage) consumer.receive(5000)).getText());
        }
    }
}
