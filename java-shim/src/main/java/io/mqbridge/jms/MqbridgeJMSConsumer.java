package io.mqbridge.jms;

import javax.jms.JMSConsumer;
import javax.jms.Message;
import javax.jms.MessageConsumer;
import javax.jms.MessageFormatRuntimeException;
import javax.jms.MessageListener;
import javax.jms.StreamMessage;

/**
 * A JMSConsumer: the session's MessageConsumer with unchecked exceptions, plus
 * {@code receiveBody}. A MessageListener runs marked as a callback of its context's
 * connection, so closing or stopping that context from it is refused (JMS 2.0).
 *
 * <p>{@code receiveBody} of a message whose body cannot be returned as the asked type
 * throws MessageFormatRuntimeException; in AUTO_ACKNOWLEDGE and DUPS_OK_ACKNOWLEDGE the message
 * is not acknowledged and is delivered again, in CLIENT_ACKNOWLEDGE and transacted sessions it
 * counts as delivered (JMS 2.0).
 */
final class MqbridgeJMSConsumer implements JMSConsumer {
    private final MqbridgeJMSContext context;
    private final MessageConsumer consumer;
    /** The application's listener, as given (the consumer holds a wrapper). */
    private volatile MessageListener listener;

    MqbridgeJMSConsumer(MqbridgeJMSContext context, MessageConsumer consumer) {
        this.context = context;
        this.consumer = consumer;
    }

    @Override
    public String getMessageSelector() {
        return JmsRuntime.call(consumer::getMessageSelector);
    }

    @Override
    public MessageListener getMessageListener() {
        JmsRuntime.call(consumer::getMessageListener); // closed check
        return listener;
    }

    @Override
    public void setMessageListener(MessageListener l) {
        MessageListener wrapped = l == null ? null : m -> context.inCallback(() -> l.onMessage(m));
        JmsRuntime.run(() -> consumer.setMessageListener(wrapped));
        listener = l;
    }

    @Override
    public Message receive() {
        return JmsRuntime.call(consumer::receive);
    }

    @Override
    public Message receive(long timeout) {
        return JmsRuntime.call(() -> consumer.receive(timeout));
    }

    @Override
    public Message receiveNoWait() {
        return JmsRuntime.call(consumer::receiveNoWait);
    }

    @Override
    public void close() {
        JmsRuntime.run(consumer::close);
    }

    @Override
    public <T> T receiveBody(Class<T> c) {
        return body(c, () -> consumer.receive());
    }

    @Override
    public <T> T receiveBody(Class<T> c, long timeout) {
        return body(c, () -> consumer.receive(timeout));
    }

    @Override
    public <T> T receiveBodyNoWait(Class<T> c) {
        return body(c, () -> consumer.receiveNoWait());
    }

    /**
     * JMS 2.0: any message but a StreamMessage or a body-less Message, if assignable to c. The
     * consumer checks before it acknowledges ({@link MqbridgeConsumer#bodyType}), so a refused
     * message is delivered again in AUTO_ACKNOWLEDGE and DUPS_OK_ACKNOWLEDGE.
     */
    private <T> T body(Class<T> c, JmsRuntime.Call<Message> receive) {
        if (c == null) {
            throw new MessageFormatRuntimeException("receiveBody needs a type");
        }
        MqbridgeConsumer own = consumer instanceof MqbridgeConsumer ? (MqbridgeConsumer) consumer : null;
        if (own != null) {
            own.bodyType = c;
        }
        Message m;
        try {
            m = JmsRuntime.call(receive);
        } finally {
            if (own != null) {
                own.bodyType = null;
            }
        }
        if (m == null) {
            return null;
        }
        if (!hasBodyOf(m, c)) {
            throw new MessageFormatRuntimeException("receiveBody cannot return the body of this "
                    + (m instanceof StreamMessage ? "StreamMessage" : m.getClass() == MqbridgeMessage.class
                            ? "Message without body" : "message") + " as " + c.getName() + " (JMS 2.0)");
        }
        return JmsRuntime.call(() -> m.getBody(c));
    }

    /** Whether receiveBody can return m's body as c (not for a StreamMessage or a body-less Message). */
    static boolean hasBodyOf(Message m, Class<?> c) {
        if (m instanceof StreamMessage || m.getClass() == MqbridgeMessage.class) {
            return false;
        }
        try {
            return m.isBodyAssignableTo(c);
        } catch (javax.jms.JMSException e) {
            return false;
        }
    }
}
