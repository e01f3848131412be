package io.mqbridge.jms;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputFilter;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import java.util.Arrays;
import java.util.List;
import javax.jms.JMSException;
import javax.jms.MessageFormatException;
import javax.jms.MessageNotWriteableException;
import javax.jms.ObjectMessage;

/**
 * An ObjectMessage: the serialized bytes travel as the body
 * ({@code application/x-java-serialized-object}; the bridge never deserializes them).
 * {@link #getObject()} deserializes only classes in trusted packages: {@code java.lang},
 * {@code java.util}, {@code java.time}, {@code java.math} and the comma-separated prefixes of
 * system property {@code mqbridge.jms.trustedPackages} (like ActiveMQ's trusted packages).
 */
public final class MqbridgeObjectMessage extends MqbridgeMessage implements ObjectMessage {
    private static final List<String> DEFAULT_TRUSTED = List.of("java.lang.", "java.util.", "java.time.", "java.math.");
    private byte[] serialized;

    @Override
    int kindCode() {
        return MessageCodec.KIND_OBJECT;
    }

    @Override
    byte[] bodyBytes() {
        return serialized;
    }

    @Override
    void setBodyBytes(byte[] body) {
        serialized = body;
    }

    @Override
    public void setObject(Serializable object) throws JMSException {
        if (bodyReadOnly) {
            throw new MessageNotWriteableException("the body of a received message is read-only");
        }
        if (object == null) {
            serialized = null;
            return;
        }
        // JMS: the object is copied when set.
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(buf)) {
            out.writeObject(object);
        } catch (IOException e) {
            MessageFormatException j = new MessageFormatException("cannot serialize: " + e);
            j.setLinkedException(e);
            throw j;
        }
        serialized = buf.toByteArray();
    }

    static boolean trusted(String className) {
        List<String> extra = Arrays.asList(System.getProperty("mqbridge.jms.trustedPackages", "").split(","));
        for (String p : DEFAULT_TRUSTED) {
            if (className.startsWith(p)) {
                return true;
            }
        }
        for (String p : extra) {
            String prefix = p.trim();
            if (!prefix.isEmpty() && className.startsWith(prefix.endsWith(".") ? prefix : prefix + ".")) {
                return true;
            }
        }
        return false;
    }

    @Override
    public Serializable getObject() throws JMSException {
        if (serialized == null) {
            return null;
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(serialized))) {
            in.setObjectInputFilter(info -> {
                Class<?> c = info.serialClass();
                while (c != null && c.isArray()) {
                    c = c.getComponentType();
                }
                if (c == null || c.isPrimitive()) {
                    return ObjectInputFilter.Status.UNDECIDED;
                }
                return trusted(c.getName()) ? ObjectInputFilter.Status.ALLOWED : ObjectInputFilter.Status.REJECTED;
            });
            return (Serializable) in.readObject();
        } catch (IOException | ClassNotFoundException e) {
            MessageFormatException j = new MessageFormatException("cannot deserialize the object (untrusted class? "
                    + "see mqbridge.jms.trustedPackages): " + e);
            j.setLinkedException(e);
            throw j;
        }
    }

    @Override
    public void clearBody() throws JMSException {
        super.clearBody();
        serialized = null;
    }

    @Override
    public <T> T getBody(Class<T> c) throws JMSException {
        Serializable o = getObject();
        if (o == null) {
            return null;
        }
        if (!c.isInstance(o)) {
            throw new MessageFormatException("the object is a " + o.getClass().getName() + ", not " + c.getName());
        }
        return c.cast(o);
    }

    @Override
    @SuppressWarnings("rawtypes")
    public boolean isBodyAssignableTo(Class c) {
        try {
            Serializable o = getObject();
            return o == null || c.isInstance(o);
        } catch (JMSException e) {
            return false;
        }
    }
}
