package io.mqbridge.jms;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.GetResponse;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import javax.jms.BytesMessage;
import javax.jms.Connection;
import javax.jms.DeliveryMode;
import javax.jms.JMSException;
import javax.jms.JMSSecurityException;
import javax.jms.Message;
import javax.jms.MessageConsumer;
import javax.jms.MessageProducer;
import javax.jms.Queue;
import javax.jms.Session;
import javax.jms.TextMessage;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The core JMS API, run with the same assertions against every {@link Target}: the shim to an
 * mqbridge process, the shim to RabbitMQ, and ActiveMQ's own client to mqbridge's OpenWire
 * listener. Checks of the shim's own machinery (native handles, panics, its URI) are skipped
 * for the ActiveMQ client.
 */
@ParameterizedClass
@MethodSource("io.mqbridge.jms.Target#all")
class ShimTest {
    @Parameter
    Target target;

    private final List<String> queues = new ArrayList<>();

    /** The target's broker as an AMQP URL, {@code amqp://user:pass@host:port[/vhost]}. */
    String amqpUri() {
        return target.amqpUri();
    }

    String uri() {
        return target.shimUri();
    }

    String queueName() {
        String q = "jms-test-" + UUID.randomUUID();
        queues.add(q);
        return q;
    }

    ConnectionFactory amqpFactory() throws Exception {
        ConnectionFactory cf = new ConnectionFactory();
        cf.setUri(amqpUri());
        return cf;
    }

    /** Test queues are durable: delete them so a shared broker does not collect them. */
    @AfterEach
    void deleteQueues() throws Exception {
        if (queues.isEmpty()) {
            return;
        }
        try (com.rabbitmq.client.Connection rc = amqpFactory().newConnection()) {
            for (String q : queues) {
                try (Channel ch = rc.createChannel()) {
                    ch.queueDelete(q);
                } catch (Exception e) {
                    // never declared (the test failed early) or already gone
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
    void textMessageRoundTripKeepsTextHeadersAndTypedProperties() throws Exception {
        try (Connection c = connect()) {
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            Queue q = s.createQueue(queueName());
            MessageProducer p = s.createProducer(q);
            TextMessage m = s.createTextMessage("héllo wörld ✓");
            m.setJMSCorrelationID("corr-42");
            m.setJMSType("order.created");
            m.setJMSReplyTo(s.createQueue("replies"));
            m.setBooleanProperty("flag", true);
            m.setByteProperty("b", (byte) -7);
            m.setShortProperty("sh", (short) 1234);
            m.setIntProperty("count", 42);
            m.setLongProperty("big", 1L << 40);
            m.setFloatProperty("ratio", 1.5f);
            m.setDoubleProperty("pi", 3.25);
            m.setStringProperty("region", "eu-west");
            m.setStringProperty("JMSXGroupID", "group-a");
            p.setPriority(7);
            p.send(m);
            assertNotNull(m.getJMSMessageID());
            assertTrue(m.getJMSMessageID().startsWith("ID:"));

            MessageConsumer consumer = s.createConsumer(q);
            Message got = consumer.receive(5000);
            assertInstanceOf(TextMessage.class, got);
            TextMessage t = (TextMessage) got;
            assertEquals("héllo wörld ✓", t.getText());
            assertEquals(m.getJMSMessageID(), t.getJMSMessageID());
            assertEquals("corr-42", t.getJMSCorrelationID());
            assertEquals("order.created", t.getJMSType());
            assertEquals(s.createQueue("replies"), t.getJMSReplyTo());
            assertEquals(q, t.getJMSDestination());
            assertEquals(7, t.getJMSPriority());
            assertEquals(DeliveryMode.PERSISTENT, t.getJMSDeliveryMode());
            assertEquals(m.getJMSTimestamp(), t.getJMSTimestamp());
            assertFalse(t.getJMSRedelivered());
            assertEquals(Boolean.TRUE, t.getObjectProperty("flag"));
            assertEquals(Byte.valueOf((byte) -7), t.getObjectProperty("b"));
            assertEquals(Short.valueOf((short) 1234), t.getObjectProperty("sh"));
            assertEquals(Integer.valueOf(42), t.getObjectProperty("count"));
            assertEquals(Long.valueOf(1L << 40), t.getObjectProperty("big"));
            assertEquals(Float.valueOf(1.5f), t.getObjectProperty("ratio"));
            assertEquals(Double.valueOf(3.25), t.getObjectProperty("pi"));
            assertEquals("eu-west", t.getObjectProperty("region"));
            assertEquals("group-a", t.getStringProperty("JMSXGroupID"));
            assertEquals(42L, t.getLongProperty("count"));
            assertEquals("42", t.getStringProperty("count"));
            assertThrows(javax.jms.MessageNotWriteableException.class, () -> t.setText("x"));
            // Auto-acknowledged: nothing left on the queue.
            assertNull(consumer.receive(300));
        }
    }

    @Test
    void bytesMessageRoundTrip() throws Exception {
        try (Connection c = connect()) {
            Session s = c.createSession();
            Queue q = s.createQueue(queueName());
            BytesMessage m = s.createBytesMessage();
            m.writeInt(7);
            m.writeUTF("abc");
            m.writeBytes(new byte[] {0, (byte) 0xff});
            s.createProducer(q).send(m, DeliveryMode.NON_PERSISTENT, 4, 0);
            Message got = s.createConsumer(q).receive(5000);
            assertInstanceOf(BytesMessage.class, got);
            BytesMessage b = (BytesMessage) got;
            assertEquals(DeliveryMode.NON_PERSISTENT, b.getJMSDeliveryMode());
            assertEquals(4 + 5 + 2, b.getBodyLength());
            assertEquals(7, b.readInt());
            assertEquals("abc", b.readUTF());
            byte[] tail = new byte[2];
            assertEquals(2, b.readBytes(tail));
            assertArrayEquals(new byte[] {0, (byte) 0xff}, tail);
            assertThrows(javax.jms.MessageEOFException.class, b::readByte);
        }
    }

    /** What an AMQP client sees is what the OpenWire listener would produce (docs/mapping.md §6). */
    @Test
    void amqpClientSeesTheOpenWireMappingAndBack() throws Exception {
        String queue = queueName();
        try (Connection c = connect()) {
            Session s = c.createSession();
            // The consumer declares the queue (as an OpenWire consumer would).
            s.createConsumer(s.createQueue(queue)).close();
            TextMessage m = s.createTextMessage("to amqp");
            m.setJMSCorrelationID("c-1");
            m.setJMSType("t-1");
            m.setIntProperty("n", 5);
            m.setStringProperty("who", "shim");
            s.createProducer(s.createQueue(queue)).send(m);

            try (com.rabbitmq.client.Connection rc = amqpFactory().newConnection(); Channel ch = rc.createChannel()) {
                GetResponse r = null;
                for (int i = 0; i < 50 && r == null; i++) {
                    r = ch.basicGet(queue, true);
                    if (r == null) {
                        Thread.sleep(100);
                    }
                }
                assertNotNull(r, "the message reached the AMQP queue");
                AMQP.BasicProperties props = r.getProps();
                assertEquals("to amqp", new String(r.getBody(), StandardCharsets.UTF_8));
                assertEquals("text/plain; charset=utf-8", props.getContentType());
                assertEquals("c-1", props.getCorrelationId());
                assertEquals("t-1", props.getType());
                assertEquals(m.getJMSMessageID(), props.getMessageId());
                assertEquals(Integer.valueOf(2), props.getDeliveryMode());
                assertEquals(5, props.getHeaders().get("n"));
                assertEquals("shim", props.getHeaders().get("who").toString());
                assertEquals("text", props.getHeaders().get("x-jms-msg-type").toString());
                assertEquals(m.getJMSTimestamp(), ((Number) props.getHeaders().get("JMSTimestamp")).longValue());

                // And back: an AMQP publisher's message reaches the shim with the reverse mapping.
                Map<String, Object> headers = new HashMap<>();
                headers.put("answer", 42L);
                headers.put("label", "from-amqp");
                ch.basicPublish("", queue, new AMQP.BasicProperties.Builder()
                        .contentType("application/octet-stream")
                        .correlationId("c-2")
                        .headers(headers)
                        .deliveryMode(1)
                        .build(), new byte[] {1, 2, 3});
            }
            Message got = s.createConsumer(s.createQueue(queue)).receive(5000);
            assertInstanceOf(BytesMessage.class, got);
            BytesMessage b = (BytesMessage) got;
            assertEquals("c-2", b.getJMSCorrelationID());
            assertEquals(DeliveryMode.NON_PERSISTENT, b.getJMSDeliveryMode());
            assertEquals(Long.valueOf(42), b.getObjectProperty("answer"));
            assertEquals("from-amqp", b.getStringProperty("label"));
            assertEquals(3, b.getBodyLength());
        }
    }

    @Test
    void secondConsumerGetsWhatTheFirstDidNotTake() throws Exception {
        try (Connection c = connect()) {
            Session s = c.createSession();
            Queue q = s.createQueue(queueName());
            MessageProducer p = s.createProducer(q);
            p.send(s.createTextMessage("one"));
            p.send(s.createTextMessage("two"));
            MessageConsumer first = s.createConsumer(q);
            assertEquals("one", ((TextMessage) first.receive(5000)).getText());
            // Closing the first consumer returns its prefetched, unacknowledged message.
            first.close();
            Session s2 = c.createSession();
            Message two = s2.createConsumer(q).receive(5000);
            assertNotNull(two);
            assertEquals("two", ((TextMessage) two).getText());
        }
    }

    @Test
    void receiveTimesOutAndCloseWakesABlockedReceive() throws Exception {
        try (Connection c = connect()) {
            Session s = c.createSession();
            MessageConsumer consumer = s.createConsumer(s.createQueue(queueName()));
            long t0 = System.nanoTime();
            assertNull(consumer.receive(300));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(ms >= 250 && ms < 3000, "waited " + ms + " ms");
            assertNull(consumer.receiveNoWait());
            Thread closer = new Thread(() -> {
                try {
                    Thread.sleep(300);
                    consumer.close();
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            closer.start();
            t0 = System.nanoTime();
            assertNull(consumer.receive());
            closer.join();
            assertTrue((System.nanoTime() - t0) / 1_000_000 < 5000);
            assertThrows(javax.jms.IllegalStateException.class, consumer::receiveNoWait);
        }
    }

    @Test
    void bridgeDownAtConnectIsAJmsExceptionWithTheCause() throws Exception {
        assumeTrue(target.isShim(), "the shim's own machinery");
        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort();
        }
        MqbridgeConnectionFactory f = new MqbridgeConnectionFactory(
                "mqbridge://guest:guest@127.0.0.1:" + port + "/");
        f.setConnectTimeoutMs(3000);
        JMSException e = assertThrows(JMSException.class, f::createConnection);
        assertFalse(e instanceof JMSSecurityException);
        assertTrue(e.getMessage().contains("127.0.0.1:" + port), e.getMessage());
        assertTrue(e.getMessage().toLowerCase().contains("refused"), e.getMessage());
    }

    @Test
    void badLoginIsAJmsSecurityException() throws Exception {
        javax.jms.ConnectionFactory f = target.factory();
        JMSException e = assertThrows(JMSException.class, () -> f.createConnection("guest", "wrong").start());
        assertInstanceOf(JMSSecurityException.class, e, e.getMessage());
    }

    @Test
    void unsupportedUriAndMissingFeaturesSayNotImplemented() throws Exception {
        assumeTrue(target.isShim(), "the shim's own machinery");
        JMSException e = assertThrows(JMSException.class,
                () -> new MqbridgeConnectionFactory("mqbridge:embedded?config=missing-x.yaml").createConnection());
        assertTrue(e.getMessage().contains("missing-x.yaml"), e.getMessage());
        JMSException u = assertThrows(JMSException.class,
                () -> new MqbridgeConnectionFactory("tcp://127.0.0.1:1").createConnection());
        assertTrue(u.getMessage().contains("unsupported URI"), u.getMessage());
        try (Connection c = connect()) {
            Session s = c.createSession();
            assertEquals("2.0", c.getMetaData().getJMSVersion());
        }
    }

    /** JMS 2.0 §3.12: a provider sends messages of another provider's implementation too. */
    @Test
    void messagesOfAnotherProviderAreSentAsTheirCopy() throws Exception {
        try (Connection c = connect()) {
            Session s = c.createSession();
            Queue q = s.createQueue(queueName());
            MessageProducer p = s.createProducer(q);
            org.apache.activemq.command.ActiveMQTextMessage text = new org.apache.activemq.command.ActiveMQTextMessage();
            text.setText("foreign text");
            text.setJMSCorrelationID("foreign-1");
            text.setJMSType("foreign.type");
            text.setIntProperty("n", 7);
            text.setStringProperty("JMSXGroupID", "g");
            text.setJMSReplyTo(new org.apache.activemq.command.ActiveMQQueue("foreign.replies"));
            p.send(text);
            // The send's headers are written back to the application's message.
            assertNotNull(text.getJMSMessageID());
            assertEquals(q.getQueueName(), ((Queue) text.getJMSDestination()).getQueueName());
            assertTrue(text.getJMSTimestamp() > 0);

            org.apache.activemq.command.ActiveMQBytesMessage bytes = new org.apache.activemq.command.ActiveMQBytesMessage();
            bytes.writeBytes(new byte[] {9, 8, 7});
            p.send(bytes);
            org.apache.activemq.command.ActiveMQMapMessage map = new org.apache.activemq.command.ActiveMQMapMessage();
            map.setInt("qty", 3);
            map.setString("sku", "A-1");
            p.send(map);
            org.apache.activemq.command.ActiveMQStreamMessage stream = new org.apache.activemq.command.ActiveMQStreamMessage();
            stream.writeInt(1);
            stream.writeString("two");
            p.send(stream);
            org.apache.activemq.command.ActiveMQObjectMessage object = new org.apache.activemq.command.ActiveMQObjectMessage();
            object.setObject(new java.util.ArrayList<>(List.of("x", 1)));
            p.send(object);
            p.send(new org.apache.activemq.command.ActiveMQMessage());

            MessageConsumer consumer = s.createConsumer(q);
            TextMessage t = (TextMessage) consumer.receive(5000);
            assertEquals("foreign text", t.getText());
            assertEquals("foreign-1", t.getJMSCorrelationID());
            assertEquals("foreign.type", t.getJMSType());
            assertEquals(7, t.getIntProperty("n"));
            assertEquals("g", t.getStringProperty("JMSXGroupID"));
            assertEquals("foreign.replies", ((Queue) t.getJMSReplyTo()).getQueueName());
            assertEquals(text.getJMSMessageID(), t.getJMSMessageID());
            BytesMessage b = (BytesMessage) consumer.receive(5000);
            byte[] raw = new byte[3];
            assertEquals(3, b.readBytes(raw));
            assertArrayEquals(new byte[] {9, 8, 7}, raw);
            javax.jms.MapMessage m = (javax.jms.MapMessage) consumer.receive(5000);
            assertEquals(3, m.getInt("qty"));
            assertEquals("A-1", m.getString("sku"));
            javax.jms.StreamMessage st = (javax.jms.StreamMessage) consumer.receive(5000);
            assertEquals(1, st.readInt());
            assertEquals("two", st.readString());
            javax.jms.ObjectMessage o = (javax.jms.ObjectMessage) consumer.receive(5000);
            assertEquals(List.of("x", 1), o.getObject());
            Message plain = consumer.receive(5000);
            assertNotNull(plain);
            assertFalse(plain instanceof TextMessage || plain instanceof BytesMessage);
        }
    }

    @Test
    void aRustPanicIsAJavaExceptionAndTheJvmGoesOn() throws Exception {
        assumeTrue(target.isShim(), "the shim's own machinery");
        JMSException e = assertThrows(JMSException.class, () -> Native.panicForTest("boom in rust"));
        assertEquals("native panic: boom in rust", e.getMessage());
        // The native library and the JVM still work.
        try (Connection c = connect()) {
            Session s = c.createSession();
            Queue q = s.createQueue(queueName());
            s.createProducer(q).send(s.createTextMessage("after the panic"));
            assertEquals("after the panic", ((TextMessage) s.createConsumer(q).receive(5000)).getText());
        }
        assertThrows(JMSException.class, () -> Native.panicForTest("again"));
    }

    @Test
    void closingEverythingTwiceIsFineAndReleasesEveryHandle() throws Exception {
        assumeTrue(target.isShim(), "the shim's own machinery");
        int before = Native.liveHandles();
        Connection c = connect();
        Session s = c.createSession();
        MessageProducer p = s.createProducer(s.createQueue(queueName()));
        MessageConsumer consumer = s.createConsumer(s.createQueue(queueName()));
        assertEquals(before + 4, Native.liveHandles());
        consumer.close();
        consumer.close();
        p.close();
        p.close();
        s.close();
        s.close();
        c.close();
        c.close();
        assertEquals(before, Native.liveHandles());
        // Closing a connection closes its children.
        Connection c2 = connect();
        c2.createSession().createProducer(null);
        c2.close();
        assertEquals(before, Native.liveHandles());
    }

    @Test
    void usingAClosedSessionIsAnIllegalStateException() throws Exception {
        try (Connection c = connect()) {
            Session s = c.createSession();
            Queue q = s.createQueue(queueName());
            MessageProducer p = s.createProducer(q);
            TextMessage m = s.createTextMessage("x");
            long sessionHandle = target.isShim() ? ((MqbridgeSession) s).handle : 0;
            s.close();
            assertThrows(javax.jms.IllegalStateException.class, () -> s.createProducer(q));
            assertThrows(javax.jms.IllegalStateException.class, () -> s.createTextMessage("y"));
            assertThrows(javax.jms.IllegalStateException.class, () -> p.send(m));
            if (!target.isShim()) {
                return;
            }
            // The native side refuses a closed handle on its own too.
            assertThrows(javax.jms.IllegalStateException.class, () -> Native.createProducer(sessionHandle));
            assertThrows(javax.jms.IllegalStateException.class, () -> Native.createProducer(-1));
        }
    }

    @Test
    void topicSendReachesAnAmqpQueueBoundToAmqTopic() throws Exception {
        String queue = queueName();
        String topic = "jms.test." + UUID.randomUUID();
        try (com.rabbitmq.client.Connection rc = amqpFactory().newConnection();
                Channel ch = rc.createChannel();
                Connection c = connect()) {
            ch.queueDeclare(queue, true, false, false, null);
            ch.queueBind(queue, "amq.topic", topic);
            Session s = c.createSession();
            s.createProducer(s.createTopic(topic)).send(s.createTextMessage("news"));
            GetResponse r = null;
            for (int i = 0; i < 50 && r == null; i++) {
                r = ch.basicGet(queue, true);
                if (r == null) {
                    Thread.sleep(100);
                }
            }
            assertNotNull(r, "the topic message reached the bound queue");
            assertEquals("news", new String(r.getBody(), StandardCharsets.UTF_8));
            assertEquals(topic, r.getEnvelope().getRoutingKey());
        }
    }

    @Test
    void messageListenerGetsMessagesAndARuntimeExceptionRedelivers() throws Exception {
        try (Connection c = connect()) {
            Session s = c.createSession();
            Queue q = s.createQueue(queueName());
            MessageProducer p = s.createProducer(q);
            MessageConsumer consumer = s.createConsumer(q);
            java.util.concurrent.BlockingQueue<Message> got = new java.util.concurrent.LinkedBlockingQueue<>();
            java.util.concurrent.atomic.AtomicBoolean failedOnce = new java.util.concurrent.atomic.AtomicBoolean();
            consumer.setMessageListener(m -> {
                try {
                    if (((TextMessage) m).getText().equals("two") && failedOnce.compareAndSet(false, true)) {
                        throw new RuntimeException("listener failure, to be redelivered");
                    }
                } catch (JMSException e) {
                    throw new RuntimeException(e);
                }
                got.add(m);
            });
            assertThrows(javax.jms.IllegalStateException.class, () -> consumer.receive(10));
            p.send(s.createTextMessage("one"));
            p.send(s.createTextMessage("two"));
            p.send(s.createTextMessage("three"));
            List<String> texts = new ArrayList<>();
            Message redelivered = null;
            for (int i = 0; i < 3; i++) {
                Message m = got.poll(10, java.util.concurrent.TimeUnit.SECONDS);
                assertNotNull(m, "listener delivery " + i);
                texts.add(((TextMessage) m).getText());
                if (((TextMessage) m).getText().equals("two")) {
                    redelivered = m;
                }
            }
            assertTrue(failedOnce.get());
            assertEquals(List.of("one", "three", "two"), texts.stream().sorted().collect(java.util.stream.Collectors.toList()));
            assertTrue(redelivered.getJMSRedelivered(), "the failed message comes back redelivered");
            consumer.close();
            // Acknowledged: nothing left.
            assertNull(s.createConsumer(q).receive(300));
        }
    }

    @Test
    void topicSubscribersEachGetAPublishedMessageWildcardsIncluded() throws Exception {
        String base = "jms.news." + UUID.randomUUID().toString().replace("-", "");
        try (Connection c = connect()) {
            Session s = c.createSession();
            MessageConsumer exact = s.createConsumer(s.createTopic(base + ".eu"));
            MessageConsumer wildcard = s.createConsumer(s.createTopic(base + ".>"));
            MessageConsumer other = s.createConsumer(s.createTopic(base + ".us"));
            TextMessage m = s.createTextMessage("headline");
            m.setStringProperty("k", "v");
            s.createProducer(s.createTopic(base + ".eu")).send(m);
            for (MessageConsumer sub : List.of(exact, wildcard)) {
                Message got = sub.receive(5000);
                assertInstanceOf(TextMessage.class, got);
                assertEquals("headline", ((TextMessage) got).getText());
                assertEquals("v", got.getStringProperty("k"));
                assertEquals(s.createTopic(base + ".eu"), got.getJMSDestination());
            }
            assertNull(other.receive(300));
            // Non-durable: a subscriber created after the publish gets nothing.
            assertNull(s.createConsumer(s.createTopic(base + ".eu")).receive(300));
        }
    }

    @Test
    void clientAcknowledgeRecoverRedeliversAndAcknowledgeCoversTheSession() throws Exception {
        try (Connection c = connect()) {
            Session s = c.createSession(false, Session.CLIENT_ACKNOWLEDGE);
            assertEquals(Session.CLIENT_ACKNOWLEDGE, s.getAcknowledgeMode());
            Queue q = s.createQueue(queueName());
            MessageProducer p = s.createProducer(q);
            for (String t : List.of("a", "b", "c")) {
                p.send(s.createTextMessage(t));
            }
            MessageConsumer consumer = s.createConsumer(q);
            for (String t : List.of("a", "b", "c")) {
                Message m = consumer.receive(5000);
                assertEquals(t, ((TextMessage) m).getText());
                assertFalse(m.getJMSRedelivered());
            }
            s.recover();
            Message last = null;
            List<String> again = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                last = consumer.receive(5000);
                assertNotNull(last, "redelivery " + i);
                assertTrue(last.getJMSRedelivered(), "flagged redelivered");
                again.add(((TextMessage) last).getText());
            }
            assertEquals(List.of("a", "b", "c"), again.stream().sorted().collect(java.util.stream.Collectors.toList()));
            // Acknowledging one message acknowledges all the session delivered.
            last.acknowledge();
            consumer.close();
            assertNull(s.createConsumer(q).receive(300));
        }
    }

    @Test
    void clientAcknowledgeUnacknowledgedMessagesComeBackAfterClose() throws Exception {
        String queue = queueName();
        try (Connection c = connect()) {
            Session s = c.createSession(false, Session.CLIENT_ACKNOWLEDGE);
            Queue q = s.createQueue(queue);
            s.createProducer(q).send(s.createTextMessage("keep me"));
            Message m = s.createConsumer(q).receive(5000);
            assertEquals("keep me", ((TextMessage) m).getText());
            s.close();
            assertThrows(javax.jms.IllegalStateException.class, m::acknowledge);
            Session s2 = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            Message back = s2.createConsumer(s2.createQueue(queue)).receive(5000);
            assertNotNull(back);
            assertEquals("keep me", ((TextMessage) back).getText());
            assertTrue(back.getJMSRedelivered());
        }
    }

    /** A class outside the trusted packages: getObject must refuse to deserialize it. */
    static final class Untrusted implements java.io.Serializable {
        private static final long serialVersionUID = 1L;
        final String x = "x";
    }

    @Test
    void mapAndObjectMessagesRoundTrip() throws Exception {
        try (Connection c = connect()) {
            Session s = c.createSession();
            Queue q = s.createQueue(queueName());
            MessageProducer p = s.createProducer(q);
            javax.jms.MapMessage map = s.createMapMessage();
            map.setInt("int", 7);
            map.setString("str", "v");
            map.setBoolean("flag", true);
            map.setDouble("d", 2.5);
            map.setBytes("raw", new byte[] {1, 2});
            map.setChar("ch", 'z');
            p.send(map);
            java.util.ArrayList<Object> list = new java.util.ArrayList<>(List.of("a", 1, 2.5));
            p.send(s.createObjectMessage(list));
            p.send(s.createObjectMessage(new Untrusted()));

            MessageConsumer consumer = s.createConsumer(q);
            javax.jms.MapMessage gotMap = (javax.jms.MapMessage) consumer.receive(5000);
            assertEquals(7, gotMap.getObject("int"));
            assertEquals("v", gotMap.getString("str"));
            assertEquals(true, gotMap.getBoolean("flag"));
            assertEquals(2.5, gotMap.getDouble("d"));
            assertArrayEquals(new byte[] {1, 2}, gotMap.getBytes("raw"));
            assertEquals('z', gotMap.getChar("ch"));
            assertEquals(7L, gotMap.getLong("int"));
            javax.jms.ObjectMessage gotObject = (javax.jms.ObjectMessage) consumer.receive(5000);
            assertEquals(list, gotObject.getObject());
            javax.jms.ObjectMessage untrusted = (javax.jms.ObjectMessage) consumer.receive(5000);
            JMSException refused = assertThrows(JMSException.class, untrusted::getObject);
            assertTrue(refused.getMessage().contains("trusted"), refused.getMessage());
        }
    }

    @Test
    void streamMessageRoundTripWithConversions() throws Exception {
        try (Connection c = connect()) {
            Session s = c.createSession();
            Queue q = s.createQueue(queueName());
            javax.jms.StreamMessage m = s.createStreamMessage();
            m.writeInt(42);
            m.writeString("7");
            m.writeBytes(new byte[] {1, 2, 3});
            m.writeBoolean(true);
            m.writeChar('c');
            s.createProducer(q).send(m);
            javax.jms.StreamMessage got = (javax.jms.StreamMessage) s.createConsumer(q).receive(5000);
            assertNotNull(got);
            assertThrows(javax.jms.MessageFormatException.class, got::readBoolean);
            assertEquals(42L, got.readLong());
            assertEquals(7, got.readInt());
            byte[] buf = new byte[2];
            assertEquals(2, got.readBytes(buf));
            assertArrayEquals(new byte[] {1, 2}, buf);
            assertEquals(1, got.readBytes(buf));
            assertEquals(3, buf[0]);
            assertEquals(true, got.readObject());
            assertEquals('c', got.readChar());
            assertThrows(javax.jms.MessageEOFException.class, got::readObject);
        }
    }

    @Test
    void requestReplyThroughATemporaryQueue() throws Exception {
        try (Connection c = connect(); Connection server = connect()) {
            Session s = c.createSession();
            javax.jms.TemporaryQueue replies = s.createTemporaryQueue();
            MessageConsumer replyConsumer = s.createConsumer(replies);
            Queue requests = s.createQueue(queueName());
            Session ss = server.createSession();
            MessageConsumer requestConsumer = ss.createConsumer(requests);
            // Only the creating connection may consume a temporary queue.
            assertThrows(javax.jms.InvalidDestinationException.class, () -> ss.createConsumer(replies));

            TextMessage request = s.createTextMessage("ping");
            request.setJMSReplyTo(replies);
            request.setJMSCorrelationID("req-1");
            s.createProducer(requests).send(request);

            Message got = requestConsumer.receive(5000);
            assertNotNull(got);
            assertEquals(replies.getQueueName(), ((Queue) got.getJMSReplyTo()).getQueueName());
            TextMessage reply = ss.createTextMessage("pong");
            reply.setJMSCorrelationID(got.getJMSCorrelationID());
            ss.createProducer(got.getJMSReplyTo()).send(reply);

            Message answer = replyConsumer.receive(5000);
            assertNotNull(answer);
            assertEquals("pong", ((TextMessage) answer).getText());
            assertEquals("req-1", answer.getJMSCorrelationID());
            replyConsumer.close();
            replies.delete();
        }
    }

    @Test
    void durableSubscriptionKeepsMessagesWhileOffline() throws Exception {
        String topic = "jms.durable." + UUID.randomUUID().toString().replace("-", "");
        String clientId = "shim-" + UUID.randomUUID();
        queues.add(clientId + ":sub");
        try (Connection c = target.factory().createConnection()) {
            c.setClientID(clientId);
            c.start();
            Session s = c.createSession();
            javax.jms.Topic t = s.createTopic(topic);
            s.createDurableSubscriber(t, "sub").close();
            // Offline: the subscription keeps what is published.
            s.createProducer(t).send(s.createTextMessage("while away"));
            javax.jms.TopicSubscriber back = s.createDurableSubscriber(t, "sub");
            assertEquals(t, back.getTopic());
            Message m = back.receive(5000);
            assertNotNull(m);
            assertEquals("while away", ((TextMessage) m).getText());
            back.close();
            s.unsubscribe("sub");
            s.createProducer(t).send(s.createTextMessage("after unsubscribe"));
            // A new subscription starts empty.
            MessageConsumer fresh = s.createDurableConsumer(t, "sub");
            assertNull(fresh.receive(300));
            fresh.close();
            s.unsubscribe("sub");
        }
    }
}
