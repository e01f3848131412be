package io.mqbridge.jms;

import javax.jms.JMSException;
import javax.jms.TemporaryQueue;

/**
 * A temporary queue: an AMQP queue declared exclusive to the creating connection (only it
 * may consume; the broker deletes it when the connection closes), published to like a queue.
 */
public final class MqbridgeTemporaryQueue extends MqbridgeDestination implements TemporaryQueue {
    /** The creating session; null for one received as a JMSReplyTo/JMSDestination. */
    final MqbridgeSession session;

    MqbridgeTemporaryQueue(MqbridgeSession session, String name) {
        super(name);
        this.session = session;
    }

    @Override
    int kind() {
        return TEMP_QUEUE;
    }

    @Override
    public String getQueueName() {
        return name;
    }

    @Override
    public void delete() throws JMSException {
        if (session == null) {
            throw new javax.jms.IllegalStateException(
                    "temporary queue " + name + " was received, not created here: only its connection can delete it");
        }
        session.checkOpen();
        Native.deleteQueue(session.handle, name);
    }

    @Override
    public String toString() {
        return "temp-queue://" + name;
    }
}
