package io.mqbridge.jms;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.rabbitmq.client.Channel;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.jms.Connection;
import javax.jms.DeliveryMode;
import javax.jms.JMSException;
import javax.jms.MessageConsumer;
import javax.jms.MessageProducer;
import javax.jms.Queue;
import javax.jms.Session;
import javax.jms.TextMessage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * NON_PERSISTENT sends return without waiting for the broker's confirm, as ActiveMQ's client
 * does (its default): order is kept with the persistent sends around them, a confirm that
 * fails later reaches the ExceptionListener, and {@code alwaysSyncSend} makes them wait.
 */
@ParameterizedClass
@MethodSource("io.mqbridge.jms.Target#all")
class NonPersistentSendTest extends TargetSuite {

    @Test
    void nonPersistentAndPersistentSendsArriveInTheOrderSent() throws Exception {
        try (Connection c = connect()) {
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            Queue q = s.createQueue(queueName());
            MessageProducer p = s.createProducer(q);
            int n = 2000;
            for (int i = 0; i < n; i++) {
                // Every 100th persistent, the rest not: one channel keeps them in order.
                int mode = i % 100 == 99 ? DeliveryMode.PERSISTENT : DeliveryMode.NON_PERSISTENT;
                p.send(s.createTextMessage("m" + i), mode, 4, 0);
            }
            p.close();
            MessageConsumer consumer = s.createConsumer(q);
            for (int i = 0; i < n; i++) {
                TextMessage m = (TextMessage) consumer.receive(10_000);
                assertNotNull(m, "message " + i);
                assertEquals("m" + i, m.getText());
                assertEquals(i % 100 == 99 ? DeliveryMode.PERSISTENT : DeliveryMode.NON_PERSISTENT,
                        m.getJMSDeliveryMode());
            }
            assertNull(consumer.receive(200));
        }
    }

    @Test
    void aRefusedNonPersistentSendReachesTheExceptionListenerOrThrowsWithAlwaysSyncSend() throws Exception {
        assumeTrue(target.isShim(), "the shim's alwaysSyncSend and ExceptionListener reporting");
        String name = queueName();
        // A queue that refuses every publish: the broker nacks it (mqbridge and RabbitMQ alike).
        try (com.rabbitmq.client.Connection rc = amqpFactory().newConnection(); Channel ch = rc.createChannel()) {
            ch.queueDeclare(name, true, false, false, Map.of("x-max-length", 0, "x-overflow", "reject-publish"));
        }
        MqbridgeConnectionFactory f = (MqbridgeConnectionFactory) target.factory();
        try (Connection c = f.createConnection()) {
            CompletableFuture<JMSException> reported = new CompletableFuture<>();
            c.setExceptionListener(reported::complete);
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageProducer p = s.createProducer(s.createQueue(name));
            p.setDeliveryMode(DeliveryMode.NON_PERSISTENT);
            p.send(s.createTextMessage("refused later"));
            JMSException e = reported.get(10, TimeUnit.SECONDS);
            assertTrue(e.getMessage().contains("NON_PERSISTENT") && e.getMessage().contains("refused"), e.getMessage());
            // Closing the connection from the listener is allowed (it is not a completion callback).
        }
        f.setAlwaysSyncSend(true);
        try (Connection c = f.createConnection()) {
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageProducer p = s.createProducer(s.createQueue(name));
            p.setDeliveryMode(DeliveryMode.NON_PERSISTENT);
            JMSException e = assertThrows(JMSException.class, () -> p.send(s.createTextMessage("refused now")));
            assertTrue(e.getMessage().contains("refused"), e.getMessage());
        }
    }

    @Test
    void anExceptionListenerMayCloseTheConnectionItWasCalledFor() throws Exception {
        assumeTrue(target.isShim(), "the shim's ExceptionListener reporting");
        String name = queueName();
        try (com.rabbitmq.client.Connection rc = amqpFactory().newConnection(); Channel ch = rc.createChannel()) {
            ch.queueDeclare(name, true, false, false, Map.of("x-max-length", 0, "x-overflow", "reject-publish"));
        }
        Connection c = target.factory().createConnection();
        CompletableFuture<Exception> closed = new CompletableFuture<>();
        c.setExceptionListener(e -> {
            try {
                c.close();
                closed.complete(null);
            } catch (Exception failure) {
                closed.complete(failure);
            }
        });
        Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
        MessageProducer p = s.createProducer(s.createQueue(name));
        p.send(s.createTextMessage("refused"), DeliveryMode.NON_PERSISTENT, 4, 0);
        assertNull(closed.get(10, TimeUnit.SECONDS), "close from the ExceptionListener succeeded");
    }

    /**
     * AUTO_ACKNOWLEDGE consumers prefetch the factory's {@code prefetch} (default 64, like
     * ActiveMQ's client prefetching): that many messages leave the queue for the consumer
     * before the application receives any; with 1, one at a time.
     */
    @Test
    void theFactorysPrefetchIsWhatAConsumerHoldsAhead() throws Exception {
        assumeTrue(target.isShim(), "the shim's prefetch setting");
        MqbridgeConnectionFactory f = (MqbridgeConnectionFactory) target.factory();
        assertEquals(MqbridgeConnectionFactory.DEFAULT_PREFETCH, f.getPrefetch());
        assertThrows(IllegalArgumentException.class, () -> f.setPrefetch(0));
        for (int prefetch : new int[] {MqbridgeConnectionFactory.DEFAULT_PREFETCH, 1}) {
            f.setPrefetch(prefetch);
            String name = queueName();
            try (Connection c = f.createConnection()) {
                c.start();
                Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
                Queue q = s.createQueue(name);
                MessageProducer p = s.createProducer(q);
                for (int i = 0; i < 100; i++) {
                    p.send(s.createTextMessage("m" + i));
                }
                MessageConsumer consumer = s.createConsumer(q);
                long ready = -1;
                for (int i = 0; i < 50 && ready != 100 - prefetch; i++) {
                    Thread.sleep(100);
                    ready = depth(name);
                }
                assertEquals(100 - prefetch, ready, "messages left ready with prefetch " + prefetch);
                assertEquals("m0", ((TextMessage) consumer.receive(5000)).getText());
            }
        }
    }
}
