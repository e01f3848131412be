package io.mqbridge.jms;

import java.util.ArrayList;
import java.util.List;
import javax.jms.ConnectionFactory;
import org.apache.activemq.ActiveMQConnectionFactory;

/**
 * One provider and broker pair the parameterized suites run against, with the same
 * assertions (issue 6):
 *
 * <ul>
 *   <li>{@link #SHIM_MQBRIDGE}: the shim over AMQP to an mqbridge process started for the test
 *       run;
 *   <li>{@link #SHIM_RABBITMQ}: the shim over AMQP to RabbitMQ at {@code $RABBITMQ_URL} (left out
 *       when it is unset);
 *   <li>{@link #ACTIVEMQ_CLIENT}: ActiveMQ's own JMS client over OpenWire to that same mqbridge
 *       process, the reference the shim must behave like.
 * </ul>
 *
 * A suite is a class annotated {@code @ParameterizedClass @MethodSource("io.mqbridge.jms.Target#all")}
 * with a {@code @Parameter Target target} field; a check that only makes sense for the shim
 * (native handles, panics, the {@code mqbridge://} URI) starts with {@code
 * assumeTrue(target.isShim())}.
 */
enum Target {
    SHIM_MQBRIDGE("shim -> mqbridge"),
    SHIM_RABBITMQ("shim -> RabbitMQ"),
    ACTIVEMQ_CLIENT("ActiveMQ client -> mqbridge OpenWire");

    private final String label;

    Target(String label) {
        this.label = label;
    }

    /** The targets available here, for {@code @MethodSource}. */
    static List<Target> all() {
        List<Target> targets = new ArrayList<>();
        targets.add(SHIM_MQBRIDGE);
        if (rabbitMqUrl() != null) {
            targets.add(SHIM_RABBITMQ);
        }
        targets.add(ACTIVEMQ_CLIENT);
        return targets;
    }

    /** The shim's targets only, for suites about the shim itself. */
    static List<Target> shims() {
        List<Target> targets = all();
        targets.remove(ACTIVEMQ_CLIENT);
        return targets;
    }

    static String rabbitMqUrl() {
        String url = System.getenv("RABBITMQ_URL");
        return url != null && url.startsWith("amqp://") ? url : null;
    }

    boolean isShim() {
        return this != ACTIVEMQ_CLIENT;
    }

    /** Whether the broker behind this target is an mqbridge (either protocol). */
    boolean isMqbridge() {
        return this != SHIM_RABBITMQ;
    }

    /**
     * The same broker as an AMQP URL, {@code amqp://user:pass@host:port[/vhost]}: tests use it
     * to look at queues with the RabbitMQ Java client and to clean up.
     */
    String amqpUri() {
        if (this == SHIM_RABBITMQ) {
            return rabbitMqUrl();
        }
        BridgeProcess b = SharedBridge.get();
        return "amqp://guest:guest@" + b.host + ":" + b.port;
    }

    /** The shim's URI for this target (shim targets only). */
    String shimUri() {
        if (!isShim()) {
            throw new UnsupportedOperationException(this + " does not use the shim");
        }
        return "mqbridge" + amqpUri().substring("amqp".length());
    }

    /** A fresh ConnectionFactory of this target's provider. */
    ConnectionFactory factory() {
        if (isShim()) {
            return new MqbridgeConnectionFactory(shimUri());
        }
        BridgeProcess b = SharedBridge.get();
        ActiveMQConnectionFactory f = new ActiveMQConnectionFactory("tcp://" + b.host + ":" + b.openwirePort);
        f.setUserName("guest");
        f.setPassword("guest");
        // The shim's default ObjectMessage trust list; ActiveMQ's client trusts fewer packages.
        f.setTrustedPackages(List.of("java.lang", "java.util", "java.time", "java.math"));
        return f;
    }

    @Override
    public String toString() {
        return label;
    }

    /** One mqbridge process for the whole test JVM, stopped when the JVM exits. */
    static final class SharedBridge {
        private static BridgeProcess bridge;

        static synchronized BridgeProcess get() {
            if (bridge == null) {
                try {
                    bridge = BridgeProcess.start();
                } catch (Exception e) {
                    throw new IllegalStateException("could not start the shared mqbridge: " + e.getMessage(), e);
                }
                BridgeProcess started = bridge;
                Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                    try {
                        started.close();
                    } catch (Exception e) {
                        // the JVM is exiting; the temp dir may stay behind
                    }
                }));
            }
            return bridge;
        }
    }
}
