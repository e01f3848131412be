package io.mqbridge.jms;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.jms.ConnectionFactory;
import javax.jms.Message;
import javax.jms.TextMessage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.jms.core.JmsTemplate;
import org.springframework.jms.listener.DefaultMessageListenerContainer;

/**
 * A Spring app (JmsTemplate + DefaultMessageListenerContainer) whose only tie to the
 * provider is the ConnectionFactory bean: switched to the shim by configuration.
 */
class SpringTest {
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

    /** The one line of "configuration" an app changes. */
    ConnectionFactory connectionFactory() {
        return new MqbridgeConnectionFactory("mqbridge://guest:guest@" + bridge.host + ":" + bridge.port + "/");
    }

    @Test
    void jmsTemplateAndListenerContainerWorkThroughTheShim() throws Exception {
        String queue = "spring." + UUID.randomUUID();
        ConnectionFactory cf = connectionFactory();
        BlockingQueue<Message> got = new LinkedBlockingQueue<>();
        DefaultMessageListenerContainer container = new DefaultMessageListenerContainer();
        container.setConnectionFactory(cf);
        container.setDestinationName(queue);
        container.setMessageListener((javax.jms.MessageListener) got::add);
        container.setReceiveTimeout(200);
        container.afterPropertiesSet();
        container.start();
        try {
            JmsTemplate template = new JmsTemplate(cf);
            template.convertAndSend(queue, "hello spring", m -> {
                m.setStringProperty("origin", "jmsTemplate");
                m.setJMSCorrelationID("spring-1");
                return m;
            });
            Message m = got.poll(15, TimeUnit.SECONDS);
            assertNotNull(m, "the listener container received the message");
            assertEquals("hello spring", ((TextMessage) m).getText());
            assertEquals("jmsTemplate", m.getStringProperty("origin"));
            assertEquals("spring-1", m.getJMSCorrelationID());

            // And JmsTemplate's own synchronous receive.
            String other = queue + ".sync";
            template.convertAndSend(other, "sync");
            template.setReceiveTimeout(5000);
            assertEquals("sync", template.receiveAndConvert(other));
        } finally {
            container.stop();
            container.shutdown();
        }
    }
}
