package io.mqbridge.jms;

import javax.jms.JMSException;

/**
 * The JNI entry points of the native half (crate {@code mqbridge-jni}, java-shim/native).
 * Every {@code long} is an opaque handle into the native registry, owned by one
 * {@link AutoCloseable} Java object; {@link #close(long)} is idempotent. Messages cross as
 * the byte[] record of {@link MessageCodec}. Errors arrive as JMSException subclasses
 * thrown from native code; a Rust panic arrives as a JMSException ("native panic: ...").
 */
final class Native {
    static {
        NativeLibrary.load();
    }

    private Native() {}

    static native long connect(String uri, long connectTimeoutMs) throws JMSException;

    static native long createSession(long connection) throws JMSException;

    static native long createProducer(long session) throws JMSException;

    static native void send(long producer, byte[] record) throws JMSException;

    /** Declare a temporary queue, exclusive to the session's connection. */
    static native void createTemporaryQueue(long session, String name) throws JMSException;

    static native void deleteQueue(long session, String name) throws JMSException;

    static native long createConsumer(long session, int destKind, String name, int prefetch)
            throws JMSException;

    static native long createDurableConsumer(long session, String clientId, String name, String topic,
            int prefetch) throws JMSException;

    static native void unsubscribe(long session, String clientId, String name) throws JMSException;

    /** A record, or null on timeout / close. timeoutMs: &lt;0 forever, 0 no wait. */
    static native byte[] receive(long consumer, long timeoutMs) throws JMSException;

    static native void ack(long consumer, long deliveryTag) throws JMSException;

    static native void ackThrough(long consumer, long deliveryTag) throws JMSException;

    static native void nack(long consumer, long deliveryTag, boolean requeue) throws JMSException;

    static native void close(long handle) throws JMSException;

    /** Blocks until the connection is lost (returns the reason) or closed (returns null). */
    static native String awaitConnectionLoss(long connection) throws JMSException;

    static native int liveHandles();

    /**
     * "javax.jms.", computed so that it is no string constant: the jakarta build's relocation
     * rewrites constants naming javax.jms, and this one must keep matching what Rust sends.
     */
    private static final String JAVAX_JMS = String.join(".", "javax", "jms", "");

    /**
     * Called by the native side to make the exception it throws: {@code jniClassName} is the
     * class it means ({@code javax/jms/InvalidDestinationException}, client.rs JavaClass::name).
     * A JMS exception class is looked up in the package of this build's JMSException, so the
     * jakarta artifact (javax.jms relocated to jakarta.jms) throws jakarta.jms exceptions while
     * the native library names only javax ones. Any other class is taken as named; a class
     * that cannot be made (no such class, no String constructor) becomes a JMSException.
     */
    static Throwable failure(String jniClassName, String message) {
        String name = jniClassName == null ? "" : jniClassName.replace('/', '.');
        if (name.startsWith(JAVAX_JMS)) {
            name = JMSException.class.getPackageName() + "." + name.substring(JAVAX_JMS.length());
        }
        try {
            Class<?> c = Class.forName(name, true, Native.class.getClassLoader());
            if (Throwable.class.isAssignableFrom(c)) {
                return (Throwable) c.getConstructor(String.class).newInstance(message);
            }
        } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
            // fall through: a JMSException naming the class it should have been
        }
        return new JMSException(message + " (as " + jniClassName + ")");
    }

    // --- selectors, noLocal, shared subscriptions, embedded broker ---

    /** A consumer with a selector (null: none) and/or noLocal; InvalidSelectorException if invalid. */
    static native long createFilteredConsumer(long session, int destKind, String name, String selector,
            boolean noLocal, int prefetch) throws JMSException;

    static final int SUBSCRIPTION_DURABLE = 1;
    static final int SUBSCRIPTION_SHARED_DURABLE = 2;
    static final int SUBSCRIPTION_SHARED = 3;

    /** A named topic subscription (kind: SUBSCRIPTION_*); clientId may be null for shared ones. */
    static native long createSubscription(long session, int kind, String clientId, String name, String topic,
            String selector, boolean noLocal, int prefetch) throws JMSException;

    /** Stops every embedded broker of this JVM (shutdown hook). */
    static native void shutdownEmbedded() throws JMSException;

    /** How many embedded brokers run in this JVM. */
    static native int embeddedBrokers() throws JMSException;

    // --- transacted sessions, sends with a deadline / asynchronous completion, delivery delay,
    // --- queue browsers

    /** A transacted session: one AMQP channel in tx mode shared by its producers and consumers. */
    static native long createTransactedSession(long connection) throws JMSException;

    /** tx.commit; TransactionRolledBackException when the broker rolled it back. */
    static native void commit(long session) throws JMSException;

    /** tx.rollback, then the messages the transaction consumed are requeued (redelivered). */
    static native void rollback(long session) throws JMSException;

    /**
     * Publish without waiting for the confirm; returns the token for {@link #awaitConfirm}
     * (0: nothing to wait for). deliveryDelayMs &gt; 0 sends through a TTL + dead-letter delay queue.
     */
    static native long publish(long producer, byte[] record, long deliveryDelayMs, long deliveryTime,
            long timeoutMs) throws JMSException;

    /** Waits for the confirm of a {@link #publish}; a nack or no confirm within timeoutMs throws. */
    static native void awaitConfirm(long producer, long token, long timeoutMs, long confirmTimeoutMs)
            throws JMSException;

    /** A browse of a queue (basic.get without ack; closing requeues); selector may be null. */
    static native long createBrowser(long session, String queue, String selector) throws JMSException;

    /** The next (matching) message record of a browse, or null when none is left. */
    static native byte[] browseNext(long browser) throws JMSException;

    /** Test hook: panics in Rust; must surface as a JMSException. */
    static native void panicForTest(String message) throws JMSException;
}
