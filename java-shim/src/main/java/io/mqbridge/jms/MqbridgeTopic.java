package io.mqbridge.jms;

import javax.jms.Topic;

/** A JMS topic: exchange {@code amq.topic} with the topic name as routing key. */
public final class MqbridgeTopic extends MqbridgeDestination implements Topic {
    public MqbridgeTopic(String name) {
        super(name);
    }

    @Override
    int kind() {
        return TOPIC;
    }

    @Override
    public String getTopicName() {
        return name;
    }

    @Override
    public String toString() {
        return "topic://" + name;
    }
}
