package io.mqbridge.jms;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import javax.jms.JMSException;
import javax.jms.MessageEOFException;
import javax.jms.MessageFormatException;
import javax.jms.MessageNotReadableException;
import javax.jms.MessageNotWriteableException;
import javax.jms.StreamMessage;

/**
 * A StreamMessage: on the AMQP side a JSON array body with the Java types in header
 * {@code x-jms-body-types}. Write mode until {@link #reset()} (or receipt), then read mode;
 * reads follow the JMS conversion table and do not move on when a conversion fails.
 */
public final class MqbridgeStreamMessage extends MqbridgeMessage implements StreamMessage {
    private final List<Object> items = new ArrayList<>();
    private int position;
    /** Bytes of the current byte[] item already returned by readBytes, or -1 if none started. */
    private int bytesRead = -1;

    @Override
    int kindCode() {
        return MessageCodec.KIND_STREAM;
    }

    @Override
    byte[] bodyBytes() throws JMSException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(buf);
        try {
            out.writeInt(items.size());
            for (Object v : items) {
                MessageCodec.value(out, v);
            }
        } catch (IOException e) {
            throw new MessageFormatException(e.toString());
        }
        return buf.toByteArray();
    }

    @Override
    void setBodyBytes(byte[] body) throws JMSException {
        items.clear();
        position = 0;
        bytesRead = -1;
        if (body == null) {
            return;
        }
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(body));
        try {
            int n = in.readInt();
            for (int i = 0; i < n; i++) {
                items.add(MessageCodec.value(in));
            }
        } catch (IOException e) {
            throw new MessageFormatException("malformed stream body: " + e);
        }
    }

    private void write(Object v) throws JMSException {
        if (bodyReadOnly) {
            throw new MessageNotWriteableException("the StreamMessage is in read mode");
        }
        items.add(v);
    }

    private Object peek() throws JMSException {
        if (!bodyReadOnly) {
            throw new MessageNotReadableException("the StreamMessage is in write mode (call reset())");
        }
        if (bytesRead >= 0) {
            throw new MessageFormatException("a byte[] item is being read with readBytes");
        }
        if (position >= items.size()) {
            throw new MessageEOFException("end of the StreamMessage");
        }
        return items.get(position);
    }

    private <T> T next(T value) {
        position++;
        return value;
    }

    private static MessageFormatException conversion(Object v, String to) {
        return new MessageFormatException("stream item is a "
                + (v == null ? "null" : v.getClass().getSimpleName()) + ", not convertible to " + to);
    }

    @Override
    public boolean readBoolean() throws JMSException {
        Object v = peek();
        if (v == null || v instanceof String) {
            return next(Boolean.parseBoolean((String) v));
        }
        if (v instanceof Boolean) {
            return next((Boolean) v);
        }
        throw conversion(v, "boolean");
    }

    @Override
    public byte readByte() throws JMSException {
        Object v = peek();
        if (v == null || v instanceof String) {
            return next(Byte.parseByte((String) v));
        }
        if (v instanceof Byte) {
            return next((Byte) v);
        }
        throw conversion(v, "byte");
    }

    @Override
    public short readShort() throws JMSException {
        Object v = peek();
        if (v == null || v instanceof String) {
            return next(Short.parseShort((String) v));
        }
        if (v instanceof Byte || v instanceof Short) {
            return next(((Number) v).shortValue());
        }
        throw conversion(v, "short");
    }

    @Override
    public char readChar() throws JMSException {
        Object v = peek();
        if (v instanceof Character) {
            return next((Character) v);
        }
        if (v == null) {
            throw new NullPointerException("stream item is null");
        }
        throw conversion(v, "char");
    }

    @Override
    public int readInt() throws JMSException {
        Object v = peek();
        if (v == null || v instanceof String) {
            return next(Integer.parseInt((String) v));
        }
        if (v instanceof Byte || v instanceof Short || v instanceof Integer) {
            return next(((Number) v).intValue());
        }
        throw conversion(v, "int");
    }

    @Override
    public long readLong() throws JMSException {
        Object v = peek();
        if (v == null || v instanceof String) {
            return next(Long.parseLong((String) v));
        }
        if (v instanceof Byte || v instanceof Short || v instanceof Integer || v instanceof Long) {
            return next(((Number) v).longValue());
        }
        throw conversion(v, "long");
    }

    @Override
    public float readFloat() throws JMSException {
        Object v = peek();
        if (v == null) {
            throw new NullPointerException("stream item is null");
        }
        if (v instanceof String) {
            return next(Float.parseFloat((String) v));
        }
        if (v instanceof Float) {
            return next((Float) v);
        }
        throw conversion(v, "float");
    }

    @Override
    public double readDouble() throws JMSException {
        Object v = peek();
        if (v == null) {
            throw new NullPointerException("stream item is null");
        }
        if (v instanceof String) {
            return next(Double.parseDouble((String) v));
        }
        if (v instanceof Float || v instanceof Double) {
            return next(((Number) v).doubleValue());
        }
        throw conversion(v, "double");
    }

    @Override
    public String readString() throws JMSException {
        Object v = peek();
        if (v instanceof byte[]) {
            throw conversion(v, "String");
        }
        return next(v == null ? null : v.toString());
    }

    @Override
    public int readBytes(byte[] value) throws JMSException {
        if (!bodyReadOnly) {
            throw new MessageNotReadableException("the StreamMessage is in write mode (call reset())");
        }
        if (position >= items.size()) {
            throw new MessageEOFException("end of the StreamMessage");
        }
        Object v = items.get(position);
        if (v == null) {
            position++;
            return -1;
        }
        if (!(v instanceof byte[])) {
            throw conversion(v, "byte[]");
        }
        byte[] b = (byte[]) v;
        int from = Math.max(bytesRead, 0);
        if (from >= b.length && bytesRead >= 0) {
            // The whole array was returned: this call ends the item (JMS).
            bytesRead = -1;
            position++;
            return -1;
        }
        int n = Math.min(value.length, b.length - from);
        System.arraycopy(b, from, value, 0, n);
        bytesRead = from + n;
        if (n < value.length) {
            // Fewer than asked: the item is complete.
            bytesRead = -1;
            position++;
        }
        return n;
    }

    @Override
    public Object readObject() throws JMSException {
        Object v = peek();
        return next(v instanceof byte[] ? ((byte[]) v).clone() : v);
    }

    @Override
    public void writeBoolean(boolean v) throws JMSException {
        write(v);
    }

    @Override
    public void writeByte(byte v) throws JMSException {
        write(v);
    }

    @Override
    public void writeShort(short v) throws JMSException {
        write(v);
    }

    @Override
    public void writeChar(char v) throws JMSException {
        write(v);
    }

    @Override
    public void writeInt(int v) throws JMSException {
        write(v);
    }

    @Override
    public void writeLong(long v) throws JMSException {
        write(v);
    }

    @Override
    public void writeFloat(float v) throws JMSException {
        write(v);
    }

    @Override
    public void writeDouble(double v) throws JMSException {
        write(v);
    }

    @Override
    public void writeString(String v) throws JMSException {
        write(v);
    }

    @Override
    public void writeBytes(byte[] v) throws JMSException {
        write(v == null ? null : v.clone());
    }

    @Override
    public void writeBytes(byte[] v, int offset, int length) throws JMSException {
        write(java.util.Arrays.copyOfRange(v, offset, offset + length));
    }

    @Override
    public void writeObject(Object v) throws JMSException {
        if (v != null && !(v instanceof Boolean || v instanceof Byte || v instanceof Short
                || v instanceof Character || v instanceof Integer || v instanceof Long
                || v instanceof Float || v instanceof Double || v instanceof String || v instanceof byte[])) {
            throw new MessageFormatException("invalid stream item type " + v.getClass().getName());
        }
        write(v instanceof byte[] ? ((byte[]) v).clone() : v);
    }

    @Override
    public void reset() {
        bodyReadOnly = true;
        position = 0;
        bytesRead = -1;
    }

    @Override
    public void clearBody() throws JMSException {
        super.clearBody();
        items.clear();
        position = 0;
        bytesRead = -1;
    }

    @Override
    public <T> T getBody(Class<T> c) throws JMSException {
        throw new MessageFormatException("a StreamMessage body cannot be returned by getBody (JMS 2.0)");
    }

    @Override
    @SuppressWarnings("rawtypes")
    public boolean isBodyAssignableTo(Class c) {
        return false;
    }
}
