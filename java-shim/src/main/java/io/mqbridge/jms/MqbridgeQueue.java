package io.mqbridge.jms;

import javax.jms.Queue;

/** A JMS queue: AMQP queue of the same name, published through the default exchange. */
public final class MqbridgeQueue extends MqbridgeDestination implements Queue {
    public MqbridgeQueue(String name) {
        super(name);
    }

    @Override
    int kind() {
        return QUEUE;
    }

    @Override
    public String getQueueName() {
        return name;
    }

    @Override
    public String toString() {
        return "queue://" + name;
    }
}
