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
 * the message (JMS synchronous send).
 */
public final class MqbridgeProducer extends NativeResource implements MessageProducer {
    private final MqbridgeSession session;
    private final MqbridgeDestination destination;
    private int deliveryMode = DeliveryMode.PERSISTENT;
    private int priority = Message.DEFAULT_PRIORITY;
    private long timeToLive = Message.DEFAULT_TIME_TO_LIVE;
    private boolean disableMessageId;
    private boolean disableMessageTimestamp;

    MqbridgeProducer(MqbridgeSession session, long handle, MqbridgeDestination destination) {
        super(handle, "producer");
        this.session = session;
        this.destination = destination;
    }

    @Override
    void closeChildren() {
        session.forget(this);
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
        if (delay != 0) {
            throw NotImplemented.of("delivery delay");
        }
    }

    @Override
    public long getDeliveryDelay() throws JMSException {
        checkOpen();
        return 0;
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
        if (!(message instanceof MqbridgeMessage)) {
            throw NotImplemented.of("sending foreign JMS message implementations ("
                    + (message == null ? "null" : message.getClass().getName()) + ")");
        }
        MqbridgeMessage m = (MqbridgeMessage) message;
        long now = System.currentTimeMillis();
        m.destination = d;
        m.deliveryMode = mode;
        m.priority = prio;
        m.timestamp = disableMessageTimestamp ? 0 : now;
        m.expiration = ttl > 0 ? now + ttl : 0;
        m.messageId = disableMessageId ? null : "ID:mqbridge-jms-" + UUID.randomUUID();
        m.deliveryTime = now;
        Native.send(handle, MessageCodec.encode(m));
    }

    @Override
    public void send(Message message, CompletionListener listener) throws JMSException {
        throw NotImplemented.of("asynchronous send (CompletionListener)");
    }

    @Override
    public void send(Message message, int mode, int prio, long ttl, CompletionListener listener)
            throws JMSException {
        throw NotImplemented.of("asynchronous send (CompletionListener)");
    }

    @Override
    public void send(Destination d, Message message, CompletionListener listener) throws JMSException {
        throw NotImplemented.of("asynchronous send (CompletionListener)");
    }

    @Override
    public void send(Destination d, Message message, int mode, int prio, long ttl, CompletionListener listener)
            throws JMSException {
        throw NotImplemented.of("asynchronous send (CompletionListener)");
    }
}
