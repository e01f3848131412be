package io.mqbridge.jms.jndi;

import io.mqbridge.jms.MqbridgeConnectionFactory;
import io.mqbridge.jms.MqbridgeQueue;
import io.mqbridge.jms.MqbridgeTopic;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Hashtable;
import java.util.Map;
import java.util.TreeMap;
import javax.naming.Context;
import javax.naming.NamingException;
import javax.naming.spi.InitialContextFactory;

/**
 * A JNDI provider for JMS applications configured by JNDI, like ActiveMQ's
 * {@code ActiveMQInitialContextFactory}. Everything comes from the environment (the
 * {@code InitialContext} Hashtable, merged with {@code jndi.properties} on the classpath):
 *
 * <pre>
 * java.naming.factory.initial = io.mqbridge.jms.jndi.MqbridgeInitialContextFactory
 * java.naming.provider.url    = mqbridge://user:pass@host:5672/vhost
 * connectionFactoryNames      = ConnectionFactory, XAConnectionFactory   (default: ConnectionFactory)
 * queue.orders                = orders.v1        (JNDI name "orders" is the queue orders.v1)
 * topic.prices                = market.prices
 * </pre>
 *
 * plus {@code dynamicQueues/NAME} and {@code dynamicTopics/NAME}, which look up the queue or
 * topic NAME without configuration. {@code java.naming.security.principal} and
 * {@code java.naming.security.credentials}, when set, are the factories' login (replacing the
 * URL's; {@link MqbridgeConnectionFactory#setUserName}).
 * The context is read-only ({@link MqbridgeJndiContext}); an invalid URL fails here, as a
 * NamingException whose root cause says why.
 */
public class MqbridgeInitialContextFactory implements InitialContextFactory {
    /** Comma-separated JNDI names bound to a connection factory for the provider URL. */
    public static final String CONNECTION_FACTORY_NAMES = "connectionFactoryNames";
    /** {@code queue.<jndiName> = <queue name>} */
    public static final String QUEUE_PREFIX = "queue.";
    /** {@code topic.<jndiName> = <topic name>} */
    public static final String TOPIC_PREFIX = "topic.";
    /** {@code dynamicQueues/<queue name>} */
    public static final String DYNAMIC_QUEUES = "dynamicQueues";
    /** {@code dynamicTopics/<topic name>} */
    public static final String DYNAMIC_TOPICS = "dynamicTopics";
    /** The provider URL when none is configured (a local mqbridge, RabbitMQ's default login). */
    public static final String DEFAULT_URL = "mqbridge://guest:guest@127.0.0.1:5672/";

    @Override
    public Context getInitialContext(Hashtable<?, ?> environment) throws NamingException {
        Hashtable<Object, Object> env = new Hashtable<>();
        if (environment != null) {
            env.putAll(environment);
        }
        String url = string(env, Context.PROVIDER_URL);
        if (url == null || url.trim().isEmpty()) {
            url = DEFAULT_URL;
        }
        url = url.trim();
        checkUrl(url);
        String principal = string(env, Context.SECURITY_PRINCIPAL);
        String credentials = string(env, Context.SECURITY_CREDENTIALS);

        Map<String, Object> bindings = new TreeMap<>();
        String names = string(env, CONNECTION_FACTORY_NAMES);
        if (names == null) {
            names = "ConnectionFactory";
        }
        for (String name : names.split(",")) {
            name = name.trim();
            if (!name.isEmpty()) {
                MqbridgeConnectionFactory factory = new MqbridgeConnectionFactory(url);
                if (principal != null) {
                    factory.setUserName(principal);
                    factory.setPassword(credentials);
                }
                bindings.put(name, factory);
            }
        }
        for (Map.Entry<Object, Object> e : env.entrySet()) {
            if (!(e.getKey() instanceof String)) {
                continue;
            }
            String key = (String) e.getKey();
            boolean queue = key.startsWith(QUEUE_PREFIX);
            if (!queue && !key.startsWith(TOPIC_PREFIX)) {
                continue;
            }
            String jndiName = key.substring(queue ? QUEUE_PREFIX.length() : TOPIC_PREFIX.length());
            Object value = e.getValue();
            if (jndiName.isEmpty() || !(value instanceof String) || ((String) value).trim().isEmpty()) {
                throw new NamingException("invalid JNDI destination entry " + key + "=" + value
                        + ": expected " + (queue ? QUEUE_PREFIX : TOPIC_PREFIX) + "<jndiName>=<name>");
            }
            String physical = ((String) value).trim();
            bindings.put(jndiName, queue ? new MqbridgeQueue(physical) : new MqbridgeTopic(physical));
        }
        return new MqbridgeJndiContext(env, bindings, "");
    }

    private static String string(Hashtable<Object, Object> env, String key) {
        Object v = env.get(key);
        return v == null ? null : v.toString();
    }

    /**
     * The provider URL must be {@code mqbridge://[user:pass@]host[:port][/vhost]} or an opaque
     * {@code mqbridge:...} (embedded mode, checked when it connects).
     */
    static void checkUrl(String url) throws NamingException {
        URI u;
        try {
            u = new URI(url);
        } catch (URISyntaxException e) {
            throw invalid(url, e);
        }
        if (!"mqbridge".equalsIgnoreCase(u.getScheme())) {
            throw invalid(url, new IllegalArgumentException(
                    "the scheme must be mqbridge (mqbridge://user:pass@host:port/vhost), not " + u.getScheme()));
        }
        if (!u.isOpaque() && u.getHost() == null) {
            throw invalid(url, new IllegalArgumentException("no host (mqbridge://user:pass@host:port/vhost)"));
        }
    }

    private static NamingException invalid(String url, Exception cause) {
        NamingException e = new NamingException("invalid " + Context.PROVIDER_URL + " " + url + ": " + cause.getMessage());
        e.initCause(cause); // NamingException: also its root cause
        return e;
    }
}
