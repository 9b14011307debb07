package io.ironruntime.router;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.ironruntime.config.RouterConfigReader;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The router end to end over real loopback sockets, with a JDK HttpServer as the provider. */
class LlmRouterTest {
    private static final String KEY = "sk-test-REALKEY";
    private HttpServer upstream;
    private final AtomicReference<String> seenAuthorization = new AtomicReference<>();
    private final AtomicLong bulkWritten = new AtomicLong();
    private final AtomicBoolean slowStreamBroke = new AtomicBoolean();
    private final CountDownLatch slowStreamEnded = new CountDownLatch(1);
    private LlmRouter router;

    @BeforeEach
    void startUpstream() throws IOException {
        upstream = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        upstream.setExecutor(Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r);
            t.setDaemon(true);
            return t;
        }));
        upstream.createContext("/v1/chat/completions", this::events);
        upstream.createContext("/v1/bulk", this::bulk);
        upstream.createContext("/v1/slow-stream", this::slowStream);
        upstream.start();
    }

    @AfterEach
    void stopAll() {
        if (router != null) {
            router.stop();
        }
        upstream.stop(0);
    }

    private LlmRouter router(String extraSettings) {
        String origin = "http://127.0.0.1:" + upstream.getAddress().getPort();
        router = new LlmRouter(RouterConfigReader.fromJson("{\"provider_key\":\"" + KEY + "\",\"openai_base_url\":\""
                + origin + "\"" + extraSettings + "}"));
        router.start();
        return router;
    }

    private void events(HttpExchange ex) throws IOException {
        seenAuthorization.set(ex.getRequestHeaders().getFirst("Authorization"));
        ex.getRequestBody().readAllBytes();
        ex.getResponseHeaders().add("Content-Type", "text/event-stream");
        ex.sendResponseHeaders(200, 0);
        try (OutputStream out = ex.getResponseBody()) {
            for (int i = 0; i < 5; i++) {
                out.write(("data: {\"i\":" + i + ",\"sent\":" + System.nanoTime() + "}\n\n").getBytes(StandardCharsets.UTF_8));
                out.flush();
                sleep(150);
            }
            out.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
        }
    }

    private void bulk(HttpExchange ex) throws IOException {
        ex.getResponseHeaders().add("Content-Type", "application/octet-stream");
        ex.sendResponseHeaders(200, 0);
        byte[] chunk = new byte[64 * 1024];
        try (OutputStream out = ex.getResponseBody()) {
            for (int i = 0; i < 1024; i++) { // 64 MiB
                out.write(chunk);
                out.flush();
                bulkWritten.addAndGet(chunk.length);
                // Paced like a network peer. HttpCore's HTTP/1.1 reader keeps draining a socket that never
                // runs dry (it delivers past the consumer's window), so a loopback writer with no pause at
                // all would outrun any window; real providers are far slower than loopback.
                sleep(1);
            }
        }
    }

    private void slowStream(HttpExchange ex) throws IOException {
        ex.getResponseHeaders().add("Content-Type", "text/event-stream");
        ex.sendResponseHeaders(200, 0);
        try (OutputStream out = ex.getResponseBody()) {
            for (int i = 0; i < 200; i++) {
                out.write(("data: {\"i\":" + i + "}\n\n").getBytes(StandardCharsets.UTF_8));
                out.flush();
                sleep(50);
            }
        } catch (IOException e) {
            slowStreamBroke.set(true);
        } finally {
            slowStreamEnded.countDown();
        }
    }

    @Test
    void streamsEachEventAsItArrivesWithTheRealKeyInjected() throws Exception {
        LlmRouter r = router("");
        HttpClient client = HttpClient.newHttpClient();
        HttpRequest req = HttpRequest.newBuilder(URI.create(r.baseUrl() + "/chat/completions"))
                .header("Authorization", "Bearer " + r.config().localToken())
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"gpt-4o\",\"stream\":true}"))
                .build();
        long start = System.nanoTime();
        HttpResponse<java.util.stream.Stream<String>> resp = client.send(req, HttpResponse.BodyHandlers.ofLines());
        assertEquals(200, resp.statusCode());
        assertTrue(resp.headers().firstValue("x-iron-request-id").orElse("").startsWith("req_"));
        List<Long> arrivals = new ArrayList<>();
        List<String> data = new ArrayList<>();
        resp.body().filter(l -> l.startsWith("data: ")).forEach(l -> {
            arrivals.add(System.nanoTime() - start);
            data.add(l);
        });
        assertEquals(6, data.size());
        assertEquals("data: [DONE]", data.get(5));
        // The first event arrives long before the upstream finished (5 x 150 ms apart).
        assertTrue(arrivals.get(0) < TimeUnit.MILLISECONDS.toNanos(500), "first event after " + arrivals.get(0) / 1e6 + " ms");
        assertTrue(arrivals.get(4) - arrivals.get(0) > TimeUnit.MILLISECONDS.toNanos(450));
        assertEquals("Bearer " + KEY, seenAuthorization.get());
        assertEquals(5, r.stats().streamEvents() - 1); // five data events and [DONE] were parsed on the side
    }

    @Test
    void manyConcurrentClientsEachGetTheirOwnCompleteAnswer() throws Exception {
        upstream.createContext("/v1/echo", ex -> {
            byte[] body = ex.getRequestBody().readAllBytes();
            boolean stream = new String(body, StandardCharsets.UTF_8).contains("\"stream\":true");
            ex.getResponseHeaders().add("Content-Type", stream ? "text/event-stream" : "application/json");
            ex.sendResponseHeaders(200, stream ? 0 : body.length);
            try (OutputStream out = ex.getResponseBody()) {
                if (stream) {
                    for (int i = 0; i < 5; i++) {
                        out.write(("data: " + new String(body, StandardCharsets.UTF_8) + "\n\n").getBytes(StandardCharsets.UTF_8));
                        out.flush();
                    }
                    out.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
                } else {
                    out.write(body);
                }
            }
        });
        LlmRouter r = router("");
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .executor(Executors.newFixedThreadPool(8, d -> {
                    Thread t = new Thread(d);
                    t.setDaemon(true);
                    return t;
                })).build();
        int clients = 48;
        int perClient = 20;
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        try {
            List<Future<String>> results = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                int id = c;
                results.add(pool.submit(() -> {
                    for (int i = 0; i < perClient; i++) {
                        boolean stream = (id + i) % 3 == 0;
                        String body = "{\"model\":\"gpt-4o\",\"client\":" + id + ",\"n\":" + i
                                + (stream ? ",\"stream\":true" : "") + "}";
                        HttpResponse<String> resp = client.send(HttpRequest.newBuilder(URI.create(r.baseUrl() + "/echo"))
                                .header("Authorization", "Bearer " + r.config().localToken())
                                .header("Content-Type", "application/json")
                                .timeout(java.time.Duration.ofSeconds(30))
                                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
                        String expected = stream ? ("data: " + body + "\n\n").repeat(5) + "data: [DONE]\n\n" : body;
                        if (resp.statusCode() != 200 || !resp.body().equals(expected)) {
                            return "client " + id + " request " + i + ": " + resp.statusCode() + " " + resp.body();
                        }
                    }
                    return null;
                }));
            }
            for (Future<String> f : results) {
                String problem = f.get(120, TimeUnit.SECONDS);
                assertEquals(null, problem);
            }
        } finally {
            pool.shutdownNow();
        }
        waitFor(() -> r.stats().inFlight() == 0);
        assertEquals(clients * perClient, r.stats().proxied());
    }

    @Test
    void aSlowClientPausesTheUpstreamInsteadOfBufferingTheBody() throws Exception {
        LlmRouter r = router("");
        try (Socket s = new Socket("127.0.0.1", r.port())) {
            s.setReceiveBufferSize(64 * 1024);
            s.setSoTimeout(10_000);
            s.getOutputStream().write(("GET /v1/bulk HTTP/1.1\r\nHost: 127.0.0.1:" + r.port()
                    + "\r\nAuthorization: Bearer " + r.config().localToken() + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            Thread.sleep(1500); // read nothing
            long writtenWhileStalled = bulkWritten.get();
            assertTrue(writtenWhileStalled < 24L * 1024 * 1024,
                    "upstream wrote " + writtenWhileStalled + " bytes to a client that read nothing");
            InputStream in = s.getInputStream();
            byte[] buf = new byte[256 * 1024];
            long total = 0;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (bulkWritten.get() < 64L * 1024 * 1024 && System.nanoTime() < deadline) {
                int n = in.read(buf);
                if (n < 0) {
                    break;
                }
                total += n;
            }
            assertEquals(64L * 1024 * 1024, bulkWritten.get());
            assertTrue(total > 60L * 1024 * 1024);
        }
    }

    @Test
    void aClientThatDisconnectsCancelsTheUpstreamStream() throws Exception {
        LlmRouter r = router("");
        try (Socket s = new Socket("127.0.0.1", r.port())) {
            s.getOutputStream().write(("GET /v1/slow-stream HTTP/1.1\r\nHost: localhost:" + r.port()
                    + "\r\nx-api-key: " + r.config().localToken() + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            BufferedReader reader = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
            String line;
            while ((line = reader.readLine()) != null && !line.contains("\"i\":1")) {
                // read until the second event
            }
        }
        assertTrue(slowStreamEnded.await(5, TimeUnit.SECONDS), "upstream stream still running 5 s after the client left");
        assertTrue(slowStreamBroke.get());
        waitFor(() -> r.stats().inFlight() == 0);
    }

    @Test
    void anUpstreamThatDropsMidStreamEndsTheClientStreamWithAnErrorEvent() throws Exception {
        try (ServerSocket dropping = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            Thread t = new Thread(() -> {
                try (Socket c = dropping.accept()) {
                    readHead(c.getInputStream());
                    String chunk = "data: {\"i\":0}\n\n";
                    c.getOutputStream().write(("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
                            + Integer.toHexString(chunk.length()) + "\r\n" + chunk + "\r\n"
                            + "7\r\ndata: {").getBytes(StandardCharsets.US_ASCII));
                    c.getOutputStream().flush();
                    sleep(100);
                    c.setSoLinger(true, 0); // reset, not a clean close
                } catch (IOException ignored) {
                    // the test asserts on what the client sees
                }
            });
            t.setDaemon(true);
            t.start();
            router = new LlmRouter(RouterConfigReader.fromJson("{\"provider_key\":\"" + KEY
                    + "\",\"openai_base_url\":\"http://127.0.0.1:" + dropping.getLocalPort() + "\"}"));
            router.start();
            HttpResponse<String> resp = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create(router.baseUrl() + "/chat/completions"))
                            .header("Authorization", "Bearer " + router.config().localToken())
                            .timeout(java.time.Duration.ofSeconds(10))
                            .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"gpt-4o\",\"stream\":true}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, resp.statusCode());
            assertTrue(resp.body().startsWith("data: {\"i\":0}\n\n"), resp.body());
            assertFalse(resp.body().contains("data: {\n"), "a half event must not be forwarded");
            assertTrue(resp.body().contains("\"code\":\"upstream_unreachable\""), resp.body());
        }
    }

    @Test
    void aClientThatLeavesBeforeTheResponseHeadCancelsTheUpstreamCall() throws Exception {
        try (ServerSocket silent = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            CountDownLatch upstreamSawClose = new CountDownLatch(1);
            Thread t = new Thread(() -> {
                try (Socket c = silent.accept()) {
                    readHead(c.getInputStream());
                    c.setSoTimeout(10_000);
                    while (c.getInputStream().read() >= 0) {
                        // the request body; then wait for the router to hang up
                    }
                    upstreamSawClose.countDown();
                } catch (IOException ignored) {
                    upstreamSawClose.countDown(); // a reset is a hang-up too
                }
            });
            t.setDaemon(true);
            t.start();
            router = new LlmRouter(RouterConfigReader.fromJson("{\"provider_key\":\"" + KEY
                    + "\",\"openai_base_url\":\"http://127.0.0.1:" + silent.getLocalPort() + "\"}"));
            router.start();
            try (Socket s = new Socket("127.0.0.1", router.port())) {
                String body = "{\"model\":\"gpt-4o\"}";
                s.getOutputStream().write(("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:" + router.port()
                        + "\r\nAuthorization: Bearer " + router.config().localToken()
                        + "\r\nContent-Type: application/json\r\nContent-Length: " + body.length() + "\r\n\r\n" + body)
                        .getBytes(StandardCharsets.US_ASCII));
                Thread.sleep(300);
            }
            assertTrue(upstreamSawClose.await(5, TimeUnit.SECONDS), "the provider call outlived the client");
            waitFor(() -> router.stats().inFlight() == 0);
        }
    }

    @Test
    void unreachableAndSilentUpstreamsGive502And504() throws Exception {
        int closed;
        try (ServerSocket s = new ServerSocket(0)) {
            closed = s.getLocalPort();
        }
        router = new LlmRouter(RouterConfigReader.fromJson("{\"provider_key\":\"" + KEY
                + "\",\"openai_base_url\":\"http://127.0.0.1:" + closed + "\"}"));
        router.start();
        HttpResponse<String> bad = post(router, "/chat/completions", "{\"model\":\"gpt-4o\"}");
        assertEquals(502, bad.statusCode());
        assertTrue(bad.body().contains("\"code\":\"upstream_unreachable\""));
        assertFalse(bad.body().contains(KEY));
        router.stop();

        try (ServerSocket silent = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            router = new LlmRouter(RouterConfigReader.fromJson("{\"provider_key\":\"" + KEY + "\",\"read_timeout\":0.3,"
                    + "\"openai_base_url\":\"http://127.0.0.1:" + silent.getLocalPort() + "\"}"));
            router.start();
            HttpResponse<String> late = post(router, "/chat/completions", "{\"model\":\"gpt-4o\"}");
            assertEquals(504, late.statusCode());
            assertTrue(late.body().contains("upstream_timeout"));
        }
    }

    @Test
    void httpsUpstreamsGoThroughTls() throws Exception {
        // A plain-HTTP peer behind an https:// origin: the handshake must be attempted and fail clearly.
        try (ServerSocket plain = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            Thread t = new Thread(() -> {
                try (Socket c = plain.accept()) {
                    c.getInputStream().read(new byte[512]);
                    c.getOutputStream().write("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"
                            .getBytes(StandardCharsets.US_ASCII));
                } catch (IOException ignored) {
                    // the test asserts on the client's side
                }
            });
            t.setDaemon(true);
            t.start();
            router = new LlmRouter(RouterConfigReader.fromJson("{\"provider_key\":\"" + KEY
                    + "\",\"openai_base_url\":\"https://127.0.0.1:" + plain.getLocalPort() + "\"}"));
            router.start();
            HttpResponse<String> resp = post(router, "/chat/completions", "{\"model\":\"gpt-4o\"}");
            assertEquals(502, resp.statusCode());
            assertTrue(resp.body().contains("TLS failed"), resp.body());
            assertFalse(resp.body().contains("Exception"), resp.body());
        }
    }

    @Test
    void stopFreesThePortAtOnceAndStartReusesIt() throws Exception {
        LlmRouter r = router("");
        int port = r.port();
        r.stop();
        r.stop();
        assertFalse(r.isRunning());
        try (ServerSocket again = new ServerSocket()) {
            again.setReuseAddress(true);
            again.bind(new InetSocketAddress("127.0.0.1", port));
        }
        r.start();
        assertEquals(port, r.port());
        assertEquals(200, post(r, "/chat/completions", "{\"model\":\"gpt-4o\",\"stream\":true}").statusCode());
    }

    @Test
    void everyEngineThreadIsADaemon() throws Exception {
        LlmRouter r = router("");
        post(r, "/chat/completions", "{\"model\":\"gpt-4o\",\"stream\":true}");
        List<String> userThreads = new ArrayList<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            String n = t.getName();
            if ((n.startsWith("iron") || n.startsWith("httpcore") || n.startsWith("httpclient")) && !t.isDaemon()) {
                userThreads.add(n);
            }
        }
        assertTrue(userThreads.isEmpty(), "non-daemon engine threads: " + userThreads);
    }

    @Test
    void aCompressedStreamThatCannotBeCheckedIsRefusedNotPassedOn() throws Exception {
        upstream.createContext("/v1/gzip-stream", ex -> {
            ex.getRequestBody().readAllBytes();
            ex.getResponseHeaders().add("Content-Type", "text/event-stream");
            ex.getResponseHeaders().add("Content-Encoding", "gzip");
            ex.sendResponseHeaders(200, 0);
            try (OutputStream out = new java.util.zip.GZIPOutputStream(ex.getResponseBody())) {
                out.write("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"mail jane.doe@example.com\"}}]}\n\n"
                        .getBytes(StandardCharsets.UTF_8));
            }
        });
        LlmRouter r = router("");
        HttpResponse<String> resp = post(r, "/gzip-stream", "{\"model\":\"gpt-4o\",\"stream\":true}");
        assertEquals(502, resp.statusCode());
        assertTrue(resp.body().contains("pii_scan_failed"), resp.body());
        assertFalse(resp.body().contains("jane"), resp.body());
        assertEquals(1, r.metrics().get("pii_failed_responses").asLong());
    }

    private static HttpResponse<String> post(LlmRouter r, String path, String body) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(r.baseUrl() + path))
                .header("Authorization", "Bearer " + r.config().localToken())
                .header("Content-Type", "application/json")
                .timeout(java.time.Duration.ofSeconds(10))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static void readHead(InputStream in) throws IOException {
        int matched = 0;
        byte[] end = "\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                return;
            }
            matched = b == end[matched] ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        // The request body (small JSON) follows; the fake does not need it.
    }

    private static void waitFor(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "condition not reached in 5 s");
            Thread.sleep(20);
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
