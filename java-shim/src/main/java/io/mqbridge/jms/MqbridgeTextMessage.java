package io.mqbridge.jms;

import java.nio.charset.StandardCharsets;
import javax.jms.JMSException;
import javax.jms.MessageFormatException;
import javax.jms.MessageNotWriteableException;
import javax.jms.TextMessage;

/** A TextMessage: UTF-8 body, {@code text/plain; charset=utf-8} on the AMQP side. */
public final class MqbridgeTextMessage extends MqbridgeMessage implements TextMessage {
    private String text;

    @Override
    int kindCode() {
        return MessageCodec.KIND_TEXT;
    }

    @Override
    byte[] bodyBytes() {
        return text == null ? null : text.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    void setBodyBytes(byte[] body) {
        text = body == null ? null : new String(body, StandardCharsets.UTF_8);
    }

    @Override
    public void setText(String s) throws JMSException {
        if (bodyReadOnly) {
            throw new MessageNotWriteableException("the body of a received message is read-only");
        }
        text = s;
    }

    @Override
    public String getText() {
        return text;
    }

    @Override
    public void clearBody() throws JMSException {
        super.clearBody();
        text = null;
    }

    @Override
    public <T> T getBody(Class<T> c) throws JMSException {
        if (text == null) {
            return null;
        }
        if (!c.isAssignableFrom(String.class)) {
            throw new MessageFormatException("a TextMessage body is a String, not " + c.getName());
        }
        return c.cast(text);
    }

    @Override
    @SuppressWarnings("rawtypes")
    public boolean isBodyAssignableTo(Class c) {
        return text == null || c.isAssignableFrom(String.class);
    }
}
