package io.mqbridge.jms;

import java.util.Collections;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.jms.DeliveryMode;
import javax.jms.Destination;
import javax.jms.JMSException;
import javax.jms.Message;
import javax.jms.MessageFormatException;
import javax.jms.MessageNotWriteableException;

/**
 * A JMS message without body; the base of the typed messages. Headers and properties are
 * plain fields; property getters follow the JMS conversion table (JMS 2.0 §3.5.4).
 */
public class MqbridgeMessage implements Message {
    String messageId;
    long timestamp;
    String correlationId;
    Destination replyTo;
    Destination destination;
    int deliveryMode = DeliveryMode.PERSISTENT;
    boolean redelivered;
    int redeliveryCounter;
    String type;
    long expiration;
    long deliveryTime;
    int priority = Message.DEFAULT_PRIORITY;
    String userId;
    String groupId;
    int groupSeq;
    final Map<String, Object> properties = new LinkedHashMap<>();
    /** Received messages are read-only until clearProperties / clearBody. */
    boolean propertiesReadOnly;
    boolean bodyReadOnly;

    /** The record kind code (MessageCodec). */
    int kindCode() {
        return MessageCodec.KIND_MESSAGE;
    }

    /** The body as the native record carries it, or null. */
    byte[] bodyBytes() throws JMSException {
        return null;
    }

    /** Set the body from a received record. */
    void setBodyBytes(byte[] body) throws JMSException {}

    @Override
    public String getJMSMessageID() {
        return messageId;
    }

    @Override
    public void setJMSMessageID(String id) {
        messageId = id;
    }

    @Override
    public long getJMSTimestamp() {
        return timestamp;
    }

    @Override
    public void setJMSTimestamp(long t) {
        timestamp = t;
    }

    @Override
    public byte[] getJMSCorrelationIDAsBytes() {
        return correlationId == null ? null : correlationId.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    @Override
    public void setJMSCorrelationIDAsBytes(byte[] id) {
        correlationId = id == null ? null : new String(id, java.nio.charset.StandardCharsets.UTF_8);
    }

    @Override
    public void setJMSCorrelationID(String id) {
        correlationId = id;
    }

    @Override
    public String getJMSCorrelationID() {
        return correlationId;
    }

    @Override
    public Destination getJMSReplyTo() {
        return replyTo;
    }

    @Override
    public void setJMSReplyTo(Destination d) {
        replyTo = d;
    }

    @Override
    public Destination getJMSDestination() {
        return destination;
    }

    @Override
    public void setJMSDestination(Destination d) {
        destination = d;
    }

    @Override
    public int getJMSDeliveryMode() {
        return deliveryMode;
    }

    @Override
    public void setJMSDeliveryMode(int mode) {
        deliveryMode = mode;
    }

    @Override
    public boolean getJMSRedelivered() {
        return redelivered;
    }

    @Override
    public void setJMSRedelivered(boolean r) {
        redelivered = r;
    }

    @Override
    public String getJMSType() {
        return type;
    }

    @Override
    public void setJMSType(String t) {
        type = t;
    }

    @Override
    public long getJMSExpiration() {
        return expiration;
    }

    @Override
    public void setJMSExpiration(long e) {
        expiration = e;
    }

    @Override
    public long getJMSDeliveryTime() {
        return deliveryTime;
    }

    @Override
    public void setJMSDeliveryTime(long t) {
        deliveryTime = t;
    }

    @Override
    public int getJMSPriority() {
        return priority;
    }

    @Override
    public void setJMSPriority(int p) {
        priority = p;
    }

    @Override
    public void clearProperties() {
        properties.clear();
        propertiesReadOnly = false;
    }

    @Override
    public boolean propertyExists(String name) {
        return properties.containsKey(name) || jmsxProperty(name) != null;
    }

    /** JMSX properties kept as fields (they have their own slots in the mapping). */
    private Object jmsxProperty(String name) {
        switch (name) {
            case "JMSXDeliveryCount":
                return redeliveryCounter + 1;
            case "JMSXGroupID":
                return groupId;
            case "JMSXGroupSeq":
                return groupId == null && groupSeq == 0 ? null : groupSeq;
            case "JMSXUserID":
                return userId;
            default:
                return null;
        }
    }

    @Override
    public Object getObjectProperty(String name) {
        Object v = properties.get(name);
        return v != null ? v : jmsxProperty(name);
    }

    @Override
    public boolean getBooleanProperty(String name) throws JMSException {
        Object v = getObjectProperty(name);
        if (v == null || v instanceof String) {
            return Boolean.parseBoolean((String) v);
        }
        if (v instanceof Boolean) {
            return (Boolean) v;
        }
        throw conversion(name, v, "boolean");
    }

    @Override
    public byte getByteProperty(String name) throws JMSException {
        Object v = getObjectProperty(name);
        if (v == null || v instanceof String) {
            return Byte.parseByte((String) v);
        }
        if (v instanceof Byte) {
            return (Byte) v;
        }
        throw conversion(name, v, "byte");
    }

    @Override
    public short getShortProperty(String name) throws JMSException {
        Object v = getObjectProperty(name);
        if (v == null || v instanceof String) {
            return Short.parseShort((String) v);
        }
        if (v instanceof Byte || v instanceof Short) {
            return ((Number) v).shortValue();
        }
        throw conversion(name, v, "short");
    }

    @Override
    public int getIntProperty(String name) throws JMSException {
        Object v = getObjectProperty(name);
        if (v == null || v instanceof String) {
            return Integer.parseInt((String) v);
        }
        if (v instanceof Byte || v instanceof Short || v instanceof Integer) {
            return ((Number) v).intValue();
        }
        throw conversion(name, v, "int");
    }

    @Override
    public long getLongProperty(String name) throws JMSException {
        Object v = getObjectProperty(name);
        if (v == null || v instanceof String) {
            return Long.parseLong((String) v);
        }
        if (v instanceof Byte || v instanceof Short || v instanceof Integer || v instanceof Long) {
            return ((Number) v).longValue();
        }
        throw conversion(name, v, "long");
    }

    @Override
    public float getFloatProperty(String name) throws JMSException {
        Object v = getObjectProperty(name);
        if (v == null) {
            throw new NullPointerException("property " + name + " is not set");
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
    public double getDoubleProperty(String name) throws JMSException {
        Object v = getObjectProperty(name);
        if (v == null) {
            throw new NullPointerException("property " + name + " is not set");
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
    public String getStringProperty(String name) {
        Object v = getObjectProperty(name);
        return v == null ? null : v.toString();
    }

    private static MessageFormatException conversion(String name, Object v, String to) {
        return new MessageFormatException("property " + name + " is a "
                + v.getClass().getSimpleName() + ", not convertible to " + to);
    }

    @Override
    public Enumeration<String> getPropertyNames() {
        java.util.List<String> names = new java.util.ArrayList<>(properties.keySet());
        for (String x : new String[] {"JMSXGroupID", "JMSXGroupSeq", "JMSXUserID"}) {
            if (jmsxProperty(x) != null) {
                names.add(x);
            }
        }
        return Collections.enumeration(names);
    }

    private void put(String name, Object value) throws JMSException {
        if (propertiesReadOnly) {
            throw new MessageNotWriteableException("the properties of a received message are read-only");
        }
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("property name is null or empty");
        }
        switch (name) {
            case "JMSXGroupID":
                groupId = value == null ? null : value.toString();
                return;
            case "JMSXGroupSeq":
                if (!(value instanceof Integer)) {
                    throw new MessageFormatException("JMSXGroupSeq must be an int");
                }
                groupSeq = (Integer) value;
                return;
            default:
                properties.put(name, value);
        }
    }

    @Override
    public void setBooleanProperty(String name, boolean v) throws JMSException {
        put(name, v);
    }

    @Override
    public void setByteProperty(String name, byte v) throws JMSException {
        put(name, v);
    }

    @Override
    public void setShortProperty(String name, short v) throws JMSException {
        put(name, v);
    }

    @Override
    public void setIntProperty(String name, int v) throws JMSException {
        put(name, v);
    }

    @Override
    public void setLongProperty(String name, long v) throws JMSException {
        put(name, v);
    }

    @Override
    public void setFloatProperty(String name, float v) throws JMSException {
        put(name, v);
    }

    @Override
    public void setDoubleProperty(String name, double v) throws JMSException {
        put(name, v);
    }

    @Override
    public void setStringProperty(String name, String v) throws JMSException {
        put(name, v);
    }

    @Override
    public void setObjectProperty(String name, Object v) throws JMSException {
        if (v != null && !(v instanceof Boolean || v instanceof Byte || v instanceof Short
                || v instanceof Integer || v instanceof Long || v instanceof Float
                || v instanceof Double || v instanceof String)) {
            throw new MessageFormatException("invalid property type " + v.getClass().getName());
        }
        put(name, v);
    }

    /** The session that delivered this message in CLIENT_ACKNOWLEDGE mode, else null. */
    MqbridgeSession ackSession;

    /**
     * CLIENT_ACKNOWLEDGE: acknowledges every message its session delivered so far. In the
     * other modes it has no effect (JMS).
     */
    @Override
    public void acknowledge() throws JMSException {
        if (ackSession != null) {
            ackSession.acknowledgeAll();
        }
    }

    @Override
    public void clearBody() throws JMSException {
        bodyReadOnly = false;
    }

    @Override
    public <T> T getBody(Class<T> c) throws JMSException {
        return null;
    }

    @Override
    @SuppressWarnings("rawtypes")
    public boolean isBodyAssignableTo(Class c) {
        return true;
    }
}
