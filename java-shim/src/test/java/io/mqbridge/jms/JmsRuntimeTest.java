package io.mqbridge.jms;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.Map;
import javax.jms.IllegalStateException;
import javax.jms.IllegalStateRuntimeException;
import javax.jms.InvalidClientIDException;
import javax.jms.InvalidClientIDRuntimeException;
import javax.jms.InvalidDestinationException;
import javax.jms.InvalidDestinationRuntimeException;
import javax.jms.InvalidSelectorException;
import javax.jms.InvalidSelectorRuntimeException;
import javax.jms.JMSException;
import javax.jms.JMSRuntimeException;
import javax.jms.JMSSecurityException;
import javax.jms.JMSSecurityRuntimeException;
import javax.jms.MessageEOFException;
import javax.jms.MessageFormatException;
import javax.jms.MessageFormatRuntimeException;
import javax.jms.MessageNotReadableException;
import javax.jms.MessageNotWriteableException;
import javax.jms.MessageNotWriteableRuntimeException;
import javax.jms.ResourceAllocationException;
import javax.jms.ResourceAllocationRuntimeException;
import javax.jms.TransactionInProgressException;
import javax.jms.TransactionInProgressRuntimeException;
import javax.jms.TransactionRolledBackException;
import javax.jms.TransactionRolledBackRuntimeException;
import org.junit.jupiter.api.Test;

/**
 * The pure-Java edges of the JMS 2.0 and jakarta work: checked to unchecked exception mapping
 * (JmsRuntime) and the exceptions Native.failure makes for the native side. The end-to-end
 * paths are in JMSContextTest and MqbridgeJakartaIT.
 */
class JmsRuntimeTest {
    @Test
    void everyJmsExceptionBecomesItsRuntimePartnerWithMessageCodeAndCause() {
        Map<JMSException, Class<? extends JMSRuntimeException>> cases = new LinkedHashMap<>();
        cases.put(new IllegalStateException("m", "c"), IllegalStateRuntimeException.class);
        cases.put(new InvalidClientIDException("m", "c"), InvalidClientIDRuntimeException.class);
        cases.put(new InvalidDestinationException("m", "c"), InvalidDestinationRuntimeException.class);
        cases.put(new InvalidSelectorException("m", "c"), InvalidSelectorRuntimeException.class);
        cases.put(new JMSSecurityException("m", "c"), JMSSecurityRuntimeException.class);
        cases.put(new MessageFormatException("m", "c"), MessageFormatRuntimeException.class);
        cases.put(new MessageEOFException("m", "c"), JMSRuntimeException.class);
        cases.put(new MessageNotWriteableException("m", "c"), MessageNotWriteableRuntimeException.class);
        cases.put(new ResourceAllocationException("m", "c"), ResourceAllocationRuntimeException.class);
        cases.put(new TransactionInProgressException("m", "c"), TransactionInProgressRuntimeException.class);
        cases.put(new TransactionRolledBackException("m", "c"), TransactionRolledBackRuntimeException.class);
        cases.put(new MessageNotReadableException("m", "c"), JMSRuntimeException.class);
        cases.put(new JMSException("m", "c"), JMSRuntimeException.class);
        for (Map.Entry<JMSException, Class<? extends JMSRuntimeException>> e : cases.entrySet()) {
            JMSRuntimeException r = JmsRuntime.convert(e.getKey());
            assertEquals(e.getValue(), r.getClass(), e.getKey().getClass().getName());
            assertEquals("m", r.getMessage());
            assertEquals("c", r.getErrorCode());
            assertSame(e.getKey(), r.getCause());
        }
    }

    @Test
    void nativeFailureMakesTheNamedJmsExceptionInThisJarsPackage() {
        Throwable t = Native.failure("javax/jms/InvalidDestinationException", "no such queue");
        assertEquals(InvalidDestinationException.class, t.getClass());
        assertEquals("no such queue", t.getMessage());
        assertEquals(JMSSecurityException.class, Native.failure("javax/jms/JMSSecurityException", "x").getClass());
        assertEquals(IllegalStateException.class, Native.failure("javax/jms/IllegalStateException", "x").getClass());
        assertEquals(JMSException.class, Native.failure("javax/jms/JMSException", "x").getClass());
        // Other classes as named.
        assertEquals(IllegalArgumentException.class,
                Native.failure("java/lang/IllegalArgumentException", "bad").getClass());
        // A class that cannot be made: a JMSException that says which class was meant.
        for (String bad : new String[] {"javax/jms/NoSuchException", "java/lang/Object", "no/such/Thing"}) {
            Throwable f = Native.failure(bad, "lost");
            assertEquals(JMSException.class, f.getClass(), bad);
            assertTrue(f.getMessage().startsWith("lost") && f.getMessage().contains(bad), f.getMessage());
        }
    }
}
