package io.mqbridge.jms;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.UUID;
import javax.jms.BytesMessage;
import javax.jms.Connection;
import javax.jms.DeliveryMode;
import javax.jms.Message;
import javax.jms.Session;
import javax.jms.TextMessage;
import org.apache.activemq.ActiveMQConnectionFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The shim maps JMS to AMQP exactly as mqbridge's OpenWire listener does: a message sent
 * through the shim and received with ActiveMQ's own client over OpenWire (and back) is
 * identical in every header and property the application set.
 */
class OpenWireIdentityTest {
    static BridgeProcess bridge;

    @BeforeAll
    static void startBridge() throws Exception {
        bridge = BridgeProcess.start();
    }

    @AfterAll
    static void stopBridge() throws Exception {
        if (bridge != null) {
            bridge.close();
        }
    }

    Connection shim() throws Exception {
        Connection c = new MqbridgeConnectionFactory(
                "mqbridge://guest:guest@" + bridge.host + ":" + bridge.port + "/").createConnection();
        c.start();
        return c;
    }

    Connection activemq() throws Exception {
        Connection c = new ActiveMQConnectionFactory("tcp://" + bridge.host + ":" + bridge.openwirePort
                + "?jms.prefetchPolicy.all=1").createConnection();
        c.start();
        return c;
    }

    static void fill(Message m, Session s) throws Exception {
        m.setJMSCorrelationID("corr-" + UUID.randomUUID());
        m.setJMSType("identity.check");
        m.setJMSReplyTo(s.createQueue("identity.replies"));
        m.setBooleanProperty("bool", true);
        m.setByteProperty("byte", (byte) -3);
        m.setShortProperty("short", (short) -300);
        m.setIntProperty("int", 70000);
        m.setLongProperty("long", 1L << 42);
        m.setFloatProperty("float", 0.25f);
        m.setDoubleProperty("double", -1.125);
        m.setStringProperty("string", "ünïcode ✓");
        m.setStringProperty("JMSXGroupID", "grp");
        m.setIntProperty("JMSXGroupSeq", 3);
    }

    static List<String> userPropertyNames(Message m) throws Exception {
        List<String> names = new ArrayList<>();
        for (Object n : Collections.list(m.getPropertyNames())) {
            String name = (String) n;
            // Provider-set JMSX properties (delivery count, ...) differ by design.
            if (!name.startsWith("JMSX")) {
                names.add(name);
            }
        }
        Collections.sort(names);
        return names;
    }

    static void assertSame(Message sent, Message got) throws Exception {
        assertEquals(sent.getJMSMessageID(), got.getJMSMessageID(), "JMSMessageID");
        assertEquals(sent.getJMSCorrelationID(), got.getJMSCorrelationID(), "JMSCorrelationID");
        assertEquals(sent.getJMSType(), got.getJMSType(), "JMSType");
        assertEquals(sent.getJMSTimestamp(), got.getJMSTimestamp(), "JMSTimestamp");
        assertEquals(sent.getJMSExpiration(), got.getJMSExpiration(), "JMSExpiration");
        assertEquals(sent.getJMSPriority(), got.getJMSPriority(), "JMSPriority");
        assertEquals(sent.getJMSDeliveryMode(), got.getJMSDeliveryMode(), "JMSDeliveryMode");
        assertEquals(String.valueOf(sent.getJMSReplyTo()).replaceFirst("^queue://", ""),
                String.valueOf(got.getJMSReplyTo()).replaceFirst("^queue://", ""), "JMSReplyTo");
        assertEquals(userPropertyNames(sent), userPropertyNames(got), "property names");
        for (String name : userPropertyNames(sent)) {
            assertEquals(sent.getObjectProperty(name), got.getObjectProperty(name), "property " + name);
        }
        assertEquals(sent.getStringProperty("JMSXGroupID"), got.getStringProperty("JMSXGroupID"));
        assertEquals(sent.getIntProperty("JMSXGroupSeq"), got.getIntProperty("JMSXGroupSeq"));
    }

    @Test
    void shimToOpenWireIsIdentical() throws Exception {
        String queue = "identity.to-ow." + UUID.randomUUID();
        try (Connection ow = activemq(); Connection shim = shim()) {
            Session owSession = ow.createSession(false, Session.AUTO_ACKNOWLEDGE);
            javax.jms.MessageConsumer consumer = owSession.createConsumer(owSession.createQueue(queue));
            Session s = shim.createSession();
            TextMessage m = s.createTextMessage("from the shim ✓");
            fill(m, s);
            s.createProducer(s.createQueue(queue)).send(m, DeliveryMode.PERSISTENT, 6, 60_000);
            Message got = consumer.receive(10_000);
            assertNotNull(got, "ActiveMQ's client received the shim's message");
            assertInstanceOf(TextMessage.class, got);
            assertEquals("from the shim ✓", ((TextMessage) got).getText());
            assertSame(m, got);
        }
    }

    @Test
    void openWireToShimIsIdentical() throws Exception {
        String queue = "identity.from-ow." + UUID.randomUUID();
        try (Connection ow = activemq(); Connection shim = shim()) {
            Session s = shim.createSession();
            javax.jms.MessageConsumer consumer = s.createConsumer(s.createQueue(queue));
            Session owSession = ow.createSession(false, Session.AUTO_ACKNOWLEDGE);
            javax.jms.MessageProducer p = owSession.createProducer(owSession.createQueue(queue));
            TextMessage m = owSession.createTextMessage("from ActiveMQ ✓");
            fill(m, owSession);
            p.send(m, DeliveryMode.PERSISTENT, 2, 60_000);
            BytesMessage b = owSession.createBytesMessage();
            b.writeBytes(new byte[] {9, 8, 7});
            b.setJMSCorrelationID("bytes");
            p.send(b, DeliveryMode.NON_PERSISTENT, 4, 0);

            Message got = consumer.receive(10_000);
            assertInstanceOf(TextMessage.class, got);
            assertEquals("from ActiveMQ ✓", ((TextMessage) got).getText());
            assertSame(m, got);
            Message gotBytes = consumer.receive(10_000);
            assertInstanceOf(BytesMessage.class, gotBytes);
            assertEquals("bytes", gotBytes.getJMSCorrelationID());
            assertEquals(DeliveryMode.NON_PERSISTENT, gotBytes.getJMSDeliveryMode());
            byte[] body = new byte[3];
            assertEquals(3, ((BytesMessage) gotBytes).readBytes(body));
            assertArrayEquals(new byte[] {9, 8, 7}, body);
        }
    }

    @Test
    void mapMessagesCrossBothWays() throws Exception {
        String queue = "identity.map." + UUID.randomUUID();
        try (Connection ow = activemq(); Connection shim = shim()) {
            Session owSession = ow.createSession(false, Session.AUTO_ACKNOWLEDGE);
            Session s = shim.createSession();
            javax.jms.MessageConsumer owConsumer = owSession.createConsumer(owSession.createQueue(queue));
            javax.jms.MapMessage m = s.createMapMessage();
            m.setInt("i", 5);
            m.setLong("l", 6L);
            m.setString("s", "t");
            m.setBoolean("b", true);
            s.createProducer(s.createQueue(queue)).send(m);
            javax.jms.MapMessage got = (javax.jms.MapMessage) owConsumer.receive(10_000);
            assertNotNull(got);
            assertEquals(5, got.getObject("i"));
            assertEquals(6L, got.getObject("l"));
            assertEquals("t", got.getObject("s"));
            assertEquals(true, got.getObject("b"));
            owConsumer.close();

            javax.jms.MessageConsumer shimConsumer = s.createConsumer(s.createQueue(queue));
            javax.jms.MapMessage back = owSession.createMapMessage();
            back.setShort("sh", (short) 3);
            back.setDouble("d", 0.5);
            owSession.createProducer(owSession.createQueue(queue)).send(back);
            javax.jms.MapMessage gotBack = (javax.jms.MapMessage) shimConsumer.receive(10_000);
            assertNotNull(gotBack);
            assertEquals((short) 3, gotBack.getObject("sh"));
            assertEquals(0.5, gotBack.getObject("d"));
        }
    }

    /** Same (client ID, name) → same durable subscription queue as the OpenWire listener's. */
    @Test
    void durableSubscriptionIsSharedWithActiveMqClients() throws Exception {
        String topic = "identity.durable." + UUID.randomUUID().toString().replace("-", "");
        String clientId = "ow-shim-" + UUID.randomUUID();
        Connection ow = new ActiveMQConnectionFactory("tcp://" + bridge.host + ":" + bridge.openwirePort)
                .createConnection();
        ow.setClientID(clientId);
        ow.start();
        Session owSession = ow.createSession(false, Session.AUTO_ACKNOWLEDGE);
        owSession.createDurableSubscriber(owSession.createTopic(topic), "sub").close();
        ow.close();
        try (Connection c = new MqbridgeConnectionFactory(
                "mqbridge://guest:guest@" + bridge.host + ":" + bridge.port + "/").createConnection()) {
            c.setClientID(clientId);
            c.start();
            Session s = c.createSession();
            s.createProducer(s.createTopic(topic)).send(s.createTextMessage("kept for the OpenWire subscription"));
            Message m = s.createDurableSubscriber(s.createTopic(topic), "sub").receive(5000);
            assertNotNull(m, "the shim reads the subscription the ActiveMQ client created");
            assertEquals("kept for the OpenWire subscription", ((TextMessage) m).getText());
        }
    }
}
