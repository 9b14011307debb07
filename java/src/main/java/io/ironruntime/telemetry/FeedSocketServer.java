package io.ironruntime.telemetry;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BiPredicate;
import java.util.function.Predicate;
import org.java_websocket.WebSocket;
import org.java_websocket.WebSocketImpl;
import org.java_websocket.drafts.Draft;
import org.java_websocket.drafts.Draft_6455;
import org.java_websocket.exceptions.InvalidDataException;
import org.java_websocket.exceptions.WebsocketNotConnectedException;
import org.java_websocket.framing.CloseFrame;
import org.java_websocket.framing.TextFrame;
import org.java_websocket.handshake.ClientHandshake;
import org.java_websocket.handshake.ServerHandshakeBuilder;
import org.java_websocket.server.WebSocketServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The live feed over WebSocket ({@code /iron/ws}), on a loopback port of its own (Java-WebSocket: no
 * released HttpCore serves WebSocket). The handshake is refused (HTTP 404) for another path, a
 * foreign {@code Host} or a foreign {@code Origin} (DNS rebinding, cross-site pages). The client
 * authenticates with the admin token as {@code Authorization: Bearer} on the handshake or, as the
 * Iron Cage dashboard did, as its first text message (the bare token or
 * {@code {"type":"AUTH","token":"..."}}); a wrong token, or none within the deadline, closes the
 * connection with {@link #CLOSE_INVALID_TOKEN} or {@link #CLOSE_AUTH_TIMEOUT} and is counted.
 * Messages a client sends after authenticating are ignored. One selector thread and one worker
 * thread, both daemons; sending only queues, on the feed thread.
 */
final class FeedSocketServer extends WebSocketServer {
    private static final Logger LOG = LoggerFactory.getLogger(FeedSocketServer.class);
    static final String PATH = "/iron/ws";
    /** A wrong token (HTTP 401's WebSocket cousin, in the application range 4000-4999). */
    static final int CLOSE_INVALID_TOKEN = 4401;
    /** No token within the deadline. */
    static final int CLOSE_AUTH_TIMEOUT = 4408;
    /** Bytes queued for a client that does not read, past which it is cut off (as the SSE stream's bound). */
    static final long MAX_QUEUED_BYTES = 1 << 20;
    /** A server frame's header, at most (no mask). */
    static final int FRAME_HEADER = 10;
    /** Clients only ever send a token: a larger frame closes the connection (1009). */
    static final int MAX_INBOUND_FRAME = 16 * 1024;

    private final FeedHub hub;
    private final BiPredicate<String, String> auth;
    private final Predicate<String> hostAllowed;
    private final Predicate<String> originAllowed;
    private final long authTimeoutMillis;
    private final CountDownLatch started = new CountDownLatch(1);
    private volatile Exception startFailure;

    /**
     * @param auth          {@code (authorizationHeader, bareToken)}: true when either holds the admin token
     * @param hostAllowed   the handshake's {@code Host} (null when absent) is one of ours
     * @param originAllowed the handshake's {@code Origin}, when a browser sent one, is one of ours
     */
    FeedSocketServer(InetSocketAddress address, FeedHub hub, BiPredicate<String, String> auth,
            Predicate<String> hostAllowed, Predicate<String> originAllowed, long authTimeoutMillis) {
        super(address, 1, List.<Draft>of(new Draft_6455(Collections.emptyList(), MAX_INBOUND_FRAME)));
        this.hub = hub;
        this.auth = auth;
        this.hostAllowed = hostAllowed;
        this.originAllowed = originAllowed;
        this.authTimeoutMillis = authTimeoutMillis;
        setDaemon(true); // a non-daemon thread would keep Python from exiting
        setReuseAddr(true);
        setTcpNoDelay(true);
    }

    /** Binds and starts serving; throws with the cause when the address cannot be bound. */
    void startAndWait(long timeoutMillis) throws Exception {
        start();
        if (!started.await(timeoutMillis, TimeUnit.MILLISECONDS)) {
            throw new IllegalStateException("the WebSocket server did not start within " + timeoutMillis + " ms");
        }
        if (startFailure != null) {
            throw startFailure;
        }
    }

    /** Per connection, from the handshake on. */
    private static final class Session {
        /** The handshake's Authorization header, or null. */
        final String authorization;
        boolean authenticated;
        boolean ended;
        FeedHub.Subscription subscription;

        Session(String authorization) {
            this.authorization = authorization;
        }
    }

    @Override
    public ServerHandshakeBuilder onWebsocketHandshakeReceivedAsServer(WebSocket conn, Draft draft,
            ClientHandshake request) throws InvalidDataException {
        String target = request.getResourceDescriptor();
        int q = target.indexOf('?');
        String path = q < 0 ? target : target.substring(0, q);
        if (!path.equals(PATH) && !path.equals(PATH + "/")) {
            throw new InvalidDataException(CloseFrame.POLICY_VALIDATION, "unknown path");
        }
        if (!hostAllowed.test(emptyToNull(request.getFieldValue("Host")))) {
            throw new InvalidDataException(CloseFrame.POLICY_VALIDATION, "host not allowed");
        }
        String origin = emptyToNull(request.getFieldValue("Origin"));
        if (origin != null && !originAllowed.test(origin)) {
            throw new InvalidDataException(CloseFrame.POLICY_VALIDATION, "origin not allowed");
        }
        conn.setAttachment(new Session(emptyToNull(request.getFieldValue("Authorization"))));
        return super.onWebsocketHandshakeReceivedAsServer(conn, draft, request);
    }

    @Override
    public void onOpen(WebSocket conn, ClientHandshake handshake) {
        Session s = conn.getAttachment();
        if (s.authorization != null) {
            if (auth.test(s.authorization, null)) {
                authenticate(conn, s);
            } else {
                reject(conn, s, CLOSE_INVALID_TOKEN, "invalid token: the feed needs the router's admin token");
            }
            return;
        }
        hub.schedule(() -> reject(conn, s, CLOSE_AUTH_TIMEOUT, "no token within " + authTimeoutMillis
                + " ms: send the router's admin token first"), authTimeoutMillis);
    }

    @Override
    public void onMessage(WebSocket conn, String message) {
        Session s = conn.getAttachment();
        synchronized (s) {
            if (s.authenticated || s.ended) {
                return;
            }
        }
        String token = FeedProtocol.authToken(message);
        if (token != null && auth.test(null, token)) {
            authenticate(conn, s);
        } else {
            reject(conn, s, CLOSE_INVALID_TOKEN, "invalid token: the feed needs the router's admin token");
        }
    }

    @Override
    public void onMessage(WebSocket conn, ByteBuffer message) {
        onMessage(conn, java.nio.charset.StandardCharsets.UTF_8.decode(message).toString());
    }

    private void authenticate(WebSocket conn, Session s) {
        synchronized (s) {
            if (s.authenticated || s.ended) {
                return;
            }
            s.authenticated = true;
            s.subscription = hub.subscribe("feed-ws", FeedFilter.ALL, new Client(conn));
        }
    }

    /** Closes a client that has not authenticated (a no-op once it has, or once it left). */
    private void reject(WebSocket conn, Session s, int code, String reason) {
        synchronized (s) {
            if (s.authenticated || s.ended) {
                return;
            }
            s.ended = true;
        }
        hub.countAuthFailure();
        conn.close(code, reason);
    }

    @Override
    public void onClose(WebSocket conn, int code, String reason, boolean remote) {
        Session s = conn.getAttachment();
        if (s == null) {
            return;
        }
        FeedHub.Subscription sub;
        synchronized (s) {
            s.ended = true;
            sub = s.subscription;
        }
        if (sub != null) {
            sub.close();
        }
    }

    @Override
    public void onError(WebSocket conn, Exception ex) {
        if (conn == null) { // the server itself: binding failed, or its selector died
            if (started.getCount() > 0) {
                startFailure = ex;
                started.countDown();
            } else {
                LOG.warn("live feed WebSocket server failed ({})", ex.toString());
            }
        } else {
            LOG.debug("live feed WebSocket connection failed ({})", ex.toString());
        }
    }

    @Override
    public void onStart() {
        started.countDown();
    }

    private static String emptyToNull(String s) {
        return s == null || s.isEmpty() ? null : s;
    }

    /** Bytes the library holds for {@code conn} that its socket has not taken; stops counting past the bound. */
    static long queuedBytes(WebSocket conn) {
        if (!(conn instanceof WebSocketImpl)) {
            return 0;
        }
        long n = 0;
        for (ByteBuffer b : ((WebSocketImpl) conn).outQueue) {
            n += b.remaining();
            if (n > MAX_QUEUED_BYTES) {
                break;
            }
        }
        return n;
    }

    /** An authenticated connection as a hub subscriber. Used by the feed thread only. */
    private static final class Client implements FeedClient {
        private final WebSocket conn;
        /**
         * At least the bytes queued for the socket: the last exact count plus what was sent since
         * (draining only lowers the real figure). Recounting
         * walks the library's queue, so it happens when this bound passes the limit, not per message:
         * for a client that reads, the queue is then nearly empty and the walk short.
         */
        private long queuedAtMost;

        Client(WebSocket conn) {
            this.conn = conn;
        }

        @Override
        public boolean send(FeedMessage message) {
            if (!conn.isOpen()) {
                return true; // closing: its onClose ends the subscription
            }
            if (queuedAtMost > MAX_QUEUED_BYTES) {
                queuedAtMost = queuedBytes(conn);
                if (queuedAtMost > MAX_QUEUED_BYTES) {
                    return false;
                }
            }
            byte[] payload = message.utf8();
            TextFrame frame = new TextFrame(); // final, unmasked: as send(String) makes it, minus re-encoding
            frame.setPayload(ByteBuffer.wrap(payload));
            try {
                conn.sendFrame(frame);
            } catch (WebsocketNotConnectedException e) {
                return true; // closed meanwhile: same as above
            }
            queuedAtMost += payload.length + FRAME_HEADER;
            return true;
        }

        @Override
        public void close(Close why) {
            switch (why) {
                case TOO_SLOW:
                    // Its socket is full: a close frame would never get through, so the connection is cut.
                    conn.closeConnection(CloseFrame.TRY_AGAIN_LATER, "too slow: the client did not read the feed");
                    break;
                case OVERFLOW:
                    conn.close(CloseFrame.TRY_AGAIN_LATER, "too slow: events were lost, reconnect for a fresh state");
                    break;
                default:
                    conn.close(CloseFrame.GOING_AWAY, "router stopped");
            }
        }
    }
}
