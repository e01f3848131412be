package io.mqbridge.jms;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.mqbridge.jms.jndi.MqbridgeInitialContextFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Hashtable;
import java.util.stream.Stream;
import javax.jms.ConnectionFactory;
import javax.jms.JMSConsumer;
import javax.jms.JMSContext;
import javax.jms.JMSSecurityRuntimeException;
import javax.jms.Queue;
import javax.naming.Context;
import javax.naming.InitialContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * JNDI and JMSContext on an embedded broker ({@code mqbridge:embedded?config=PATH}): the
 * context's factory gets the environment's login, and closing the JMSContext closes its
 * connection (the embedded broker stops with its last connection). Shim-only by nature.
 */
class EmbeddedJndiTest {
    private Path dir;

    @BeforeEach
    void tempDir() throws Exception {
        dir = Files.createTempDirectory("mqbridge-embedded-jndi-test");
    }

    @AfterEach
    void cleanUp() throws Exception {
        assertEquals(0, Native.embeddedBrokers(), "embedded brokers left running");
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private Context jndi(String principal, String credentials) throws Exception {
        Path config = dir.resolve("embedded.yaml");
        // No listener configured: the embedded broker gets an AMQP listener on 127.0.0.1:0.
        Files.writeString(config, "storage:\n  dir: \"" + dir.resolve("data") + "\"\nvhosts: [\"/\"]\n");
        Hashtable<String, Object> env = new Hashtable<>();
        env.put(Context.INITIAL_CONTEXT_FACTORY, MqbridgeInitialContextFactory.class.getName());
        env.put(Context.PROVIDER_URL, "mqbridge:embedded?config=" + config);
        env.put("queue.work", "embedded.jndi.work");
        env.put(Context.SECURITY_PRINCIPAL, principal);
        env.put(Context.SECURITY_CREDENTIALS, credentials);
        return new InitialContext(env);
    }

    @Test
    void jmsContextFromJndiOnAnEmbeddedBroker() throws Exception {
        Context ctx = jndi("guest", "guest");
        ConnectionFactory cf = (ConnectionFactory) ctx.lookup("ConnectionFactory");
        Queue work = (Queue) ctx.lookup("work");
        try (JMSContext context = cf.createContext(JMSContext.CLIENT_ACKNOWLEDGE)) {
            assertEquals(1, Native.embeddedBrokers());
            JMSConsumer consumer = context.createConsumer(work);
            context.createProducer().setProperty("via", "jndi").send(work, "embedded");
            assertEquals("embedded", consumer.receiveBody(String.class, 5000));
            context.acknowledge();
            try (JMSContext second = context.createContext(JMSContext.AUTO_ACKNOWLEDGE)) {
                second.createProducer().send(work, "shared connection");
            }
            assertEquals(1, Native.embeddedBrokers(), "the first context keeps the connection");
            assertEquals("shared connection", consumer.receiveBody(String.class, 5000));
            context.acknowledge();
        }
        // cleanUp checks that the context closed the connection (the broker stopped)
    }

    @Test
    void theEnvironmentsLoginIsUsed() throws Exception {
        ConnectionFactory cf = (ConnectionFactory) jndi("guest", "wrong").lookup("ConnectionFactory");
        assertThrows(JMSSecurityRuntimeException.class, cf::createContext);
    }
}
