package io.mqbridge.jms;

import javax.jms.IllegalStateException;
import javax.jms.JMSException;

/**
 * Owns one native handle: closing releases it exactly once (close is idempotent), and any
 * use after close is a {@link javax.jms.IllegalStateException}.
 */
abstract class NativeResource implements AutoCloseable {
    final long handle;
    private final String what;
    private volatile boolean closed;

    NativeResource(long handle, String what) {
        this.handle = handle;
        this.what = what;
    }

    final void checkOpen() throws IllegalStateException {
        if (closed) {
            throw new IllegalStateException("the " + what + " is closed");
        }
    }

    final boolean isClosed() {
        return closed;
    }

    /** Close children first (subclasses), then the handle. */
    void closeChildren() throws JMSException {}

    @Override
    public void close() throws JMSException {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        try {
            closeChildren();
        } finally {
            Native.close(handle);
        }
    }
}
