package io.mqbridge.jms;

import javax.jms.JMSException;
import javax.jms.JMSRuntimeException;

/** The one way this provider says a feature is missing: never silently ignored. */
final class NotImplemented {
    private NotImplemented() {}

    static JMSException of(String what) {
        return new JMSException("not implemented yet: " + what);
    }

    /** For methods whose signature allows no checked exception (JMS 2.0 simplified API). */
    static JMSRuntimeException runtime(String what) {
        return new JMSRuntimeException("not implemented yet: " + what);
    }
}
