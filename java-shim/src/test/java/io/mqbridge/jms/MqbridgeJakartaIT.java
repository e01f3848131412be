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

import jakarta.jms.BytesMessage;
import jakarta.jms.Connection;
import jakarta.jms.ConnectionFactory;
import jakarta.jms.DeliveryMode;
import jakarta.jms.IllegalStateException;
import jakarta.jms.JMSConsumer;
import jakarta.jms.JMSContext;
import jakarta.jms.JMSException;
import jakarta.jms.JMSSecurityException;
import jakarta.jms.JMSSecurityRuntimeException;
import jakarta.jms.MapMessage;
import jakarta.jms.Message;
import jakarta.jms.MessageConsumer;
import jakarta.jms.MessageFormatRuntimeException;
import jakarta.jms.MessageProducer;
import jakarta.jms.ObjectMessage;
import jakarta.jms.Queue;
import jakarta.jms.Session;
import jakarta.jms.StreamMessage;
import jakarta.jms.TextMessage;
import jakarta.jms.Topic;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import javax.naming.Context;
import javax.naming.InitialContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The jakarta artifact (classifier {@code jakarta}: javax.jms relocated to jakarta.jms), tested
 * as an application uses it: failsafe runs this with that jar instead of target/classes and
 * without the javax.jms API on the classpath. Written against jakarta.jms only; the factory and
 * destinations come from the JNDI context. Against an mqbridge process and RabbitMQ
 * ($RABBITMQ_URL, skipped when unset).
 */
@ParameterizedClass(name = "{0}")
@ValueSource(strings = {"mqbridge", "rabbitmq"})
class MqbridgeJakartaIT {
    private static BridgeProcess bridge;

    @Parameter
    String target;

    /** The shim's URI ({@code mqbridge://...}) and the same broker for the RabbitMQ Java client. */
    private String uri;
    private String amqpUri;
    private final List<String> queues = new ArrayList<>();

    @BeforeEach
    void target() throws Exception {
        // Only failsafe's jakarta-it execution (the jakarta jar, no javax.jms) sets this; a
        // surefire run that picked this class up through -Dtest=... has the javax classes.
        assumeTrue(Boolean.getBoolean("mqbridge.jakarta.it"), "runs from failsafe on the jakarta jar only");
        if (target.equals("rabbitmq")) {
            String url = System.getenv("RABBITMQ_URL");
            assumeTrue(url != null && url.startsWith("amqp://"), "RABBITMQ_URL is not set: RabbitMQ target skipped");
            amqpUri = url;
            uri = "mqbridge" + url.substring("amqp".length());
        } else {
            synchronized (MqbridgeJakartaIT.class) {
                if (bridge == null) {
                    bridge = BridgeProcess.start();
                }
            }
            amqpUri = "amqp://guest:guest@" + bridge.host + ":" + bridge.port;
            uri = bridge.uri();
        }
    }

    @AfterAll
    static void stopBridge() throws Exception {
        if (bridge != null) {
            bridge.close();
            bridge = null;
        }
    }

    /** Test queues are durable: delete them (through the shim's own AMQP peer). */
    @AfterEach
    void deleteQueues() throws Exception {
        if (queues.isEmpty()) {
            return;
        }
        com.rabbitmq.client.ConnectionFactory f = new com.rabbitmq.client.ConnectionFactory();
        f.setUri(amqpUri);
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

    private String queueName() {
        String q = "jakarta-it-" + UUID.randomUUID();
        queues.add(q);
        return q;
    }

    private Context jndi(String queueName) throws Exception {
        Hashtable<String, Object> env = new Hashtable<>();
        env.put(Context.INITIAL_CONTEXT_FACTORY, "io.mqbridge.jms.jndi.MqbridgeInitialContextFactory");
        env.put(Context.PROVIDER_URL, uri);
        env.put("queue.work", queueName);
        return new InitialContext(env);
    }

    @Test
    void theClasspathHasJakartaAndNoJavaxJms() {
        assertThrows(ClassNotFoundException.class, () -> Class.forName("javax.jms.JMSException"));
        assertTrue(jakarta.jms.ConnectionFactory.class.isAssignableFrom(
                assertDoesNotThrow(() -> Class.forName("io.mqbridge.jms.MqbridgeConnectionFactory"))));
    }

    private static Class<?> assertDoesNotThrow(java.util.concurrent.Callable<Class<?>> c) {
        try {
            return c.call();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void allSixMessageTypesRoundTripThroughTheClassicApi() throws Exception {
        String name = queueName();
        Context ctx = jndi(name);
        ConnectionFactory cf = (ConnectionFactory) ctx.lookup("ConnectionFactory");
        Queue q = (Queue) ctx.lookup("work");
        assertEquals(name, q.getQueueName());
        try (Connection c = cf.createConnection()) {
            c.start();
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageProducer p = s.createProducer(q);
            p.setDeliveryMode(DeliveryMode.PERSISTENT);
            TextMessage text = s.createTextMessage("jakarta ✓");
            text.setStringProperty("region", "eu");
            text.setIntProperty("n", 7);
            text.setJMSCorrelationID("corr-1");
            p.send(text);
            BytesMessage bytes = s.createBytesMessage();
            bytes.writeBytes(new byte[] {1, 2, 3});
            bytes.writeInt(42);
            p.send(bytes);
            MapMessage map = s.createMapMessage();
            map.setString("k", "v");
            map.setLong("l", 1L << 40);
            p.send(map);
            StreamMessage stream = s.createStreamMessage();
            stream.writeString("s");
            stream.writeDouble(2.5);
            p.send(stream);
            p.send(s.createObjectMessage(new ArrayList<>(List.of("a", "b"))));
            Message plain = s.createMessage();
            plain.setBooleanProperty("plain", true);
            p.send(plain);

            MessageConsumer consumer = s.createConsumer(q);
            TextMessage t = assertInstanceOf(TextMessage.class, consumer.receive(5000));
            assertEquals("jakarta ✓", t.getText());
            assertEquals("eu", t.getStringProperty("region"));
            assertEquals(7, t.getIntProperty("n"));
            assertEquals("corr-1", t.getJMSCorrelationID());
            assertEquals(q, t.getJMSDestination());
            assertEquals(text.getJMSMessageID(), t.getJMSMessageID());
            BytesMessage b = assertInstanceOf(BytesMessage.class, consumer.receive(5000));
            byte[] three = new byte[3];
            assertEquals(3, b.readBytes(three));
            assertArrayEquals(new byte[] {1, 2, 3}, three);
            assertEquals(42, b.readInt());
            MapMessage m = assertInstanceOf(MapMessage.class, consumer.receive(5000));
            assertEquals("v", m.getString("k"));
            assertEquals(1L << 40, m.getLong("l"));
            StreamMessage st = assertInstanceOf(StreamMessage.class, consumer.receive(5000));
            assertEquals("s", st.readString());
            assertEquals(2.5, st.readDouble());
            ObjectMessage o = assertInstanceOf(ObjectMessage.class, consumer.receive(5000));
            assertEquals(List.of("a", "b"), o.getObject());
            Message pl = consumer.receive(5000);
            assertNotNull(pl);
            assertTrue(pl.getBooleanProperty("plain"));
            assertNull(consumer.receiveNoWait());
        }
    }

    @Test
    void jmsContextSendsEveryBodyTypeAndReceivesBodies() throws Exception {
        String name = queueName();
        Context ctx = jndi(name);
        ConnectionFactory cf = (ConnectionFactory) ctx.lookup("ConnectionFactory");
        Queue q = (Queue) ctx.lookup("dynamicQueues/" + name);
        try (JMSContext context = cf.createContext()) {
            JMSConsumer consumer = context.createConsumer(q);
            context.createProducer().setProperty("who", "jakarta").setJMSType("greeting")
                    .setPriority(8).send(q, "hello");
            Message first = consumer.receive(5000);
            assertInstanceOf(TextMessage.class, first);
            assertEquals("hello", first.getBody(String.class));
            assertEquals("jakarta", first.getStringProperty("who"));
            assertEquals("greeting", first.getJMSType());
            assertEquals(8, first.getJMSPriority());

            context.createProducer().send(q, Map.of("x", 1, "y", "z"));
            assertEquals(Map.of("x", 1, "y", "z"), consumer.receiveBody(Map.class, 5000));
            context.createProducer().send(q, new byte[] {9, 8});
            assertArrayEquals(new byte[] {9, 8}, consumer.receiveBody(byte[].class, 5000));
            context.createProducer().send(q, (java.io.Serializable) Integer.valueOf(5));
            assertEquals(5, consumer.receiveBody(Integer.class, 5000));
            context.createProducer().send(q, "not bytes");
            assertThrows(MessageFormatRuntimeException.class, () -> consumer.receiveBody(byte[].class, 5000));
            // not acknowledged (AUTO_ACKNOWLEDGE): delivered again
            assertEquals("not bytes", consumer.receiveBody(String.class, 5000));
            assertNull(consumer.receiveBodyNoWait(String.class));
        }
    }

    @Test
    void jmsContextTopicAndSharedConnection() throws Exception {
        Context ctx = jndi(queueName());
        ConnectionFactory cf = (ConnectionFactory) ctx.lookup("ConnectionFactory");
        Topic topic = (Topic) ctx.lookup("dynamicTopics/jakarta.it." + UUID.randomUUID());
        try (JMSContext a = cf.createContext(); JMSContext b = a.createContext(JMSContext.CLIENT_ACKNOWLEDGE)) {
            JMSConsumer sub = b.createConsumer(topic);
            a.createProducer().send(topic, "news");
            Message m = sub.receive(5000);
            assertNotNull(m);
            assertEquals("news", m.getBody(String.class));
            b.acknowledge();
        }
    }

    @Test
    void errorsAreJakartaExceptionsFromJavaAndFromNativeCode() throws Exception {
        Context ctx = jndi(queueName());
        ConnectionFactory cf = (ConnectionFactory) ctx.lookup("ConnectionFactory");
        // Thrown by the native library, made by Native.failure: jakarta classes.
        JMSException login = assertThrows(JMSException.class, () -> cf.createConnection("guest", "wrong"));
        assertInstanceOf(JMSSecurityException.class, login, login.getMessage());
        assertThrows(JMSSecurityRuntimeException.class, () -> cf.createContext("guest", "wrong"));
        JMSException panic = assertThrows(JMSException.class, () -> Native.panicForTest("jakarta boom"));
        assertTrue(panic.getMessage().contains("native panic: jakarta boom"), panic.getMessage());
        assertInstanceOf(jakarta.jms.InvalidDestinationException.class,
                Native.failure("javax/jms/InvalidDestinationException", "m"));
        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort();
        }
        ConnectionFactory down = (ConnectionFactory) ((Context) new InitialContext(new Hashtable<>(Map.of(
                Context.INITIAL_CONTEXT_FACTORY, "io.mqbridge.jms.jndi.MqbridgeInitialContextFactory",
                Context.PROVIDER_URL, "mqbridge://guest:guest@127.0.0.1:" + port + "/")))).lookup("ConnectionFactory");
        JMSException refused = assertThrows(JMSException.class, down::createConnection);
        assertFalse(refused instanceof JMSSecurityException);
        assertTrue(refused.getMessage().contains("127.0.0.1:" + port), refused.getMessage());
        // Thrown by the Java side: jakarta too.
        Connection c = cf.createConnection();
        Session s = c.createSession();
        // A selector the native parser rejects: an exception class added after Native.failure.
        assertThrows(jakarta.jms.InvalidSelectorException.class,
                () -> s.createConsumer(s.createTopic("jakarta.it"), "color = = 'x'"));
        c.close();
        assertThrows(IllegalStateException.class, () -> s.createQueue("x"));
        c.close();
        JMSContext context = cf.createContext();
        context.close();
        assertThrows(jakarta.jms.IllegalStateRuntimeException.class, context::createProducer);
        assertThrows(jakarta.jms.JMSRuntimeException.class, () -> cf.createContext(42));
    }
}
