package io.mqbridge.jms;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.rabbitmq.client.Channel;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.jms.BytesMessage;
import javax.jms.ConnectionFactory;
import javax.jms.DeliveryMode;
import javax.jms.IllegalStateRuntimeException;
import javax.jms.InvalidDestinationRuntimeException;
import javax.jms.JMSConsumer;
import javax.jms.JMSContext;
import javax.jms.JMSProducer;
import javax.jms.JMSRuntimeException;
import javax.jms.JMSSecurityRuntimeException;
import javax.jms.MapMessage;
import javax.jms.Message;
import javax.jms.MessageFormatRuntimeException;
import javax.jms.ObjectMessage;
import javax.jms.Queue;
import javax.jms.StreamMessage;
import javax.jms.TemporaryQueue;
import javax.jms.TextMessage;
import javax.jms.Topic;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The JMS 2.0 simplified API (JMSContext, JMSProducer, JMSConsumer), with the same assertions
 * against every {@link Target}: ActiveMQ's client implements it too, so its behaviour over
 * mqbridge's OpenWire listener is the reference.
 */
@ParameterizedClass
@MethodSource("io.mqbridge.jms.Target#all")
class JMSContextTest {
    @Parameter
    Target target;

    private final List<String> queues = new ArrayList<>();

    String queueName() {
        String q = "jmsctx-test-" + UUID.randomUUID();
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
                try (Channel ch = rc.createChannel()) {
                    ch.queueDelete(q);
                } catch (Exception e) {
                    // never declared
                }
            }
        }
        queues.clear();
    }

    JMSContext context() {
        return target.factory().createContext();
    }

    /** A context with that session mode (ActiveMQ's factory has createContext(int) only with credentials). */
    JMSContext context(int sessionMode) {
        ConnectionFactory f = target.factory();
        return target.isShim() ? f.createContext(sessionMode) : f.createContext("guest", "guest", sessionMode);
    }

    /**
     * The next message's body: receiveBody, except on ActiveMQ's client, whose JMSConsumer has
     * none (5.18: UnsupportedOperationException), where receive + getBody is the equivalent.
     */
    <T> T body(JMSConsumer c, Class<T> type) throws Exception {
        if (target.isShim()) {
            return c.receiveBody(type, 5000);
        }
        Message m = c.receive(5000);
        return m == null ? null : m.getBody(type);
    }

    @Test
    void producerPropertiesAndHeadersReachTheMessage() throws Exception {
        try (JMSContext ctx = context()) {
            Queue q = ctx.createQueue(queueName());
            Queue replies = ctx.createQueue("replies");
            JMSConsumer consumer = ctx.createConsumer(q);
            JMSProducer p = ctx.createProducer()
                    .setProperty("flag", true)
                    .setProperty("b", (byte) -7)
                    .setProperty("sh", (short) 1234)
                    .setProperty("count", 42)
                    .setProperty("big", 1L << 40)
                    .setProperty("ratio", 1.5f)
                    .setProperty("pi", 3.25)
                    .setProperty("region", "eu-west")
                    .setProperty("obj", (Object) Integer.valueOf(9))
                    .setJMSCorrelationID("corr-7")
                    .setJMSType("order.created")
                    .setJMSReplyTo(replies)
                    .setPriority(7)
                    .setDeliveryMode(DeliveryMode.NON_PERSISTENT)
                    .setTimeToLive(60_000);
            assertEquals(Set.of("flag", "b", "sh", "count", "big", "ratio", "pi", "region", "obj"),
                    p.getPropertyNames());
            assertEquals(42L, p.getLongProperty("count"));
            assertEquals("1.5", p.getStringProperty("ratio"));
            assertTrue(p.propertyExists("region"));
            assertEquals("corr-7", p.getJMSCorrelationID());
            assertEquals(replies, p.getJMSReplyTo());
            long before = System.currentTimeMillis();
            p.send(q, "héllo ✓");

            TextMessage t = assertInstanceOf(TextMessage.class, consumer.receive(5000));
            assertEquals("héllo ✓", t.getBody(String.class));
            assertEquals(Boolean.TRUE, t.getObjectProperty("flag"));
            assertEquals(Byte.valueOf((byte) -7), t.getObjectProperty("b"));
            assertEquals(Short.valueOf((short) 1234), t.getObjectProperty("sh"));
            assertEquals(42, t.getIntProperty("count"));
            assertEquals(1L << 40, t.getLongProperty("big"));
            assertEquals(1.5f, t.getFloatProperty("ratio"));
            assertEquals(3.25, t.getDoubleProperty("pi"));
            assertEquals("eu-west", t.getStringProperty("region"));
            assertEquals(9, t.getIntProperty("obj"));
            assertEquals("corr-7", t.getJMSCorrelationID());
            assertEquals("order.created", t.getJMSType());
            assertEquals(replies, t.getJMSReplyTo());
            assertEquals(q, t.getJMSDestination());
            assertEquals(7, t.getJMSPriority());
            assertEquals(DeliveryMode.NON_PERSISTENT, t.getJMSDeliveryMode());
            assertTrue(t.getJMSExpiration() >= before + 60_000, "expiration from the TTL");
            assertNotNull(t.getJMSMessageID());

            // clearProperties: the next send carries none of them.
            p.clearProperties().setJMSCorrelationID(null).setJMSType(null);
            assertTrue(p.getPropertyNames().isEmpty());
            p.send(q, "plain");
            Message plain = consumer.receive(5000);
            assertEquals("plain", ((TextMessage) plain).getText());
            assertFalse(plain.propertyExists("region"));
        }
    }

    @Test
    void everyBodyTypeIsSentAndReceivedAsItsBody() throws Exception {
        try (JMSContext ctx = context()) {
            Queue q = ctx.createQueue(queueName());
            JMSConsumer consumer = ctx.createConsumer(q);
            JMSProducer p = ctx.createProducer();

            p.send(q, "text");
            assertEquals("text", body(consumer, String.class));

            Map<String, Object> map = new HashMap<>();
            map.put("s", "v");
            map.put("i", 3);
            map.put("d", 2.5);
            map.put("bytes", new byte[] {1, 2});
            p.send(q, map);
            MapMessage mm = assertInstanceOf(MapMessage.class, consumer.receive(5000));
            assertEquals("v", mm.getString("s"));
            assertEquals(3, mm.getInt("i"));
            assertEquals(2.5, mm.getDouble("d"));
            assertArrayEquals(new byte[] {1, 2}, mm.getBytes("bytes"));

            p.send(q, Map.of("k", "v"));
            @SuppressWarnings("unchecked")
            Map<String, Object> back = body(consumer, Map.class);
            assertEquals(Map.of("k", "v"), back);

            p.send(q, new byte[] {9, 8, 7});
            assertArrayEquals(new byte[] {9, 8, 7}, body(consumer, byte[].class));

            ArrayList<Object> list = new ArrayList<>(List.of("a", 1, 2L));
            p.send(q, (Serializable) list);
            assertEquals(list, body(consumer, ArrayList.class));
            p.send(q, (Serializable) list);
            ObjectMessage om = assertInstanceOf(ObjectMessage.class, consumer.receive(5000));
            assertEquals(list, om.getObject());

            StreamMessage sm = ctx.createStreamMessage();
            sm.writeString("s");
            sm.writeInt(5);
            p.send(q, sm);
            StreamMessage sr = assertInstanceOf(StreamMessage.class, consumer.receive(5000));
            assertEquals("s", sr.readString());
            assertEquals(5, sr.readInt());

            BytesMessage bm = ctx.createBytesMessage();
            bm.writeLong(77L);
            p.send(q, bm);
            BytesMessage br = assertInstanceOf(BytesMessage.class, consumer.receive(5000));
            assertEquals(77L, br.readLong());

            Message bare = ctx.createMessage();
            bare.setStringProperty("only", "headers");
            p.send(q, bare);
            Message br2 = consumer.receive(5000);
            assertEquals("headers", br2.getStringProperty("only"));

            assertNull(consumer.receiveNoWait());
        }
    }

    @Test
    void receiveBodyWaitsAndReturnsNullOnTimeout() throws Exception {
        assumeTrue(target.isShim(), "ActiveMQ 5.18's JMSConsumer has no receiveBody");
        try (JMSContext ctx = context()) {
            Queue q = ctx.createQueue(queueName());
            JMSConsumer consumer = ctx.createConsumer(q);
            assertNull(consumer.receiveBodyNoWait(String.class));
            long t0 = System.nanoTime();
            assertNull(consumer.receiveBody(String.class, 300));
            assertTrue((System.nanoTime() - t0) / 1_000_000 >= 250, "waited for the timeout");
            ctx.createProducer().send(q, "now");
            assertEquals("now", consumer.receiveBody(String.class));
            ctx.createProducer().send(q, "again");
            Thread.sleep(300);
            assertEquals("again", consumer.receiveBodyNoWait(String.class));
        }
    }

    @Test
    void receiveBodyOfTheWrongTypeIsAMessageFormatRuntimeException() throws Exception {
        assumeTrue(target.isShim(), "ActiveMQ 5.18's JMSConsumer has no receiveBody");
        try (JMSContext ctx = context()) {
            Queue q = ctx.createQueue(queueName());
            JMSConsumer consumer = ctx.createConsumer(q);
            JMSProducer p = ctx.createProducer();
            // AUTO_ACKNOWLEDGE: the refused message is not acknowledged and comes again (JMS 2.0).
            p.send(q, "not a number");
            assertThrows(MessageFormatRuntimeException.class, () -> consumer.receiveBody(Integer.class, 5000));
            Message again = consumer.receive(5000);
            assertEquals("not a number", again.getBody(String.class));
            assertTrue(again.getJMSRedelivered(), "delivered again");
            p.send(q, ctx.createStreamMessage());
            assertThrows(MessageFormatRuntimeException.class, () -> consumer.receiveBody(Object.class, 5000));
            assertInstanceOf(StreamMessage.class, consumer.receive(5000));
            p.send(q, ctx.createMessage());
            assertThrows(MessageFormatRuntimeException.class, () -> consumer.receiveBody(String.class, 5000));
            assertNotNull(consumer.receive(5000));
            p.send(q, new byte[] {1});
            assertThrows(MessageFormatRuntimeException.class, () -> consumer.receiveBody(String.class, 5000));
            assertArrayEquals(new byte[] {1}, consumer.receiveBody(byte[].class, 5000));
            assertNull(consumer.receiveNoWait());
        }
        // CLIENT_ACKNOWLEDGE: the refused message counts as delivered; acknowledge consumes it.
        String name = queueName();
        try (JMSContext ctx = context(JMSContext.CLIENT_ACKNOWLEDGE)) {
            Queue q = ctx.createQueue(name);
            JMSConsumer consumer = ctx.createConsumer(q);
            ctx.createProducer().send(q, "text");
            assertThrows(MessageFormatRuntimeException.class, () -> consumer.receiveBody(Long.class, 5000));
            assertNull(consumer.receive(300), "not delivered again in the session");
            ctx.acknowledge();
        }
        try (JMSContext ctx = context()) {
            assertNull(ctx.createConsumer(ctx.createQueue(name)).receive(300), "acknowledged");
        }
    }

    @Test
    void producerArgumentErrorsAreTheSpecsRuntimeExceptions() throws Exception {
        try (JMSContext ctx = context()) {
            JMSProducer p = ctx.createProducer();
            assertThrows(JMSRuntimeException.class, () -> p.setPriority(10));
            assertThrows(JMSRuntimeException.class, () -> p.setDeliveryMode(7));
            assertThrows(MessageFormatRuntimeException.class, () -> p.setProperty("list", (Object) new ArrayList<>()));
            assertThrows(IllegalArgumentException.class, () -> p.setProperty("", 1));
            p.setProperty("text", "abc");
            assertThrows(NumberFormatException.class, () -> p.getLongProperty("text")); // JMS: valueOf
            p.setProperty("flag", true);
            assertThrows(MessageFormatRuntimeException.class, () -> p.getIntProperty("flag"));
            if (target.isShim()) {
                // ActiveMQ 5.18 throws UnsupportedOperationException for these, not what JMS 2.0 says.
                assertThrows(InvalidDestinationRuntimeException.class, () -> p.send(null, "x"));
                assertThrows(MessageFormatRuntimeException.class,
                        () -> p.send(ctx.createQueue(queueName()), (Message) null));
                // ActiveMQ's MapMessage takes nested lists; JMS 2.0 allows only primitives, String, byte[].
                Map<String, Object> bad = Map.of("list", new ArrayList<>());
                assertThrows(MessageFormatRuntimeException.class, () -> p.send(ctx.createQueue(queueName()), bad));
            }
        }
    }

    @Test
    void clientAcknowledgeAcknowledgeAndRecover() throws Exception {
        String name = queueName();
        try (JMSContext ctx = context(JMSContext.CLIENT_ACKNOWLEDGE)) {
            assertEquals(JMSContext.CLIENT_ACKNOWLEDGE, ctx.getSessionMode());
            assertFalse(ctx.getTransacted());
            Queue q = ctx.createQueue(name);
            JMSConsumer consumer = ctx.createConsumer(q);
            JMSProducer p = ctx.createProducer();
            p.send(q, "one");
            p.send(q, "two");
            assertEquals("one", body(consumer, String.class));
            // recover: the unacknowledged message comes again, flagged redelivered (with "two",
            // which the consumer may already hold: the order of the two is not checked).
            ctx.recover();
            Set<String> seen = new java.util.TreeSet<>();
            Message again = consumer.receive(5000);
            seen.add(((TextMessage) again).getText());
            Message next = consumer.receive(5000);
            seen.add(((TextMessage) next).getText());
            assertEquals(Set.of("one", "two"), seen);
            Message one = ((TextMessage) again).getText().equals("one") ? again : next;
            assertTrue(one.getJMSRedelivered(), "one is flagged redelivered");
            ctx.acknowledge();
            p.send(q, "three");
            assertEquals("three", body(consumer, String.class)); // never acknowledged
        }
        // Only "three" is left: acknowledge covered "one" and "two".
        try (JMSContext ctx = context()) {
            JMSConsumer consumer = ctx.createConsumer(ctx.createQueue(name));
            assertEquals("three", body(consumer, String.class));
            assertNull(consumer.receive(300));
        }
    }

    @Test
    void dupsOkAndAutoAcknowledgeConsumeOnReceive() throws Exception {
        String name = queueName();
        for (int mode : new int[] {JMSContext.AUTO_ACKNOWLEDGE, JMSContext.DUPS_OK_ACKNOWLEDGE}) {
            try (JMSContext ctx = context(mode)) {
                assertEquals(mode, ctx.getSessionMode());
                Queue q = ctx.createQueue(name);
                ctx.createProducer().send(q, "m" + mode);
                assertEquals("m" + mode, body(ctx.createConsumer(q), String.class));
                ctx.acknowledge(); // no effect in these modes
            }
        }
        try (JMSContext ctx = context()) {
            assertNull(ctx.createConsumer(ctx.createQueue(name)).receive(300));
        }
    }

    @Test
    void createContextSharesTheConnectionWhichClosesWithTheLastContext() throws Exception {
        assumeTrue(target.isShim(), "counts the shim's native handles");
        int before = Native.liveHandles();
        JMSContext first = context();
        Queue q = first.createQueue(queueName());
        JMSContext second = first.createContext(JMSContext.CLIENT_ACKNOWLEDGE);
        assertEquals(JMSContext.CLIENT_ACKNOWLEDGE, second.getSessionMode());
        first.createProducer().send(q, "shared");
        JMSConsumer c = second.createConsumer(q);
        Message m = c.receive(5000);
        assertNotNull(m);
        first.close();
        // The connection stays open for the second context.
        assertThrows(IllegalStateRuntimeException.class, first::createProducer);
        second.acknowledge();
        second.createProducer().send(q, "still open");
        assertEquals("still open", body(c, String.class));
        second.acknowledge();
        second.close();
        second.close();
        first.close();
        assertEquals(before, Native.liveHandles(), "connection, sessions, producers, consumers released");
    }

    @Test
    void createContextSharesTheConnection() throws Exception {
        try (JMSContext first = context(); JMSContext second = first.createContext(JMSContext.AUTO_ACKNOWLEDGE)) {
            Queue q = first.createQueue(queueName());
            JMSConsumer consumer = second.createConsumer(q);
            first.createProducer().send(q, "from first");
            assertEquals("from first", body(consumer, String.class));
            first.close();
            second.createProducer().send(q, "from second");
            assertEquals("from second", body(consumer, String.class));
        }
    }

    @Test
    void autoStartOffWaitsForStart() throws Exception {
        try (JMSContext ctx = context()) {
            ctx.setAutoStart(false);
            assertFalse(ctx.getAutoStart());
            Queue q = ctx.createQueue(queueName());
            JMSConsumer consumer = ctx.createConsumer(q);
            ctx.createProducer().send(q, "waiting");
            assertNull(consumer.receive(500), "not delivered before start");
            ctx.start();
            assertEquals("waiting", body(consumer, String.class));
        }
    }

    @Test
    void messageListenerReceivesAndMayNotCloseOrStopItsContext() throws Exception {
        try (JMSContext ctx = context()) {
            Queue q = ctx.createQueue(queueName());
            BlockingQueue<Object> got = new ArrayBlockingQueue<>(10);
            JMSConsumer consumer = ctx.createConsumer(q);
            javax.jms.MessageListener l = m -> {
                try {
                    got.add(m.getBody(String.class));
                    if (!target.isShim() || !m.getBody(String.class).equals("to the listener")) {
                        return; // ActiveMQ 5.18 does not refuse these (JMS 2.0 says it must)
                    }
                    try {
                        ctx.close();
                        got.add("close allowed");
                    } catch (IllegalStateRuntimeException e) {
                        got.add("close refused");
                    }
                    try {
                        ctx.stop();
                        got.add("stop allowed");
                    } catch (IllegalStateRuntimeException e) {
                        got.add("stop refused");
                    }
                } catch (javax.jms.JMSException e) {
                    got.add(e);
                }
            };
            consumer.setMessageListener(l);
            assertSame(l, consumer.getMessageListener());
            ctx.createProducer().send(q, "to the listener");
            assertEquals("to the listener", got.poll(5, TimeUnit.SECONDS));
            if (target.isShim()) {
                assertEquals("close refused", got.poll(5, TimeUnit.SECONDS));
                assertEquals("stop refused", got.poll(5, TimeUnit.SECONDS));
            }
            // The context still works after the refused calls.
            ctx.createProducer().send(q, "second");
            assertEquals("second", got.poll(5, TimeUnit.SECONDS));
            consumer.setMessageListener(null);
            assertNull(consumer.getMessageListener());
        }
    }

    @Test
    void topicSubscribersAndTemporaryQueueRequestReply() throws Exception {
        try (JMSContext ctx = context()) {
            Topic t = ctx.createTopic("jmsctx.topic." + UUID.randomUUID());
            JMSConsumer a = ctx.createConsumer(t);
            JMSConsumer b = ctx.createConsumer(t);
            ctx.createProducer().send(t, "to all");
            assertEquals("to all", body(a, String.class));
            assertEquals("to all", body(b, String.class));

            Queue requests = ctx.createQueue(queueName());
            TemporaryQueue replies = ctx.createTemporaryQueue();
            JMSConsumer server = ctx.createConsumer(requests);
            JMSConsumer client = ctx.createConsumer(replies);
            ctx.createProducer().setJMSReplyTo(replies).send(requests, "ping");
            Message req = server.receive(5000);
            assertEquals(replies.getQueueName(), ((Queue) req.getJMSReplyTo()).getQueueName());
            ctx.createProducer().setJMSCorrelationID(req.getJMSMessageID()).send(req.getJMSReplyTo(), "pong");
            Message reply = client.receive(5000);
            assertEquals("pong", reply.getBody(String.class));
            assertEquals(req.getJMSMessageID(), reply.getJMSCorrelationID());
        }
    }

    @Test
    void durableConsumerNeedsTheClientIdSetFirst() throws Exception {
        ConnectionFactory f = target.factory();
        String clientId = "jmsctx-" + UUID.randomUUID();
        String topicName = "jmsctx.durable." + UUID.randomUUID();
        try (JMSContext ctx = f.createContext()) {
            ctx.setClientID(clientId);
            assertEquals(clientId, ctx.getClientID());
            Topic t = ctx.createTopic(topicName);
            JMSConsumer sub = ctx.createDurableConsumer(t, "sub");
            ctx.createProducer().send(t, "while online");
            assertEquals("while online", body(sub, String.class));
            sub.close();
            ctx.createProducer().send(t, "while offline");
            // Once the context was used, its client ID cannot change.
            assertThrows(IllegalStateRuntimeException.class, () -> ctx.setClientID("other"));
        }
        try (JMSContext ctx = f.createContext()) {
            ctx.setClientID(clientId);
            Topic t = ctx.createTopic(topicName);
            JMSConsumer sub = ctx.createDurableConsumer(t, "sub");
            assertEquals("while offline", body(sub, String.class));
            sub.close();
            ctx.unsubscribe("sub");
        }
    }

    @Test
    void closedContextAndErrorsAreRuntimeExceptions() throws Exception {
        ConnectionFactory f = target.factory();
        JMSContext ctx = f.createContext();
        Queue q = ctx.createQueue(queueName());
        JMSConsumer consumer = ctx.createConsumer(q);
        assertNotNull(ctx.getMetaData().getJMSProviderName());
        assertThrows(IllegalStateRuntimeException.class, ctx::commit);
        assertThrows(IllegalStateRuntimeException.class, ctx::rollback);
        ctx.close();
        ctx.close();
        assertThrows(IllegalStateRuntimeException.class, ctx::createProducer);
        assertThrows(IllegalStateRuntimeException.class, () -> ctx.createQueue("x"));
        if (target.isShim()) {
            // JMS 2.0 says so; ActiveMQ 5.18 ignores acknowledge and createContext on a closed context.
            assertThrows(IllegalStateRuntimeException.class, ctx::acknowledge);
            assertThrows(JMSRuntimeException.class, () -> f.createContext(42));
            assertThrows(IllegalStateRuntimeException.class, () -> ctx.createContext(JMSContext.AUTO_ACKNOWLEDGE));
        }
        assertThrows(IllegalStateRuntimeException.class, consumer::receiveNoWait);
        assertThrows(JMSSecurityRuntimeException.class, () -> {
            try (JMSContext bad = f.createContext("guest", "wrong")) {
                bad.createProducer().send(bad.createQueue("never"), "x");
            }
        });
    }

    /** JMSProducer settings on the shim arrive as such through mqbridge's OpenWire listener. */
    @Test
    void shimContextToActiveMqContextThroughMqbridge() throws Exception {
        assumeTrue(target == Target.SHIM_MQBRIDGE, "crosses the shim and ActiveMQ's client on one mqbridge");
        String name = queueName();
        try (JMSContext shim = context(); JMSContext amq = Target.ACTIVEMQ_CLIENT.factory().createContext()) {
            JMSConsumer consumer = amq.createConsumer(amq.createQueue(name));
            shim.createProducer().setProperty("region", "eu").setProperty("n", 5L).setJMSType("t.x")
                    .setJMSCorrelationID("c-1").setPriority(6).send(shim.createQueue(name), Map.of("k", "v"));
            MapMessage m = assertInstanceOf(MapMessage.class, consumer.receive(5000));
            assertEquals("v", m.getString("k"));
            assertEquals("eu", m.getStringProperty("region"));
            assertEquals(5L, m.getObjectProperty("n"));
            assertEquals("t.x", m.getJMSType());
            assertEquals("c-1", m.getJMSCorrelationID());
            assertEquals(6, m.getJMSPriority());
            consumer.close(); // else ActiveMQ's prefetch takes the reply
            // and back: ActiveMQ's JMSProducer to the shim
            amq.createProducer().setProperty("from", "activemq").send(amq.createQueue(name), "reply");
            JMSConsumer back = shim.createConsumer(shim.createQueue(name));
            Message r = back.receive(5000);
            assertEquals("reply", r.getBody(String.class));
            assertEquals("activemq", r.getStringProperty("from"));
        }
    }

    @Test
    void exceptionListenerIsKeptOnTheConnection() throws Exception {
        try (JMSContext ctx = context()) {
            javax.jms.ExceptionListener l = e -> {};
            ctx.setExceptionListener(l);
            assertSame(l, ctx.getExceptionListener());
        }
    }

    @Test
    void credentialsOverloadsConnect() throws Exception {
        ConnectionFactory f = target.factory();
        String name = queueName();
        try (JMSContext ctx = f.createContext("guest", "guest");
                JMSContext client = f.createContext("guest", "guest", JMSContext.CLIENT_ACKNOWLEDGE)) {
            Queue q = ctx.createQueue(name);
            ctx.createProducer().send(q, "with credentials");
            Message m = client.createConsumer(q).receive(5000);
            assertEquals("with credentials", ((TextMessage) m).getText());
            client.acknowledge();
        }
    }
}
