package io.mqbridge.jms;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.jms.Connection;
import javax.jms.ConnectionConsumer;
import javax.jms.ConnectionMetaData;
import javax.jms.Destination;
import javax.jms.ExceptionListener;
import javax.jms.JMSException;
import javax.jms.ServerSessionPool;
import javax.jms.Session;
import javax.jms.Topic;

/** One AMQP connection (a native handle); closing it closes its sessions first. */
public final class MqbridgeConnection extends NativeResource implements Connection {
    private final List<MqbridgeSession> sessions = new CopyOnWriteArrayList<>();
    private final Object startLock = new Object();
    private volatile boolean started;
    /**
     * Deliveries (a receive handing out a message, a running onMessage) hold the read side;
     * {@link #stop()} takes the write side after clearing {@code started}, so it returns only
     * once deliveries in progress are done and nothing is delivered after it (JMS 2.0 §6.1.5).
     */
    final java.util.concurrent.locks.ReentrantReadWriteLock deliveryGate =
            new java.util.concurrent.locks.ReentrantReadWriteLock();
    /** The connection whose MessageListener this thread is running (stop() there would deadlock). */
    static final ThreadLocal<MqbridgeConnection> IN_LISTENER = new ThreadLocal<>();
    private String clientId;
    private volatile ExceptionListener exceptionListener;
    private Thread watcher;
    /** Synchronous sends fail when the broker has not confirmed within this (factory setting). */
    volatile long confirmTimeoutMs = MqbridgeConnectionFactory.DEFAULT_CONFIRM_TIMEOUT_MS;
    /** See {@link MqbridgeConnectionFactory#setPrefetch}. */
    volatile int prefetch = MqbridgeConnectionFactory.DEFAULT_PREFETCH;
    /** See {@link MqbridgeConnectionFactory#setAlwaysSyncSend}. */
    volatile boolean alwaysSyncSend;
    /**
     * Unconfirmed NON_PERSISTENT sends in flight: a producer faster than the broker blocks
     * here instead of queueing without bound.
     */
    final java.util.concurrent.Semaphore unconfirmedSends = new java.util.concurrent.Semaphore(MAX_UNCONFIRMED_SENDS);
    static final int MAX_UNCONFIRMED_SENDS = 1024;

    /**
     * A NON_PERSISTENT send that was not confirmed after it returned (a nack, the confirm
     * timeout, a lost connection): the application hears of it through its ExceptionListener,
     * as with ActiveMQ's asynchronous sends.
     */
    void reportUnconfirmedSend(JMSException failure) {
        ExceptionListener listener = exceptionListener;
        if (listener != null && !isClosed()) {
            JMSException e = new JMSException("a NON_PERSISTENT message sent without waiting was not confirmed: "
                    + failure.getMessage());
            e.setLinkedException(failure);
            e.initCause(failure);
            // Not on the completion thread: a listener that closes the connection (Spring's
            // connection factories do) would be refused there.
            Thread report = new Thread(() -> listener.onException(e), "mqbridge-jms-exception");
            report.setDaemon(true);
            report.start();
        }
    }
    /** Asynchronous sends (CompletionListener) of this connection's producers. */
    final AsyncSends asyncSends = new AsyncSends(this);

    MqbridgeConnection(long handle) {
        super(handle, "connection");
    }

    /** Wait until the connection is started or {@code deadline} (ms, <0 none) passes. */
    boolean awaitStarted(long timeoutMs) throws JMSException {
        long deadline = timeoutMs < 0 ? Long.MAX_VALUE : System.currentTimeMillis() + timeoutMs;
        synchronized (startLock) {
            while (!started) {
                checkOpen();
                long left = deadline - System.currentTimeMillis();
                if (left <= 0) {
                    return false;
                }
                try {
                    startLock.wait(Math.min(left, 100));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
        }
        return true;
    }

    @Override
    public Session createSession(boolean transacted, int acknowledgeMode) throws JMSException {
        checkOpen();
        if (transacted) {
            MqbridgeSession t = new MqbridgeSession(this, Native.createTransactedSession(handle),
                    Session.SESSION_TRANSACTED);
            sessions.add(t);
            return t;
        }
        int mode;
        switch (acknowledgeMode) {
            case Session.AUTO_ACKNOWLEDGE:
            case Session.DUPS_OK_ACKNOWLEDGE:
                // AUTO's guarantee (at most one redelivery window of one message) satisfies DUPS_OK.
                mode = acknowledgeMode;
                break;
            case Session.CLIENT_ACKNOWLEDGE:
                mode = Session.CLIENT_ACKNOWLEDGE;
                break;
            default:
                throw new JMSException("invalid acknowledge mode " + acknowledgeMode);
        }
        MqbridgeSession s = new MqbridgeSession(this, Native.createSession(handle), mode);
        sessions.add(s);
        return s;
    }

    @Override
    public Session createSession(int sessionMode) throws JMSException {
        return createSession(sessionMode == Session.SESSION_TRANSACTED, sessionMode);
    }

    @Override
    public Session createSession() throws JMSException {
        return createSession(false, Session.AUTO_ACKNOWLEDGE);
    }

    void forget(MqbridgeSession s) {
        sessions.remove(s);
    }

    @Override
    public String getClientID() throws JMSException {
        checkOpen();
        return clientId;
    }

    @Override
    public void setClientID(String id) throws JMSException {
        checkOpen();
        if (clientId != null) {
            throw new javax.jms.IllegalStateException("client ID already set");
        }
        clientId = id;
    }

    @Override
    public ConnectionMetaData getMetaData() throws JMSException {
        checkOpen();
        return MqbridgeMetaData.INSTANCE;
    }

    @Override
    public ExceptionListener getExceptionListener() throws JMSException {
        checkOpen();
        return exceptionListener;
    }

    /**
     * The listener is told once when the connection is lost (not when it is closed). A daemon
     * thread per connection waits in native code for that; it ends when the connection closes.
     */
    @Override
    public synchronized void setExceptionListener(ExceptionListener listener) throws JMSException {
        checkOpen();
        exceptionListener = listener;
        if (listener != null && watcher == null) {
            watcher = new Thread(this::watch, "mqbridge-jms-connection-watch");
            watcher.setDaemon(true);
            watcher.start();
        }
    }

    private void watch() {
        try {
            String reason = Native.awaitConnectionLoss(handle);
            ExceptionListener listener = exceptionListener;
            if (reason != null && listener != null && !isClosed()) {
                listener.onException(new JMSException(reason));
            }
        } catch (JMSException e) {
            // closed meanwhile: nothing to report
        }
    }

    @Override
    public void start() throws JMSException {
        checkOpen();
        synchronized (startLock) {
            started = true;
            startLock.notifyAll();
        }
    }

    boolean isStarted() {
        return started;
    }

    /**
     * Pauses delivery without closing anything: receive calls wait (until start() or their
     * timeout), MessageListeners get nothing; returns once deliveries in progress are done.
     * Calling it from one of this connection's MessageListeners is an IllegalStateException
     * (JMS 2.0: it would deadlock).
     */
    @Override
    public void stop() throws JMSException {
        checkOpen();
        if (IN_LISTENER.get() == this) {
            throw new javax.jms.IllegalStateException("Connection.stop() called from its own MessageListener");
        }
        started = false;
        deliveryGate.writeLock().lock();
        deliveryGate.writeLock().unlock();
    }

    /** JMS 2.0: a CompletionListener callback must not close its own connection. */
    @Override
    public void close() throws JMSException {
        asyncSends.checkNotInCallback("close the connection");
        super.close();
    }

    @Override
    void closeChildren() throws JMSException {
        synchronized (startLock) {
            startLock.notifyAll();
        }
        for (MqbridgeSession s : sessions) {
            s.close();
        }
        sessions.clear();
        asyncSends.stop();
    }

    @Override
    public ConnectionConsumer createConnectionConsumer(Destination d, String selector, ServerSessionPool pool,
            int max) throws JMSException {
        throw NotImplemented.of("ConnectionConsumer");
    }

    @Override
    public ConnectionConsumer createSharedConnectionConsumer(Topic t, String name, String selector,
            ServerSessionPool pool, int max) throws JMSException {
        throw NotImplemented.of("ConnectionConsumer");
    }

    @Override
    public ConnectionConsumer createDurableConnectionConsumer(Topic t, String name, String selector,
            ServerSessionPool pool, int max) throws JMSException {
        throw NotImplemented.of("ConnectionConsumer");
    }

    @Override
    public ConnectionConsumer createSharedDurableConnectionConsumer(Topic t, String name, String selector,
            ServerSessionPool pool, int max) throws JMSException {
        throw NotImplemented.of("ConnectionConsumer");
    }
}
