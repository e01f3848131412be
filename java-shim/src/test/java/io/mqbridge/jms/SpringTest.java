package io.mqbridge.jms;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.jms.Message;
import javax.jms.MessageListener;
import javax.jms.TextMessage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.context.support.GenericXmlApplicationContext;
import org.springframework.core.env.MapPropertySource;
import org.springframework.jms.core.JmsTemplate;

/**
 * A Spring app (src/test/resources/spring/app.xml: a JmsTemplate and a
 * DefaultMessageListenerContainer) that names no provider, run unchanged on every target: the
 * ConnectionFactory bean comes from activemq.xml (ActiveMQ's client, against mqbridge's
 * OpenWire listener) or mqbridge.xml (the shim, against mqbridge and RabbitMQ). Switching an
 * app to the shim is that one file.
 */
@ParameterizedClass
@MethodSource("io.mqbridge.jms.Target#all")
class SpringTest {
    @Parameter
    Target target;

    /** The app's listener: collects what the container delivers. */
    public static final class OrderListener implements MessageListener {
        final BlockingQueue<Message> received = new LinkedBlockingQueue<>();

        @Override
        public void onMessage(Message message) {
            received.add(message);
        }
    }

    GenericXmlApplicationContext app(String queue) {
        String providerFile;
        String url;
        if (target.isShim()) {
            providerFile = "classpath:spring/mqbridge.xml";
            url = target.shimUri();
        } else {
            providerFile = "classpath:spring/activemq.xml";
            BridgeProcess b = Target.SharedBridge.get();
            url = "tcp://" + b.host + ":" + b.openwirePort;
        }
        GenericXmlApplicationContext ctx = new GenericXmlApplicationContext();
        ctx.getEnvironment().getPropertySources().addFirst(
                new MapPropertySource("test", Map.of("jms.url", url, "app.queue", queue)));
        ctx.load("classpath:spring/app.xml", providerFile);
        ctx.refresh();
        return ctx;
    }

    @Test
    void jmsTemplateAndListenerContainerRunUnchangedOnEveryProvider() throws Exception {
        String queue = "spring." + UUID.randomUUID();
        try (GenericXmlApplicationContext ctx = app(queue)) {
            JmsTemplate template = ctx.getBean(JmsTemplate.class);
            OrderListener orders = ctx.getBean(OrderListener.class);
            template.convertAndSend(queue, "hello spring", m -> {
                m.setStringProperty("origin", "jmsTemplate");
                m.setJMSCorrelationID("spring-1");
                return m;
            });
            Message m = orders.received.poll(15, TimeUnit.SECONDS);
            assertNotNull(m, "the listener container received the message");
            assertEquals("hello spring", ((TextMessage) m).getText());
            assertEquals("jmsTemplate", m.getStringProperty("origin"));
            assertEquals("spring-1", m.getJMSCorrelationID());

            // And JmsTemplate's own synchronous receive.
            String other = queue + ".sync";
            template.convertAndSend(other, "sync");
            assertEquals("sync", template.receiveAndConvert(other));
        }
        if (target.isShim()) {
            deleteQueues(queue, queue + ".sync");
        }
    }

    /** The test queues are durable AMQP queues: drop them so a shared broker does not collect them. */
    private void deleteQueues(String... names) throws Exception {
        com.rabbitmq.client.ConnectionFactory cf = new com.rabbitmq.client.ConnectionFactory();
        cf.setUri(target.amqpUri());
        try (com.rabbitmq.client.Connection rc = cf.newConnection()) {
            for (String q : names) {
                try (com.rabbitmq.client.Channel ch = rc.createChannel()) {
                    ch.queueDelete(q);
                }
            }
        }
    }
}
