package io.ironruntime.admin;

/** The client side of a streamed admin response. Thread-safe; never blocks. */
public interface StreamSink {
    /**
     * Queues {@code chunk} for the client. False when the client is gone, or when it has not read the
     * bytes already queued (more than the stream's bound): the stream is then ended and the chunk dropped.
     */
    boolean write(byte[] chunk);

    /** Ends the response after what is queued. */
    void end();
}
