package io.mqbridge.jms;

import javax.jms.TemporaryTopic;

/**
 * A temporary topic: a unique topic name on {@code amq.topic}; its subscribers' queues are
 * exclusive to their connection already, so there is nothing to delete on the broker.
 */
public final class MqbridgeTemporaryTopic extends MqbridgeDestination implements TemporaryTopic {
    /** The creating session; null for one received as a JMSReplyTo/JMSDestination. */
    final MqbridgeSession session;

    MqbridgeTemporaryTopic(MqbridgeSession session, String name) {
        super(name);
        this.session = session;
    }

    @Override
    int kind() {
        return TEMP_TOPIC;
    }

    @Override
    public String getTopicName() {
        return name;
    }

    @Override
    public void delete() throws javax.jms.JMSException {
        if (session == null) {
            throw new javax.jms.IllegalStateException(
                    "temporary topic " + name + " was received, not created here: only its connection can delete it");
        }
    }

    @Override
    public String toString() {
        return "temp-topic://" + name;
    }
}
