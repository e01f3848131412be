package io.mqbridge.jms;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mqbridge.jms.jndi.MqbridgeInitialContextFactory;
import java.io.Writer;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Hashtable;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import javax.jms.Connection;
import javax.jms.ConnectionFactory;
import javax.jms.JMSException;
import javax.jms.JMSSecurityException;
import javax.jms.MessageConsumer;
import javax.jms.Queue;
import javax.jms.Session;
import javax.jms.TextMessage;
import javax.jms.Topic;
import javax.naming.Binding;
import javax.naming.CompositeName;
import javax.naming.Context;
import javax.naming.InitialContext;
import javax.naming.NameClassPair;
import javax.naming.NameNotFoundException;
import javax.naming.NamingException;
import javax.naming.OperationNotSupportedException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The JNDI provider ({@link MqbridgeInitialContextFactory}): configuration by environment and
 * by jndi.properties, the objects it binds used for real against each shim target (ActiveMQ's
 * client has its own JNDI provider).
 */
@ParameterizedClass
@MethodSource("io.mqbridge.jms.Target#shims")
class JndiTest {
    @Parameter
    Target target;

    private final List<String> queues = new ArrayList<>();

    String amqpUri() {
        return target.amqpUri();
    }

    String uri() {
        return target.shimUri();
    }

    String queueName() {
        String q = "jndi-test-" + UUID.randomUUID();
        queues.add(q);
        return q;
    }

    @AfterEach
    void deleteQueues() throws Exception {
        if (queues.isEmpty()) {
            return;
        }
        com.rabbitmq.client.ConnectionFactory f = new com.rabbitmq.client.ConnectionFactory();
        f.setUri(amqpUri());
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

    Hashtable<String, Object> env() {
        Hashtable<String, Object> env = new Hashtable<>();
        env.put(Context.INITIAL_CONTEXT_FACTORY, MqbridgeInitialContextFactory.class.getName());
        env.put(Context.PROVIDER_URL, uri());
        return env;
    }

    /** Sends through one looked-up destination, receives through another naming the same queue. */
    static void roundTrip(ConnectionFactory cf, Queue to, Queue from, String text) throws JMSException {
        try (Connection c = cf.createConnection()) {
            c.start();
            Session s = c.createSession();
            s.createProducer(to).send(s.createTextMessage(text));
            MessageConsumer consumer = s.createConsumer(from);
            TextMessage m = assertInstanceOf(TextMessage.class, consumer.receive(5000));
            assertEquals(text, m.getText());
            assertEquals(from, m.getJMSDestination());
        }
    }

    @Test
    void environmentBindsFactoryQueuesAndTopicsThatWork() throws Exception {
        String physical = queueName();
        Hashtable<String, Object> env = env();
        env.put("queue.orders", physical);
        env.put("topic.prices", "market.prices");
        env.put("queue.jms/nested/orders", physical);
        Context ctx = new InitialContext(env);
        ConnectionFactory cf = assertInstanceOf(MqbridgeConnectionFactory.class, ctx.lookup("ConnectionFactory"));
        assertEquals(uri(), ((MqbridgeConnectionFactory) cf).getUri());
        Queue orders = (Queue) ctx.lookup("orders");
        assertEquals(physical, orders.getQueueName());
        Topic prices = (Topic) ctx.lookup("prices");
        assertEquals("market.prices", prices.getTopicName());
        // Hierarchical names: by full name, through the subcontexts, and as a Name.
        assertEquals(orders, ctx.lookup("jms/nested/orders"));
        Context jms = (Context) ctx.lookup("jms");
        assertEquals("jms", jms.getNameInNamespace());
        assertEquals(orders, ((Context) jms.lookup("nested")).lookup("orders"));
        assertEquals(orders, ctx.lookup(new CompositeName("jms/nested/orders")));
        // The dynamic ones name the same queue: a message sent to one arrives through the other.
        Queue dynamic = (Queue) ctx.lookup("dynamicQueues/" + physical);
        assertEquals(orders, dynamic);
        roundTrip(cf, orders, dynamic, "via jndi");
        Topic dynamicTopic = (Topic) ctx.lookup("dynamicTopics/a.b.c");
        assertEquals("a.b.c", dynamicTopic.getTopicName());
        Queue viaSubcontext = (Queue) ((Context) ctx.lookup("dynamicQueues")).lookup(physical);
        assertEquals(orders, viaSubcontext);
        ctx.close();
    }

    @Test
    void topicFromJndiDeliversToSubscribers() throws Exception {
        String topicName = "jndi.topic." + UUID.randomUUID();
        Hashtable<String, Object> env = env();
        env.put("topic.events", topicName);
        Context ctx = new InitialContext(env);
        ConnectionFactory cf = (ConnectionFactory) ctx.lookup("ConnectionFactory");
        Topic events = (Topic) ctx.lookup("events");
        try (Connection c = cf.createConnection()) {
            c.start();
            Session s = c.createSession();
            MessageConsumer sub = s.createConsumer((Topic) ctx.lookup("dynamicTopics/" + topicName));
            s.createProducer(events).send(s.createTextMessage("event"));
            assertEquals("event", ((TextMessage) sub.receive(5000)).getText());
        }
    }

    @Test
    void connectionFactoryNamesBindEachNameAndOnlyThose() throws Exception {
        Hashtable<String, Object> env = env();
        env.put(MqbridgeInitialContextFactory.CONNECTION_FACTORY_NAMES, " jms/cf1 , cf2,");
        Context ctx = new InitialContext(env);
        ConnectionFactory cf1 = (ConnectionFactory) ctx.lookup("jms/cf1");
        ConnectionFactory cf2 = (ConnectionFactory) ctx.lookup("cf2");
        assertNotSame(cf1, cf2);
        assertThrows(NameNotFoundException.class, () -> ctx.lookup("ConnectionFactory"));
        try (Connection c = cf2.createConnection()) {
            assertNotNull(c.getMetaData());
        }
        Set<String> names = new TreeSet<>();
        for (NameClassPair p : Collections.list(ctx.list(""))) {
            names.add(p.getName());
        }
        assertEquals(Set.of("jms", "cf2"), names);
        Set<String> inJms = new TreeSet<>();
        for (Binding b : Collections.list(ctx.listBindings("jms"))) {
            inJms.add(b.getName());
            assertSame(cf1, b.getObject());
        }
        assertEquals(Set.of("cf1"), inJms);
    }

    @Test
    void jndiPropertiesOnTheClasspathConfigureTheContext() throws Exception {
        String physical = queueName();
        Path dir = Files.createTempDirectory("jndi-test");
        Properties p = new Properties();
        p.setProperty(Context.INITIAL_CONTEXT_FACTORY, MqbridgeInitialContextFactory.class.getName());
        p.setProperty(Context.PROVIDER_URL, uri());
        p.setProperty("connectionFactoryNames", "ConnectionFactory,QueueConnectionFactory");
        p.setProperty("queue.work", physical);
        try (Writer w = Files.newBufferedWriter(dir.resolve("jndi.properties"))) {
            p.store(w, "test");
        }
        ClassLoader before = Thread.currentThread().getContextClassLoader();
        try (URLClassLoader loader = new URLClassLoader(new URL[] {dir.toUri().toURL()}, before)) {
            Thread.currentThread().setContextClassLoader(loader);
            Context ctx = new InitialContext(); // no environment: all from jndi.properties
            ConnectionFactory cf = (ConnectionFactory) ctx.lookup("QueueConnectionFactory");
            Queue work = (Queue) ctx.lookup("work");
            roundTrip(cf, work, work, "from jndi.properties");
        } finally {
            Thread.currentThread().setContextClassLoader(before);
            Files.deleteIfExists(dir.resolve("jndi.properties"));
            Files.deleteIfExists(dir);
        }
    }

    @Test
    void securityPrincipalAndCredentialsReplaceTheUrlLogin() throws Exception {
        Hashtable<String, Object> env = env();
        env.put(Context.SECURITY_PRINCIPAL, "guest");
        env.put(Context.SECURITY_CREDENTIALS, "wrong");
        ConnectionFactory bad = (ConnectionFactory) new InitialContext(env).lookup("ConnectionFactory");
        JMSException e = assertThrows(JMSException.class, bad::createConnection);
        assertInstanceOf(JMSSecurityException.class, e, e.getMessage());
        // A URL without login, the login from the environment.
        String noLogin = uri().replaceFirst("//[^@]*@", "//");
        env.put(Context.PROVIDER_URL, noLogin);
        env.put(Context.SECURITY_CREDENTIALS, "guest");
        ConnectionFactory good = (ConnectionFactory) new InitialContext(env).lookup("ConnectionFactory");
        try (Connection c = good.createConnection()) {
            assertNotNull(c.getMetaData());
        }
    }

    @Test
    void unknownNamesAreNameNotFound() throws Exception {
        Context ctx = new InitialContext(env());
        NameNotFoundException e = assertThrows(NameNotFoundException.class, () -> ctx.lookup("nope"));
        assertTrue(e.getMessage().contains("nope"), e.getMessage());
        assertEquals("nope", e.getRemainingName().toString());
        assertThrows(NameNotFoundException.class, () -> ctx.lookup("ConnectionFactory/x"));
        assertInstanceOf(Context.class, ctx.lookup("dynamicQueues/")); // a trailing "/" names the context
        assertThrows(NameNotFoundException.class, () -> ctx.lookup("otherQueues/x"));
        assertThrows(javax.naming.NotContextException.class, () -> ctx.list("ConnectionFactory"));
    }

    @Test
    void badProviderUrlsAreNamingExceptionsWithTheCause() {
        for (String bad : new String[] {"tcp://127.0.0.1:61616", "mqbridge://", "mqbridge://user:pass@/vhost",
                "mqbridge://host:port with space/", "not a url"}) {
            Hashtable<String, Object> env = env();
            env.put(Context.PROVIDER_URL, bad);
            NamingException e = assertThrows(NamingException.class, () -> new InitialContext(env), bad);
            assertTrue(e.getMessage().contains(bad), e.getMessage());
            assertNotNull(e.getRootCause(), bad);
            assertSame(e.getRootCause(), e.getCause(), bad);
        }
        Hashtable<String, Object> env = env();
        env.put(Context.PROVIDER_URL, "mqbridge://host:port with space/");
        NamingException e = assertThrows(NamingException.class, () -> new InitialContext(env));
        assertInstanceOf(URISyntaxException.class, e.getRootCause());
        Hashtable<String, Object> badQueue = env();
        badQueue.put("queue.empty", " ");
        NamingException q = assertThrows(NamingException.class, () -> new InitialContext(badQueue));
        assertTrue(q.getMessage().contains("queue.empty"), q.getMessage());
    }

    @Test
    void noProviderUrlMeansTheLocalDefault() throws Exception {
        Hashtable<String, Object> env = env();
        env.remove(Context.PROVIDER_URL);
        MqbridgeConnectionFactory cf = (MqbridgeConnectionFactory) new InitialContext(env).lookup("ConnectionFactory");
        assertEquals(MqbridgeInitialContextFactory.DEFAULT_URL, cf.getUri());
        // An opaque mqbridge: URI (embedded mode) is taken as given.
        env.put(Context.PROVIDER_URL, "mqbridge:embedded?config=/etc/mqbridge.yaml");
        MqbridgeConnectionFactory embedded = (MqbridgeConnectionFactory) new InitialContext(env).lookup("ConnectionFactory");
        assertEquals("mqbridge:embedded?config=/etc/mqbridge.yaml", embedded.getUri());
    }

    @Test
    void theContextIsReadOnly() throws Exception {
        Context ctx = new InitialContext(env());
        Object o = new MqbridgeQueue("x");
        assertThrows(OperationNotSupportedException.class, () -> ctx.bind("a", o));
        assertThrows(OperationNotSupportedException.class, () -> ctx.rebind("ConnectionFactory", o));
        assertThrows(OperationNotSupportedException.class, () -> ctx.unbind("ConnectionFactory"));
        assertThrows(OperationNotSupportedException.class, () -> ctx.rename("ConnectionFactory", "b"));
        assertThrows(OperationNotSupportedException.class, () -> ctx.createSubcontext("sub"));
        assertThrows(OperationNotSupportedException.class, () -> ctx.destroySubcontext("dynamicQueues"));
        assertThrows(OperationNotSupportedException.class, () -> ctx.bind(new CompositeName("a"), o));
        assertNotNull(ctx.lookup("ConnectionFactory"));
        Context own = (Context) ctx.lookup(""); // the provider's context (InitialContext composes as-is)
        assertEquals("a/b", own.composeName("b", "a"));
        assertEquals(own.lookup("ConnectionFactory").getClass(), ctx.lookup("ConnectionFactory").getClass());
        assertEquals(new CompositeName("x/y"), ctx.getNameParser("").parse("x/y"));
        assertEquals(uri(), ctx.getEnvironment().get(Context.PROVIDER_URL));
    }
}
