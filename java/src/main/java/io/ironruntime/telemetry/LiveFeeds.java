package io.ironruntime.telemetry;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ironruntime.admin.AdminHandler;
import io.ironruntime.events.EventBus;
import java.net.InetSocketAddress;
import java.util.function.BiPredicate;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A router's live feeds: the {@link FeedHub}, its Server-Sent Events endpoint (served by the router's
 * own port) and its WebSocket server (on a second port of the same host, bound while the router runs).
 */
public final class LiveFeeds {
    private static final Logger LOG = LoggerFactory.getLogger(LiveFeeds.class);
    /** The protocol's heartbeat interval. */
    public static final long HEARTBEAT_MILLIS = 30_000;
    /** How long a WebSocket client may take to send its token. */
    public static final long AUTH_TIMEOUT_MILLIS = 5_000;
    /** Each subscriber's event buffer. */
    public static final int QUEUE_CAPACITY = 4_096;
    static final int STOP_MILLIS = 5_000;

    private final FeedHub hub;
    private final SseFeed sse;
    private final BiPredicate<String, String> auth;
    private final long authTimeoutMillis;
    private FeedSocketServer socket;
    /** The WebSocket port of the running server, or 0; read by Host checks on any thread. */
    private volatile int port;
    /** The previous run's port, tried first so a client's URL stays valid across a restart. */
    private int lastPort;

    /**
     * @param auth {@code (authorizationHeader, bareToken)}: true when either holds the admin token
     */
    public LiveFeeds(EventBus bus, Supplier<ObjectNode> routerMetrics, BooleanSupplier routerRunning,
            Function<String, ObjectNode> agentFigures, BiPredicate<String, String> auth, long heartbeatMillis,
            long authTimeoutMillis) {
        this.hub = new FeedHub(bus, routerMetrics, routerRunning, agentFigures, heartbeatMillis, QUEUE_CAPACITY);
        this.sse = new SseFeed(hub);
        this.auth = auth;
        this.authTimeoutMillis = authTimeoutMillis;
    }

    /** {@code GET /iron/events}. */
    public AdminHandler sse() {
        return sse;
    }

    public FeedHub hub() {
        return hub;
    }

    /**
     * Starts the feed thread and binds the WebSocket server on {@code host} (the previous run's port
     * if it is free, else any).
     *
     * @param hostAllowed   accepts a handshake's {@code Host} header (null when absent)
     * @param originAllowed accepts a browser's {@code Origin}
     * @throws IllegalStateException when no port can be bound, with the cause
     */
    public synchronized void start(String host, Predicate<String> hostAllowed, Predicate<String> originAllowed) {
        if (socket != null) {
            return;
        }
        hub.start();
        try {
            int wanted = lastPort != 0 && isFree(host, lastPort) ? lastPort : 0;
            socket = bind(host, wanted, hostAllowed, originAllowed);
        } catch (Exception e) {
            hub.stop();
            throw new IllegalStateException("cannot listen for the WebSocket feed on " + host + " ("
                    + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()) + ")", e);
        }
        port = socket.getPort();
        lastPort = port;
    }

    /** Probed first because the library logs a failed bind as a fatal error with its stack trace. */
    private static boolean isFree(String host, int port) {
        try (java.net.ServerSocket probe = new java.net.ServerSocket()) {
            probe.setReuseAddress(true);
            probe.bind(new InetSocketAddress(host, port));
            return true;
        } catch (java.io.IOException e) {
            return false;
        }
    }

    private FeedSocketServer bind(String host, int wanted, Predicate<String> hostAllowed,
            Predicate<String> originAllowed) throws Exception {
        FeedSocketServer s = new FeedSocketServer(new InetSocketAddress(host, wanted), hub, auth, hostAllowed,
                originAllowed, authTimeoutMillis);
        try {
            s.startAndWait(STOP_MILLIS);
            return s;
        } catch (Exception e) {
            s.stop(STOP_MILLIS);
            throw e;
        }
    }

    /**
     * Hands out what is queued, disconnects every subscriber (WebSockets with 1001 "router stopped")
     * and frees the WebSocket port. Idempotent.
     */
    public synchronized void stop() {
        hub.stop();
        FeedSocketServer s = socket;
        socket = null;
        port = 0;
        if (s == null) {
            return;
        }
        try {
            s.stop(STOP_MILLIS, "router stopped");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        // A client that never answered the close handshake still holds a socket: cut it.
        s.getConnections().forEach(c -> c.closeConnection(1001, "router stopped"));
        LOG.debug("live feed WebSocket server stopped");
    }

    /** The WebSocket port while running, else 0. */
    public int port() {
        return port;
    }

    /** The WebSocket path on {@link #port()}. */
    public String path() {
        return FeedSocketServer.PATH;
    }

    /** The feed's counters into {@code router.metrics()}. */
    public void addTo(ObjectNode o) {
        o.put("feed_subscribers", hub.subscribers());
        o.put("feed_subscribers_dropped", hub.dropped());
        o.put("feed_messages_sent", hub.sent());
        o.put("feed_auth_failures", hub.authFailures());
    }
}
