package io.mqbridge.jms;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.BeforeAll;

/**
 * The same suite against RabbitMQ, at $RABBITMQ_URL ({@code amqp://guest:guest@127.0.0.1:5682/%2f}
 * as scripts/lib/rabbitmq.sh exports it); skipped when it is unset.
 */
class RabbitMqShimTest extends ShimTest {
    static String url;

    @BeforeAll
    static void needRabbitMq() {
        url = System.getenv("RABBITMQ_URL");
        assumeTrue(url != null && url.startsWith("amqp://"), "RABBITMQ_URL is not set: RabbitMQ target skipped");
    }

    @Override
    String amqpUri() {
        return url;
    }
}
