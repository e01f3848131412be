package io.mqbridge.jms;

import java.io.Serializable;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import javax.jms.BytesMessage;
import javax.jms.CompletionListener;
import javax.jms.DeliveryMode;
import javax.jms.Destination;
import javax.jms.InvalidDestinationRuntimeException;
import javax.jms.JMSProducer;
import javax.jms.JMSRuntimeException;
import javax.jms.MapMessage;
import javax.jms.Message;
import javax.jms.MessageFormatRuntimeException;

/**
 * A JMSProducer: settings, message properties and headers kept here and applied to each
 * message it sends through its context's anonymous {@link MqbridgeProducer} (JMSProducers are
 * lightweight; a JMSContext is used by one thread at a time, JMS 2.0 §6.2.5). Properties
 * live in a scratch {@link MqbridgeMessage}, so names, types and conversions follow exactly
 * the rules of message properties.
 */
final class MqbridgeJMSProducer implements JMSProducer {
    private final MqbridgeJMSContext context;
    private MqbridgeMessage properties = new MqbridgeMessage();
    private int deliveryMode = DeliveryMode.PERSISTENT;
    private int priority = Message.DEFAULT_PRIORITY;
    private long timeToLive = Message.DEFAULT_TIME_TO_LIVE;
    private long deliveryDelay = Message.DEFAULT_DELIVERY_DELAY;
    private boolean disableMessageId;
    private boolean disableMessageTimestamp;
    private CompletionListener async;
    private String correlationId;
    private byte[] correlationIdBytes;
    private String type;
    private Destination replyTo;

    MqbridgeJMSProducer(MqbridgeJMSContext context) {
        this.context = context;
    }

    @Override
    public JMSProducer send(Destination destination, Message message) {
        if (message == null) {
            throw new MessageFormatRuntimeException("the message is null");
        }
        if (destination == null) {
            throw new InvalidDestinationRuntimeException("the destination is null");
        }
        MqbridgeProducer p = context.producer();
        JmsRuntime.run(() -> {
            for (String name : Collections.list(properties.getPropertyNames())) {
                message.setObjectProperty(name, properties.getObjectProperty(name));
            }
            if (correlationIdBytes != null) {
                message.setJMSCorrelationIDAsBytes(correlationIdBytes);
            } else if (correlationId != null) {
                message.setJMSCorrelationID(correlationId);
            }
            if (type != null) {
                message.setJMSType(type);
            }
            if (replyTo != null) {
                message.setJMSReplyTo(replyTo);
            }
            // The producer is the context's, shared by its JMSProducers: set this one's options.
            p.setDisableMessageID(disableMessageId);
            p.setDisableMessageTimestamp(disableMessageTimestamp);
            if (p.getDeliveryDelay() != deliveryDelay) {
                p.setDeliveryDelay(deliveryDelay);
            }
            if (async == null) {
                p.send(destination, message, deliveryMode, priority, timeToLive);
            } else {
                CompletionListener l = async;
                p.send(destination, message, deliveryMode, priority, timeToLive, new CompletionListener() {
                    @Override
                    public void onCompletion(Message m) {
                        context.inCallback(() -> l.onCompletion(m));
                    }

                    @Override
                    public void onException(Message m, Exception e) {
                        context.inCallback(() -> l.onException(m, e));
                    }
                });
            }
        });
        return this;
    }

    @Override
    public JMSProducer send(Destination destination, String body) {
        return send(destination, context.createTextMessage(body));
    }

    @Override
    public JMSProducer send(Destination destination, Map<String, Object> body) {
        MapMessage m = context.createMapMessage();
        if (body != null) {
            JmsRuntime.run(() -> {
                for (Map.Entry<String, Object> e : body.entrySet()) {
                    m.setObject(e.getKey(), e.getValue());
                }
            });
        }
        return send(destination, m);
    }

    @Override
    public JMSProducer send(Destination destination, byte[] body) {
        BytesMessage m = context.createBytesMessage();
        if (body != null) {
            JmsRuntime.run(() -> m.writeBytes(body));
        }
        return send(destination, m);
    }

    @Override
    public JMSProducer send(Destination destination, Serializable body) {
        return send(destination, context.createObjectMessage(body));
    }

    @Override
    public JMSProducer setDisableMessageID(boolean value) {
        disableMessageId = value;
        return this;
    }

    @Override
    public boolean getDisableMessageID() {
        return disableMessageId;
    }

    @Override
    public JMSProducer setDisableMessageTimestamp(boolean value) {
        disableMessageTimestamp = value;
        return this;
    }

    @Override
    public boolean getDisableMessageTimestamp() {
        return disableMessageTimestamp;
    }

    @Override
    public JMSProducer setDeliveryMode(int mode) {
        if (mode != DeliveryMode.PERSISTENT && mode != DeliveryMode.NON_PERSISTENT) {
            throw new JMSRuntimeException("invalid delivery mode " + mode);
        }
        deliveryMode = mode;
        return this;
    }

    @Override
    public int getDeliveryMode() {
        return deliveryMode;
    }

    @Override
    public JMSProducer setPriority(int p) {
        if (p < 0 || p > 9) {
            throw new JMSRuntimeException("invalid priority " + p + " (0..9)");
        }
        priority = p;
        return this;
    }

    @Override
    public int getPriority() {
        return priority;
    }

    @Override
    public JMSProducer setTimeToLive(long ttl) {
        timeToLive = ttl;
        return this;
    }

    @Override
    public long getTimeToLive() {
        return timeToLive;
    }

    /** Applied by the context's MessageProducer at send (it throws if it cannot delay). */
    @Override
    public JMSProducer setDeliveryDelay(long delay) {
        deliveryDelay = delay;
        return this;
    }

    @Override
    public long getDeliveryDelay() {
        return deliveryDelay;
    }

    /** A listener makes the sends asynchronous (MessageProducer.send with a CompletionListener). */
    @Override
    public JMSProducer setAsync(CompletionListener listener) {
        async = listener;
        return this;
    }

    @Override
    public CompletionListener getAsync() {
        return async;
    }

    @Override
    public JMSProducer setProperty(String name, boolean value) {
        JmsRuntime.run(() -> properties.setBooleanProperty(name, value));
        return this;
    }

    @Override
    public JMSProducer setProperty(String name, byte value) {
        JmsRuntime.run(() -> properties.setByteProperty(name, value));
        return this;
    }

    @Override
    public JMSProducer setProperty(String name, short value) {
        JmsRuntime.run(() -> properties.setShortProperty(name, value));
        return this;
    }

    @Override
    public JMSProducer setProperty(String name, int value) {
        JmsRuntime.run(() -> properties.setIntProperty(name, value));
        return this;
    }

    @Override
    public JMSProducer setProperty(String name, long value) {
        JmsRuntime.run(() -> properties.setLongProperty(name, value));
        return this;
    }

    @Override
    public JMSProducer setProperty(String name, float value) {
        JmsRuntime.run(() -> properties.setFloatProperty(name, value));
        return this;
    }

    @Override
    public JMSProducer setProperty(String name, double value) {
        JmsRuntime.run(() -> properties.setDoubleProperty(name, value));
        return this;
    }

    @Override
    public JMSProducer setProperty(String name, String value) {
        JmsRuntime.run(() -> properties.setStringProperty(name, value));
        return this;
    }

    @Override
    public JMSProducer setProperty(String name, Object value) {
        JmsRuntime.run(() -> properties.setObjectProperty(name, value));
        return this;
    }

    @Override
    public JMSProducer clearProperties() {
        // A fresh holder: clearProperties of a message keeps its JMSX group fields.
        properties = new MqbridgeMessage();
        return this;
    }

    @Override
    public boolean propertyExists(String name) {
        return JmsRuntime.call(() -> properties.propertyExists(name));
    }

    @Override
    public boolean getBooleanProperty(String name) {
        return JmsRuntime.call(() -> properties.getBooleanProperty(name));
    }

    @Override
    public byte getByteProperty(String name) {
        return JmsRuntime.call(() -> properties.getByteProperty(name));
    }

    @Override
    public short getShortProperty(String name) {
        return JmsRuntime.call(() -> properties.getShortProperty(name));
    }

    @Override
    public int getIntProperty(String name) {
        return JmsRuntime.call(() -> properties.getIntProperty(name));
    }

    @Override
    public long getLongProperty(String name) {
        return JmsRuntime.call(() -> properties.getLongProperty(name));
    }

    @Override
    public float getFloatProperty(String name) {
        return JmsRuntime.call(() -> properties.getFloatProperty(name));
    }

    @Override
    public double getDoubleProperty(String name) {
        return JmsRuntime.call(() -> properties.getDoubleProperty(name));
    }

    @Override
    public String getStringProperty(String name) {
        return JmsRuntime.call(() -> properties.getStringProperty(name));
    }

    @Override
    public Object getObjectProperty(String name) {
        return JmsRuntime.call(() -> properties.getObjectProperty(name));
    }

    @Override
    public Set<String> getPropertyNames() {
        return JmsRuntime.call(() -> new LinkedHashSet<>(Collections.list(properties.getPropertyNames())));
    }

    @Override
    public JMSProducer setJMSCorrelationIDAsBytes(byte[] id) {
        correlationIdBytes = id == null ? null : id.clone();
        correlationId = null;
        return this;
    }

    @Override
    public byte[] getJMSCorrelationIDAsBytes() {
        if (correlationIdBytes != null) {
            return correlationIdBytes.clone();
        }
        return correlationId == null ? null : correlationId.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    @Override
    public JMSProducer setJMSCorrelationID(String id) {
        correlationId = id;
        correlationIdBytes = null;
        return this;
    }

    @Override
    public String getJMSCorrelationID() {
        if (correlationIdBytes != null) {
            return new String(correlationIdBytes, java.nio.charset.StandardCharsets.UTF_8);
        }
        return correlationId;
    }

    @Override
    public JMSProducer setJMSType(String type) {
        this.type = type;
        return this;
    }

    @Override
    public String getJMSType() {
        return type;
    }

    @Override
    public JMSProducer setJMSReplyTo(Destination replyTo) {
        this.replyTo = replyTo;
        return this;
    }

    @Override
    public Destination getJMSReplyTo() {
        return replyTo;
    }
}
