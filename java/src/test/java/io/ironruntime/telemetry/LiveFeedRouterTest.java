package io.ironruntime.telemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.ironruntime.FixedReplyProvider;
import io.ironruntime.Json;
import io.ironruntime.config.RouterConfigReader;
import io.ironruntime.router.LlmRouter;
import java.io.InputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Both feeds of a real router in front of a provider on loopback: SSE on its port, WebSocket on the second. */
class LiveFeedRouterTest {
    private static final String REPLY = "{\"id\":\"c\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"gpt-4o-mini\","
            + "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"hi\"},\"finish_reason\":\"stop\"}],"
            + "\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":100,\"total_tokens\":1100}}";
    private final HttpClient http = HttpClient.newHttpClient();

    private HttpResponse<String> get(LlmRouter router, String path, String token) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + router.port() + path));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** An SSE client: the response's blocks as field maps, read on a thread of its own. */
    static final class SseReader {
        final HttpResponse<Stream<String>> response;
        final BlockingQueue<Map<String, String>> blocks = new LinkedBlockingQueue<>();
        volatile boolean ended;

        SseReader(HttpResponse<Stream<String>> response) {
            this.response = response;
            Thread t = new Thread(() -> {
                Map<String, String> block = new LinkedHashMap<>();
                Iterator<String> lines = response.body().iterator();
                try {
                    while (lines.hasNext()) {
                        String line = lines.next();
                        if (line.isEmpty()) {
                            blocks.add(block);
                            block = new LinkedHashMap<>();
                        } else {
                            int colon = line.indexOf(':');
                            block.merge(line.substring(0, colon), line.substring(colon + 1).strip(), (a, b) -> a + "\n" + b);
                        }
                    }
                } catch (RuntimeException e) {
                    // the stream was cut: ended all the same
                }
                ended = true;
            }, "sse-reader");
            t.setDaemon(true);
            t.start();
        }

        Map<String, String> next() throws InterruptedException {
            Map<String, String> b = blocks.poll(20, TimeUnit.SECONDS);
            if (b == null) {
                throw new AssertionError("no SSE block within 20 s");
            }
            return b;
        }

        Map<String, String> next(String event) throws InterruptedException {
            while (true) {
                Map<String, String> b = next();
                if (event.equals(b.get("event"))) {
                    return b;
                }
            }
        }
    }

    private SseReader sse(LlmRouter router, String query) throws Exception {
        HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + router.port() + "/iron/events" + query))
                .header("Authorization", "Bearer " + router.config().adminToken()).build();
        HttpResponse<Stream<String>> r = http.send(req, HttpResponse.BodyHandlers.ofLines());
        assertEquals(200, r.statusCode());
        assertEquals("text/event-stream", r.headers().firstValue("Content-Type").orElse(""));
        return new SseReader(r);
    }

    private static String handshakeStatus(int port, String origin) throws Exception {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(20_000);
            s.getOutputStream().write(("GET /iron/ws HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nUpgrade: websocket\r\n"
                    + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                    + "Origin: " + origin + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            StringBuilder b = new StringBuilder();
            int c;
            while ((c = in.read()) >= 0 && c != '\r') {
                b.append((char) c);
            }
            return b.toString();
        }
    }

    @Test
    void aRequestReachesBothFeedsWhichAreCountedAndEndWithTheRouter() throws Exception {
        try (FixedReplyProvider provider = new FixedReplyProvider(REPLY);
                LlmRouter router = new LlmRouter(RouterConfigReader.fromJson("{\"provider_key\":\"sk-test-REALKEY\","
                        + "\"openai_base_url\":\"" + provider.origin() + "\",\"persist\":false,\"budget\":\"10\"}"))) {
            assertNull(router.eventsUrl(), "no feed before start");
            router.start();
            String url = router.eventsUrl();
            assertTrue(url.matches("ws://127\\.0\\.0\\.1:\\d+/iron/ws"), url);
            int wsPort = URI.create(url).getPort();
            String token = router.config().adminToken();

            HttpResponse<String> anonymous = get(router, "/iron/events", null);
            assertEquals(401, anonymous.statusCode());
            assertTrue(anonymous.body().contains("authentication_error"), anonymous.body());
            assertEquals(401, get(router, "/iron/events?token=wrong", null).statusCode());
            HttpResponse<String> bogus = get(router, "/iron/events?types=nope", token);
            assertEquals(400, bogus.statusCode());
            assertTrue(bogus.body().contains("Unknown type 'nope'"), bogus.body());

            SseReader all = sse(router, "");
            SseReader some = sse(router, "?types=AGENT_EVENT");
            assertEquals("3000", all.next().get("retry"));
            Map<String, String> hello = all.next();
            assertEquals("1", hello.get("id"));
            assertEquals("STATE_UPDATE", hello.get("event"));
            assertEquals("running", Json.MAPPER.readTree(hello.get("data")).get("state").asText());

            FeedSocketServerTest.Listener ws = new FeedSocketServerTest.Listener();
            http.newWebSocketBuilder().header("Authorization", "Bearer " + token).buildAsync(URI.create(url), ws)
                    .get(20, TimeUnit.SECONDS);
            assertEquals("STATE_UPDATE", ws.next().get("type").asText());
            assertTrue(handshakeStatus(wsPort, "http://127.0.0.1:" + router.port()).startsWith("HTTP/1.1 101"),
                    "a page the router serves (the dashboard) may open the WebSocket");

            JsonNode metrics = router.metrics();
            assertEquals(3, metrics.get("feed_subscribers").asInt());
            assertEquals(0, metrics.get("feed_subscribers_dropped").asInt());
            String scrape = get(router, "/metrics", token).body();
            assertTrue(scrape.contains("iron_feed_subscribers 3.0"), scrape);
            assertTrue(scrape.contains("iron_feed_subscribers_dropped_total 0.0"), scrape);

            assertEquals(200, FixedReplyProvider.chat(router.baseUrl(), router.config().localToken()));
            Map<String, String> done = all.next("request_completed");
            JsonNode event = Json.MAPPER.readTree(done.get("data"));
            assertEquals("gpt-4o-mini", event.get("model").asText());
            assertEquals(1000, event.get("input_tokens").asInt());
            assertEquals("AGENT_EVENT", all.next().get("event"));
            JsonNode state = Json.MAPPER.readTree(all.next("STATE_UPDATE").get("data"));
            assertTrue(state.get("data").get("budget_spent").asDouble() > 0, "the snapshot after the spend");
            assertTrue(Long.parseLong(done.get("id")) > 1);
            assertEquals("3000", some.next().get("retry"));
            JsonNode call = Json.MAPPER.readTree(some.next().get("data"));
            assertEquals("AGENT_EVENT", call.get("type").asText(), "the filtered stream: nothing before it");
            assertEquals(1100, call.get("data").get("tokens").asInt());
            JsonNode wsEvent = ws.next("request_completed");
            assertEquals(event.get("event_id"), wsEvent.get("event_id"), "the same event on both feeds");
            FeedHubTest.waitFor(() -> router.metrics().get("feed_messages_sent").asLong() == 9, "9 messages counted");

            router.stop();
            assertNull(router.eventsUrl());
            assertEquals("router_stopped", ws.next("router_stopped").get("type").asText());
            assertEquals(1001, ws.closed.get(20, TimeUnit.SECONDS).code());
            FeedHubTest.waitFor(() -> all.ended && some.ended, "the SSE streams to end with the router");
            assertEquals(0, router.metrics().get("feed_subscribers").asInt());
            assertEquals(0, router.metrics().get("feed_subscribers_dropped").asInt(), "stopping is not dropping");
            router.start();
            assertEquals(url, router.eventsUrl(), "a restart keeps the WebSocket URL");
        }
    }
}
