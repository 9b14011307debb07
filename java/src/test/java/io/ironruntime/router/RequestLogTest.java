package io.ironruntime.router;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.ironruntime.FixedReplyProvider;
import io.ironruntime.Json;
import io.ironruntime.config.RouterConfigReader;
import io.ironruntime.telemetry.EngineLogging;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@code verbose}: one JSON line per finished request, read off the real JUL logger SLF4J writes to. */
class RequestLogTest {
    private static final String KEY = "sk-test-REALKEY-requestlog";
    private static final String REPLY = "{\"id\":\"c\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"gpt-4o-mini\","
            + "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"hi\"},\"finish_reason\":\"stop\"}],"
            + "\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":100,\"total_tokens\":1100}}";

    private final List<LogRecord> lines = new CopyOnWriteArrayList<>();
    private final Handler collector = new Handler() {
        @Override
        public void publish(LogRecord record) {
            lines.add(record);
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };
    private final Logger requests = Logger.getLogger(EngineLogging.REQUESTS);

    @BeforeEach
    void listen() {
        requests.addHandler(collector);
    }

    @AfterEach
    void stopListening() {
        requests.removeHandler(collector);
    }

    private static int chat(LlmRouter router, String token, String prompt) throws Exception {
        HttpRequest req = HttpRequest.newBuilder(URI.create(router.baseUrl() + "/chat/completions"))
                .header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"gpt-4o-mini\",\"max_tokens\":100,"
                        + "\"messages\":[{\"role\":\"user\",\"content\":\"" + prompt + "\"}]}"))
                .build();
        return HttpClient.newHttpClient().send(req, HttpResponse.BodyHandlers.ofString()).statusCode();
    }

    private void waitForLines(int n) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (lines.size() < n && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
    }

    @Test
    void everyFinishedRequestIsOneJsonLineWithoutSecretsOrPii() throws Exception {
        try (FixedReplyProvider provider = new FixedReplyProvider(REPLY);
                LlmRouter router = new LlmRouter(RouterConfigReader.fromJson("{\"provider_key\":\"" + KEY
                        + "\",\"openai_base_url\":\"" + provider.origin() + "\",\"persist\":false,\"verbose\":true}"))) {
            router.start();
            String token = router.config().localToken();
            assertEquals(200, chat(router, token, "write to jane.doe@example.com"));
            assertEquals(401, chat(router, "wrong-token-0123456789", "hello"));
            waitForLines(2);
            assertEquals(2, lines.size(), lines.toString());
            for (LogRecord r : lines) {
                assertEquals(Level.INFO, r.getLevel());
                assertFalse(r.getMessage().contains("\n"), "one line");
                for (String secret : List.of(KEY, token, "jane", "wrong-token")) {
                    assertFalse(r.getMessage().contains(secret), secret + " in " + r.getMessage());
                }
            }
            JsonNode ok = Json.MAPPER.readTree(lines.get(0).getMessage());
            assertEquals(200, ok.get("status").asInt());
            assertEquals("completed", ok.get("outcome").asText());
            assertEquals("openai", ok.get("provider").asText());
            assertEquals("gpt-4o-mini", ok.get("model").asText());
            assertEquals(1000, ok.get("input_tokens").asLong());
            assertEquals(100, ok.get("output_tokens").asLong());
            assertTrue(ok.get("cost").asDouble() > 0);
            assertEquals(1, ok.get("pii_detections").asInt());
            assertEquals(1, ok.get("attempts").asInt());
            assertFalse(ok.get("stream").asBoolean());
            assertEquals(32, ok.get("trace_id").asText().length());
            assertTrue(ok.get("request_id").asText().startsWith("req_"));
            assertTrue(ok.has("latency_ms") && ok.has("agent_id"));

            JsonNode refused = Json.MAPPER.readTree(lines.get(1).getMessage());
            assertEquals(401, refused.get("status").asInt());
            assertEquals("invalid_api_key", refused.get("outcome").asText(), "the error the router answered");
            assertEquals(0, refused.get("attempts").asInt(), "never sent");
            assertEquals(0, refused.get("cost_picos").asLong());
            assertEquals(0, router.metrics().get("request_log_dropped").asLong());
        }
    }

    @Test
    void withoutVerboseNothingIsLogged() throws Exception {
        try (FixedReplyProvider provider = new FixedReplyProvider(REPLY);
                LlmRouter router = new LlmRouter(RouterConfigReader.fromJson("{\"provider_key\":\"" + KEY
                        + "\",\"openai_base_url\":\"" + provider.origin() + "\",\"persist\":false}"))) {
            router.start();
            assertEquals(200, chat(router, router.config().localToken(), "hello"));
        }
        assertEquals(List.of(), lines, "close() ended the router; a line would have been written by now");
    }
}
