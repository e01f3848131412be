package io.mqbridge.jms;

import javax.jms.JMSException;
import javax.jms.Message;
import javax.jms.MessageConsumer;
import javax.jms.MessageListener;

/**
 * A synchronous queue consumer (prefetch 1). AUTO_ACKNOWLEDGE: a message is acknowledged
 * as {@code receive} returns it. Closing from another thread wakes a blocked receive, which
 * then returns null.
 */
public final class MqbridgeConsumer extends NativeResource implements MessageConsumer {
    private final MqbridgeSession session;
    private final MqbridgeDestination destination;

    MqbridgeConsumer(MqbridgeSession session, long handle, MqbridgeDestination destination) {
        super(handle, "consumer");
        this.session = session;
        this.destination = destination;
    }

    @Override
    void closeChildren() {
        session.forget(this);
    }

    @Override
    public String getMessageSelector() throws JMSException {
        checkOpen();
        return null;
    }

    @Override
    public MessageListener getMessageListener() throws JMSException {
        checkOpen();
        return null;
    }

    @Override
    public void setMessageListener(MessageListener listener) throws JMSException {
        throw NotImplemented.of("MessageListener");
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
        Native.ack(handle, d.deliveryTag);
        return d.message;
    }

    /** The destination this consumer reads (for diagnostics). */
    @Override
    public String toString() {
        return "MqbridgeConsumer(" + destination + ")";
    }
}
