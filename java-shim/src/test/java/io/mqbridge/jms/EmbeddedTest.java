package io.mqbridge.jms;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
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
import org.apache.activemq.ActiveMQConnectionFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Embedded mode, {@code mqbridge:embedded?config=PATH}: the mqbridge server runs inside this
 * JVM (native side) with its listeners, like ActiveMQ's {@code vm://} broker. Shim-only by
 * nature, so not parameterized over the targets; the OpenWire check uses ActiveMQ's client
 * against the embedded broker's OpenWire listener.
 */
class EmbeddedTest {
    private Path dir;

    @BeforeEach
    void tempDir() throws Exception {
        dir = Files.createTempDirectory("mqbridge-embedded-test");
    }

    @AfterEach
    void cleanUp() throws Exception {
        // Every test closes its connections: no embedded broker may be left running.
        assertEquals(0, Native.embeddedBrokers(), "embedded brokers left running");
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** A config with storage in the temp dir, an OpenWire listener on {@code openwirePort}, no AMQP listener. */
    Path config(int openwirePort, String extra) throws Exception {
        Path config = dir.resolve("embedded.yaml");
        Files.writeString(config, "listeners:\n  openwire:\n    bind: \"127.0.0.1:" + openwirePort + "\"\n"
                + "storage:\n  dir: \"" + dir.resolve("data") + "\"\n"
                + "vhosts: [\"/\"]\n" + extra);
        return config;
    }

    static MqbridgeConnectionFactory factory(Path config) {
        return new MqbridgeConnectionFactory("mqbridge:embedded?config=" + config);
    }

    @Test
    void embeddedBrokerSendsAndReceivesAndStopsWithItsLastConnection() throws Exception {
        Path config = config(freePort(), "users: []\n");
        MqbridgeConnectionFactory cf = factory(config);
        try (Connection a = cf.createConnection(); Connection b = cf.createConnection()) {
            assertEquals(1, Native.embeddedBrokers(), "one broker per config file");
            a.start();
            b.start();
            Session sa = a.createSession();
            Session sb = b.createSession();
            Queue q = sa.createQueue("embedded.q");
            sa.createProducer(q).send(sa.createTextMessage("inside the JVM"));
            Message m = sb.createConsumer(q).receive(5000);
            assertNotNull(m);
            assertEquals("inside the JVM", ((TextMessage) m).getText());
            a.close();
            assertEquals(1, Native.embeddedBrokers(), "still used by b");
        }
        assertEquals(0, Native.embeddedBrokers(), "stopped with the last connection");
    }

    @Test
    void activeMqClientReachesTheEmbeddedOpenWireListener() throws Exception {
        int port = freePort();
        Path config = config(port, "users: []\n");
        try (Connection shim = factory(config).createConnection()) {
            shim.start();
            ActiveMQConnectionFactory amq = new ActiveMQConnectionFactory("tcp://127.0.0.1:" + port);
            amq.setUserName("guest");
            amq.setPassword("guest");
            try (Connection other = amq.createConnection()) {
                other.start();
                Session os = other.createSession(false, Session.AUTO_ACKNOWLEDGE);
                Queue q = os.createQueue("embedded.openwire");
                TextMessage out = os.createTextMessage("from ActiveMQ's client");
                out.setIntProperty("n", 7);
                os.createProducer(q).send(out);
                Session s = shim.createSession();
                Message m = s.createConsumer(s.createQueue("embedded.openwire")).receive(5000);
                assertNotNull(m);
                assertEquals("from ActiveMQ's client", ((TextMessage) m).getText());
                assertEquals(7, m.getIntProperty("n"));
                // And back.
                s.createProducer(s.createQueue("embedded.back")).send(s.createTextMessage("from the shim"));
                Message back = os.createConsumer(os.createQueue("embedded.back")).receive(5000);
                assertNotNull(back);
                assertEquals("from the shim", ((TextMessage) back).getText());
            }
        }
    }

    @Test
    void persistentMessagesSurviveAnEmbeddedRestart() throws Exception {
        Path config = config(freePort(), "users: []\n");
        try (Connection c = factory(config).createConnection()) {
            Session s = c.createSession();
            MessageProducer p = s.createProducer(s.createQueue("embedded.durable"));
            p.setDeliveryMode(DeliveryMode.PERSISTENT);
            for (int i = 0; i < 3; i++) {
                p.send(s.createTextMessage("kept " + i));
            }
        }
        assertEquals(0, Native.embeddedBrokers(), "stopped (store flushed)");
        try (Connection c = factory(config).createConnection()) {
            c.start();
            Session s = c.createSession();
            MessageConsumer consumer = s.createConsumer(s.createQueue("embedded.durable"));
            for (int i = 0; i < 3; i++) {
                Message m = consumer.receive(5000);
                assertNotNull(m, "message " + i + " after the restart");
                assertEquals("kept " + i, ((TextMessage) m).getText());
            }
            assertNull(consumer.receive(200));
        }
    }

    @Test
    void aJvmExitWithOpenConnectionsKeepsConfirmedMessages() throws Exception {
        // The child exits with its connection open: the shutdown hook stops the broker; what
        // the broker confirmed is there after a restart on the same store.
        Path config = config(freePort(), "users: []\n");
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(javaBin, "-cp", System.getProperty("java.class.path"),
                "io.mqbridge.jms.EmbeddedExitMain", config.toString());
        pb.redirectErrorStream(true);
        Process child = pb.start();
        String out = new String(child.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(child.waitFor(60, java.util.concurrent.TimeUnit.SECONDS), "child JVM exited");
        assertEquals(0, child.exitValue(), out);
        assertTrue(out.contains("sent"), out);
        try (Connection c = factory(config).createConnection()) {
            c.start();
            Session s = c.createSession();
            MessageConsumer consumer = s.createConsumer(s.createQueue("embedded.exit"));
            for (int i = 0; i < 3; i++) {
                Message m = consumer.receive(5000);
                assertNotNull(m, "message " + i + " after the JVM exit");
                assertEquals("before exit " + i, ((TextMessage) m).getText());
            }
        }
    }

    @Test
    void aBadConfigIsAJmsExceptionWithFileLineAndColumn() throws Exception {
        Path config = dir.resolve("bad.yaml");
        Files.writeString(config, "listeners:\n  openwire:\n    bind: \"127.0.0.1:0\"\nstorage:\n  dirr: \"x\"\n");
        JMSException e = assertThrows(JMSException.class, () -> factory(config).createConnection());
        assertTrue(e.getMessage().contains(config + ":5:"), e.getMessage());
        assertEquals(0, Native.embeddedBrokers());
        JMSException missing = assertThrows(JMSException.class,
                () -> factory(dir.resolve("nope.yaml")).createConnection());
        assertTrue(missing.getMessage().contains("nope.yaml"), missing.getMessage());
        JMSException noConfig = assertThrows(JMSException.class,
                () -> new MqbridgeConnectionFactory("mqbridge:embedded?cfg=x").createConnection());
        assertTrue(noConfig.getMessage().contains("cfg"), noConfig.getMessage());
    }

    @Test
    void twoConfigsAreTwoBrokersAndABusyPortIsAClearError() throws Exception {
        Path one = config(freePort(), "users: []\n");
        Path other = dir.resolve("other.yaml");
        Files.writeString(other, "listeners:\n  amqp:\n    bind: \"127.0.0.1:0\"\n"
                + "storage:\n  dir: \"" + dir.resolve("data-other") + "\"\nvhosts: [\"/\"]\n");
        try (Connection a = factory(one).createConnection(); Connection b = factory(other).createConnection()) {
            assertEquals(2, Native.embeddedBrokers());
            a.start();
            b.start();
            // Separate brokers: a queue of one is not seen by the other.
            Session sa = a.createSession();
            sa.createProducer(sa.createQueue("embedded.sep")).send(sa.createTextMessage("only in one"));
            Session sb = b.createSession();
            assertNull(sb.createConsumer(sb.createQueue("embedded.sep")).receive(300));
            assertEquals("only in one",
                    ((TextMessage) sa.createConsumer(sa.createQueue("embedded.sep")).receive(5000)).getText());
        }
        try (ServerSocket busy = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            Path taken = dir.resolve("taken.yaml");
            Files.writeString(taken, "listeners:\n  amqp:\n    bind: \"127.0.0.1:" + busy.getLocalPort() + "\"\n"
                    + "storage:\n  dir: \"" + dir.resolve("data-taken") + "\"\nvhosts: [\"/\"]\n");
            JMSException e = assertThrows(JMSException.class, () -> factory(taken).createConnection());
            assertTrue(e.getMessage().contains("cannot bind the AMQP listener"), e.getMessage());
            assertEquals(0, Native.embeddedBrokers());
        }
    }

    @Test
    void credentialsGoToTheEmbeddedBrokersUsers() throws Exception {
        Path config = config(freePort(), "");
        MqbridgeConnectionFactory cf = factory(config);
        assertThrows(JMSSecurityException.class, () -> cf.createConnection("guest", "wrong"));
        assertEquals(0, Native.embeddedBrokers(), "a failed connection releases the broker");
        try (Connection c = cf.createConnection("guest", "guest")) {
            c.start();
            Session s = c.createSession();
            Queue q = s.createQueue("embedded.login");
            s.createProducer(q).send(s.createTextMessage("ok"));
            assertEquals("ok", ((TextMessage) s.createConsumer(q).receive(5000)).getText());
        }
    }

    /**
     * The shim speaks AMQP to the broker, so per-vhost permissions apply to it; a 403 channel
     * close (ACCESS_REFUSED) surfaces as a JMSSecurityException carrying RabbitMQ's text.
     */
    @Test
    void refusedPublishAndConsumeAreJmsSecurityExceptions() throws Exception {
        // Password perm-pw, RabbitMQ's SHA-256 scheme (see tests/interop/permissions.yaml).
        String hash = "AQIDBIQLcndiHCa5AWhWfE+t4vhPrzqMfI6nUMwEoXyETDEX";
        String user = "  - { name: %s, password_hash: \"" + hash + "\", hashing_algorithm: rabbit_password_hashing_sha256,"
                + " permissions: { \"/\": { configure: \".*\", write: \"%s\", read: \"%s\" } } }\n";
        Path config = config(freePort(), "users:\n" + String.format(user, "perm-ro", "", ".*")
                + String.format(user, "perm-wo", ".*", ""));
        MqbridgeConnectionFactory cf = factory(config);
        try (Connection ro = cf.createConnection("perm-ro", "perm-pw");
                Connection wo = cf.createConnection("perm-wo", "perm-pw")) {
            ro.start();
            wo.start();
            Session rs = ro.createSession();
            MessageProducer p = rs.createProducer(rs.createQueue("embedded.perm"));
            p.setDeliveryMode(DeliveryMode.PERSISTENT);
            JMSException sent = assertThrows(JMSException.class, () -> p.send(rs.createTextMessage("refused")));
            assertTrue(sent instanceof JMSSecurityException, sent.toString());
            assertTrue(sent.getMessage().contains(
                    "access to exchange 'amq.default' in vhost '/' refused for user 'perm-ro'"), sent.getMessage());
            Session ws = wo.createSession();
            JMSException consumed = assertThrows(JMSException.class,
                    () -> ws.createConsumer(ws.createQueue("embedded.perm")).receive(2000));
            assertTrue(consumed instanceof JMSSecurityException, consumed.toString());
            assertTrue(consumed.getMessage().contains(
                    "access to queue 'embedded.perm' in vhost '/' refused for user 'perm-wo'"), consumed.getMessage());
        }
    }
}
