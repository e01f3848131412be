package io.mqbridge.jms;

import javax.jms.JMSException;
import javax.jms.Message;
import javax.jms.MessageConsumer;
import javax.jms.MessageListener;

/**
 * A queue consumer (prefetch 1). AUTO_ACKNOWLEDGE: a message is acknowledged as
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

    MqbridgeConsumer(MqbridgeSession session, long handle, MqbridgeDestination destination) {
        super(handle, "consumer");
        this.session = session;
        this.destination = destination;
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
        return null;
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
                byte[] record = Native.receive(handle, 200);
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
                synchronized (session.deliveryLock) {
                    if (transacted) {
                        // Part of the session's transaction before onMessage runs, so the
                        // listener's session.commit() covers it (JMS 2.0 §6.2.7).
                        Native.ack(handle, d.deliveryTag);
                    }
                    try {
                        l.onMessage(d.message);
                        ok = true;
                    } catch (RuntimeException e) {
                        // JMS 2.0 §8.7: in AUTO_ACKNOWLEDGE the message is redelivered.
                    }
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
        long start = System.currentTimeMillis();
        if (!session.connection.awaitStarted(timeoutMs)) {
            return null;
        }
        long left = timeoutMs < 0 ? -1 : Math.max(0, timeoutMs - (System.currentTimeMillis() - start));
        byte[] record = Native.receive(handle, left);
        if (record == null) {
            return null;
        }
        MessageCodec.Decoded d = MessageCodec.decode(record);
        settle(d);
        return d.message;
    }

    /** A delivered message: acknowledged now (AUTO) or left to Message.acknowledge() (CLIENT). */
    private void settle(MessageCodec.Decoded d) throws JMSException {
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
        return false;
    }

    /** The destination this consumer reads (for diagnostics). */
    @Override
    public String toString() {
        return "MqbridgeConsumer(" + destination + ")";
    }
}
