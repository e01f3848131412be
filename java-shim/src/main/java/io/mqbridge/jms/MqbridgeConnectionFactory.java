package io.mqbridge.jms;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import javax.jms.Connection;
import javax.jms.ConnectionFactory;
import javax.jms.JMSContext;
import javax.jms.JMSException;

/**
 * The provider's ConnectionFactory. URI {@code mqbridge://user:pass@host:port/vhost}: AMQP
 * 0-9-1 to an mqbridge (or any AMQP broker), mapping JMS to AMQP as the OpenWire listener does.
 * URI {@code mqbridge:embedded?config=PATH}: the mqbridge server runs inside this JVM (one per
 * config file, stopped with its last connection or at JVM exit) and the connection reaches it
 * over its loopback AMQP listener; credentials go in {@code createConnection(user, password)}
 * (default guest/guest).
 */
public class MqbridgeConnectionFactory implements ConnectionFactory {
    private String uri;
    private long connectTimeoutMs = 10_000;
    private String userName;
    private String password;
    /** Default of {@link #setConfirmTimeoutMs}. */
    public static final long DEFAULT_CONFIRM_TIMEOUT_MS = 30_000;
    private long confirmTimeoutMs = DEFAULT_CONFIRM_TIMEOUT_MS;
    private boolean alwaysSyncSend;
    /** Default of {@link #setPrefetch}. */
    public static final int DEFAULT_PREFETCH = 64;
    private int prefetch = DEFAULT_PREFETCH;

    public MqbridgeConnectionFactory() {
        this("mqbridge://guest:guest@127.0.0.1:5672/");
    }

    public MqbridgeConnectionFactory(String uri) {
        this.uri = uri;
    }

    public String getUri() {
        return uri;
    }

    public void setUri(String uri) {
        this.uri = uri;
    }

    /** How long a synchronous send waits for the broker's confirm (default 30 s). */
    public long getConfirmTimeoutMs() {
        return confirmTimeoutMs;
    }

    /**
     * A synchronous send whose message the broker has not confirmed within this many ms fails
     * with a JMSException (the message may or may not have been delivered); an asynchronous
     * send reports it to its CompletionListener. Must be positive.
     */
    public void setConfirmTimeoutMs(long ms) {
        if (ms <= 0) {
            throw new IllegalArgumentException("confirm timeout must be positive: " + ms);
        }
        this.confirmTimeoutMs = ms;
    }

    /** Whether NON_PERSISTENT sends wait for the broker's confirm too (default false). */
    public boolean isAlwaysSyncSend() {
        return alwaysSyncSend;
    }

    /**
     * As ActiveMQ's client (its {@code alwaysSyncSend}): by default a NON_PERSISTENT send
     * returns once the message is written, without waiting for the broker's confirm (JMS
     * gives non-persistent messages at-most-once delivery); a confirm that fails later is
     * reported to the connection's ExceptionListener. With true, every send waits for its
     * confirm. PERSISTENT sends always wait.
     */
    public void setAlwaysSyncSend(boolean alwaysSyncSend) {
        this.alwaysSyncSend = alwaysSyncSend;
    }

    /** Messages an AUTO/DUPS_OK_ACKNOWLEDGE consumer may have in flight (default 64). */
    public int getPrefetch() {
        return prefetch;
    }

    /**
     * The AMQP prefetch (basic.qos) of AUTO_ACKNOWLEDGE and DUPS_OK_ACKNOWLEDGE consumers:
     * how many messages the broker sends ahead of the application's receive calls (default
     * 64; 1 hands each message to whichever consumer is free, at one round trip per message).
     * Messages prefetched and not yet received go back to the queue when the consumer
     * closes. CLIENT_ACKNOWLEDGE and transacted sessions use 500. Between 1 and 65535.
     */
    public void setPrefetch(int prefetch) {
        if (prefetch < 1 || prefetch > 65_535) {
            throw new IllegalArgumentException("prefetch must be between 1 and 65535: " + prefetch);
        }
        this.prefetch = prefetch;
    }

    private MqbridgeConnection configured(MqbridgeConnection c) {
        c.prefetch = prefetch;
        c.confirmTimeoutMs = confirmTimeoutMs;
        c.alwaysSyncSend = alwaysSyncSend;
        return c;
    }

    public long getConnectTimeoutMs() {
        return connectTimeoutMs;
    }

    public void setConnectTimeoutMs(long ms) {
        this.connectTimeoutMs = ms;
    }

    /** The login for {@link #createConnection()} and {@link #createContext()}, replacing the URI's; null: the URI's. */
    public String getUserName() {
        return userName;
    }

    public void setUserName(String userName) {
        this.userName = userName;
    }

    public String getPassword() {
        return password;
    }

    public void setPassword(String password) {
        this.password = password;
    }

    @Override
    public Connection createConnection() throws JMSException {
        if (userName != null) {
            return createConnection(userName, password);
        }
        return configured(new MqbridgeConnection(Native.connect(embeddedHook(uri), connectTimeoutMs)));
    }

    @Override
    public Connection createConnection(String user, String password) throws JMSException {
        return configured(new MqbridgeConnection(
                Native.connect(embeddedHook(withCredentials(uri, user, password)), connectTimeoutMs)));
    }

    /** The scheme of the in-process broker: {@code mqbridge:embedded?config=PATH}. */
    static final String EMBEDDED = "mqbridge:embedded";
    private static boolean hookInstalled;

    /**
     * Before the first embedded connection: a JVM shutdown hook stops the embedded brokers
     * still running (their last connection not closed), so their stores are flushed.
     */
    private static String embeddedHook(String uri) {
        if (uri != null && uri.startsWith(EMBEDDED)) {
            synchronized (MqbridgeConnectionFactory.class) {
                if (!hookInstalled) {
                    hookInstalled = true;
                    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                        try {
                            Native.shutdownEmbedded();
                        } catch (JMSException | RuntimeException e) {
                            // exiting anyway; nothing left to report to
                        }
                    }, "mqbridge-jms-embedded-shutdown"));
                }
            }
        }
        return uri;
    }

    /** The URI with its user info replaced by {@code user:password} (URL-encoded). */
    static String withCredentials(String uri, String user, String password) throws JMSException {
        if (uri != null && uri.startsWith(EMBEDDED)) {
            // Query parameters user= / password= (replacing any in the URI).
            StringBuilder b = new StringBuilder();
            int q = uri.indexOf('?');
            b.append(q < 0 ? uri : uri.substring(0, q)).append('?');
            if (q >= 0) {
                for (String pair : uri.substring(q + 1).split("&")) {
                    if (!pair.isEmpty() && !pair.startsWith("user=") && !pair.startsWith("password=")) {
                        b.append(pair).append('&');
                    }
                }
            }
            return b.append("user=").append(enc(user)).append("&password=").append(enc(password)).toString();
        }
        try {
            URI u = new URI(uri);
            if (u.getRawAuthority() == null) {
                throw new JMSException("URI " + uri + " has no host");
            }
            String authority = u.getRawAuthority();
            int at = authority.lastIndexOf('@');
            String hostPort = at >= 0 ? authority.substring(at + 1) : authority;
            String info = enc(user) + ":" + enc(password);
            String path = u.getRawPath() == null ? "" : u.getRawPath();
            return u.getScheme() + "://" + info + "@" + hostPort + path;
        } catch (URISyntaxException e) {
            JMSException j = new JMSException("invalid URI " + uri + ": " + e.getMessage());
            j.setLinkedException(e);
            throw j;
        }
    }

    private static String enc(String s) {
        return s == null ? "" : URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    /** A JMSContext (AUTO_ACKNOWLEDGE) on a new connection. */
    @Override
    public JMSContext createContext() {
        return createContext(JMSContext.AUTO_ACKNOWLEDGE);
    }

    @Override
    public JMSContext createContext(String userName, String password) {
        return createContext(userName, password, JMSContext.AUTO_ACKNOWLEDGE);
    }

    @Override
    public JMSContext createContext(String userName, String password, int sessionMode) {
        MqbridgeJMSContext.checkSessionMode(sessionMode);
        return MqbridgeJMSContext.open(
                (MqbridgeConnection) JmsRuntime.call(() -> createConnection(userName, password)), sessionMode);
    }

    /** A JMSContext with that session mode on a new connection (closed with the context). */
    @Override
    public JMSContext createContext(int sessionMode) {
        MqbridgeJMSContext.checkSessionMode(sessionMode);
        return MqbridgeJMSContext.open((MqbridgeConnection) JmsRuntime.call(this::createConnection), sessionMode);
    }
}
