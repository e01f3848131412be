package io.mqbridge.jms;

import java.io.Serializable;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.jms.BytesMessage;
import javax.jms.Destination;
import javax.jms.JMSException;
import javax.jms.MapMessage;
import javax.jms.Message;
import javax.jms.MessageConsumer;
import javax.jms.MessageListener;
import javax.jms.MessageProducer;
import javax.jms.ObjectMessage;
import javax.jms.Queue;
import javax.jms.QueueBrowser;
import javax.jms.Session;
import javax.jms.StreamMessage;
import javax.jms.TemporaryQueue;
import javax.jms.TemporaryTopic;
import javax.jms.TextMessage;
import javax.jms.Topic;
import javax.jms.TopicSubscriber;

/**
 * A session (a native handle): AUTO_ACKNOWLEDGE (DUPS_OK_ACKNOWLEDGE behaves
 * the same) or CLIENT_ACKNOWLEDGE, where {@link Message#acknowledge()} acknowledges every
 * message the session delivered so far and {@link #recover()} redelivers the unacknowledged;
 * or transacted (SESSION_TRANSACTED): one AMQP channel in tx mode carries the session's sends
 * and acknowledgements, {@link #commit()} is {@code tx.commit}, {@link #rollback()} drops the
 * sends and redelivers the consumed messages, and closing rolls back.
 */
public final class MqbridgeSession extends NativeResource implements Session {
    final MqbridgeConnection connection;
    private final List<NativeResource> children = new CopyOnWriteArrayList<>();
    /** Held while a MessageListener runs: a session delivers to one listener at a time (JMS). */
    final Object deliveryLock = new Object();

    final int ackMode;
    /** CLIENT_ACKNOWLEDGE: delivery tags not yet acknowledged, per consumer, in order. */
    private final java.util.Map<MqbridgeConsumer, java.util.List<Long>> unacked = new java.util.LinkedHashMap<>();

    MqbridgeSession(MqbridgeConnection connection, long handle, int ackMode) {
        super(handle, "session");
        this.connection = connection;
        this.ackMode = ackMode;
    }

    boolean clientAcknowledge() {
        return ackMode == Session.CLIENT_ACKNOWLEDGE;
    }

    boolean transacted() {
        return ackMode == Session.SESSION_TRANSACTED;
    }

    /** JMS 2.0: a CompletionListener callback must not close its own session. */
    @Override
    public void close() throws JMSException {
        connection.asyncSends.checkNotInCallback("close the session");
        super.close();
    }

    /** A delivery to acknowledge later (CLIENT_ACKNOWLEDGE). */
    synchronized void delivered(MqbridgeConsumer consumer, long tag) {
        unacked.computeIfAbsent(consumer, k -> new java.util.ArrayList<>()).add(tag);
    }

    /** A closed consumer's deliveries went back to the queue with its channel. */
    synchronized void consumerClosed(MqbridgeConsumer consumer) {
        unacked.remove(consumer);
    }

    /** Message.acknowledge(): every delivery of this session so far (JMS semantics). */
    synchronized void acknowledgeAll() throws JMSException {
        checkOpen();
        for (java.util.Map.Entry<MqbridgeConsumer, java.util.List<Long>> e : unacked.entrySet()) {
            java.util.List<Long> tags = e.getValue();
            if (!tags.isEmpty() && !e.getKey().isClosed()) {
                Native.ackThrough(e.getKey().handle, tags.get(tags.size() - 1));
            }
        }
        unacked.clear();
    }

    @Override
    void closeChildren() throws JMSException {
        for (NativeResource r : children) {
            r.close();
        }
        children.clear();
        connection.forget(this);
    }

    void forget(NativeResource r) {
        children.remove(r);
    }

    @Override
    public BytesMessage createBytesMessage() throws JMSException {
        checkOpen();
        return new MqbridgeBytesMessage();
    }

    @Override
    public MapMessage createMapMessage() throws JMSException {
        checkOpen();
        return new MqbridgeMapMessage();
    }

    @Override
    public Message createMessage() throws JMSException {
        checkOpen();
        return new MqbridgeMessage();
    }

    @Override
    public ObjectMessage createObjectMessage() throws JMSException {
        checkOpen();
        return new MqbridgeObjectMessage();
    }

    @Override
    public ObjectMessage createObjectMessage(Serializable object) throws JMSException {
        checkOpen();
        MqbridgeObjectMessage m = new MqbridgeObjectMessage();
        m.setObject(object);
        return m;
    }

    @Override
    public StreamMessage createStreamMessage() throws JMSException {
        checkOpen();
        return new MqbridgeStreamMessage();
    }

    @Override
    public TextMessage createTextMessage() throws JMSException {
        checkOpen();
        return new MqbridgeTextMessage();
    }

    @Override
    public TextMessage createTextMessage(String text) throws JMSException {
        checkOpen();
        MqbridgeTextMessage m = new MqbridgeTextMessage();
        m.setText(text);
        return m;
    }

    @Override
    public boolean getTransacted() throws JMSException {
        checkOpen();
        return transacted();
    }

    @Override
    public int getAcknowledgeMode() throws JMSException {
        checkOpen();
        return ackMode;
    }

    @Override
    public void commit() throws JMSException {
        checkOpen();
        if (!transacted()) {
            throw new javax.jms.IllegalStateException("commit on a non-transacted session");
        }
        connection.asyncSends.checkNotInCallback("commit");
        Native.commit(handle);
    }

    @Override
    public void rollback() throws JMSException {
        checkOpen();
        if (!transacted()) {
            throw new javax.jms.IllegalStateException("rollback on a non-transacted session");
        }
        connection.asyncSends.checkNotInCallback("roll back");
        Native.rollback(handle);
    }

    /**
     * CLIENT_ACKNOWLEDGE: the unacknowledged messages go back to their queues and are delivered
     * again, flagged redelivered. AUTO_ACKNOWLEDGE: every delivered message is already
     * acknowledged, so there is nothing to redeliver.
     */
    @Override
    public synchronized void recover() throws JMSException {
        checkOpen();
        if (transacted()) {
            throw new javax.jms.IllegalStateException("recover on a transacted session (use rollback)");
        }
        for (java.util.Map.Entry<MqbridgeConsumer, java.util.List<Long>> e : unacked.entrySet()) {
            if (e.getKey().isClosed()) {
                continue;
            }
            for (long tag : e.getValue()) {
                Native.nack(e.getKey().handle, tag, true);
            }
        }
        unacked.clear();
    }

    @Override
    public MessageListener getMessageListener() throws JMSException {
        checkOpen();
        return null;
    }

    @Override
    public void setMessageListener(MessageListener listener) throws JMSException {
        throw NotImplemented.of("Session.setMessageListener");
    }

    @Override
    public void run() {
        throw NotImplemented.runtime("Session.run (application server facility)");
    }

    @Override
    public MessageProducer createProducer(Destination destination) throws JMSException {
        checkOpen();
        MqbridgeDestination d = destination == null ? null : MqbridgeDestination.from(destination);
        MqbridgeProducer p = new MqbridgeProducer(this, Native.createProducer(handle), d);
        children.add(p);
        return p;
    }

    @Override
    public MessageConsumer createConsumer(Destination destination) throws JMSException {
        checkOpen();
        MqbridgeDestination d = MqbridgeDestination.from(destination);
        MqbridgeSession owner = d instanceof MqbridgeTemporaryQueue ? ((MqbridgeTemporaryQueue) d).session
                : d instanceof MqbridgeTemporaryTopic ? ((MqbridgeTemporaryTopic) d).session : null;
        if (owner != null && owner.connection != connection) {
            throw new javax.jms.InvalidDestinationException(
                    "a temporary destination can only be consumed by the connection that created it");
        }
        int prefetch = prefetch();
        MqbridgeConsumer c = new MqbridgeConsumer(this, Native.createConsumer(handle, d.kind(), d.name, prefetch), d);
        children.add(c);
        return c;
    }

    @Override
    public MessageConsumer createConsumer(Destination destination, String selector) throws JMSException {
        return createConsumer(destination, selector, false);
    }

    /**
     * A consumer with a message selector and/or noLocal. On a topic both filter the
     * subscriber's own queue (refused messages are not delivered to it); on a queue the
     * selector leaves refused messages for other consumers, which needs the broker to filter:
     * mqbridge does, other AMQP brokers (RabbitMQ) make this throw a JMSException saying so.
     * noLocal has no effect on a queue (JMS 2.0 leaves it unspecified there).
     */
    @Override
    public MessageConsumer createConsumer(Destination destination, String selector, boolean noLocal)
            throws JMSException {
        if (isBlank(selector) && !noLocal) {
            return createConsumer(destination);
        }
        checkOpen();
        MqbridgeDestination d = MqbridgeDestination.from(destination);
        checkTemporaryOwner(d);
        MqbridgeConsumer c = new MqbridgeConsumer(this,
                Native.createFilteredConsumer(handle, d.kind(), d.name, blankToNull(selector), noLocal, prefetch()),
                d, blankToNull(selector), noLocal);
        children.add(c);
        return c;
    }

    private void checkTemporaryOwner(MqbridgeDestination d) throws JMSException {
        MqbridgeSession owner = d instanceof MqbridgeTemporaryQueue ? ((MqbridgeTemporaryQueue) d).session
                : d instanceof MqbridgeTemporaryTopic ? ((MqbridgeTemporaryTopic) d).session : null;
        if (owner != null && owner.connection != connection) {
            throw new javax.jms.InvalidDestinationException(
                    "a temporary destination can only be consumed by the connection that created it");
        }
    }

    /**
     * The consumer's AMQP prefetch (basic.qos). CLIENT_ACKNOWLEDGE and transactions keep
     * messages unacknowledged across receives (an ack inside an open transaction still counts
     * against the prefetch): allow many. AUTO/DUPS_OK: the factory's {@code prefetch}, so the
     * next messages are already on their way while one is processed (ActiveMQ's client
     * prefetches 1000 for queues); 1 gives each message to whichever consumer is free.
     */
    private int prefetch() {
        return clientAcknowledge() || transacted() ? 500 : connection.prefetch;
    }

    static boolean isBlank(String s) {
        return s == null || s.trim().isEmpty();
    }

    static String blankToNull(String s) {
        return isBlank(s) ? null : s;
    }

    /**
     * A JMS 2.0 shared non-durable subscription: every consumer (of any connection) created
     * with the same name (and client ID, if set) shares one queue, and the broker spreads the
     * messages between them; the queue goes when its last consumer closes.
     */
    @Override
    public MessageConsumer createSharedConsumer(Topic topic, String name) throws JMSException {
        return createSharedConsumer(topic, name, null);
    }

    @Override
    public MessageConsumer createSharedConsumer(Topic topic, String name, String selector) throws JMSException {
        return subscription(Native.SUBSCRIPTION_SHARED, topic, name, selector, false);
    }

    @Override
    public Queue createQueue(String name) throws JMSException {
        checkOpen();
        return new MqbridgeQueue(name);
    }

    @Override
    public Topic createTopic(String name) throws JMSException {
        checkOpen();
        return new MqbridgeTopic(name);
    }

    @Override
    public TopicSubscriber createDurableSubscriber(Topic topic, String name) throws JMSException {
        return durable(topic, name);
    }

    @Override
    public TopicSubscriber createDurableSubscriber(Topic topic, String name, String selector, boolean noLocal)
            throws JMSException {
        return subscription(Native.SUBSCRIPTION_DURABLE, topic, name, selector, noLocal);
    }

    @Override
    public MessageConsumer createDurableConsumer(Topic topic, String name) throws JMSException {
        return durable(topic, name);
    }

    @Override
    public MessageConsumer createDurableConsumer(Topic topic, String name, String selector, boolean noLocal)
            throws JMSException {
        return subscription(Native.SUBSCRIPTION_DURABLE, topic, name, selector, noLocal);
    }

    /**
     * A named subscription: unshared durable (needs the client ID; one active consumer), shared
     * durable or shared non-durable (client ID optional). Queue {@code clientID:name}
     * ({@code :name} without a client ID), the OpenWire listener's durable naming. The
     * selector and noLocal filter what the subscription keeps for this consumer.
     */
    private MqbridgeConsumer subscription(int kind, Topic topic, String name, String selector, boolean noLocal)
            throws JMSException {
        checkOpen();
        String clientId = connection.getClientID();
        if (kind == Native.SUBSCRIPTION_DURABLE && clientId == null) {
            throw new javax.jms.IllegalStateException("a durable subscription needs the connection's client ID");
        }
        if (name == null || name.isEmpty()) {
            throw new javax.jms.JMSException("a subscription needs a name");
        }
        MqbridgeDestination d = MqbridgeDestination.from(topic);
        if (!(d instanceof Topic)) {
            throw new javax.jms.InvalidDestinationException("a subscription needs a topic, not " + d);
        }
        MqbridgeConsumer c = new MqbridgeConsumer(this,
                Native.createSubscription(handle, kind, clientId, name, d.name, blankToNull(selector), noLocal,
                        prefetch()),
                d, blankToNull(selector), noLocal);
        children.add(c);
        return c;
    }

    /**
     * An unshared durable subscription: queue {@code clientID:name} bound to {@code amq.topic},
     * the OpenWire listener's naming, so ActiveMQ clients and the shim share it.
     */
    private MqbridgeConsumer durable(Topic topic, String name) throws JMSException {
        return subscription(Native.SUBSCRIPTION_DURABLE, topic, name, null, false);
    }

    /**
     * A JMS 2.0 shared durable subscription: consumers of any connection with the same name
     * (and client ID, if set) share its queue; it stays until {@link #unsubscribe(String)}.
     */
    @Override
    public MessageConsumer createSharedDurableConsumer(Topic topic, String name) throws JMSException {
        return createSharedDurableConsumer(topic, name, null);
    }

    @Override
    public MessageConsumer createSharedDurableConsumer(Topic topic, String name, String selector)
            throws JMSException {
        return subscription(Native.SUBSCRIPTION_SHARED_DURABLE, topic, name, selector, false);
    }

    @Override
    public QueueBrowser createBrowser(Queue queue) throws JMSException {
        return createBrowser(queue, null);
    }

    @Override
    public QueueBrowser createBrowser(Queue queue, String selector) throws JMSException {
        checkOpen();
        MqbridgeDestination d = MqbridgeDestination.from(queue);
        MqbridgeQueueBrowser b = new MqbridgeQueueBrowser(this, (Queue) d, selector);
        children.add(b);
        return b;
    }

    private static String temporaryName() {
        return "ID:mqbridge-jms-" + java.util.UUID.randomUUID() + ":temp";
    }

    @Override
    public TemporaryQueue createTemporaryQueue() throws JMSException {
        checkOpen();
        MqbridgeTemporaryQueue q = new MqbridgeTemporaryQueue(this, temporaryName());
        Native.createTemporaryQueue(handle, q.name);
        return q;
    }

    @Override
    public TemporaryTopic createTemporaryTopic() throws JMSException {
        checkOpen();
        return new MqbridgeTemporaryTopic(this, temporaryName());
    }

    /**
     * Deletes a durable subscription, shared or not (with the connection's client ID, or the
     * shared one without a client ID when none is set). An active consumer on it (any
     * connection) is an IllegalStateException; an unknown name an InvalidDestinationException.
     */
    @Override
    public void unsubscribe(String name) throws JMSException {
        checkOpen();
        Native.unsubscribe(handle, connection.getClientID() == null ? "" : connection.getClientID(), name);
    }
}
