package io.mqbridge.jms;

import javax.jms.JMSException;
import javax.jms.Message;
import javax.jms.MessageConsumer;
import javax.jms.MessageListener;

/**
 * A queue consumer (prefetch: see MqbridgeConnectionFactory#setPrefetch). AUTO_ACKNOWLEDGE: a message is acknowledged as
 * {@code receive} returns it, or when its MessageListener's {@code onMessage} returns; if
 * {@code onMessage} throws, the message is requeued (redelivered). Closing from another
 * thread wakes a blocked receive, which then returns null. A MessageListener runs on a Java
 * daemon thread per consumer, serialized per session.
 */
public final class MqbridgeConsumer extends NativeResource implements MessageConsumer, javax.jms.TopicSubscriber {
    private final MqbridgeSession session;
    private final MqbridgeDestination destination;
    private volatile MessageListener listener;
    private Thread dispatcher;
    private final String selector;
    private final boolean noLocal;
    /**
     * A record received while the connection was stopped (Connection.stop()): held, not
     * delivered, until the connection starts again. Only the receiving thread touches it.
     */
    private byte[] parked;
    /** How long one native receive waits before the stopped state and deadline are re-checked. */
    private static final long SLICE_MS = 100;

    MqbridgeConsumer(MqbridgeSession session, long handle, MqbridgeDestination destination) {
        this(session, handle, destination, null, false);
    }

    MqbridgeConsumer(MqbridgeSession session, long handle, MqbridgeDestination destination, String selector,
            boolean noLocal) {
        super(handle, "consumer");
        this.session = session;
        this.destination = destination;
        this.selector = selector;
        this.noLocal = noLocal;
    }

    @Override
    void closeChildren() throws JMSException {
        session.forget(this);
        session.consumerClosed(this);
        Thread d;
        synchronized (this) {
            d = dispatcher;
            dispatcher = null;
            listener = null;
        }
        // JMS: close waits for a running onMessage (and its acknowledgement), unless called
        // from within it. The dispatcher sees the cleared listener after its current receive
        // (<= 200 ms) or delivery; only then is the native consumer closed.
        if (d != null && d != Thread.currentThread()) {
            try {
                d.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public String getMessageSelector() throws JMSException {
        checkOpen();
        return selector;
    }

    @Override
    public MessageListener getMessageListener() throws JMSException {
        checkOpen();
        return listener;
    }

    @Override
    public synchronized void setMessageListener(MessageListener l) throws JMSException {
        checkOpen();
        listener = l;
        if (l == null) {
            // The dispatcher sees the null and stops after its current receive (<= 200 ms).
            dispatcher = null;
            return;
        }
        if (dispatcher == null) {
            Thread t = new Thread(this::dispatch, "mqbridge-jms-listener");
            t.setDaemon(true);
            dispatcher = t;
            t.start();
        }
    }

    private void dispatch() {
        Thread self = Thread.currentThread();
        while (!isClosed()) {
            synchronized (this) {
                if (dispatcher != self || listener == null) {
                    return;
                }
            }
            try {
                if (!session.connection.awaitStarted(200)) {
                    continue;
                }
                byte[] record = parked;
                parked = null;
                if (record == null) {
                    record = Native.receive(handle, 200);
                }
                if (record == null) {
                    continue;
                }
                MessageCodec.Decoded d = MessageCodec.decode(record);
                MessageListener l = listener;
                if (l == null) {
                    Native.nack(handle, d.deliveryTag, true);
                    return;
                }
                boolean ok = false;
                boolean transacted = session.transacted();
                // Connection.stop() waits for a running onMessage (the read side of the gate),
                // and nothing is delivered once it returned.
                java.util.concurrent.locks.Lock gate = session.connection.deliveryGate.readLock();
                gate.lock();
                try {
                    if (!session.connection.isStarted()) {
                        parked = record;
                        continue;
                    }
                    synchronized (session.deliveryLock) {
                        if (transacted) {
                            // Part of the session's transaction before onMessage runs, so the
                            // listener's session.commit() covers it (JMS 2.0 §6.2.7).
                            Native.ack(handle, d.deliveryTag);
                        }
                        MqbridgeConnection.IN_LISTENER.set(session.connection);
                        try {
                            l.onMessage(d.message);
                            ok = true;
                        } catch (RuntimeException e) {
                            // JMS 2.0 §8.7: in AUTO_ACKNOWLEDGE the message is redelivered.
                        } finally {
                            MqbridgeConnection.IN_LISTENER.remove();
                        }
                    }
                } finally {
                    gate.unlock();
                }
                if (transacted) {
                    // JMS 2.0 §8.7: a listener that throws in a transacted session neither
                    // commits nor rolls back: the application does.
                    continue;
                }
                if (ok) {
                    settle(d);
                } else {
                    Native.nack(handle, d.deliveryTag, true);
                }
            } catch (JMSException e) {
                // Closed, or the connection is gone (the ExceptionListener reports that).
                return;
            }
        }
    }

    @Override
    public Message receive() throws JMSException {
        return receiveWithin(-1);
    }

    @Override
    public Message receive(long timeout) throws JMSException {
        // JMS: a timeout of 0 waits forever.
        return receiveWithin(timeout == 0 ? -1 : timeout);
    }

    @Override
    public Message receiveNoWait() throws JMSException {
        return receiveWithin(0);
    }

    private Message receiveWithin(long timeoutMs) throws JMSException {
        checkOpen();
        if (listener != null) {
            throw new javax.jms.IllegalStateException("the consumer has a MessageListener: receive is not allowed");
        }
        // Delivery pauses while the connection is stopped: the wait goes on (in slices, so a
        // stop() is noticed) until start() or the timeout; a message that arrives meanwhile
        // is parked and handed out after start().
        long deadline = timeoutMs < 0 ? Long.MAX_VALUE : System.currentTimeMillis() + timeoutMs;
        while (true) {
            if (isClosed()) {
                return null;
            }
            long left = timeoutMs < 0 ? -1 : Math.max(0, deadline - System.currentTimeMillis());
            if (!session.connection.awaitStarted(left)) {
                return null;
            }
            byte[] record = parked;
            parked = null;
            if (record == null) {
                left = timeoutMs < 0 ? -1 : Math.max(0, deadline - System.currentTimeMillis());
                try {
                    record = Native.receive(handle, left < 0 ? SLICE_MS : Math.min(left, SLICE_MS));
                } catch (javax.jms.IllegalStateException e) {
                    if (isClosed()) {
                        return null; // closed by another thread while waiting
                    }
                    throw e;
                }
            }
            if (record != null) {
                java.util.concurrent.locks.Lock gate = session.connection.deliveryGate.readLock();
                gate.lock();
                try {
                    if (session.connection.isStarted()) {
                        MessageCodec.Decoded d = MessageCodec.decode(record);
                        settle(d);
                        return d.message;
                    }
                    parked = record;
                } finally {
                    gate.unlock();
                }
            }
            if (timeoutMs >= 0 && System.currentTimeMillis() >= deadline) {
                return null;
            }
        }
    }

    /**
     * Set by JMSConsumer.receiveBody for one receive (null otherwise): the type its caller
     * wants the body as. In AUTO_ACKNOWLEDGE and DUPS_OK_ACKNOWLEDGE a message whose body is
     * not that is requeued, not acknowledged, and the receive throws MessageFormatException
     * (JMS 2.0: it is delivered again); in the other modes it counts as delivered.
     */
    volatile Class<?> bodyType;

    /** A delivered message: acknowledged now (AUTO) or left to Message.acknowledge() (CLIENT). */
    private void settle(MessageCodec.Decoded d) throws JMSException {
        Class<?> wanted = bodyType;
        if (wanted != null && !session.clientAcknowledge() && !session.getTransacted()
                && !MqbridgeJMSConsumer.hasBodyOf(d.message, wanted)) {
            Native.nack(handle, d.deliveryTag, true);
            throw new javax.jms.MessageFormatException("the message body cannot be returned as "
                    + wanted.getName() + " (the message stays on the queue)");
        }
        if (session.clientAcknowledge()) {
            d.message.ackSession = session;
            session.delivered(this, d.deliveryTag);
        } else {
            Native.ack(handle, d.deliveryTag);
        }
    }

    @Override
    public javax.jms.Topic getTopic() throws JMSException {
        checkOpen();
        if (destination instanceof javax.jms.Topic) {
            return (javax.jms.Topic) destination;
        }
        throw new javax.jms.IllegalStateException("this consumer reads a queue, not a topic");
    }

    @Override
    public boolean getNoLocal() throws JMSException {
        checkOpen();
        return noLocal;
    }

    /** The destination this consumer reads (for diagnostics). */
    @Override
    public String toString() {
        return "MqbridgeConsumer(" + destination + ")";
    }
}
