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
 * throws MessageFormatRuntimeException; the message was received (in AUTO_ACKNOWLEDGE and
 * DUPS_OK_ACKNOWLEDGE already acknowledged, as the classic receive acknowledges it), so it
 * is not delivered again.
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
        return body(receive(), c);
    }

    @Override
    public <T> T receiveBody(Class<T> c, long timeout) {
        return body(receive(timeout), c);
    }

    @Override
    public <T> T receiveBodyNoWait(Class<T> c) {
        return body(receiveNoWait(), c);
    }

    /** JMS 2.0: any message but a StreamMessage or a body-less Message, if assignable to c. */
    private static <T> T body(Message m, Class<T> c) {
        if (m == null) {
            return null;
        }
        if (m instanceof StreamMessage || m.getClass() == MqbridgeMessage.class) {
            throw new MessageFormatRuntimeException("receiveBody cannot return the body of a "
                    + (m instanceof StreamMessage ? "StreamMessage" : "Message without body") + " (JMS 2.0)");
        }
        return JmsRuntime.call(() -> {
            if (!m.isBodyAssignableTo(c)) {
                throw new javax.jms.MessageFormatException("the message body cannot be returned as " + c.getName());
            }
            return m.getBody(c);
        });
    }
}
