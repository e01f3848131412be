package io.mqbridge.jms;

import java.util.Enumeration;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.jms.JMSException;
import javax.jms.JMSRuntimeException;
import javax.jms.Message;
import javax.jms.Queue;
import javax.jms.QueueBrowser;

/**
 * A QueueBrowser. AMQP 0-9-1 has no way to look at a message without taking it, so each
 * enumeration does what RabbitMQ's JMS client does: {@code basic.get} without ack on a channel
 * of its own, holding every message it returned, and closes that channel when it reaches the
 * end of the queue (or the browser closes): the broker puts the messages back. Consequences:
 * while an enumeration is open, other consumers do not get the messages it has returned;
 * afterwards those messages are flagged redelivered (JMSRedelivered true, JMSXDeliveryCount
 * one higher when the broker counts deliveries, as mqbridge does). A selector is evaluated
 * in native code by mqbridge's selector module on the AMQP message (the same identifiers
 * as the broker's own selectors); an invalid one is an InvalidSelectorException from
 * createBrowser.
 */
final class MqbridgeQueueBrowser extends NativeResource implements QueueBrowser {
    private final MqbridgeSession session;
    private final Queue queue;
    private final String selector;
    /** The browse created with the browser (it validated the selector); the first enumeration uses it. */
    private long unused;
    private final List<Long> browses = new CopyOnWriteArrayList<>();

    MqbridgeQueueBrowser(MqbridgeSession session, Queue queue, String selector) throws JMSException {
        this(session, queue, selector, Native.createBrowser(session.handle, queue.getQueueName(), selector));
    }

    private MqbridgeQueueBrowser(MqbridgeSession session, Queue queue, String selector, long first) {
        super(first, "queue browser");
        this.session = session;
        this.queue = queue;
        this.selector = selector;
        this.unused = first;
    }

    @Override
    public Queue getQueue() throws JMSException {
        checkOpen();
        return queue;
    }

    @Override
    public String getMessageSelector() throws JMSException {
        checkOpen();
        return selector;
    }

    @Override
    public synchronized Enumeration<?> getEnumeration() throws JMSException {
        checkOpen();
        long browse;
        if (unused != 0) {
            browse = unused;
            unused = 0;
        } else {
            browse = Native.createBrowser(session.handle, queue.getQueueName(), selector);
            browses.add(browse);
        }
        return new Browse(browse);
    }

    @Override
    void closeChildren() throws JMSException {
        session.forget(this);
        for (long b : browses) {
            Native.close(b);
        }
        browses.clear();
    }

    /** One pass over the queue; its native browse is closed at the end (messages requeued). */
    private final class Browse implements Enumeration<Message> {
        private final long browse;
        private Message next;
        private boolean done;

        Browse(long browse) {
            this.browse = browse;
        }

        @Override
        public synchronized boolean hasMoreElements() {
            if (next != null) {
                return true;
            }
            if (done || isClosed()) {
                return false;
            }
            try {
                byte[] record = Native.browseNext(browse);
                if (record == null) {
                    done = true;
                    Native.close(browse);
                    return false;
                }
                next = MessageCodec.decode(record).message;
                return true;
            } catch (JMSException e) {
                done = true;
                JMSRuntimeException r = new JMSRuntimeException("browsing " + queue + " failed: " + e.getMessage(),
                        e.getErrorCode(), e);
                throw r;
            }
        }

        @Override
        public synchronized Message nextElement() {
            if (!hasMoreElements()) {
                throw new NoSuchElementException("no more messages in the browse of " + queue);
            }
            Message m = next;
            next = null;
            return m;
        }
    }
}
