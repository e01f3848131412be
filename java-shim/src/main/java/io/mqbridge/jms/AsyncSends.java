package io.mqbridge.jms;

import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.jms.CompletionListener;
import javax.jms.JMSException;
import javax.jms.Message;

/**
 * The asynchronous sends (JMS 2.0 {@link CompletionListener}) of one connection. The send
 * publishes and returns; this class's daemon thread waits in native code for each send's
 * confirm, in the order the sends were made, and calls {@code onCompletion} or
 * {@code onException} on that thread. One thread and one FIFO per connection: the sends of
 * a producer complete in the order they were made (JMS 2.0 §7.3.6), and no Rust thread
 * ever calls into the JVM.
 */
final class AsyncSends {
    private static final class Pending {
        final MqbridgeProducer producer;
        final long token;
        final Message message;
        final CompletionListener listener;

        Pending(MqbridgeProducer producer, long token, Message message, CompletionListener listener) {
            this.producer = producer;
            this.token = token;
            this.message = message;
            this.listener = listener;
        }
    }

    private final MqbridgeConnection connection;
    private final LinkedBlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
    private Thread thread;
    private volatile boolean stopped;

    AsyncSends(MqbridgeConnection connection) {
        this.connection = connection;
    }

    /** The calling thread runs a CompletionListener of this connection. */
    boolean inCallback() {
        return Thread.currentThread() == thread;
    }

    /**
     * JMS 2.0: close, commit and rollback called from a CompletionListener callback on its own
     * connection, session or producer is an IllegalStateException.
     */
    void checkNotInCallback(String what) throws javax.jms.IllegalStateException {
        if (inCallback()) {
            throw new javax.jms.IllegalStateException("cannot " + what + " from a CompletionListener callback");
        }
    }

    /** Queue a published send (token from Native.publish) for completion. */
    synchronized void submit(MqbridgeProducer producer, long token, Message message, CompletionListener listener)
            throws JMSException {
        if (stopped) {
            throw new javax.jms.IllegalStateException("the connection is closed");
        }
        producer.asyncStarted();
        queue.add(new Pending(producer, token, message, listener));
        if (thread == null) {
            Thread t = new Thread(this::run, "mqbridge-jms-completions");
            t.setDaemon(true);
            thread = t;
            t.start();
        }
    }

    /** The connection closed (its producers waited for their sends first): end the thread. */
    void stop() {
        stopped = true;
    }

    private void run() {
        while (true) {
            Pending p;
            try {
                p = queue.poll(200, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                return;
            }
            if (p == null) {
                if (stopped) {
                    return;
                }
                continue;
            }
            JMSException failure = null;
            try {
                Native.awaitConfirm(p.producer.handle, p.token, connection.confirmTimeoutMs, connection.confirmTimeoutMs);
            } catch (JMSException e) {
                failure = e;
            }
            try {
                if (failure == null) {
                    p.listener.onCompletion(p.message);
                } else {
                    p.listener.onException(p.message, failure);
                }
            } catch (RuntimeException e) {
                // The application's callback failed: nothing the provider can do with it.
            } finally {
                p.producer.asyncFinished();
            }
        }
    }
}
