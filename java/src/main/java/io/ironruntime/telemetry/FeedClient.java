package io.ironruntime.telemetry;

/** The transport end of one live-feed subscriber (an SSE response, a WebSocket). Called on the feed thread. */
public interface FeedClient {
    /** Why the hub ends a subscriber. */
    enum Close {
        /** It did not read what it was sent: its socket buffer stayed full. */
        TOO_SLOW,
        /** Events arrived faster than the feed could hand them on, and some were lost for it. */
        OVERFLOW,
        /** The router is stopping. */
        STOPPING
    }

    /**
     * Queues one message for the client without blocking. False when the client has not drained
     * what it was sent before: the hub then disconnects it and counts it as dropped.
     */
    boolean send(FeedMessage message);

    /**
     * Hands what {@link #send} held back to the socket, once per round: a transport that batches
     * (SSE: one write per round instead of one per message) does it here. False as for {@link #send}.
     */
    default boolean flush() {
        return true;
    }

    /** Ends the connection for {@code why}; the client is no longer the hub's. */
    void close(Close why);
}
