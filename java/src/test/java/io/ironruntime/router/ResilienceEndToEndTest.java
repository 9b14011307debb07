package io.ironruntime.router;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.ironruntime.config.RouterConfigReader;
import io.ironruntime.events.EngineEvent;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Retries, the circuit breaker and the deadlines end to end, for JVM users: the router in front of a
 * JDK HttpServer whose answers the test scripts ({@code tests/test_resilience.py} covers the same
 * through the Python SDKs).
 */
class ResilienceEndToEndTest {
    private static final String KEY = "sk-test-REALKEY";
    private static final String CHAT = "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    private static final String OK = "{\"id\":\"c1\",\"object\":\"chat.completion\",\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,"
            + "\"message\":{\"role\":\"assistant\",\"content\":\"hello\"},\"finish_reason\":\"stop\"}],"
            + "\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":1,\"total_tokens\":6}}";

    private HttpServer upstream;
    private final AtomicInteger calls = new AtomicInteger();
    /** What the next calls answer: a status, or "stream" for a slow endless stream; empty = 200 OK. */
    private final ConcurrentLinkedQueue<String> script = new ConcurrentLinkedQueue<>();
    private LlmRouter router;

    @BeforeEach
    void startUpstream() throws IOException {
        upstream = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        upstream.setExecutor(Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r);
            t.setDaemon(true);
            return t;
        }));
        upstream.createContext("/v1/chat/completions", this::answer);
        upstream.start();
    }

    @AfterEach
    void stopAll() {
        if (router != null) {
            router.close();
        }
        upstream.stop(0);
    }

    private void answer(HttpExchange ex) throws IOException {
        calls.incrementAndGet();
        ex.getRequestBody().readAllBytes();
        String next = script.poll();
        if ("stream".equals(next)) {
            ex.getResponseHeaders().add("Content-Type", "text/event-stream");
            ex.sendResponseHeaders(200, 0);
            try (OutputStream out = ex.getResponseBody()) {
                for (int i = 0; i < 200; i++) {
                    out.write(("data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
                            + "\"delta\":{\"content\":\"x\"}}]}\n\n").getBytes(StandardCharsets.UTF_8));
                    out.flush();
                    Thread.sleep(50);
                }
            } catch (IOException | InterruptedException e) {
                // the router cut it: expected
            }
            return;
        }
        int status = next == null ? 200 : Integer.parseInt(next);
        byte[] body = (status == 200 ? OK : "{\"error\":{\"message\":\"scripted " + status + "\",\"type\":\"server_error\"}}")
                .getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().add("Content-Type", "application/json");
        if (status == 429) {
            ex.getResponseHeaders().add("retry-after-ms", "150");
        }
        ex.sendResponseHeaders(status, body.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(body);
        }
    }

    private LlmRouter router(String extra) {
        router = new LlmRouter(RouterConfigReader.fromJson("{\"provider_key\":\"" + KEY + "\",\"openai_base_url\":"
                + "\"http://127.0.0.1:" + upstream.getAddress().getPort() + "\",\"budget\":\"5\",\"persist\":false,"
                + "\"retry_backoff\":{\"base_delay\":0.02}" + extra + "}"));
        router.start();
        return router;
    }

    private HttpResponse<String> post(String body) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(router.baseUrl() + "/chat/completions"))
                .header("Authorization", "Bearer " + router.config().localToken())
                .header("Content-Type", "application/json")
                .timeout(java.time.Duration.ofSeconds(20))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private void awaitSettled() throws InterruptedException {
        long until = System.nanoTime() + 5_000_000_000L;
        while (router.budget().reserved() != 0 && System.nanoTime() < until) {
            Thread.sleep(10);
        }
        assertEquals(0, router.budget().reserved(), "no reservation left behind");
    }

    @Test
    void failuresBeforeTheResponseAreRetriedOnOneReservationAfterTheProvidersDelay() throws Exception {
        router("");
        script.add("503");
        script.add("429");
        long t0 = System.nanoTime();
        HttpResponse<String> r = post(CHAT);
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(System.nanoTime() - t0 >= 150_000_000L, "waited the 150 ms the 429 asked for");
        assertEquals(3, calls.get());
        awaitSettled();
        JsonNode m = router.metrics();
        assertEquals(2, m.get("retries").asLong());
        assertEquals(1, m.get("settled_requests").asLong(), "charged once");
        assertTrue(router.budget().spent() > 0);

        script.add("500");
        script.add("500");
        script.add("500");
        HttpResponse<String> last = post(CHAT);
        assertEquals(500, last.statusCode(), "out of retries: the provider's own last answer");
        assertTrue(last.body().contains("scripted 500"));
        assertEquals(6, calls.get());

        script.add("400");
        assertEquals(400, post(CHAT).statusCode());
        assertEquals(7, calls.get(), "a client error is not retried");
        awaitSettled();
    }

    @Test
    void anErrorStormOpensTheCircuitAndTheProviderStopsSeeingRequests() throws Exception {
        router(",\"max_retries\":0,\"circuit_breaker\":{\"failure_threshold\":3,\"recovery_timeout\":0.5,\"half_open_probes\":1}");
        router.deliveryQueue(); // a consumer receives the events published after it subscribes
        for (int i = 0; i < 3; i++) {
            script.add("502");
            assertEquals(502, post(CHAT).statusCode());
        }
        HttpResponse<String> refused = post(CHAT);
        assertEquals(503, refused.statusCode());
        assertTrue(refused.body().contains("\"type\":\"iron_cage_circuit_open\""), refused.body());
        assertEquals("1", refused.headers().firstValue("retry-after").orElseThrow());
        assertEquals(3, calls.get(), "the provider saw nothing while open");
        Thread.sleep(600);
        assertEquals(200, post(CHAT).statusCode(), "the half-open probe succeeds");
        JsonNode circuit = router.metrics().get("circuits").elements().next();
        assertEquals("closed", circuit.get("state").asText());
        assertEquals(1, circuit.get("times_opened").asLong());
        List<EngineEvent> events = new java.util.ArrayList<>();
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (events.size() < 3 && System.nanoTime() < deadline) {
            router.pollEvents(100, 200).stream().filter(e -> e.type().equals(EngineEvent.CIRCUIT_STATE_CHANGED))
                    .forEach(events::add);
        }
        assertEquals(List.of("open", "half_open", "closed"),
                events.stream().map(e -> e.payload().get("to").asText()).toList());
        awaitSettled();
    }

    @Test
    void aStreamPastTheTotalDeadlineEndsWithAnErrorEventAndIsChargedItsPart() throws Exception {
        router(",\"total_timeout\":0.6,\"pii\":\"off\"");
        script.add("stream");
        long t0 = System.nanoTime();
        HttpResponse<String> r = post(CHAT.replace("}]}", "}],\"stream\":true}"));
        long tookMs = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(200, r.statusCode());
        assertTrue(tookMs >= 550 && tookMs < 5_000, "cut near 0.6 s, took " + tookMs + " ms");
        assertTrue(r.body().contains("\"delta\":{\"content\":\"x\"}"), "the events before the deadline arrived");
        assertTrue(r.body().contains("total_timeout (0.6 s)"), r.body());
        awaitSettled();
        assertEquals(1, router.metrics().at("/timeouts/total").asLong());
        assertTrue(router.budget().spent() > 0, "the part produced is charged");
    }

    @Test
    void connectionsTheProviderClosesAreForgotten() throws Exception {
        // A provider that answers once per connection and closes it, half of the time mid-body: the
        // router must not keep any of those connections (the soak found them piling up).
        try (java.net.ServerSocket provider = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            Thread server = new Thread(() -> {
                for (int i = 0; ; i++) {
                    try (java.net.Socket c = provider.accept()) {
                        java.io.InputStream in = c.getInputStream();
                        byte[] buf = new byte[65536];
                        int n = in.read(buf);
                        String head = n > 0 ? new String(buf, 0, n, StandardCharsets.ISO_8859_1) : "";
                        if (!head.contains("\r\n\r\n")) {
                            continue;
                        }
                        byte[] body = OK.getBytes(StandardCharsets.UTF_8);
                        String response = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                                + "Content-Length: " + body.length + "\r\n\r\n";
                        OutputStream out = c.getOutputStream();
                        out.write(response.getBytes(StandardCharsets.ISO_8859_1));
                        out.write(body, 0, i % 2 == 0 ? body.length : body.length / 2);
                        out.flush();
                    } catch (IOException e) {
                        return; // the test closed the server socket
                    }
                }
            }, "closing-provider");
            server.setDaemon(true);
            server.start();
            router = new LlmRouter(RouterConfigReader.fromJson("{\"provider_key\":\"" + KEY + "\",\"openai_base_url\":"
                    + "\"http://127.0.0.1:" + provider.getLocalPort() + "\",\"persist\":false,\"max_retries\":0,"
                    + "\"circuit_breaker\":false}"));
            router.start();
            int ok = 0;
            for (int i = 0; i < 20; i++) {
                ok += post(CHAT).statusCode() == 200 ? 1 : 0;
            }
            assertEquals(10, ok, "the whole answers pass, the cut ones fail");
            long until = System.nanoTime() + 5_000_000_000L;
            while (router.metrics().get("upstream_connections").asInt() > 0 && System.nanoTime() < until) {
                Thread.sleep(10);
            }
            assertEquals(0, router.metrics().get("upstream_connections").asInt(), "every closed connection forgotten");
        }
    }
}
