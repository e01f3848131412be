package io.mqbridge.jms;

import java.util.UUID;
import javax.jms.CompletionListener;
import javax.jms.DeliveryMode;
import javax.jms.Destination;
import javax.jms.JMSException;
import javax.jms.Message;
import javax.jms.MessageProducer;

/**
 * A producer on its own AMQP confirm channel: {@code send} returns once the broker confirmed
 * the message (JMS synchronous send), and fails when no confirm came within the factory's
 * confirm timeout. In a transacted session it publishes on the session's channel, inside the
 * transaction. {@code send(..., CompletionListener)} returns once the message is written and
 * reports the confirm later ({@link AsyncSends}). A delivery delay sends through a delay queue
 * (TTL + dead-lettering to the destination).
 */
public final class MqbridgeProducer extends NativeResource implements MessageProducer {
    private final MqbridgeSession session;
    private final MqbridgeDestination destination;
    private int deliveryMode = DeliveryMode.PERSISTENT;
    private int priority = Message.DEFAULT_PRIORITY;
    private long timeToLive = Message.DEFAULT_TIME_TO_LIVE;
    private boolean disableMessageId;
    private boolean disableMessageTimestamp;
    private long deliveryDelay;
    /** Asynchronous sends not yet completed (close waits for them). */
    private int asyncPending;

    MqbridgeProducer(MqbridgeSession session, long handle, MqbridgeDestination destination) {
        super(handle, "producer");
        this.session = session;
        this.destination = destination;
    }

    /** JMS 2.0: close waits for incomplete asynchronous sends, and is illegal from their callbacks. */
    @Override
    public void close() throws JMSException {
        session.connection.asyncSends.checkNotInCallback("close the producer");
        super.close();
    }

    @Override
    void closeChildren() throws JMSException {
        session.forget(this);
        awaitAsyncSends();
    }

    synchronized void asyncStarted() {
        asyncPending++;
    }

    synchronized void asyncFinished() {
        asyncPending--;
        notifyAll();
    }

    /** Wait until every asynchronous send of this producer has completed (its callback returned). */
    private synchronized void awaitAsyncSends() throws JMSException {
        long deadline = System.currentTimeMillis() + session.connection.confirmTimeoutMs + 10_000;
        while (asyncPending > 0) {
            long left = deadline - System.currentTimeMillis();
            if (left <= 0) {
                throw new JMSException(asyncPending + " asynchronous sends did not complete in time");
            }
            try {
                wait(left);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new JMSException("interrupted while waiting for asynchronous sends");
            }
        }
    }

    @Override
    public void setDisableMessageID(boolean value) throws JMSException {
        checkOpen();
        disableMessageId = value;
    }

    @Override
    public boolean getDisableMessageID() throws JMSException {
        checkOpen();
        return disableMessageId;
    }

    @Override
    public void setDisableMessageTimestamp(boolean value) throws JMSException {
        checkOpen();
        disableMessageTimestamp = value;
    }

    @Override
    public boolean getDisableMessageTimestamp() throws JMSException {
        checkOpen();
        return disableMessageTimestamp;
    }

    @Override
    public void setDeliveryMode(int mode) throws JMSException {
        checkOpen();
        if (mode != DeliveryMode.PERSISTENT && mode != DeliveryMode.NON_PERSISTENT) {
            throw new JMSException("invalid delivery mode " + mode);
        }
        deliveryMode = mode;
    }

    @Override
    public int getDeliveryMode() throws JMSException {
        checkOpen();
        return deliveryMode;
    }

    @Override
    public void setPriority(int p) throws JMSException {
        checkOpen();
        if (p < 0 || p > 9) {
            throw new JMSException("invalid priority " + p);
        }
        priority = p;
    }

    @Override
    public int getPriority() throws JMSException {
        checkOpen();
        return priority;
    }

    @Override
    public void setTimeToLive(long ttl) throws JMSException {
        checkOpen();
        timeToLive = ttl;
    }

    @Override
    public long getTimeToLive() throws JMSException {
        checkOpen();
        return timeToLive;
    }

    @Override
    public void setDeliveryDelay(long delay) throws JMSException {
        checkOpen();
        if (delay < 0) {
            throw new JMSException("invalid delivery delay " + delay);
        }
        deliveryDelay = delay;
    }

    @Override
    public long getDeliveryDelay() throws JMSException {
        checkOpen();
        return deliveryDelay;
    }

    @Override
    public Destination getDestination() throws JMSException {
        checkOpen();
        return destination;
    }

    @Override
    public void send(Message message) throws JMSException {
        send(message, deliveryMode, priority, timeToLive);
    }

    @Override
    public void send(Message message, int mode, int prio, long ttl) throws JMSException {
        checkOpen();
        if (destination == null) {
            throw new UnsupportedOperationException("this producer has no destination: use send(Destination, ...)");
        }
        doSend(destination, message, mode, prio, ttl);
    }

    @Override
    public void send(Destination d, Message message) throws JMSException {
        send(d, message, deliveryMode, priority, timeToLive);
    }

    @Override
    public void send(Destination d, Message message, int mode, int prio, long ttl) throws JMSException {
        checkOpen();
        if (destination != null) {
            throw new UnsupportedOperationException("this producer has a destination: use send(Message, ...)");
        }
        doSend(MqbridgeDestination.from(d), message, mode, prio, ttl);
    }

    private void doSend(MqbridgeDestination d, Message message, int mode, int prio, long ttl)
            throws JMSException {
        MqbridgeConnection connection = session.connection;
        if (mode == DeliveryMode.NON_PERSISTENT && !connection.alwaysSyncSend && !session.transacted()) {
            sendWithoutWaiting(d, message, prio, ttl);
            return;
        }
        long timeout = session.connection.confirmTimeoutMs;
        long start = System.currentTimeMillis();
        long token = publish(d, message, mode, prio, ttl, timeout);
        long left = Math.max(1, timeout - (System.currentTimeMillis() - start));
        Native.awaitConfirm(handle, token, left, timeout);
    }

    /** Set the send-time headers of {@code message} and publish it; returns the confirm token. */
    private long publish(MqbridgeDestination d, Message message, int mode, int prio, long ttl, long timeout)
            throws JMSException {
        if (message == null) {
            throw new javax.jms.MessageFormatException("message is null");
        }
        MqbridgeMessage m = message instanceof MqbridgeMessage
                ? (MqbridgeMessage) message
                : ForeignMessages.copy(message);
        long now = System.currentTimeMillis();
        m.destination = d;
        m.deliveryMode = mode;
        m.priority = prio;
        m.timestamp = disableMessageTimestamp ? 0 : now;
        m.expiration = ttl > 0 ? now + ttl : 0;
        m.messageId = disableMessageId ? null : "ID:mqbridge-jms-" + UUID.randomUUID();
        // JMS 2.0 §3.4.13: the time of send plus the producer's delivery delay.
        m.deliveryTime = now + deliveryDelay;
        long token = Native.publish(handle, MessageCodec.encode(m), deliveryDelay, m.deliveryTime, timeout);
        if (m != message) {
            ForeignMessages.writeBack(m, message);
        }
        return token;
    }

    /**
     * A NON_PERSISTENT send that does not wait for the confirm (see
     * {@link MqbridgeConnectionFactory#setAlwaysSyncSend}): the connection's completion
     * thread collects the confirm, in order with the CompletionListener sends, and reports a
     * failure to the ExceptionListener. At most {@link MqbridgeConnection#MAX_UNCONFIRMED_SENDS}
     * per connection are in flight.
     */
    private void sendWithoutWaiting(MqbridgeDestination d, Message message, int prio, long ttl)
            throws JMSException {
        MqbridgeConnection connection = session.connection;
        try {
            connection.unconfirmedSends.acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new JMSException("interrupted while waiting for the broker to confirm earlier sends");
        }
        long token;
        try {
            token = publish(d, message, DeliveryMode.NON_PERSISTENT, prio, ttl, connection.confirmTimeoutMs);
        } catch (JMSException | RuntimeException e) {
            connection.unconfirmedSends.release();
            throw e;
        }
        if (token == 0) {
            connection.unconfirmedSends.release();
            return;
        }
        CompletionListener collect = new CompletionListener() {
            @Override
            public void onCompletion(Message m) {
                connection.unconfirmedSends.release();
            }

            @Override
            public void onException(Message m, Exception e) {
                connection.unconfirmedSends.release();
                connection.reportUnconfirmedSend(e instanceof JMSException
                        ? (JMSException) e
                        : new JMSException(String.valueOf(e.getMessage())));
            }
        };
        try {
            connection.asyncSends.submit(this, token, message, collect);
        } catch (JMSException | RuntimeException e) {
            connection.unconfirmedSends.release();
            throw e;
        }
    }

    private void sendAsync(MqbridgeDestination d, Message message, int mode, int prio, long ttl,
            CompletionListener listener) throws JMSException {
        if (listener == null) {
            throw new IllegalArgumentException("CompletionListener is null");
        }
        long token = publish(d, message, mode, prio, ttl, session.connection.confirmTimeoutMs);
        session.connection.asyncSends.submit(this, token, message, listener);
    }

    private MqbridgeDestination ownDestination() {
        if (destination == null) {
            throw new UnsupportedOperationException("this producer has no destination: use send(Destination, ...)");
        }
        return destination;
    }

    private MqbridgeDestination givenDestination(Destination d) throws JMSException {
        if (destination != null) {
            throw new UnsupportedOperationException("this producer has a destination: use send(Message, ...)");
        }
        return MqbridgeDestination.from(d);
    }

    @Override
    public void send(Message message, CompletionListener listener) throws JMSException {
        send(message, deliveryMode, priority, timeToLive, listener);
    }

    @Override
    public void send(Message message, int mode, int prio, long ttl, CompletionListener listener)
            throws JMSException {
        checkOpen();
        sendAsync(ownDestination(), message, mode, prio, ttl, listener);
    }

    @Override
    public void send(Destination d, Message message, CompletionListener listener) throws JMSException {
        send(d, message, deliveryMode, priority, timeToLive, listener);
    }

    @Override
    public void send(Destination d, Message message, int mode, int prio, long ttl, CompletionListener listener)
            throws JMSException {
        checkOpen();
        sendAsync(givenDestination(d), message, mode, prio, ttl, listener);
    }
}
