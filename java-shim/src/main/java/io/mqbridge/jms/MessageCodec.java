package io.mqbridge.jms;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import javax.jms.Destination;
import javax.jms.JMSException;

/**
 * The byte[] record a message crosses JNI as; the format is documented in
 * java-shim/native/src/codec.rs (version 1, big-endian, UTF-8 strings with i32 lengths).
 */
final class MessageCodec {
    static final int VERSION = 1;
    static final int KIND_MESSAGE = 0;
    static final int KIND_BYTES = 1;
    static final int KIND_MAP = 2;
    static final int KIND_OBJECT = 3;
    static final int KIND_STREAM = 4;
    static final int KIND_TEXT = 5;

    private MessageCodec() {}

    /** A received record: the message and its AMQP delivery tag. */
    static final class Decoded {
        final MqbridgeMessage message;
        final long deliveryTag;

        Decoded(MqbridgeMessage message, long deliveryTag) {
            this.message = message;
            this.deliveryTag = deliveryTag;
        }
    }

    static byte[] encode(MqbridgeMessage m) throws JMSException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream(128);
        DataOutputStream out = new DataOutputStream(buf);
        try {
            out.writeByte(VERSION);
            out.writeLong(0);
            out.writeByte(m.kindCode());
            str(out, m.messageId);
            str(out, m.correlationId);
            str(out, m.type);
            dest(out, m.destination);
            dest(out, m.replyTo);
            out.writeByte(Math.max(0, Math.min(9, m.priority)));
            out.writeByte(m.deliveryMode == javax.jms.DeliveryMode.PERSISTENT ? 1 : 0);
            out.writeLong(m.expiration);
            out.writeLong(m.timestamp);
            out.writeInt(m.redeliveryCounter);
            str(out, m.userId);
            str(out, m.groupId);
            out.writeInt(m.groupSeq);
            out.writeInt(m.properties.size());
            for (Map.Entry<String, Object> e : m.properties.entrySet()) {
                str(out, e.getKey());
                value(out, e.getValue());
            }
            byte[] body = m.bodyBytes();
            if (body == null) {
                out.writeInt(-1);
            } else {
                out.writeInt(body.length);
                out.write(body);
            }
        } catch (IOException e) {
            throw linked("cannot encode the message", e);
        }
        return buf.toByteArray();
    }

    static void str(DataOutputStream out, String s) throws IOException {
        if (s == null) {
            out.writeInt(-1);
        } else {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            out.writeInt(b.length);
            out.write(b);
        }
    }

    private static void dest(DataOutputStream out, Destination d) throws IOException {
        if (d == null) {
            out.writeByte(0);
            return;
        }
        MqbridgeDestination md;
        try {
            md = MqbridgeDestination.from(d);
        } catch (JMSException e) {
            throw new IOException(e.getMessage(), e);
        }
        out.writeByte(md.kind());
        str(out, md.name);
    }

    static void value(DataOutputStream out, Object v) throws IOException {
        if (v == null) {
            out.writeByte(0);
        } else if (v instanceof Boolean) {
            out.writeByte(1);
            out.writeBoolean((Boolean) v);
        } else if (v instanceof Byte) {
            out.writeByte(2);
            out.writeByte((Byte) v);
        } else if (v instanceof Short) {
            out.writeByte(3);
            out.writeShort((Short) v);
        } else if (v instanceof Integer) {
            out.writeByte(4);
            out.writeInt((Integer) v);
        } else if (v instanceof Long) {
            out.writeByte(5);
            out.writeLong((Long) v);
        } else if (v instanceof Float) {
            out.writeByte(6);
            out.writeFloat((Float) v);
        } else if (v instanceof Double) {
            out.writeByte(7);
            out.writeDouble((Double) v);
        } else if (v instanceof Character) {
            out.writeByte(8);
            out.writeChar((Character) v);
        } else if (v instanceof String) {
            out.writeByte(9);
            str(out, (String) v);
        } else if (v instanceof byte[]) {
            out.writeByte(10);
            out.writeInt(((byte[]) v).length);
            out.write((byte[]) v);
        } else {
            throw new IOException("unsupported property type " + v.getClass().getName());
        }
    }

    static Decoded decode(byte[] record) throws JMSException {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(record));
        try {
            int version = in.readUnsignedByte();
            if (version != VERSION) {
                throw new JMSException("native record version " + version + ", expected " + VERSION);
            }
            long tag = in.readLong();
            int kind = in.readUnsignedByte();
            MqbridgeMessage m;
            switch (kind) {
                case KIND_TEXT:
                    m = new MqbridgeTextMessage();
                    break;
                case KIND_BYTES:
                    m = new MqbridgeBytesMessage();
                    break;
                case KIND_MESSAGE:
                    m = new MqbridgeMessage();
                    break;
                case KIND_MAP:
                    m = new MqbridgeMapMessage();
                    break;
                case KIND_OBJECT:
                    m = new MqbridgeObjectMessage();
                    break;
                case KIND_STREAM:
                    m = new MqbridgeStreamMessage();
                    break;
                default:
                    throw new JMSException("unknown message kind " + kind + " in a native record");
            }
            m.messageId = str(in);
            m.correlationId = str(in);
            m.type = str(in);
            m.destination = dest(in);
            m.replyTo = dest(in);
            m.priority = in.readUnsignedByte();
            m.deliveryMode = in.readUnsignedByte() != 0
                    ? javax.jms.DeliveryMode.PERSISTENT
                    : javax.jms.DeliveryMode.NON_PERSISTENT;
            m.expiration = in.readLong();
            m.timestamp = in.readLong();
            m.redeliveryCounter = in.readInt();
            m.redelivered = m.redeliveryCounter > 0;
            m.userId = str(in);
            m.groupId = str(in);
            m.groupSeq = in.readInt();
            int n = in.readInt();
            for (int i = 0; i < n; i++) {
                String name = str(in);
                m.properties.put(name, value(in));
            }
            int len = in.readInt();
            byte[] body = null;
            if (len >= 0) {
                body = new byte[len];
                in.readFully(body);
            }
            m.setBodyBytes(body);
            DeliveryTimes.restore(m);
            m.propertiesReadOnly = true;
            m.bodyReadOnly = true;
            return new Decoded(m, tag);
        } catch (IOException e) {
            throw linked("malformed native record", e);
        }
    }

    static String str(DataInputStream in) throws IOException {
        int n = in.readInt();
        if (n < 0) {
            return null;
        }
        byte[] b = new byte[n];
        in.readFully(b);
        return new String(b, StandardCharsets.UTF_8);
    }

    private static Destination dest(DataInputStream in) throws IOException {
        int kind = in.readUnsignedByte();
        if (kind == 0) {
            return null;
        }
        return MqbridgeDestination.of(kind, str(in));
    }

    static Object value(DataInputStream in) throws IOException {
        int tag = in.readUnsignedByte();
        switch (tag) {
            case 0:
                return null;
            case 1:
                return in.readBoolean();
            case 2:
                return in.readByte();
            case 3:
                return in.readShort();
            case 4:
                return in.readInt();
            case 5:
                return in.readLong();
            case 6:
                return in.readFloat();
            case 7:
                return in.readDouble();
            case 8:
                return in.readChar();
            case 9:
                return str(in);
            case 10: {
                byte[] b = new byte[in.readInt()];
                in.readFully(b);
                return b;
            }
            default:
                throw new IOException("property value tag " + tag);
        }
    }

    private static JMSException linked(String what, Exception e) {
        JMSException j = new JMSException(what + ": " + e.getMessage());
        j.setLinkedException(e);
        j.initCause(e);
        return j;
    }
}
