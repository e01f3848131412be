package io.mqbridge.jms;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.jms.BytesMessage;
import javax.jms.CompletionListener;
import javax.jms.Connection;
import javax.jms.JMSException;
import javax.jms.Message;
import javax.jms.MessageProducer;
import javax.jms.Session;
import org.junit.jupiter.api.Test;

/**
 * A send never hangs: a broker that stops taking messages (mqbridge with its memory alarm
 * raised blocks publishing connections, as RabbitMQ does) makes a synchronous send fail with a JMSException after the factory's confirm
 * timeout, and an asynchronous one call onException. Shim-only and needs a private broker
 * whose alarm it can raise (raising RabbitMQ's would block every other user of it).
 */
class ConfirmTimeoutTest {
    @Test
    void noConfirmWithinTheTimeoutIsAJmsException() throws Exception {
        // The alarm goes up once the bridge holds more than 120 MiB of messages (checked every
        // second); from then on it stops reading this publishing connection.
        try (BridgeProcess own = BridgeProcess.start("limits:\n  memory_high_watermark: \"120MiB\"\n")) {
            MqbridgeConnectionFactory f = new MqbridgeConnectionFactory(
                    "mqbridge://guest:guest@" + own.host + ":" + own.port + "/");
            assertEquals(30_000, f.getConfirmTimeoutMs());
            assertThrows(IllegalArgumentException.class, () -> f.setConfirmTimeoutMs(0));
            f.setConfirmTimeoutMs(1500);
            Connection c = f.createConnection();
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageProducer p = s.createProducer(s.createQueue("filling"));
            byte[] chunk = new byte[4 << 20];
            JMSException timedOut = null;
            long tookMs = 0;
            for (int i = 0; i < 100 && timedOut == null; i++) {
                BytesMessage m = s.createBytesMessage();
                m.writeBytes(chunk);
                long t0 = System.nanoTime();
                try {
                    p.send(m);
                } catch (JMSException e) {
                    timedOut = e;
                    tookMs = (System.nanoTime() - t0) / 1_000_000;
                }
            }
            assertNotNull(timedOut, "the alarm never blocked the producer");
            assertTrue(timedOut.getMessage().contains("1500 ms"), timedOut.getMessage());
            assertTrue(tookMs >= 1400 && tookMs < 10_000, "gave up after the timeout, took " + tookMs + " ms");

            // Asynchronous: the broker does not take it either; JMS lets the send throw (what
            // the shim does when the message cannot even be written in time) or report it.
            CompletableFuture<Exception> failed = new CompletableFuture<>();
            CompletionListener listener = new CompletionListener() {
                @Override
                public void onCompletion(Message m) {
                    failed.completeExceptionally(new AssertionError("completed without a confirm"));
                }

                @Override
                public void onException(Message m, Exception ex) {
                    failed.complete(ex);
                }
            };
            try {
                p.send(s.createTextMessage("stuck too"), listener);
            } catch (JMSException e) {
                failed.complete(e);
            }
            Exception ex = failed.get(15, TimeUnit.SECONDS);
            assertTrue(ex instanceof JMSException && ex.getMessage().contains("1500 ms"), ex.toString());
            own.process.destroyForcibly().waitFor();
            c.close();
        }
    }
}
