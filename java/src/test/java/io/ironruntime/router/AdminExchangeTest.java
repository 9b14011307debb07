package io.ironruntime.router;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ironruntime.admin.AdminReply;
import io.ironruntime.admin.StreamSink;
import io.ironruntime.admin.StreamSource;
import io.ironruntime.config.RouterConfigReader;
import java.io.InputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The router's own endpoints through a real router: token, Host, methods, whole and streamed replies. */
class AdminExchangeTest {
    private final HttpClient http = HttpClient.newHttpClient();
    private LlmRouter router;

    @AfterEach
    void stop() {
        if (router != null) {
            router.close();
        }
    }

    private LlmRouter start(String json) {
        router = new LlmRouter(RouterConfigReader.fromJson(json));
        router.adminRoutes().add("GET", "/iron/api/echo/{id}", r -> AdminReply.text(200, "text/plain",
                r.pathParam("id") + ":" + r.param("q")));
        router.adminRoutes().add("POST", "/iron/api/act/{id}", r -> AdminReply.text(200, "text/plain", "done"));
        router.adminRoutes().addPublic("GET", "/iron/open", r -> AdminReply.text(200, "text/plain", "open"));
        router.start();
        return router;
    }

    private HttpResponse<String> send(String method, String path, String token) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + router.port() + path))
                .method(method, HttpRequest.BodyPublishers.noBody());
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void everyRouteNeedsTheAdminTokenUnlessPublic() throws Exception {
        start("{\"provider_key\":\"sk-test\",\"persist\":false}");
        String token = router.config().adminToken();
        assertEquals(router.config().localToken(), token);
        HttpResponse<String> none = send("GET", "/iron/api/echo/a1?q=x%20y", null);
        assertEquals(401, none.statusCode());
        assertTrue(none.body().contains("\"authentication_error\""), none.body());
        assertTrue(none.headers().firstValue("WWW-Authenticate").isPresent());
        assertNotNull(none.headers().firstValue("x-iron-request-id").orElse(null));
        assertEquals(401, send("GET", "/iron/api/echo/a1", "wrong-token").statusCode());
        HttpResponse<String> ok = send("GET", "/iron/api/echo/a1?q=x%20y", token);
        assertEquals(200, ok.statusCode());
        assertEquals("a1:x y", ok.body());
        assertEquals(200, send("GET", "/iron/api/echo/a1?token=" + token, null).statusCode(),
                "a browser's EventSource cannot send headers: GET accepts ?token=");
        assertEquals(401, send("POST", "/iron/api/act/a1?token=" + token, null).statusCode(),
                "a POST never takes the token from the URL");
        assertEquals(200, send("POST", "/iron/api/act/a1", token).statusCode());
        assertEquals(200, send("GET", "/iron/open", null).statusCode());
    }

    @Test
    void unknownPathsAndMethodsAreNamed() throws Exception {
        start("{\"provider_key\":\"sk-test\",\"persist\":false}");
        String token = router.config().adminToken();
        HttpResponse<String> post = send("POST", "/iron/api/echo/a1", token);
        assertEquals(405, post.statusCode());
        assertEquals("GET", post.headers().firstValue("Allow").orElse(""));
        // A path no admin route has goes to the proxy, which names what it serves.
        HttpResponse<String> unknown = send("GET", "/iron/api/nothing", token);
        assertEquals(404, unknown.statusCode());
    }

    @Test
    void passthroughRoutersHaveAnAdminTokenOfTheirOwn() throws Exception {
        start("{\"persist\":false,\"env\":{}}");
        assertEquals(null, router.config().localToken());
        String token = router.config().adminToken();
        assertTrue(token.length() >= 16);
        assertEquals(401, send("GET", "/metrics", null).statusCode());
        assertEquals(200, send("GET", "/metrics", token).statusCode());
    }

    @Test
    void foreignHostsAreRefusedBeforeTheToken() throws Exception {
        start("{\"provider_key\":\"sk-test\",\"persist\":false}");
        try (Socket s = new Socket("127.0.0.1", router.port())) {
            s.getOutputStream().write(("GET /metrics HTTP/1.1\r\nHost: evil.example\r\nAuthorization: Bearer "
                    + router.config().adminToken() + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            String reply = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(reply.startsWith("HTTP/1.1 403"), reply);
            assertFalse(reply.contains("iron_requests"), reply);
        }
    }

    @Test
    void aStreamThatItsClientDoesNotReadIsCutOffAtItsBound() throws Exception {
        AtomicReference<StreamSink> sink = new AtomicReference<>();
        CompletableFuture<Void> closed = new CompletableFuture<>();
        router = new LlmRouter(RouterConfigReader.fromJson("{\"provider_key\":\"sk-test\",\"persist\":false}"));
        router.adminRoutes().add("GET", "/iron/test-stream", r -> AdminReply.stream("text/event-stream",
                new StreamSource() {
                    @Override
                    public void open(StreamSink s) {
                        sink.set(s);
                    }

                    @Override
                    public void close() {
                        closed.complete(null);
                    }
                }));
        router.start();
        try (Socket s = new Socket("127.0.0.1", router.port())) {
            s.setReceiveBufferSize(4096);
            s.getOutputStream().write(("GET /iron/test-stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
                    + router.config().adminToken() + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (sink.get() == null && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertTrue(sink.get().write("data: first\n\n".getBytes(StandardCharsets.UTF_8)));
            InputStream in = s.getInputStream();
            byte[] head = new byte[512];
            int n = in.read(head);
            String text = new String(head, 0, n, StandardCharsets.UTF_8);
            assertTrue(text.startsWith("HTTP/1.1 200"), text);
            assertTrue(text.contains("text/event-stream"), text);
            // Now the client reads nothing more: writes pile up to the bound, then the stream is ended.
            byte[] chunk = new byte[64 * 1024];
            int accepted = 0;
            while (sink.get().write(chunk) && accepted < 1000) {
                accepted++;
            }
            assertTrue(accepted < 1000, "the bound was never reached");
            closed.get(10, TimeUnit.SECONDS);
            assertFalse(sink.get().write(chunk), "a cut-off stream takes nothing more");
        }
        // The router still serves others.
        assertNotEquals(0, send("GET", "/metrics", router.config().adminToken()).statusCode());
        assertEquals(200, send("GET", "/metrics", router.config().adminToken()).statusCode());
    }
}
