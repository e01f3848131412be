package io.mqbridge.jms;

import java.util.Objects;
import javax.jms.Destination;
import javax.jms.JMSException;

/** A queue or topic by name; {@link #kind()} is the native record's destination code. */
public abstract class MqbridgeDestination implements Destination {
    static final int QUEUE = 1;
    static final int TOPIC = 2;
    static final int TEMP_QUEUE = 3;
    static final int TEMP_TOPIC = 4;

    final String name;

    MqbridgeDestination(String name) {
        this.name = Objects.requireNonNull(name, "destination name");
    }

    abstract int kind();

    /**
     * The destination of a received record. The AMQP mapping carries no "temporary" flag
     * (a JMSReplyTo is a plain queue name or {@code /topic/T}), so a name that only a
     * temporary destination has — the shim's {@code ID:mqbridge-jms-UUID:temp}, or ActiveMQ's
     * {@code ID:connection-id:N} — comes back as a TemporaryQueue / TemporaryTopic (that a
     * requester can compare with the one it created; only its creator can consume or delete it).
     */
    static MqbridgeDestination of(int kind, String name) {
        switch (kind) {
            case TEMP_QUEUE:
                return new MqbridgeTemporaryQueue(null, name);
            case TEMP_TOPIC:
                return new MqbridgeTemporaryTopic(null, name);
            case QUEUE:
                return isTemporaryName(name) ? new MqbridgeTemporaryQueue(null, name) : new MqbridgeQueue(name);
            default:
                return isTemporaryName(name) ? new MqbridgeTemporaryTopic(null, name) : new MqbridgeTopic(name);
        }
    }

    /** The name of a shim or an ActiveMQ client temporary destination. */
    static boolean isTemporaryName(String name) {
        if (name.startsWith("ID:mqbridge-jms-") && name.endsWith(":temp")) {
            return true;
        }
        // ActiveMQ: the connection ID ("ID:host-port-time-n:c") + ":" + a sequence number.
        return name.startsWith("ID:") && name.matches("ID:\\S+-\\d+:\\d+:\\d+");
    }

    /** Our destination for any JMS one (by its queue or topic name). */
    static MqbridgeDestination from(Destination d) throws JMSException {
        if (d == null) {
            throw new javax.jms.InvalidDestinationException("destination is null");
        }
        if (d instanceof MqbridgeDestination) {
            return (MqbridgeDestination) d;
        }
        if (d instanceof javax.jms.Queue) {
            return new MqbridgeQueue(((javax.jms.Queue) d).getQueueName());
        }
        if (d instanceof javax.jms.Topic) {
            return new MqbridgeTopic(((javax.jms.Topic) d).getTopicName());
        }
        throw new javax.jms.InvalidDestinationException("unsupported destination " + d);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof MqbridgeDestination
                && ((MqbridgeDestination) o).kind() == kind()
                && ((MqbridgeDestination) o).name.equals(name);
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + kind();
    }
}
