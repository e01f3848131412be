package io.mqbridge.jms;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The suite against a real mqbridge process (its AMQP listener), started by the test. */
class MqbridgeShimTest extends ShimTest {
    static BridgeProcess bridge;

    @BeforeAll
    static void startBridge() throws Exception {
        bridge = BridgeProcess.start();
    }

    @AfterAll
    static void stopBridge() throws Exception {
        if (bridge != null) {
            bridge.close();
        }
    }

    @Override
    String amqpUri() {
        return "amqp://guest:guest@" + bridge.host + ":" + bridge.port;
    }
}
