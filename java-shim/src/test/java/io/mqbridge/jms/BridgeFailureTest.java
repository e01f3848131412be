package io.mqbridge.jms;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import javax.jms.Connection;
import javax.jms.JMSException;
import javax.jms.MessageConsumer;
import javax.jms.Session;
import org.junit.jupiter.api.Test;

/**
 * Failures of the bridge under the shim: killed while a consumer waits, and a clean close
 * that must not look like one. (The shared suites are in {@link ShimTest}.)
 */
class BridgeFailureTest {
    /**
     * A bridge that dies under a waiting receive: a JMSException from receive, the
     * ExceptionListener called, no JVM crash, clean close.
     */
    @Test
    void bridgeKilledWhileAConsumerWaitsIsAJmsException() throws Exception {
        int before = Native.liveHandles();
        try (BridgeProcess own = BridgeProcess.start()) {
            Connection c = new MqbridgeConnectionFactory(
                    "mqbridge://guest:guest@" + own.host + ":" + own.port + "/").createConnection();
            c.start();
            java.util.concurrent.CompletableFuture<JMSException> lost = new java.util.concurrent.CompletableFuture<>();
            c.setExceptionListener(lost::complete);
            Session s = c.createSession();
            MessageConsumer consumer = s.createConsumer(s.createQueue("doomed"));
            Thread killer = new Thread(() -> {
                try {
                    Thread.sleep(300);
                    own.process.destroyForcibly().waitFor();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            killer.start();
            long t0 = System.nanoTime();
            JMSException e = assertThrows(JMSException.class, () -> consumer.receive(20_000));
            killer.join();
            assertTrue((System.nanoTime() - t0) / 1_000_000 < 15_000, "noticed in time");
            assertTrue(e.getMessage().toLowerCase().contains("amqp"), e.getMessage());
            JMSException reported = lost.get(10, java.util.concurrent.TimeUnit.SECONDS);
            assertTrue(reported.getMessage().contains("lost"), reported.getMessage());
            c.close();
            c.close();
        }
        assertTrue(Native.liveHandles() == before, "handles released");
    }

    @Test
    void closingAConnectionDoesNotCallItsExceptionListener() throws Exception {
        java.util.concurrent.atomic.AtomicReference<JMSException> called = new java.util.concurrent.atomic.AtomicReference<>();
        Connection c = new MqbridgeConnectionFactory(Target.SHIM_MQBRIDGE.shimUri()).createConnection();
        c.setExceptionListener(called::set);
        Thread.sleep(300);
        c.close();
        Thread.sleep(500);
        assertTrue(called.get() == null, "listener not called on close");
    }
}
