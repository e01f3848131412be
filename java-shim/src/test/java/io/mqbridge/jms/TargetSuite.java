package io.mqbridge.jms;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.ConnectionFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import javax.jms.Connection;
import javax.jms.JMSException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.Parameter;

/**
 * Shared plumbing of the parameterized feature suites (transactions, browser, delivery delay,
 * asynchronous send): the {@link Target}, fresh queue names deleted after each test, and an
 * AMQP client on the same broker to look at queues.
 */
abstract class TargetSuite {
    @Parameter
    Target target;

    private final List<String> queues = new ArrayList<>();

    String queueName() {
        String q = "jms-test-" + UUID.randomUUID();
        queues.add(q);
        return q;
    }

    ConnectionFactory amqpFactory() throws Exception {
        ConnectionFactory cf = new ConnectionFactory();
        cf.setUri(target.amqpUri());
        return cf;
    }

    /** Messages ready in queue {@code q}, as the broker counts them. */
    long depth(String q) throws Exception {
        try (com.rabbitmq.client.Connection rc = amqpFactory().newConnection();
                Channel ch = rc.createChannel()) {
            return ch.queueDeclarePassive(q).getMessageCount();
        }
    }

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
                    // never declared or already gone
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
}
