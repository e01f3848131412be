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

    static MqbridgeDestination of(int kind, String name) {
        switch (kind) {
            case QUEUE:
            case TEMP_QUEUE:
                return new MqbridgeQueue(name);
            default:
                return new MqbridgeTopic(name);
        }
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
