// Captures real OpenWire traffic for tests/fixtures/openwire/: each scenario runs the stock
// ActiveMQ JMS client against the real broker through a recording TCP proxy and writes
// NAME.client.bin (client -> broker bytes) and NAME.server.bin (broker -> client bytes).
// The client asks for loose encoding without cache (what mqbridge's server negotiates).
// Usage: java Capture HOST:PORT OUTPUT_DIR   (see capture.sh)

import java.io.*;
import java.net.*;
import java.nio.file.*;
import java.util.*;
import javax.jms.*;
import org.apache.activemq.ActiveMQConnection;
import org.apache.activemq.ActiveMQConnectionFactory;

public class Capture {
    static String upstreamHost;
    static int upstreamPort;
    static Path out;
    static final String RUN = Long.toString(System.currentTimeMillis() % 100000);

    /** A one-connection recording proxy. */
    static final class Proxy implements Closeable {
        final ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        final ByteArrayOutputStream client = new ByteArrayOutputStream();
        final ByteArrayOutputStream server = new ByteArrayOutputStream();
        final List<Thread> pumps = new ArrayList<>();
        Socket down, up;

        Proxy() throws IOException {
            Thread t = new Thread(() -> {
                try {
                    down = listener.accept();
                    up = new Socket(upstreamHost, upstreamPort);
                    pumps.add(pump(down.getInputStream(), up.getOutputStream(), client, up));
                    pumps.add(pump(up.getInputStream(), down.getOutputStream(), server, down));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            t.start();
            pumps.add(t);
        }

        static Thread pump(InputStream in, OutputStream o, ByteArrayOutputStream rec, Socket peer) {
            Thread t = new Thread(() -> {
                byte[] buf = new byte[65536];
                try {
                    int n;
                    while ((n = in.read(buf)) > 0) {
                        synchronized (rec) { rec.write(buf, 0, n); }
                        o.write(buf, 0, n);
                        o.flush();
                    }
                } catch (IOException ignored) {
                } finally {
                    try { peer.shutdownOutput(); } catch (IOException ignored) { }
                }
            });
            t.start();
            return t;
        }

        String url(String extra) {
            return "tcp://127.0.0.1:" + listener.getLocalPort()
                + "?wireFormat.tightEncodingEnabled=false&wireFormat.cacheEnabled=false" + extra;
        }

        void save(String name) throws Exception {
            for (int i = 0; i < pumps.size(); i++) pumps.get(i).join(10000);
            Files.write(out.resolve(name + ".client.bin"), client.toByteArray());
            Files.write(out.resolve(name + ".server.bin"), server.toByteArray());
            System.out.printf("%-12s client %6d bytes, server %6d bytes%n", name, client.size(), server.size());
        }

        @Override public void close() throws IOException {
            listener.close();
            if (down != null) down.close();
            if (up != null) up.close();
        }
    }

    interface Scenario { void run(ActiveMQConnectionFactory f) throws Exception; }

    static void scenario(String name, String extraUrl, Scenario body) throws Exception {
        try (Proxy p = new Proxy()) {
            ActiveMQConnectionFactory f = new ActiveMQConnectionFactory(p.url(extraUrl));
            body.run(f);
            Thread.sleep(300);
            p.save(name);
        }
    }

    static final String NON_BMP = "h\u00e9llo \uD83D\uDE00 nul[\u0000] \u4e2d";

    static void setAllProperties(Message m) throws JMSException {
        m.setBooleanProperty("pBool", true);
        m.setByteProperty("pByte", (byte) -7);
        m.setShortProperty("pShort", (short) -300);
        m.setIntProperty("pInt", 123456);
        m.setLongProperty("pLong", 1234567890123L);
        m.setFloatProperty("pFloat", 1.5f);
        m.setDoubleProperty("pDouble", -2.25);
        m.setStringProperty("pString", NON_BMP);
        m.setStringProperty("pBigString", "x".repeat(9000));
        m.setObjectProperty("pNull", null);
        m.setJMSCorrelationID("corr-1");
        m.setJMSType("fixture-type");
        m.setStringProperty("JMSXGroupID", "group-1");
        m.setIntProperty("JMSXGroupSeq", 3);
    }

    static List<Message> allTypes(Session s) throws JMSException {
        List<Message> list = new ArrayList<>();
        list.add(s.createMessage());
        TextMessage text = s.createTextMessage(NON_BMP);
        list.add(text);
        BytesMessage bytes = s.createBytesMessage();
        bytes.writeBytes(new byte[] {0, 1, 2, (byte) 0xff, 42});
        list.add(bytes);
        MapMessage map = s.createMapMessage();
        map.setBoolean("b", true);
        map.setByte("y", (byte) 1);
        map.setChar("c", '\u20ac');
        map.setShort("s", (short) 2);
        map.setInt("i", 3);
        map.setLong("l", 4L);
        map.setFloat("f", 5.5f);
        map.setDouble("d", 6.5);
        map.setString("str", NON_BMP);
        map.setBytes("bytes", new byte[] {9, 8, 7});
        map.setObject("nested", new HashMap<>(Map.of("k", "v")));
        map.setObject("list", new ArrayList<>(List.of(1, "two", 3.0)));
        list.add(map);
        list.add(s.createObjectMessage(new ArrayList<>(List.of("serialized", 1))));
        StreamMessage stream = s.createStreamMessage();
        stream.writeString("s");
        stream.writeInt(42);
        stream.writeBoolean(false);
        stream.writeChar('z');
        stream.writeBytes(new byte[] {1, 2});
        stream.writeDouble(0.125);
        stream.writeObject(null);
        list.add(stream);
        for (Message m : list) setAllProperties(m);
        return list;
    }

    static void sendAndReceiveAll(ActiveMQConnectionFactory f, String queueName) throws Exception {
        Connection c = f.createConnection();
        c.setClientID("fixtures-" + queueName);
        c.start();
        Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
        javax.jms.Queue q = s.createQueue(queueName);
        MessageProducer p = s.createProducer(q);
        p.setPriority(7);
        p.setTimeToLive(600000);
        boolean persistent = true;
        for (Message m : allTypes(s)) {
            m.setJMSReplyTo(s.createQueue(queueName + ".reply"));
            p.setDeliveryMode(persistent ? DeliveryMode.PERSISTENT : DeliveryMode.NON_PERSISTENT);
            persistent = !persistent;
            p.send(m);
        }
        MessageConsumer consumer = s.createConsumer(q);
        for (int i = 0; i < 6; i++) {
            if (consumer.receive(5000) == null) throw new java.lang.IllegalStateException("missing message " + i);
        }
        consumer.close();
        p.close();
        s.close();
        c.close();
    }

    public static void main(String[] args) throws Exception {
        String[] hp = args[0].split(":");
        upstreamHost = hp[0];
        upstreamPort = Integer.parseInt(hp[1]);
        out = Paths.get(args[1]);
        Files.createDirectories(out);

        // Every message type with properties of every type, non-BMP text; sync receive.
        scenario("basic", "", f -> sendAndReceiveAll(f, "fixtures.basic." + RUN));

        // The same with useCompression=true: compressed content of every type.
        scenario("compressed", "&jms.useCompression=true", f -> sendAndReceiveAll(f, "fixtures.compressed." + RUN));

        // Transactions: BEGIN, sends, COMMIT; receive, ROLLBACK (local redelivery), COMMIT.
        scenario("transacted", "", f -> {
            Connection c = f.createConnection();
            c.start();
            Session s = c.createSession(true, Session.SESSION_TRANSACTED);
            javax.jms.Queue q = s.createQueue("fixtures.tx." + RUN);
            MessageProducer p = s.createProducer(q);
            p.send(s.createTextMessage("tx-1"));
            p.send(s.createTextMessage("tx-2"));
            s.commit();
            MessageConsumer consumer = s.createConsumer(q);
            consumer.receive(5000);
            s.rollback();
            consumer.receive(5000);
            consumer.receive(5000);
            s.commit();
            c.close();
        });

        // CLIENT_ACKNOWLEDGE (range ack) and INDIVIDUAL_ACKNOWLEDGE, small prefetch.
        scenario("acks", "&jms.prefetchPolicy.queuePrefetch=4", f -> {
            Connection c = f.createConnection();
            c.start();
            Session ps = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            javax.jms.Queue q = ps.createQueue("fixtures.acks." + RUN);
            MessageProducer p = ps.createProducer(q);
            p.setDeliveryMode(DeliveryMode.NON_PERSISTENT);
            for (int i = 0; i < 8; i++) p.send(ps.createTextMessage("m" + i));
            Session cs = c.createSession(false, Session.CLIENT_ACKNOWLEDGE);
            MessageConsumer consumer = cs.createConsumer(q);
            Message last = null;
            for (int i = 0; i < 4; i++) last = consumer.receive(5000);
            last.acknowledge();
            consumer.close();
            Session is = c.createSession(false, ActiveMQSessionIndividualAck());
            MessageConsumer ic = is.createConsumer(q);
            for (int i = 0; i < 4; i++) ic.receive(5000).acknowledge();
            c.close();
        });

        // Temporary queue request/reply (DestinationInfo, advisories from the broker).
        scenario("temp", "", f -> {
            Connection c = f.createConnection();
            c.start();
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            TemporaryQueue tq = s.createTemporaryQueue();
            MessageProducer p = s.createProducer(tq);
            p.send(s.createTextMessage("to temp"));
            MessageConsumer tc = s.createConsumer(tq);
            tc.receive(5000);
            tc.close();
            tq.delete();
            c.close();
        });

        // Prefetch 0: MessagePull with timeout, receiveNoWait, null dispatches; a browser.
        scenario("pull", "&jms.prefetchPolicy.all=0", f -> {
            Connection c = f.createConnection();
            c.start();
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            javax.jms.Queue q = s.createQueue("fixtures.pull." + RUN);
            MessageConsumer consumer = s.createConsumer(q);
            consumer.receive(200);
            consumer.receiveNoWait();
            s.createProducer(q).send(s.createTextMessage("pulled"));
            QueueBrowser browser = s.createBrowser(q);
            Enumeration<?> e = browser.getEnumeration();
            while (e.hasMoreElements()) e.nextElement();
            browser.close();
            consumer.receive(2000);
            c.close();
        });

        // Durable subscription, then unsubscribe (RemoveSubscriptionInfo); topic send.
        scenario("durable", "", f -> {
            Connection c = f.createConnection();
            c.setClientID("fixtures-durable-" + RUN);
            c.start();
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            Topic t = s.createTopic("fixtures.topic." + RUN);
            TopicSubscriber sub = s.createDurableSubscriber(t, "sub1", "pInt > 5", false);
            MessageProducer p = s.createProducer(t);
            Message m = s.createTextMessage("to topic");
            m.setIntProperty("pInt", 6);
            p.send(m);
            sub.receive(5000);
            sub.close();
            s.unsubscribe("sub1");
            c.close();
        });

        // Duplicate client id: the broker answers ConnectionInfo with an ExceptionResponse
        // (stack traces negotiated on: the throwable carries frames and causes).
        ActiveMQConnectionFactory holder = new ActiveMQConnectionFactory("tcp://" + args[0]);
        Connection first = holder.createConnection();
        first.setClientID("fixtures-dup-" + RUN);
        first.start();
        scenario("error", "", f -> {
            Connection c = f.createConnection();
            try {
                c.setClientID("fixtures-dup-" + RUN);
                c.start();
                throw new java.lang.IllegalStateException("duplicate client id accepted");
            } catch (InvalidClientIDException expected) {
                // expected
            }
            try { c.close(); } catch (JMSException ignored) { }
        });
        first.close();

        // Keep-alives: a short inactivity duration makes both sides send KeepAliveInfo.
        scenario("keepalive", "&wireFormat.maxInactivityDuration=1500&wireFormat.maxInactivityDurationInitalDelay=100", f -> {
            Connection c = f.createConnection();
            c.start();
            Thread.sleep(2500);
            c.close();
        });
        System.exit(0);
    }

    static int ActiveMQSessionIndividualAck() {
        return org.apache.activemq.ActiveMQSession.INDIVIDUAL_ACKNOWLEDGE;
    }
}
