package io.mqbridge.jms;

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
import javax.jms.MessageFormatException;
import javax.jms.MessageFormatRuntimeException;
import javax.jms.MessageNotWriteableException;
import javax.jms.MessageNotWriteableRuntimeException;
import javax.jms.ResourceAllocationException;
import javax.jms.ResourceAllocationRuntimeException;
import javax.jms.TransactionInProgressException;
import javax.jms.TransactionInProgressRuntimeException;
import javax.jms.TransactionRolledBackException;
import javax.jms.TransactionRolledBackRuntimeException;

/**
 * The JMS 2.0 simplified API throws unchecked exceptions: each checked {@link JMSException}
 * of the classic API becomes the {@link JMSRuntimeException} subclass the spec pairs with it
 * (same message and error code, the JMSException as cause).
 */
final class JmsRuntime {
    private JmsRuntime() {}

    /** A call of the classic API, whose JMSException is rethrown unchecked. */
    interface Call<T> {
        T call() throws JMSException;
    }

    /** Same, without a result. */
    interface Run {
        void run() throws JMSException;
    }

    static <T> T call(Call<T> c) {
        try {
            return c.call();
        } catch (JMSException e) {
            throw convert(e);
        }
    }

    static void run(Run r) {
        try {
            r.run();
        } catch (JMSException e) {
            throw convert(e);
        }
    }

    static JMSRuntimeException convert(JMSException e) {
        String m = e.getMessage();
        String code = e.getErrorCode();
        // Exceptions without a runtime partner (MessageEOFException, MessageNotReadableException)
        // become a plain JMSRuntimeException.
        if (e instanceof IllegalStateException) {
            return new IllegalStateRuntimeException(m, code, e);
        }
        if (e instanceof InvalidClientIDException) {
            return new InvalidClientIDRuntimeException(m, code, e);
        }
        if (e instanceof InvalidDestinationException) {
            return new InvalidDestinationRuntimeException(m, code, e);
        }
        if (e instanceof InvalidSelectorException) {
            return new InvalidSelectorRuntimeException(m, code, e);
        }
        if (e instanceof JMSSecurityException) {
            return new JMSSecurityRuntimeException(m, code, e);
        }
        if (e instanceof MessageFormatException) {
            return new MessageFormatRuntimeException(m, code, e);
        }
        if (e instanceof MessageNotWriteableException) {
            return new MessageNotWriteableRuntimeException(m, code, e);
        }
        if (e instanceof ResourceAllocationException) {
            return new ResourceAllocationRuntimeException(m, code, e);
        }
        if (e instanceof TransactionInProgressException) {
            return new TransactionInProgressRuntimeException(m, code, e);
        }
        if (e instanceof TransactionRolledBackException) {
            return new TransactionRolledBackRuntimeException(m, code, e);
        }
        return new JMSRuntimeException(m, code, e);
    }
}
