package io.mqbridge.jms;

/**
 * JMSDeliveryTime of a received message. A message sent with a delivery delay carries it in
 * the AMQP header {@code JMSDeliveryTime} (absolute ms); it travelled through a delay queue
 * (TTL + dead-lettering), so the broker also added its dead-letter headers, which are
 * transport details of the delay and not the sender's properties: they are removed. Without
 * the header (no delay, or a non-JMS sender) JMSDeliveryTime is the send time, JMSTimestamp.
 */
final class DeliveryTimes {
    /** The AMQP header (native {@code client::DELIVERY_TIME_HEADER}). */
    static final String HEADER = "JMSDeliveryTime";

    private DeliveryTimes() {}

    static void restore(MqbridgeMessage m) {
        Object t = m.properties.remove(HEADER);
        if (t instanceof Long) {
            m.deliveryTime = (Long) t;
            m.properties.keySet().removeIf(k -> k.startsWith("x-first-death-") || k.startsWith("x-last-death-"));
        } else {
            m.deliveryTime = m.timestamp;
        }
    }
}
