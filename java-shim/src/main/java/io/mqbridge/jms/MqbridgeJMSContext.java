package io.mqbridge.jms;

import java.io.Serializable;
import javax.jms.BytesMessage;
import javax.jms.ConnectionMetaData;
import javax.jms.Destination;
import javax.jms.ExceptionListener;
import javax.jms.IllegalStateRuntimeException;
import javax.jms.JMSConsumer;
import javax.jms.JMSContext;
import javax.jms.JMSException;
import javax.jms.JMSProducer;
import javax.jms.JMSRuntimeException;
import javax.jms.MapMessage;
import javax.jms.Message;
import javax.jms.ObjectMessage;
import javax.jms.Queue;
import javax.jms.QueueBrowser;
import javax.jms.StreamMessage;
import javax.jms.TemporaryQueue;
import javax.jms.TemporaryTopic;
import javax.jms.TextMessage;
import javax.jms.Topic;

/**
 * The JMS 2.0 simplified API over the classic one: a JMSContext is one {@link MqbridgeSession}
 * on a {@link MqbridgeConnection}. {@link #createContext(int)} makes another session on the
 * same connection; the connection closes with the last context using it. Every JMSException
 * of the classic API surfaces as its JMSRuntimeException subclass ({@link JmsRuntime}).
 *
 * <p>The session is created on first use, so that {@link #setClientID} can still name the
 * connection right after the context is created (JMS 2.0 §6.2.3: the client ID must be set
 * before anything else is done with the context). With autoStart (the default), creating a
 * consumer starts the connection.
 */
public final class MqbridgeJMSContext implements JMSContext {
    /** The connection shared by a context and those made by its {@link #createContext(int)}. */
    static final class Shared {
        final MqbridgeConnection connection;
        /** Contexts still open on the connection; the last one to close closes it. */
        private int contexts = 1;
        /** Once the connection was used, the client ID can no longer be set (JMS 2.0 §6.2.3). */
        private boolean used;

        Shared(MqbridgeConnection connection) {
            this.connection = connection;
        }
    }

    /**
     * The connection whose MessageListener or CompletionListener runs on this thread: closing or
     * stopping its contexts from there would deadlock, so JMS forbids it (IllegalStateRuntimeException).
     */
    private static final ThreadLocal<Shared> IN_CALLBACK = new ThreadLocal<>();

    private final Shared shared;
    private final int sessionMode;
    private boolean autoStart = true;
    private volatile boolean closed;
    private MqbridgeSession session;
    /** The anonymous producer every JMSProducer of this context sends with (created on first use). */
    private MqbridgeProducer producer;

    private MqbridgeJMSContext(Shared shared, int sessionMode) {
        this.shared = shared;
        this.sessionMode = sessionMode;
    }

    /** A context on a new connection (ConnectionFactory.createContext; mode checked). */
    static JMSContext open(MqbridgeConnection connection, int sessionMode) {
        return new MqbridgeJMSContext(new Shared(connection), sessionMode);
    }

    static void checkSessionMode(int mode) {
        if (mode != SESSION_TRANSACTED && mode != AUTO_ACKNOWLEDGE && mode != CLIENT_ACKNOWLEDGE
                && mode != DUPS_OK_ACKNOWLEDGE) {
            throw new JMSRuntimeException("invalid session mode " + mode);
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateRuntimeException("the JMSContext is closed");
        }
    }

    private void checkNotInCallback(String what) {
        if (IN_CALLBACK.get() == shared) {
            throw new IllegalStateRuntimeException(what + " is not allowed in a MessageListener or CompletionListener"
                    + " of the same connection (JMS 2.0)");
        }
    }

    /** Runs {@code listener} as a callback of this context's connection (see {@link #IN_CALLBACK}). */
    void inCallback(Runnable listener) {
        Shared before = IN_CALLBACK.get();
        IN_CALLBACK.set(shared);
        try {
            listener.run();
        } finally {
            if (before == null) {
                IN_CALLBACK.remove();
            } else {
                IN_CALLBACK.set(before);
            }
        }
    }

    /** The session, created on first use. */
    synchronized MqbridgeSession session() {
        checkOpen();
        if (session == null) {
            markUsed();
            session = (MqbridgeSession) JmsRuntime.call(() -> shared.connection.createSession(sessionMode));
        }
        return session;
    }

    /** The anonymous producer shared by this context's JMSProducers. */
    synchronized MqbridgeProducer producer() {
        MqbridgeSession s = session();
        if (producer == null) {
            producer = (MqbridgeProducer) JmsRuntime.call(() -> s.createProducer(null));
        }
        return producer;
    }

    private void markUsed() {
        synchronized (shared) {
            shared.used = true;
        }
    }

    private void autoStart() {
        if (autoStart) {
            markUsed();
            JmsRuntime.run(shared.connection::start);
        }
    }

    @Override
    public JMSContext createContext(int mode) {
        checkOpen();
        checkSessionMode(mode);
        synchronized (shared) {
            if (shared.contexts == 0) {
                throw new IllegalStateRuntimeException("the connection is closed");
            }
            shared.contexts++;
            shared.used = true;
        }
        return new MqbridgeJMSContext(shared, mode);
    }

    @Override
    public JMSProducer createProducer() {
        producer();
        return new MqbridgeJMSProducer(this);
    }

    @Override
    public String getClientID() {
        checkOpen();
        return JmsRuntime.call(shared.connection::getClientID);
    }

    @Override
    public void setClientID(String clientID) {
        checkOpen();
        synchronized (shared) {
            if (shared.used) {
                throw new IllegalStateRuntimeException(
                        "the client ID must be set right after the JMSContext is created, before it is used");
            }
            JmsRuntime.run(() -> shared.connection.setClientID(clientID));
            shared.used = true;
        }
    }

    @Override
    public ConnectionMetaData getMetaData() {
        checkOpen();
        return JmsRuntime.call(shared.connection::getMetaData);
    }

    @Override
    public ExceptionListener getExceptionListener() {
        checkOpen();
        return JmsRuntime.call(shared.connection::getExceptionListener);
    }

    @Override
    public void setExceptionListener(ExceptionListener listener) {
        checkOpen();
        JmsRuntime.run(() -> shared.connection.setExceptionListener(listener));
    }

    @Override
    public void start() {
        checkOpen();
        markUsed();
        JmsRuntime.run(shared.connection::start);
    }

    @Override
    public void stop() {
        checkOpen();
        checkNotInCallback("JMSContext.stop");
        markUsed();
        JmsRuntime.run(shared.connection::stop);
    }

    @Override
    public void setAutoStart(boolean autoStart) {
        checkOpen();
        this.autoStart = autoStart;
    }

    @Override
    public boolean getAutoStart() {
        checkOpen();
        return autoStart;
    }

    /**
     * Closes this context's session (its producers and consumers), then the connection if no
     * other context uses it. Idempotent.
     */
    @Override
    public void close() {
        checkNotInCallback("JMSContext.close");
        MqbridgeSession s;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            s = session;
        }
        boolean last;
        synchronized (shared) {
            last = --shared.contexts == 0;
        }
        try {
            if (s != null) {
                JmsRuntime.run(s::close);
            }
        } finally {
            if (last) {
                JmsRuntime.run(shared.connection::close);
            }
        }
    }

    @Override
    public BytesMessage createBytesMessage() {
        return JmsRuntime.call(session()::createBytesMessage);
    }

    @Override
    public MapMessage createMapMessage() {
        return JmsRuntime.call(session()::createMapMessage);
    }

    @Override
    public Message createMessage() {
        return JmsRuntime.call(session()::createMessage);
    }

    @Override
    public ObjectMessage createObjectMessage() {
        return JmsRuntime.call(session()::createObjectMessage);
    }

    @Override
    public ObjectMessage createObjectMessage(Serializable object) {
        MqbridgeSession s = session();
        return JmsRuntime.call(() -> s.createObjectMessage(object));
    }

    @Override
    public StreamMessage createStreamMessage() {
        return JmsRuntime.call(session()::createStreamMessage);
    }

    @Override
    public TextMessage createTextMessage() {
        return JmsRuntime.call(session()::createTextMessage);
    }

    @Override
    public TextMessage createTextMessage(String text) {
        MqbridgeSession s = session();
        return JmsRuntime.call(() -> s.createTextMessage(text));
    }

    @Override
    public boolean getTransacted() {
        checkOpen();
        return sessionMode == SESSION_TRANSACTED;
    }

    @Override
    public int getSessionMode() {
        checkOpen();
        return sessionMode;
    }

    @Override
    public void commit() {
        JmsRuntime.run(session()::commit);
    }

    @Override
    public void rollback() {
        JmsRuntime.run(session()::rollback);
    }

    @Override
    public void recover() {
        JmsRuntime.run(session()::recover);
    }

    /** A consumer made by the session, wrapped; autoStart starts the connection. */
    private JMSConsumer consumer(JmsRuntime.Call<javax.jms.MessageConsumer> create) {
        checkOpen();
        MqbridgeJMSConsumer c = new MqbridgeJMSConsumer(this, JmsRuntime.call(create));
        autoStart();
        return c;
    }

    @Override
    public JMSConsumer createConsumer(Destination destination) {
        MqbridgeSession s = session();
        return consumer(() -> s.createConsumer(destination));
    }

    @Override
    public JMSConsumer createConsumer(Destination destination, String selector) {
        MqbridgeSession s = session();
        return consumer(() -> s.createConsumer(destination, selector));
    }

    @Override
    public JMSConsumer createConsumer(Destination destination, String selector, boolean noLocal) {
        MqbridgeSession s = session();
        return consumer(() -> s.createConsumer(destination, selector, noLocal));
    }

    @Override
    public Queue createQueue(String name) {
        MqbridgeSession s = session();
        return JmsRuntime.call(() -> s.createQueue(name));
    }

    @Override
    public Topic createTopic(String name) {
        MqbridgeSession s = session();
        return JmsRuntime.call(() -> s.createTopic(name));
    }

    @Override
    public JMSConsumer createDurableConsumer(Topic topic, String name) {
        MqbridgeSession s = session();
        return consumer(() -> s.createDurableConsumer(topic, name));
    }

    @Override
    public JMSConsumer createDurableConsumer(Topic topic, String name, String selector, boolean noLocal) {
        MqbridgeSession s = session();
        return consumer(() -> s.createDurableConsumer(topic, name, selector, noLocal));
    }

    @Override
    public JMSConsumer createSharedDurableConsumer(Topic topic, String name) {
        MqbridgeSession s = session();
        return consumer(() -> s.createSharedDurableConsumer(topic, name));
    }

    @Override
    public JMSConsumer createSharedDurableConsumer(Topic topic, String name, String selector) {
        MqbridgeSession s = session();
        return consumer(() -> s.createSharedDurableConsumer(topic, name, selector));
    }

    @Override
    public JMSConsumer createSharedConsumer(Topic topic, String name) {
        MqbridgeSession s = session();
        return consumer(() -> s.createSharedConsumer(topic, name));
    }

    @Override
    public JMSConsumer createSharedConsumer(Topic topic, String name, String selector) {
        MqbridgeSession s = session();
        return consumer(() -> s.createSharedConsumer(topic, name, selector));
    }

    @Override
    public QueueBrowser createBrowser(Queue queue) {
        MqbridgeSession s = session();
        return JmsRuntime.call(() -> s.createBrowser(queue));
    }

    @Override
    public QueueBrowser createBrowser(Queue queue, String selector) {
        MqbridgeSession s = session();
        return JmsRuntime.call(() -> s.createBrowser(queue, selector));
    }

    @Override
    public TemporaryQueue createTemporaryQueue() {
        return JmsRuntime.call(session()::createTemporaryQueue);
    }

    @Override
    public TemporaryTopic createTemporaryTopic() {
        return JmsRuntime.call(session()::createTemporaryTopic);
    }

    @Override
    public void unsubscribe(String name) {
        MqbridgeSession s = session();
        JmsRuntime.run(() -> s.unsubscribe(name));
    }

    /**
     * CLIENT_ACKNOWLEDGE: acknowledges every message the context's session consumed so far.
     * In the other modes it has no effect (JMS 2.0).
     */
    @Override
    public void acknowledge() {
        checkOpen();
        MqbridgeSession s;
        synchronized (this) {
            s = session;
        }
        if (s != null && sessionMode == CLIENT_ACKNOWLEDGE) {
            JmsRuntime.run(s::acknowledgeAll);
        }
    }
}
