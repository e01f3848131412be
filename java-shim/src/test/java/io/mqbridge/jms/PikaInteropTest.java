package io.mqbridge.jms;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.Channel;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import javax.jms.BytesMessage;
import javax.jms.Connection;
import javax.jms.DeliveryMode;
import javax.jms.MapMessage;
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
 * The shim and pika (a real Python AMQP client, {@code src/test/python/pika_peer.py}) on the
 * same broker, both ways, checked against the documented mapping (docs/mapping.md §6): what a
 * JMS producer on the shim sends is what pika reads, and what pika publishes is what a JMS
 * consumer on the shim receives. The interpreter is $PIKA_PYTHON, else the workspace's
 * .venv/bin/python (scripts/test.sh installs pika there).
 */
@ParameterizedClass
@MethodSource("io.mqbridge.jms.Target#shims")
class PikaInteropTest {
    @Parameter
    Target target;

    private final ObjectMapper json = new ObjectMapper();
    private String queue;

    static Path python() {
        String env = System.getenv("PIKA_PYTHON");
        if (env != null && !env.isEmpty()) {
            return Path.of(env);
        }
        return Path.of(System.getProperty("mqbridge.workspace", ".."), ".venv", "bin", "python");
    }

    static Path peerScript() {
        return Path.of("src", "test", "python", "pika_peer.py");
    }

    /** Runs the pika peer and returns its standard output; a failure shows its stderr. */
    String pika(String... args) throws Exception {
        Path py = python();
        if (!Files.isExecutable(py)) {
            throw new IllegalStateException("no Python with pika at " + py
                    + ": run scripts/test.sh once (it creates .venv) or set PIKA_PYTHON");
        }
        List<String> cmd = new java.util.ArrayList<>(List.of(py.toString(), peerScript().toString()));
        cmd.addAll(List.of(args));
        Path err = Files.createTempFile("pika-peer", ".err");
        Process p = new ProcessBuilder(cmd).redirectError(err.toFile()).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        boolean done = p.waitFor(30, TimeUnit.SECONDS);
        String stderr = Files.readString(err);
        Files.deleteIfExists(err);
        if (!done) {
            p.destroyForcibly();
            throw new IllegalStateException("pika peer hung: " + stderr);
        }
        assertEquals(0, p.exitValue(), "pika peer " + String.join(" ", args) + " failed: " + stderr);
        return out;
    }

    Connection connect() throws Exception {
        Connection c = target.factory().createConnection();
        c.start();
        return c;
    }

    @AfterEach
    void deleteQueue() throws Exception {
        if (queue == null) {
            return;
        }
        com.rabbitmq.client.ConnectionFactory cf = new com.rabbitmq.client.ConnectionFactory();
        cf.setUri(target.amqpUri());
        try (com.rabbitmq.client.Connection rc = cf.newConnection(); Channel ch = rc.createChannel()) {
            ch.queueDelete(queue);
        } catch (IOException e) {
            // already gone
        }
    }

    @Test
    void jmsMessagesFromTheShimReachPikaMapped() throws Exception {
        queue = "shim-to-pika-" + UUID.randomUUID();
        TextMessage text;
        BytesMessage bytes;
        MapMessage map;
        try (Connection c = connect()) {
            Session s = c.createSession();
            Queue q = s.createQueue(queue);
            MessageProducer p = s.createProducer(q);
            text = s.createTextMessage("héllo pika");
            text.setJMSCorrelationID("corr-shim");
            text.setJMSType("order.created");
            text.setJMSReplyTo(s.createQueue("replies"));
            text.setIntProperty("n", 42);
            text.setLongProperty("big", 1L << 40);
            text.setBooleanProperty("flag", true);
            // pika 1.3 reads AMQP doubles through int() (a pika bug): a whole value survives it.
            text.setDoubleProperty("ratio", 3.0);
            text.setStringProperty("region", "eu-west");
            text.setStringProperty("JMSXGroupID", "group-a");
            p.send(text, DeliveryMode.PERSISTENT, 7, 60_000);

            bytes = s.createBytesMessage();
            bytes.writeBytes(new byte[] {1, 2, 3});
            Topic news = s.createTopic("news");
            bytes.setJMSReplyTo(news);
            p.send(bytes, DeliveryMode.NON_PERSISTENT, 4, 0);

            map = s.createMapMessage();
            map.setInt("qty", 3);
            map.setString("sku", "A-1");
            map.setBoolean("rush", true);
            p.send(map);
        }

        JsonNode got = json.readTree(pika("consume", target.amqpUri(), queue, "3"));
        assertEquals(3, got.size());

        JsonNode t = got.get(0);
        assertEquals("héllo pika", decode(t));
        assertEquals("text/plain; charset=utf-8", t.get("content_type").asText());
        assertEquals("corr-shim", t.get("correlation_id").asText());
        assertEquals("order.created", t.get("type").asText());
        assertEquals(text.getJMSMessageID(), t.get("message_id").asText());
        assertEquals("replies", t.get("reply_to").asText());
        assertEquals(7, t.get("priority").asInt());
        assertEquals(2, t.get("delivery_mode").asInt());
        long expiration = Long.parseLong(t.get("expiration").asText());
        assertTrue(expiration > 50_000 && expiration <= 60_000, "relative expiration " + expiration);
        assertEquals(text.getJMSTimestamp() / 1000, t.get("timestamp").asLong());
        JsonNode h = t.get("headers");
        assertEquals(42, h.get("n").asInt());
        assertEquals(1L << 40, h.get("big").asLong());
        assertTrue(h.get("flag").asBoolean());
        assertEquals(3.0, h.get("ratio").asDouble());
        assertEquals("eu-west", h.get("region").asText());
        assertEquals("group-a", h.get("JMSXGroupID").asText());
        assertEquals("text", h.get("x-jms-msg-type").asText());
        assertEquals(text.getJMSTimestamp(), h.get("JMSTimestamp").asLong());
        assertEquals(text.getJMSExpiration(), h.get("JMSExpiration").asLong());
        assertEquals(queue, t.get("routing_key").asText());

        JsonNode b = got.get(1);
        assertArrayEquals(new byte[] {1, 2, 3}, Base64.getDecoder().decode(b.get("body_b64").asText()));
        assertEquals("application/octet-stream", b.get("content_type").asText());
        assertEquals(1, b.get("delivery_mode").asInt());
        assertEquals("/topic/news", b.get("reply_to").asText());
        assertTrue(b.get("expiration").isNull(), "no TTL, no expiration");
        assertEquals("bytes", b.get("headers").get("x-jms-msg-type").asText());

        JsonNode m = got.get(2);
        assertEquals("application/json", m.get("content_type").asText());
        JsonNode body = json.readTree(decode(m));
        assertEquals(3, body.get("qty").asInt());
        assertEquals("A-1", body.get("sku").asText());
        assertTrue(body.get("rush").asBoolean());
        assertEquals("map", m.get("headers").get("x-jms-msg-type").asText());
        JsonNode types = json.readTree(m.get("headers").get("x-jms-body-types").asText());
        assertEquals("int", types.get("qty").asText());
        assertEquals("string", types.get("sku").asText());
        assertEquals("boolean", types.get("rush").asText());
    }

    @Test
    void pikaMessagesReachAShimConsumerMapped() throws Exception {
        queue = "pika-to-shim-" + UUID.randomUUID();
        try (Connection c = connect()) {
            Session s = c.createSession();
            Queue q = s.createQueue(queue);
            // The consumer declares the queue (durable), then pika publishes into it.
            MessageConsumer consumer = s.createConsumer(q);
            pika("publish", target.amqpUri(), queue);

            Message first = consumer.receive(10_000);
            assertInstanceOf(TextMessage.class, first);
            assertEquals("hello from pika", ((TextMessage) first).getText());
            assertEquals("corr-pika", first.getJMSCorrelationID());
            assertEquals("ID:pika-1", first.getJMSMessageID());
            assertEquals("order.created", first.getJMSType());
            assertEquals(s.createQueue("replies"), first.getJMSReplyTo());
            assertEquals(6, first.getJMSPriority());
            assertEquals(DeliveryMode.PERSISTENT, first.getJMSDeliveryMode());
            assertEquals(1_700_000_000_000L, first.getJMSTimestamp());
            assertEquals(0, first.getJMSExpiration());
            assertEquals(q, first.getJMSDestination());
            // pika writes an int that fits 32 bits as AMQP I (int), a larger one as l (long).
            assertEquals(Integer.valueOf(42), first.getObjectProperty("n"));
            assertEquals(Long.valueOf(1L << 40), first.getObjectProperty("big"));
            // AMQP decimal has no JMS type: it widens to its text (docs/mapping.md §6.2).
            assertEquals("1.5", first.getObjectProperty("ratio"));
            assertEquals(Boolean.TRUE, first.getObjectProperty("flag"));
            assertEquals("eu-west", first.getStringProperty("name"));
            assertArrayEquals(new byte[] {0, 1}, (byte[]) first.getObjectProperty("raw"));
            assertTrue(first.propertyExists("nothing"));
            assertNull(first.getObjectProperty("nothing"));

            Message second = consumer.receive(10_000);
            assertInstanceOf(BytesMessage.class, second);
            BytesMessage b = (BytesMessage) second;
            assertEquals(3, b.getBodyLength());
            byte[] raw = new byte[3];
            b.readBytes(raw);
            assertArrayEquals(new byte[] {1, 2, 3}, raw);
            assertEquals(DeliveryMode.NON_PERSISTENT, b.getJMSDeliveryMode());
            assertEquals(4, b.getJMSPriority());
            assertEquals("bytes", b.getStringProperty("kind"));

            Message third = consumer.receive(10_000);
            assertInstanceOf(TextMessage.class, third, "application/json is text");
            assertEquals("{\"a\": 1, \"b\": \"two\"}", ((TextMessage) third).getText());
            assertEquals(s.createTopic("news"), third.getJMSReplyTo());

            Message fourth = consumer.receive(10_000);
            assertNotNull(fourth);
            assertEquals("short-lived", ((TextMessage) fourth).getText());
            long left = fourth.getJMSExpiration() - System.currentTimeMillis();
            assertTrue(left > 50_000 && left <= 60_000, "JMSExpiration is now + 60 s, left " + left);

            assertNull(consumer.receive(300));
        }
    }

    private static String decode(JsonNode message) {
        return new String(Base64.getDecoder().decode(message.get("body_b64").asText()), StandardCharsets.UTF_8);
    }
}
