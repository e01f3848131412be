package io.mqbridge.jms;

import javax.jms.Connection;
import javax.jms.DeliveryMode;
import javax.jms.MessageProducer;
import javax.jms.Session;

/**
 * Run in a child JVM by {@link EmbeddedTest}: sends persistent messages through an embedded
 * broker and exits without closing anything, so only the JVM shutdown hook stops the broker
 * and flushes its store.
 */
public final class EmbeddedExitMain {
    private EmbeddedExitMain() {}

    public static void main(String[] args) throws Exception {
        Connection c = new MqbridgeConnectionFactory("mqbridge:embedded?config=" + args[0]).createConnection();
        Session s = c.createSession();
        MessageProducer p = s.createProducer(s.createQueue("embedded.exit"));
        p.setDeliveryMode(DeliveryMode.PERSISTENT);
        for (int i = 0; i < 3; i++) {
            p.send(s.createTextMessage("before exit " + i));
        }
        System.out.println("sent");
        System.exit(0);
    }
}
