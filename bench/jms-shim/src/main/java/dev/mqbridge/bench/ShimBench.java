package dev.mqbridge.bench;

import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import javax.jms.BytesMessage;
import javax.jms.Connection;
import javax.jms.ConnectionFactory;
import javax.jms.DeliveryMode;
import javax.jms.Message;
import javax.jms.MessageConsumer;
import javax.jms.MessageProducer;
import javax.jms.Queue;
import javax.jms.Session;

/**
 * One JMS send/receive run behind {@code bench/shim.sh}: one producer connection and one
 * consumer connection (AUTO_ACKNOWLEDGE) on queue {@code mqbridge.bench.shim}, through one
 * provider:
 *
 * <ul>
 *   <li>{@code shim}: the java-shim ({@code io.mqbridge.jms}, AMQP 0-9-1 over JNI) to mqbridge
 *       or RabbitMQ; every send waits for the broker's publisher confirm;
 *   <li>{@code activemq}: ActiveMQ's own client over OpenWire; persistent sends wait for the
 *       broker (its default), non-persistent ones do not;
 *   <li>{@code rabbitmq-jms}: RabbitMQ's JMS client; its sends never wait for the broker (it
 *       has no synchronous confirm), which the report states next to its figures.
 * </ul>
 *
 * The producer sends BytesMessages of {@code --size} bytes as fast as the provider lets it,
 * pausing while more than {@code --max-depth} are unconsumed; after {@code --warmup} seconds
 * a {@code --duration}-second window counts what was sent and received. Result: one JSON line
 * on stdout.
 */
public final class ShimBench {
    String provider = "shim";
    String url;
    String user = "guest";
    String password = "guest";
    int size = 16;
    boolean persistent = false;
    double warmup = 2;
    double duration = 5;
    long maxDepth = 10_000;
    String queueName = "mqbridge.bench.shim";

    final AtomicLong sent = new AtomicLong();
    final AtomicLong received = new AtomicLong();
    final AtomicReference<Throwable> failure = new AtomicReference<>();
    volatile boolean running = true;

    public static void main(String[] args) throws Exception {
        ShimBench b = new ShimBench();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--provider" -> b.provider = args[++i];
                case "--url" -> b.url = args[++i];
                case "--user" -> b.user = args[++i];
                case "--password" -> b.password = args[++i];
                case "--size" -> b.size = Integer.parseInt(args[++i]);
                case "--persistent" -> b.persistent = true;
                case "--warmup" -> b.warmup = Double.parseDouble(args[++i]);
                case "--duration" -> b.duration = Double.parseDouble(args[++i]);
                case "--max-depth" -> b.maxDepth = Long.parseLong(args[++i]);
                case "--queue" -> b.queueName = args[++i];
                default -> {
                    System.err.println("unknown argument " + a);
                    System.exit(2);
                }
            }
        }
        if (b.url == null) {
            System.err.println("--url is required");
            System.exit(2);
        }
        System.out.println(b.run());
        System.exit(0);
    }

    ConnectionFactory factory() throws Exception {
        switch (provider) {
            case "shim":
                return new io.mqbridge.jms.MqbridgeConnectionFactory(url);
            case "activemq": {
                org.apache.activemq.ActiveMQConnectionFactory f = new org.apache.activemq.ActiveMQConnectionFactory(url);
                f.setUserName(user);
                f.setPassword(password);
                return f;
            }
            case "rabbitmq-jms": {
                com.rabbitmq.jms.admin.RMQConnectionFactory f = new com.rabbitmq.jms.admin.RMQConnectionFactory();
                f.setUri(url);
                return f;
            }
            default:
                throw new IllegalArgumentException("unknown provider " + provider);
        }
    }

    String run() throws Exception {
        ConnectionFactory cf = factory();
        try (Connection consumerConnection = cf.createConnection();
                Connection producerConnection = cf.createConnection()) {
            consumerConnection.start();
            Session cs = consumerConnection.createSession(false, Session.AUTO_ACKNOWLEDGE);
            Queue queue = cs.createQueue(queueName);
            MessageConsumer consumer = cs.createConsumer(queue);
            // Start from an empty queue (an earlier run may have left messages behind).
            while (consumer.receive(200) != null) {
                // drained
            }
            Session ps = producerConnection.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageProducer producer = ps.createProducer(queue);
            producer.setDeliveryMode(persistent ? DeliveryMode.PERSISTENT : DeliveryMode.NON_PERSISTENT);
            byte[] body = new byte[size];

            Thread consumerThread = new Thread(() -> {
                try {
                    while (running) {
                        Message m = consumer.receive(100);
                        if (m != null) {
                            received.incrementAndGet();
                        }
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
            }, "bench-consumer");
            Thread producerThread = new Thread(() -> {
                try {
                    while (running) {
                        if (sent.get() - received.get() > maxDepth) {
                            LockSupport.parkNanos(100_000);
                            continue;
                        }
                        BytesMessage m = ps.createBytesMessage();
                        m.writeBytes(body);
                        producer.send(m);
                        sent.incrementAndGet();
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
            }, "bench-producer");
            consumerThread.start();
            producerThread.start();

            Thread.sleep((long) (warmup * 1000));
            long s0 = sent.get();
            long r0 = received.get();
            long t0 = System.nanoTime();
            Thread.sleep((long) (duration * 1000));
            long s1 = sent.get();
            long r1 = received.get();
            double secs = (System.nanoTime() - t0) / 1e9;
            running = false;
            producerThread.join(10_000);
            consumerThread.join(10_000);
            // Leave the queue empty for the next run.
            while (consumer.receive(200) != null) {
                // drained
            }
            Throwable t = failure.get();
            if (t != null) {
                throw new IllegalStateException(provider + " failed during the run: " + t, t);
            }
            return String.format(Locale.ROOT,
                    "{\"provider\":\"%s\",\"url\":\"%s\",\"persistent\":%b,\"size\":%d,"
                            + "\"sent_per_s\":%.1f,\"received_per_s\":%.1f,\"window_s\":%.2f}",
                    provider, url.replaceAll("//[^@/]*@", "//"), persistent, size,
                    (s1 - s0) / secs, (r1 - r0) / secs, secs);
        }
    }
}
