package io.mqbridge.jms;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.jms.Connection;
import javax.jms.JMSException;
import javax.jms.Message;
import javax.jms.MessageConsumer;
import javax.jms.MessageProducer;
import javax.jms.Queue;
import javax.jms.Session;
import javax.jms.TextMessage;
import javax.jms.Topic;
import javax.jms.TransactionRolledBackException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Transacted sessions (JMS 2.0 §6.2.7), the same assertions on every target: sends are
 * invisible until commit, rollback drops them and redelivers what was consumed, close rolls
 * back, a listener's work is committed by its session.commit().
 */
@ParameterizedClass
@MethodSource("io.mqbridge.jms.Target#all")
class TransactionTest extends TargetSuite {

    private static String text(Message m) throws JMSException {
        return ((TextMessage) m).getText();
    }

    @Test
    void sessionReportsItsMode() throws Exception {
        try (Connection c = connect()) {
            Session tx = c.createSession(true, Session.SESSION_TRANSACTED);
            assertTrue(tx.getTransacted());
            assertEquals(Session.SESSION_TRANSACTED, tx.getAcknowledgeMode());
            Session tx2 = c.createSession(Session.SESSION_TRANSACTED);
            assertTrue(tx2.getTransacted());
            Session auto = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            assertFalse(auto.getTransacted());
            assertThrows(javax.jms.IllegalStateException.class, auto::commit);
            assertThrows(javax.jms.IllegalStateException.class, auto::rollback);
            assertThrows(javax.jms.IllegalStateException.class, tx::recover);
            tx.close();
            assertThrows(javax.jms.IllegalStateException.class, tx::commit);
        }
    }

    @Test
    void sendsAreDeliveredOnlyAtCommit() throws Exception {
        String name = queueName();
        try (Connection c = connect()) {
            Session tx = c.createSession(true, Session.SESSION_TRANSACTED);
            Session plain = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            Queue q = tx.createQueue(name);
            MessageProducer p = tx.createProducer(q);
            MessageConsumer consumer = plain.createConsumer(q);
            p.send(tx.createTextMessage("one"));
            p.send(tx.createTextMessage("two"));
            assertNull(consumer.receive(700), "not visible before commit");
            tx.commit();
            assertEquals("one", text(consumer.receive(5000)));
            assertEquals("two", text(consumer.receive(5000)));
            assertNull(consumer.receiveNoWait());
        }
    }

    @Test
    void rollbackDropsSends() throws Exception {
        String name = queueName();
        try (Connection c = connect()) {
            Session tx = c.createSession(true, Session.SESSION_TRANSACTED);
            Queue q = tx.createQueue(name);
            MessageProducer p = tx.createProducer(q);
            p.send(tx.createTextMessage("dropped"));
            tx.rollback();
            p.send(tx.createTextMessage("kept"));
            tx.commit();
            Session plain = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageConsumer consumer = plain.createConsumer(q);
            assertEquals("kept", text(consumer.receive(5000)));
            assertNull(consumer.receive(500));
        }
    }

    @Test
    void rollbackRedeliversConsumedMessagesAndCommitAcknowledgesThem() throws Exception {
        String name = queueName();
        try (Connection c = connect()) {
            Session plain = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            Queue q = plain.createQueue(name);
            plain.createProducer(q).send(plain.createTextMessage("work"));
            Session tx = c.createSession(true, Session.SESSION_TRANSACTED);
            MessageConsumer consumer = tx.createConsumer(q);
            Message first = consumer.receive(5000);
            assertNotNull(first);
            assertFalse(first.getJMSRedelivered());
            assertEquals(1, first.getIntProperty("JMSXDeliveryCount"));
            tx.rollback();
            Message again = consumer.receive(5000);
            assertNotNull(again, "redelivered after rollback");
            assertEquals(first.getJMSMessageID(), again.getJMSMessageID());
            assertEquals("work", text(again));
            assertTrue(again.getJMSRedelivered());
            assertEquals(2, again.getIntProperty("JMSXDeliveryCount"), "delivery count grows");
            tx.rollback();
            Message third = consumer.receive(5000);
            assertEquals(first.getJMSMessageID(), third.getJMSMessageID());
            assertTrue(third.getJMSRedelivered());
            if (target.isMqbridge()) {
                // mqbridge counts deliveries (x-delivery-count); RabbitMQ's classic queues
                // only flag redelivered, which maps to a count of 2.
                assertEquals(3, third.getIntProperty("JMSXDeliveryCount"));
            } else {
                assertEquals(2, third.getIntProperty("JMSXDeliveryCount"));
            }
            tx.commit();
            consumer.close();
            MessageConsumer after = plain.createConsumer(q);
            assertNull(after.receive(700), "committed: acknowledged");
        }
    }

    @Test
    void consumeAndProduceCommitTogether() throws Exception {
        String in = queueName();
        String out = queueName();
        try (Connection c = connect()) {
            Session plain = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            plain.createProducer(plain.createQueue(in)).send(plain.createTextMessage("request"));
            Session tx = c.createSession(true, Session.SESSION_TRANSACTED);
            MessageConsumer consumer = tx.createConsumer(tx.createQueue(in));
            MessageProducer producer = tx.createProducer(tx.createQueue(out));
            MessageConsumer outConsumer = plain.createConsumer(plain.createQueue(out));

            Message m = consumer.receive(5000);
            producer.send(tx.createTextMessage("reply to " + text(m)));
            tx.rollback();
            assertNull(outConsumer.receive(500), "rolled back send");
            m = consumer.receive(5000);
            assertNotNull(m, "rolled back receive comes again");
            producer.send(tx.createTextMessage("reply to " + text(m)));
            tx.commit();
            assertEquals("reply to request", text(outConsumer.receive(5000)));
            assertNull(consumer.receive(500));
        }
    }

    @Test
    void topicSubscriberInATransaction() throws Exception {
        try (Connection c = connect()) {
            Session tx = c.createSession(true, Session.SESSION_TRANSACTED);
            Topic t = tx.createTopic("jms.tx." + java.util.UUID.randomUUID());
            MessageConsumer sub = tx.createConsumer(t);
            Session plain = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            plain.createProducer(t).send(plain.createTextMessage("news"));
            Message m = sub.receive(5000);
            assertEquals("news", text(m));
            tx.rollback();
            Message again = sub.receive(5000);
            assertNotNull(again);
            assertTrue(again.getJMSRedelivered());
            tx.commit();
            assertNull(sub.receive(500));
        }
    }

    @Test
    void closingATransactedSessionRollsBack() throws Exception {
        String name = queueName();
        try (Connection c = connect()) {
            Session plain = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            Queue q = plain.createQueue(name);
            plain.createProducer(q).send(plain.createTextMessage("consumed then rolled back"));
            Session tx = c.createSession(true, Session.SESSION_TRANSACTED);
            assertNotNull(tx.createConsumer(q).receive(5000));
            tx.createProducer(q).send(tx.createTextMessage("never committed"));
            tx.close();
            MessageConsumer consumer = plain.createConsumer(q);
            Message m = consumer.receive(5000);
            assertEquals("consumed then rolled back", text(m));
            assertTrue(m.getJMSRedelivered());
            assertNull(consumer.receive(700), "the uncommitted send is gone");
        }
    }

    @Test
    void closingTheConnectionRollsBack() throws Exception {
        String name = queueName();
        try (Connection c = connect()) {
            Session tx = c.createSession(true, Session.SESSION_TRANSACTED);
            tx.createProducer(tx.createQueue(name)).send(tx.createTextMessage("never committed"));
        }
        try (Connection c = connect()) {
            Session plain = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            assertNull(plain.createConsumer(plain.createQueue(name)).receive(700));
        }
    }

    @Test
    void closedConsumersBufferedMessagesComeBackAfterTheTransaction() throws Exception {
        String name = queueName();
        try (Connection c = connect()) {
            Session plain = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            Queue q = plain.createQueue(name);
            MessageProducer p = plain.createProducer(q);
            for (int i = 0; i < 5; i++) {
                p.send(plain.createTextMessage("m" + i));
            }
            Session tx = c.createSession(true, Session.SESSION_TRANSACTED);
            MessageConsumer consumer = tx.createConsumer(q);
            assertEquals("m0", text(consumer.receive(5000)));
            Thread.sleep(300); // let the others be prefetched
            consumer.close();
            tx.commit();
            MessageConsumer rest = plain.createConsumer(q);
            List<String> got = new java.util.ArrayList<>();
            for (Message m; (m = rest.receive(2000)) != null;) {
                got.add(text(m));
            }
            assertEquals(List.of("m1", "m2", "m3", "m4"), got);
        }
    }

    @Test
    void listenerWorkIsCommittedByTheSessionsCommit() throws Exception {
        String in = queueName();
        String out = queueName();
        try (Connection c = connect()) {
            Session tx = c.createSession(true, Session.SESSION_TRANSACTED);
            MessageProducer replies = tx.createProducer(tx.createQueue(out));
            List<Boolean> redelivered = new CopyOnWriteArrayList<>();
            CountDownLatch done = new CountDownLatch(1);
            CompletableFuture<Throwable> failure = new CompletableFuture<>();
            tx.createConsumer(tx.createQueue(in)).setMessageListener(m -> {
                try {
                    redelivered.add(m.getJMSRedelivered());
                    replies.send(tx.createTextMessage("done " + text(m)));
                    if (redelivered.size() == 1) {
                        tx.rollback(); // first attempt fails: the reply is dropped, m comes again
                    } else {
                        tx.commit();
                        done.countDown();
                    }
                } catch (Throwable e) {
                    failure.complete(e);
                }
            });
            Session plain = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            plain.createProducer(plain.createQueue(in)).send(plain.createTextMessage("job"));
            assertTrue(done.await(10, TimeUnit.SECONDS), "committed on the second delivery");
            assertFalse(failure.isDone(), () -> "listener failed: " + failure.getNow(null));
            assertEquals(List.of(false, true), redelivered);
            MessageConsumer outConsumer = plain.createConsumer(plain.createQueue(out));
            assertEquals("done job", text(outConsumer.receive(5000)));
            assertNull(outConsumer.receive(500), "the rolled back reply is gone");
            tx.close();
            assertEquals(0, depth(in), "the job was acknowledged by the commit");
        }
    }

    /** A queue consumer with a selector in a transaction (queue selectors need mqbridge). */
    @Test
    void selectorConsumerInATransaction() throws Exception {
        assumeTrue(target.isMqbridge(), "RabbitMQ cannot filter a queue (see SelectorTest)");
        String name = queueName();
        try (Connection c = connect()) {
            Session plain = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            Queue q = plain.createQueue(name);
            MessageProducer p = plain.createProducer(q);
            for (String color : new String[] {"red", "blue", "red"}) {
                TextMessage m = plain.createTextMessage(color);
                m.setStringProperty("color", color);
                p.send(m);
            }
            Session tx = c.createSession(true, Session.SESSION_TRANSACTED);
            MessageConsumer reds = tx.createConsumer(q, "color = 'red'");
            assertEquals("red", text(reds.receive(5000)));
            assertEquals("red", text(reds.receive(5000)));
            assertNull(reds.receive(300));
            tx.rollback();
            Message again = reds.receive(5000);
            assertEquals("red", text(again));
            assertTrue(again.getJMSRedelivered());
            assertNotNull(reds.receive(5000));
            tx.commit();
            reds.close();
            MessageConsumer rest = plain.createConsumer(q);
            assertEquals("blue", text(rest.receive(5000)));
            assertNull(rest.receive(500), "both reds were committed");
        }
    }

    /**
     * A commit after the broker died: the broker dropped the transaction with the connection,
     * so the commit is a TransactionRolledBackException. (Needs a broker of its own to kill:
     * the shim against a private mqbridge process.)
     */
    @Test
    void commitAfterTheConnectionDiedIsTransactionRolledBack() throws Exception {
        assumeTrue(target == Target.SHIM_MQBRIDGE, "needs a private mqbridge process to kill");
        try (BridgeProcess own = BridgeProcess.start()) {
            Connection c = new MqbridgeConnectionFactory(
                    "mqbridge://guest:guest@" + own.host + ":" + own.port + "/").createConnection();
            CompletableFuture<JMSException> lost = new CompletableFuture<>();
            c.setExceptionListener(lost::complete);
            Session tx = c.createSession(true, Session.SESSION_TRANSACTED);
            tx.createProducer(tx.createQueue("doomed")).send(tx.createTextMessage("lost"));
            own.process.destroyForcibly().waitFor();
            lost.get(10, TimeUnit.SECONDS);
            JMSException e = assertThrows(JMSException.class, tx::commit);
            assertInstanceOf(TransactionRolledBackException.class, e, e.toString());
            tx.rollback(); // nothing left to roll back: not an error
            c.close();
        }
    }
}
