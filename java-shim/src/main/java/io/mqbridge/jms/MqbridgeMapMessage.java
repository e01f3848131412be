package io.mqbridge.jms;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.Collections;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.jms.JMSException;
import javax.jms.MapMessage;
import javax.jms.MessageFormatException;
import javax.jms.MessageNotWriteableException;

/**
 * A MapMessage: on the AMQP side a JSON object body ({@code application/json}) with the Java
 * types in header {@code x-jms-body-types} (docs/mapping.md §6). Getters follow the JMS
 * conversion table.
 */
public final class MqbridgeMapMessage extends MqbridgeMessage implements MapMessage {
    private final Map<String, Object> map = new LinkedHashMap<>();

    @Override
    int kindCode() {
        return MessageCodec.KIND_MAP;
    }

    @Override
    byte[] bodyBytes() throws JMSException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(buf);
        try {
            out.writeInt(map.size());
            for (Map.Entry<String, Object> e : map.entrySet()) {
                MessageCodec.str(out, e.getKey());
                MessageCodec.value(out, e.getValue());
            }
        } catch (IOException e) {
            throw new MessageFormatException(e.toString());
        }
        return buf.toByteArray();
    }

    @Override
    void setBodyBytes(byte[] body) throws JMSException {
        map.clear();
        if (body == null) {
            return;
        }
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(body));
        try {
            int n = in.readInt();
            for (int i = 0; i < n; i++) {
                String name = MessageCodec.str(in);
                map.put(name, MessageCodec.value(in));
            }
        } catch (IOException e) {
            throw new MessageFormatException("malformed map body: " + e);
        }
    }

    private void put(String name, Object v) throws JMSException {
        if (bodyReadOnly) {
            throw new MessageNotWriteableException("the body of a received message is read-only");
        }
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("map key is null or empty");
        }
        map.put(name, v);
    }

    private static MessageFormatException conversion(String name, Object v, String to) {
        return new MessageFormatException("map entry " + name + " is a "
                + v.getClass().getSimpleName() + ", not convertible to " + to);
    }

    @Override
    public boolean getBoolean(String name) throws JMSException {
        Object v = map.get(name);
        if (v == null || v instanceof String) {
            return Boolean.parseBoolean((String) v);
        }
        if (v instanceof Boolean) {
            return (Boolean) v;
        }
        throw conversion(name, v, "boolean");
    }

    @Override
    public byte getByte(String name) throws JMSException {
        Object v = map.get(name);
        if (v == null || v instanceof String) {
            return Byte.parseByte((String) v);
        }
        if (v instanceof Byte) {
            return (Byte) v;
        }
        throw conversion(name, v, "byte");
    }

    @Override
    public short getShort(String name) throws JMSException {
        Object v = map.get(name);
        if (v == null || v instanceof String) {
            return Short.parseShort((String) v);
        }
        if (v instanceof Byte || v instanceof Short) {
            return ((Number) v).shortValue();
        }
        throw conversion(name, v, "short");
    }

    @Override
    public char getChar(String name) throws JMSException {
        Object v = map.get(name);
        if (v == null) {
            throw new NullPointerException("map entry " + name + " is not set");
        }
        if (v instanceof Character) {
            return (Character) v;
        }
        throw conversion(name, v, "char");
    }

    @Override
    public int getInt(String name) throws JMSException {
        Object v = map.get(name);
        if (v == null || v instanceof String) {
            return Integer.parseInt((String) v);
        }
        if (v instanceof Byte || v instanceof Short || v instanceof Integer) {
            return ((Number) v).intValue();
        }
        throw conversion(name, v, "int");
    }

    @Override
    public long getLong(String name) throws JMSException {
        Object v = map.get(name);
        if (v == null || v instanceof String) {
            return Long.parseLong((String) v);
        }
        if (v instanceof Byte || v instanceof Short || v instanceof Integer || v instanceof Long) {
            return ((Number) v).longValue();
        }
        throw conversion(name, v, "long");
    }

    @Override
    public float getFloat(String name) throws JMSException {
        Object v = map.get(name);
        if (v == null) {
            throw new NullPointerException("map entry " + name + " is not set");
        }
        if (v instanceof String) {
            return Float.parseFloat((String) v);
        }
        if (v instanceof Float) {
            return (Float) v;
        }
        throw conversion(name, v, "float");
    }

    @Override
    public double getDouble(String name) throws JMSException {
        Object v = map.get(name);
        if (v == null) {
            throw new NullPointerException("map entry " + name + " is not set");
        }
        if (v instanceof String) {
            return Double.parseDouble((String) v);
        }
        if (v instanceof Float || v instanceof Double) {
            return ((Number) v).doubleValue();
        }
        throw conversion(name, v, "double");
    }

    @Override
    public String getString(String name) throws JMSException {
        Object v = map.get(name);
        if (v instanceof byte[]) {
            throw conversion(name, v, "String");
        }
        return v == null ? null : v.toString();
    }

    @Override
    public byte[] getBytes(String name) throws JMSException {
        Object v = map.get(name);
        if (v == null) {
            return null;
        }
        if (v instanceof byte[]) {
            return ((byte[]) v).clone();
        }
        throw conversion(name, v, "byte[]");
    }

    @Override
    public Object getObject(String name) {
        Object v = map.get(name);
        return v instanceof byte[] ? ((byte[]) v).clone() : v;
    }

    @Override
    public Enumeration<String> getMapNames() {
        return Collections.enumeration(new java.util.ArrayList<>(map.keySet()));
    }

    @Override
    public void setBoolean(String name, boolean v) throws JMSException {
        put(name, v);
    }

    @Override
    public void setByte(String name, byte v) throws JMSException {
        put(name, v);
    }

    @Override
    public void setShort(String name, short v) throws JMSException {
        put(name, v);
    }

    @Override
    public void setChar(String name, char v) throws JMSException {
        put(name, v);
    }

    @Override
    public void setInt(String name, int v) throws JMSException {
        put(name, v);
    }

    @Override
    public void setLong(String name, long v) throws JMSException {
        put(name, v);
    }

    @Override
    public void setFloat(String name, float v) throws JMSException {
        put(name, v);
    }

    @Override
    public void setDouble(String name, double v) throws JMSException {
        put(name, v);
    }

    @Override
    public void setString(String name, String v) throws JMSException {
        put(name, v);
    }

    @Override
    public void setBytes(String name, byte[] v) throws JMSException {
        put(name, v == null ? null : v.clone());
    }

    @Override
    public void setBytes(String name, byte[] v, int offset, int length) throws JMSException {
        put(name, java.util.Arrays.copyOfRange(v, offset, offset + length));
    }

    @Override
    public void setObject(String name, Object v) throws JMSException {
        if (v != null && !(v instanceof Boolean || v instanceof Byte || v instanceof Short
                || v instanceof Character || v instanceof Integer || v instanceof Long
                || v instanceof Float || v instanceof Double || v instanceof String || v instanceof byte[])) {
            throw new MessageFormatException("invalid map value type " + v.getClass().getName());
        }
        put(name, v instanceof byte[] ? ((byte[]) v).clone() : v);
    }

    @Override
    public boolean itemExists(String name) {
        return map.containsKey(name);
    }

    @Override
    public void clearBody() throws JMSException {
        super.clearBody();
        map.clear();
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> T getBody(Class<T> c) throws JMSException {
        if (map.isEmpty()) {
            return null;
        }
        if (!c.isAssignableFrom(Map.class)) {
            throw new MessageFormatException("a MapMessage body is a Map, not " + c.getName());
        }
        return (T) new LinkedHashMap<>(map);
    }

    @Override
    @SuppressWarnings("rawtypes")
    public boolean isBodyAssignableTo(Class c) {
        return map.isEmpty() || c.isAssignableFrom(Map.class);
    }
}
