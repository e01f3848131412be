package io.mqbridge.jms;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import javax.jms.Connection;
import javax.jms.InvalidSelectorException;
import javax.jms.JMSException;
import javax.jms.Message;
import javax.jms.MessageConsumer;
import javax.jms.MessageProducer;
import javax.jms.Queue;
import javax.jms.QueueBrowser;
import javax.jms.Session;
import javax.jms.TextMessage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * QueueBrowser on every target: it lists the queue's messages in order and leaves them for
 * consumers; a selector filters; an invalid selector is refused. Through the shim the browsed
 * messages come back flagged redelivered (AMQP has no non-destructive read: see
 * MqbridgeQueueBrowser), which is asserted so a change is noticed.
 */
@ParameterizedClass
@MethodSource("io.mqbridge.jms.Target#all")
class BrowserTest extends TargetSuite {

    private static List<String> texts(Enumeration<?> e) throws JMSException {
        List<String> out = new ArrayList<>();
        while (e.hasMoreElements()) {
            out.add(((TextMessage) e.nextElement()).getText());
        }
        return out;
    }

    @Test
    void browsingListsMessagesInOrderAndLeavesThemInTheQueue() throws Exception {
        String name = queueName();
        try (Connection c = connect()) {
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            Queue q = s.createQueue(name);
            MessageProducer p = s.createProducer(q);
            for (int i = 0; i < 3; i++) {
                TextMessage m = s.createTextMessage("m" + i);
                m.setIntProperty("n", i);
                p.send(m);
            }
            QueueBrowser b = s.createBrowser(q);
            assertEquals(q, b.getQueue());
            assertNull(b.getMessageSelector());
            Enumeration<?> e = b.getEnumeration();
            List<String> seen = new ArrayList<>();
            while (e.hasMoreElements()) {
                Message m = (Message) e.nextElement();
                seen.add(((TextMessage) m).getText());
                assertEquals(seen.size() - 1, m.getIntProperty("n"));
                assertEquals(q, m.getJMSDestination());
            }
            assertEquals(List.of("m0", "m1", "m2"), seen);
            if (target.isShim()) {
                // java.util.Enumeration's contract; ActiveMQ's client returns null instead.
                assertThrows(java.util.NoSuchElementException.class, e::nextElement);
            }
            // A second enumeration sees them again.
            assertEquals(List.of("m0", "m1", "m2"), texts(b.getEnumeration()));
            b.close();

            MessageConsumer consumer = s.createConsumer(q);
            for (int i = 0; i < 3; i++) {
                Message m = consumer.receive(5000);
                assertEquals("m" + i, ((TextMessage) m).getText(), "still in the queue, in order");
                if (target.isShim()) {
                    assertTrue(m.getJMSRedelivered(), "AMQP browse = get + requeue: flagged redelivered");
                } else {
                    assertFalse(m.getJMSRedelivered());
                }
            }
            assertNull(consumer.receive(300));
        }
    }

    @Test
    void selectorFiltersTheBrowse() throws Exception {
        String name = queueName();
        try (Connection c = connect()) {
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            Queue q = s.createQueue(name);
            MessageProducer p = s.createProducer(q);
            String[] colors = {"red", "blue", "red", "green"};
            for (int i = 0; i < colors.length; i++) {
                TextMessage m = s.createTextMessage(colors[i] + i);
                m.setStringProperty("color", colors[i]);
                m.setIntProperty("n", i);
                p.send(m);
            }
            QueueBrowser b = s.createBrowser(q, "color = 'red' OR n > 2");
            assertEquals("color = 'red' OR n > 2", b.getMessageSelector());
            assertEquals(List.of("red0", "red2", "green3"), texts(b.getEnumeration()));
            b.close();
            assertEquals(List.of(), texts(s.createBrowser(q, "color = 'purple'").getEnumeration()));
            // Nothing was consumed.
            assertEquals(List.of("red0", "blue1", "red2", "green3"), texts(s.createBrowser(q).getEnumeration()));
        }
    }

    @Test
    void emptyQueueAndInvalidSelector() throws Exception {
        String name = queueName();
        try (Connection c = connect()) {
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            Queue q = s.createQueue(name);
            QueueBrowser b = s.createBrowser(q);
            assertFalse(b.getEnumeration().hasMoreElements());
            assertThrows(InvalidSelectorException.class, () -> s.createBrowser(q, "color = = 'red'"));
            b.close();
            assertThrows(javax.jms.IllegalStateException.class, b::getEnumeration);
        }
    }

    @Test
    void closingTheSessionClosesItsBrowsers() throws Exception {
        String name = queueName();
        try (Connection c = connect()) {
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            Queue q = s.createQueue(name);
            s.createProducer(q).send(s.createTextMessage("held"));
            QueueBrowser b = s.createBrowser(q);
            Enumeration<?> e = b.getEnumeration();
            assertTrue(e.hasMoreElements()); // the browse holds the message now
            s.close();
            if (target.isShim()) {
                // JMS: a closed session's browsers are closed; ActiveMQ's client does not check.
                assertThrows(javax.jms.IllegalStateException.class, b::getEnumeration);
            }
            Session s2 = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            Message m = s2.createConsumer(q).receive(5000);
            assertEquals("held", ((TextMessage) m).getText(), "released by the close");
        }
    }
}
