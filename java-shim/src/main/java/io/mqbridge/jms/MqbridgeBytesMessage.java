package io.mqbridge.jms;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import javax.jms.BytesMessage;
import javax.jms.JMSException;
import javax.jms.MessageEOFException;
import javax.jms.MessageFormatException;
import javax.jms.MessageNotReadableException;
import javax.jms.MessageNotWriteableException;

/**
 * A BytesMessage: the raw body, {@code application/octet-stream} on the AMQP side. Write
 * mode until {@link #reset()} (or receipt), then read mode, as JMS specifies.
 */
public final class MqbridgeBytesMessage extends MqbridgeMessage implements BytesMessage {
    private ByteArrayOutputStream out = new ByteArrayOutputStream();
    private DataOutputStream writer = new DataOutputStream(out);
    private byte[] body;
    private DataInputStream reader;

    @Override
    int kindCode() {
        return MessageCodec.KIND_BYTES;
    }

    @Override
    byte[] bodyBytes() {
        return body != null ? body : out.toByteArray();
    }

    @Override
    void setBodyBytes(byte[] bytes) {
        body = bytes == null ? new byte[0] : bytes;
        bodyReadOnly = true;
        reader = new DataInputStream(new ByteArrayInputStream(body));
    }

    private DataOutputStream w() throws JMSException {
        if (bodyReadOnly) {
            throw new MessageNotWriteableException("the BytesMessage is in read mode");
        }
        return writer;
    }

    private DataInputStream r() throws JMSException {
        if (!bodyReadOnly) {
            throw new MessageNotReadableException("the BytesMessage is in write mode (call reset())");
        }
        return reader;
    }

    private static JMSException io(IOException e) {
        JMSException j = e instanceof EOFException
                ? new MessageEOFException("end of the BytesMessage body")
                : new MessageFormatException(e.toString());
        j.setLinkedException(e);
        return j;
    }

    @Override
    public long getBodyLength() throws JMSException {
        r();
        return body.length;
    }

    @Override
    public boolean readBoolean() throws JMSException {
        try {
            return r().readBoolean();
        } catch (IOException e) {
            throw io(e);
        }
    }

    @Override
    public byte readByte() throws JMSException {
        try {
            return r().readByte();
        } catch (IOException e) {
            throw io(e);
        }
    }

    @Override
    public int readUnsignedByte() throws JMSException {
        try {
            return r().readUnsignedByte();
        } catch (IOException e) {
            throw io(e);
        }
    }

    @Override
    public short readShort() throws JMSException {
        try {
            return r().readShort();
        } catch (IOException e) {
            throw io(e);
        }
    }

    @Override
    public int readUnsignedShort() throws JMSException {
        try {
            return r().readUnsignedShort();
        } catch (IOException e) {
            throw io(e);
        }
    }

    @Override
    public char readChar() throws JMSException {
        try {
            return r().readChar();
        } catch (IOException e) {
            throw io(e);
        }
    }

    @Override
    public int readInt() throws JMSException {
        try {
            return r().readInt();
        } catch (IOException e) {
            throw io(e);
        }
    }

    @Override
    public long readLong() throws JMSException {
        try {
            return r().readLong();
        } catch (IOException e) {
            throw io(e);
        }
    }

    @Override
    public float readFloat() throws JMSException {
        try {
            return r().readFloat();
        } catch (IOException e) {
            throw io(e);
        }
    }

    @Override
    public double readDouble() throws JMSException {
        try {
            return r().readDouble();
        } catch (IOException e) {
            throw io(e);
        }
    }

    @Override
    public String readUTF() throws JMSException {
        try {
            return r().readUTF();
        } catch (IOException e) {
            throw io(e);
        }
    }

    @Override
    public int readBytes(byte[] value) throws JMSException {
        return readBytes(value, value.length);
    }

    @Override
    public int readBytes(byte[] value, int length) throws JMSException {
        if (length > value.length || length < 0) {
            throw new IndexOutOfBoundsException("length " + length);
        }
        try {
            int n = r().read(value, 0, length);
            return n <= 0 && length > 0 ? -1 : Math.max(n, 0);
        } catch (IOException e) {
            throw io(e);
        }
    }

    @Override
    public void writeBoolean(boolean v) throws JMSException {
        try {
            w().writeBoolean(v);
        } catch (IOException e) {
            throw io(e);
        }
    }

    @Override
    public void writeByte(byte v) throws JMSException {
        try {
            w().writeByte(v);
        } catch (IOException e) {
            throw io(e);
        }
    }

    @Override
    public void writeShort(short v) throws JMSException {
        try {
            w().writeShort(v);
        } catch (IOException e) {
            throw io(e);
        }
    }

    @Override
    public void writeChar(char v) throws JMSException {
        try {
            w().writeChar(v);
        } catch (IOException e) {
            throw io(e);
        }
    }

    @Override
    public void writeInt(int v) throws JMSException {
        try {
            w().writeInt(v);
        } catch (IOException e) {
            throw io(e);
        }
    }

    @Override
    public void writeLong(long v) throws JMSException {
        try {
            w().writeLong(v);
        } catch (IOException e) {
            throw io(e);
        }
    }

    @Override
    public void writeFloat(float v) throws JMSException {
        try {
            w().writeFloat(v);
        } catch (IOException e) {
            throw io(e);
        }
    }

    @Override
    public void writeDouble(double v) throws JMSException {
        try {
            w().writeDouble(v);
        } catch (IOException e) {
            throw io(e);
        }
    }

    @Override
    public void writeUTF(String v) throws JMSException {
        try {
            w().writeUTF(v);
        } catch (IOException e) {
            throw io(e);
        }
    }

    @Override
    public void writeBytes(byte[] v) throws JMSException {
        writeBytes(v, 0, v.length);
    }

    @Override
    public void writeBytes(byte[] v, int offset, int length) throws JMSException {
        try {
            w().write(v, offset, length);
        } catch (IOException e) {
            throw io(e);
        }
    }

    @Override
    public void writeObject(Object v) throws JMSException {
        if (v instanceof Boolean) {
            writeBoolean((Boolean) v);
        } else if (v instanceof Byte) {
            writeByte((Byte) v);
        } else if (v instanceof Short) {
            writeShort((Short) v);
        } else if (v instanceof Character) {
            writeChar((Character) v);
        } else if (v instanceof Integer) {
            writeInt((Integer) v);
        } else if (v instanceof Long) {
            writeLong((Long) v);
        } else if (v instanceof Float) {
            writeFloat((Float) v);
        } else if (v instanceof Double) {
            writeDouble((Double) v);
        } else if (v instanceof String) {
            writeUTF((String) v);
        } else if (v instanceof byte[]) {
            writeBytes((byte[]) v);
        } else {
            throw new MessageFormatException("cannot write " + (v == null ? "null" : v.getClass().getName()));
        }
    }

    @Override
    public void reset() {
        if (!bodyReadOnly) {
            setBodyBytes(out.toByteArray());
        } else {
            reader = new DataInputStream(new ByteArrayInputStream(body));
        }
    }

    @Override
    public void clearBody() throws JMSException {
        super.clearBody();
        out = new ByteArrayOutputStream();
        writer = new DataOutputStream(out);
        body = null;
        reader = null;
    }

    @Override
    public <T> T getBody(Class<T> c) throws JMSException {
        byte[] b = bodyBytes();
        if (b.length == 0) {
            return null;
        }
        if (!c.isAssignableFrom(byte[].class)) {
            throw new MessageFormatException("a BytesMessage body is a byte[], not " + c.getName());
        }
        return c.cast(b.clone());
    }

    @Override
    @SuppressWarnings("rawtypes")
    public boolean isBodyAssignableTo(Class c) {
        return c.isAssignableFrom(byte[].class);
    }
}
