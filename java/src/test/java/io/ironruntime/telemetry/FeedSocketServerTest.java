package io.ironruntime.telemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ironruntime.Json;
import io.ironruntime.events.EngineEvent;
import io.ironruntime.events.EventBus;
import io.ironruntime.router.ClientAuth;
import io.ironruntime.router.HostGuard;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The WebSocket feed on a real loopback port, spoken to by the JDK's WebSocket client (and raw
 * sockets where a handshake must be forged or a client must stop reading).
 */
class FeedSocketServerTest {
    private static final String TOKEN = "iron-admin-TOKEN-0123456789";
    private static final long HEARTBEAT_MS = 200;
    private static final long AUTH_TIMEOUT_MS = 400;
    private final EventBus bus = new EventBus();
    private final HttpClient http = HttpClient.newHttpClient();
    private LiveFeeds feeds;
    private HostGuard hosts;

    @BeforeEach
    void start() {
        feeds = new LiveFeeds(bus, () -> Json.MAPPER.createObjectNode().put("budget_spent", 0.25), () -> true,
                id -> null, new ClientAuth(TOKEN)::accepts, HEARTBEAT_MS, AUTH_TIMEOUT_MS);
        hosts = new HostGuard("127.0.0.1", feeds::port);
        feeds.start("127.0.0.1", hosts::allows, hosts::allowsOrigin);
    }

    @AfterEach
    void stop() {
        feeds.stop();
    }

    private URI uri() {
        return URI.create("ws://127.0.0.1:" + feeds.port() + "/iron/ws");
    }

    record Closed(int code, String reason) {
    }

    /** Collects whole text messages and the close the server sent. */
    static final class Listener implements WebSocket.Listener {
        final BlockingQueue<String> messages = new LinkedBlockingQueue<>();
        final CompletableFuture<Closed> closed = new CompletableFuture<>();
        private final StringBuilder partial = new StringBuilder();

        @Override
        public void onOpen(WebSocket ws) {
            ws.request(1);
        }

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                messages.add(partial.toString());
                partial.setLength(0);
            }
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket ws, int code, String reason) {
            closed.complete(new Closed(code, reason));
            return null;
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
            closed.completeExceptionally(error);
        }

        JsonNode next() throws Exception {
            String m = messages.poll(20, TimeUnit.SECONDS);
            if (m == null) {
                throw new AssertionError("no message within 20 s");
            }
            return Json.MAPPER.readTree(m);
        }

        /** The next message of {@code type}, skipping heartbeats and snapshots in between. */
        JsonNode next(String type) throws Exception {
            while (true) {
                JsonNode n = next();
                if (n.get("type").asText().equals(type)) {
                    return n;
                }
            }
        }
    }

    private WebSocket connect(Listener l, String authorization) throws Exception {
        WebSocket.Builder b = http.newWebSocketBuilder();
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        return b.buildAsync(uri(), l).get(20, TimeUnit.SECONDS);
    }

    private static EngineEvent completed(int i, String padding) {
        ObjectNode p = Json.MAPPER.createObjectNode();
        p.put("model", "gpt-4o-mini");
        p.put("input_tokens", 10);
        p.put("output_tokens", 5);
        p.put("cost", 0.002);
        p.put("padding", padding);
        return EngineEvent.of(EngineEvent.REQUEST_COMPLETED, null, "req-" + i, p);
    }

    @Test
    void aBearerClientHearsTheStateThenEventsThenHeartbeats() throws Exception {
        Listener l = new Listener();
        WebSocket ws = connect(l, "Bearer " + TOKEN);
        JsonNode hello = l.next();
        assertEquals("STATE_UPDATE", hello.get("type").asText());
        assertEquals("running", hello.get("state").asText());
        assertEquals(0.25, hello.get("data").get("budget_spent").asDouble());
        assertTrue(hello.get("agent_id").isNull());
        EngineEvent e = completed(1, "");
        bus.publish(e);
        JsonNode event = l.next("request_completed");
        assertEquals(e.eventId(), event.get("event_id").asText());
        assertEquals("req-1", event.get("request_id").asText());
        JsonNode call = l.next();
        assertEquals("AGENT_EVENT", call.get("type").asText(), "derived right after its event");
        assertEquals(15, call.get("data").get("tokens").asInt());
        assertEquals("STATE_UPDATE", l.next("STATE_UPDATE").get("type").asText(), "spend changed: a fresh snapshot");
        JsonNode beat = l.next("HEARTBEAT");
        assertTrue(beat.get("timestamp_ms").asLong() > 0);
        assertEquals(1, feeds.hub().subscribers());
        ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(10, TimeUnit.SECONDS);
        FeedHubTest.waitFor(() -> feeds.hub().subscribers() == 0, "the subscriber to leave");
        assertEquals(0, feeds.hub().dropped(), "leaving is not being dropped");
        assertEquals(0, feeds.hub().authFailures());
    }

    @Test
    void theTokenMayComeAsTheFirstMessagePlainOrAsAuthJson() throws Exception {
        Listener plain = new Listener();
        connect(plain, null).sendText(TOKEN, true);
        assertEquals("STATE_UPDATE", plain.next().get("type").asText());
        Listener json = new Listener();
        WebSocket ws = connect(json, null);
        ws.sendText("{\"type\":\"AUTH\",\"token\":\"" + TOKEN + "\"}", true);
        assertEquals("STATE_UPDATE", json.next().get("type").asText());
        ws.sendText("anything after authenticating is ignored", true);
        bus.publish(completed(2, ""));
        assertEquals("req-2", json.next("request_completed").get("request_id").asText());
        assertEquals(2, feeds.hub().subscribers());
        assertEquals(0, feeds.hub().authFailures());
    }

    @Test
    void wrongOrMissingTokensAreClosedWithAReasonAndCounted() throws Exception {
        Listener badHeader = new Listener();
        connect(badHeader, "Bearer not-the-token");
        Closed c1 = badHeader.closed.get(20, TimeUnit.SECONDS);
        assertEquals(FeedSocketServer.CLOSE_INVALID_TOKEN, c1.code());
        assertTrue(c1.reason().contains("invalid token"), c1.reason());

        Listener badMessage = new Listener();
        connect(badMessage, null).sendText("{\"type\":\"AUTH\",\"token\":\"nope\"}", true);
        assertEquals(FeedSocketServer.CLOSE_INVALID_TOKEN, badMessage.closed.get(20, TimeUnit.SECONDS).code());

        Listener silent = new Listener();
        connect(silent, null);
        Closed c3 = silent.closed.get(20, TimeUnit.SECONDS);
        assertEquals(FeedSocketServer.CLOSE_AUTH_TIMEOUT, c3.code());
        assertTrue(c3.reason().contains("no token within"), c3.reason());

        assertEquals(3, feeds.hub().authFailures());
        assertEquals(0, feeds.hub().subscribers());
        bus.publish(completed(3, ""));
        Thread.sleep(50);
        for (Listener l : List.of(badHeader, badMessage, silent)) {
            assertTrue(l.messages.isEmpty(), "an unauthenticated client hears nothing: " + l.messages);
        }
    }

    /** The status line the server answers a hand-written handshake with. */
    private String handshake(String path, String host, String origin) throws IOException {
        try (Socket s = new Socket("127.0.0.1", feeds.port())) {
            s.setSoTimeout(20_000);
            String req = "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                    + (origin == null ? "" : "Origin: " + origin + "\r\n") + "\r\n";
            s.getOutputStream().write(req.getBytes(StandardCharsets.US_ASCII));
            return readLine(s.getInputStream());
        }
    }

    private static String readLine(InputStream in) throws IOException {
        StringBuilder b = new StringBuilder();
        int c;
        while ((c = in.read()) >= 0 && c != '\n') {
            if (c != '\r') {
                b.append((char) c);
            }
        }
        return b.toString();
    }

    @Test
    void foreignHostsOriginsAndPathsAreRefusedAtTheHandshake() throws Exception {
        String self = "127.0.0.1:" + feeds.port();
        assertTrue(handshake("/iron/ws", self, null).startsWith("HTTP/1.1 101"), "the control case upgrades");
        assertTrue(handshake("/iron/ws", "localhost:" + feeds.port(), "http://" + self).startsWith("HTTP/1.1 101"));
        assertTrue(handshake("/iron/ws", "evil.example:" + feeds.port(), null).startsWith("HTTP/1.1 404"),
                "DNS rebinding: a foreign Host");
        assertTrue(handshake("/iron/ws", self, "http://evil.example").startsWith("HTTP/1.1 404"), "a foreign page");
        assertTrue(handshake("/iron/ws", self, "null").startsWith("HTTP/1.1 404"), "a sandboxed page");
        assertTrue(handshake("/iron/ws", self, "http://127.0.0.1:1").startsWith("HTTP/1.1 404"), "another port's page");
        assertTrue(handshake("/other", self, null).startsWith("HTTP/1.1 404"), "an unknown path");
    }

    @Test
    void aClientThatStopsReadingIsDroppedWhileAnotherReceivesEverything() throws Exception {
        Listener fast = new Listener();
        connect(fast, "Bearer " + TOKEN);
        fast.next("STATE_UPDATE");
        try (Socket stuck = new Socket()) {
            stuck.setReceiveBufferSize(4096); // before connecting, so the window stays small
            stuck.connect(new InetSocketAddress("127.0.0.1", feeds.port()), 10_000);
            stuck.setSoTimeout(20_000);
            OutputStream out = stuck.getOutputStream();
            out.write(("GET /iron/ws HTTP/1.1\r\nHost: 127.0.0.1:" + feeds.port() + "\r\nUpgrade: websocket\r\n"
                    + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                    + "Sec-WebSocket-Version: 13\r\nAuthorization: Bearer " + TOKEN + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            assertTrue(readLine(stuck.getInputStream()).startsWith("HTTP/1.1 101"));
            FeedHubTest.waitFor(() -> feeds.hub().subscribers() == 2, "both subscribers");
            // From here the stuck client reads nothing: the kernel's buffers fill, then the library's queue.
            String padding = "x".repeat(8 * 1024);
            List<String> expected = new ArrayList<>();
            List<String> got = new ArrayList<>();
            int published = 0;
            while (feeds.hub().dropped() == 0 && published < 10_000) {
                for (int i = 0; i < 50; i++, published++) {
                    bus.publish(completed(published, padding));
                    expected.add("req-" + published);
                }
                // The reading client takes each batch before the next: only the stuck one falls behind.
                while (got.size() < expected.size()) {
                    JsonNode n = fast.next();
                    if (n.get("type").asText().equals("request_completed")) {
                        got.add(n.get("request_id").asText());
                    }
                }
            }
            assertEquals(1, feeds.hub().dropped(), "the stuck client was cut off");
            assertEquals(1, feeds.hub().subscribers());
            assertFalse(fast.closed.isDone(), "the reading client stays");
            assertEquals(expected, got, "the reading client received every event, in order");
            assertTrue(published > 50, "it took more than the first batch to fill the buffers: " + published);
        }
    }

    @Test
    void stoppingClosesClientsFreesThePortAndARestartKeepsIt() throws Exception {
        int port = feeds.port();
        Listener l = new Listener();
        connect(l, "Bearer " + TOKEN);
        l.next("STATE_UPDATE");
        bus.publish(EngineEvent.of(EngineEvent.ROUTER_STOPPED, null, null, Json.MAPPER.createObjectNode()));
        feeds.stop();
        assertEquals("router_stopped", l.next("router_stopped").get("type").asText(), "the last event first");
        Closed c = l.closed.get(20, TimeUnit.SECONDS);
        assertEquals(1001, c.code());
        assertEquals("router stopped", c.reason());
        assertEquals(0, feeds.port());
        try (ServerSocket probe = new ServerSocket()) {
            probe.setReuseAddress(true);
            probe.bind(new InetSocketAddress("127.0.0.1", port));
        }
        feeds.start("127.0.0.1", hosts::allows, hosts::allowsOrigin);
        assertEquals(port, feeds.port(), "the previous port, so a client's URL stays valid");
        Listener again = new Listener();
        connect(again, "Bearer " + TOKEN);
        assertEquals("STATE_UPDATE", again.next().get("type").asText());
    }

    @Test
    void everyThreadOfTheFeedIsADaemon() {
        List<Thread> feedThreads = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("WebSocket") || t.getName().startsWith("iron-runtime-feed")
                        || t.getName().startsWith("connectionLost"))
                .toList();
        assertNotEquals(0, feedThreads.size());
        for (Thread t : feedThreads) {
            assertTrue(t.isDaemon(), t.getName() + " would keep Python from exiting");
        }
    }
}
