package io.ironruntime.router;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ironruntime.FixedReplyProvider;
import io.ironruntime.Json;
import io.ironruntime.config.RouterConfigReader;
import io.ironruntime.events.EngineEvent;
import io.ironruntime.events.EventQuery;
import io.ironruntime.telemetry.TraceParent;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Trace context and the request history end to end: a real router, a real provider on loopback that
 * records what it received, the real database or the in-memory history.
 */
class RequestTracingTest {
    private static final String KEY = "sk-test-REALKEY-tracing";
    private static final String REPLY = "{\"id\":\"c\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"gpt-4o-mini\","
            + "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"hi\"},\"finish_reason\":\"stop\"}],"
            + "\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":100,\"total_tokens\":1100}}";
    private static final String CLIENT_TRACE = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

    private final HttpClient http = HttpClient.newHttpClient();
    private FixedReplyProvider provider;
    private LlmRouter router;

    @TempDir
    Path dir;

    @AfterEach
    void close() {
        if (router != null) {
            router.close();
        }
        if (provider != null) {
            provider.close();
        }
    }

    private LlmRouter start(String extra) {
        provider = new FixedReplyProvider(REPLY);
        router = new LlmRouter(RouterConfigReader.fromJson("{\"provider_key\":\"" + KEY + "\",\"openai_base_url\":\""
                + provider.origin() + "\",\"retry_backoff\":{\"base_delay\":0.01,\"max_delay\":0.05}" + extra + "}"));
        router.start();
        return router;
    }

    /** A chat call with the given extra headers (name, value, name, value...). */
    private HttpResponse<String> chat(String prompt, String token, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(router.baseUrl() + "/chat/completions"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"gpt-4o-mini\",\"max_tokens\":100,"
                        + "\"messages\":[{\"role\":\"user\",\"content\":\"" + prompt + "\"}]}"));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(String pathAndQuery, String token) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + router.port() + pathAndQuery));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private JsonNode requests(String query) throws Exception {
        HttpResponse<String> r = get("/iron/api/requests" + query, router.config().adminToken());
        assertEquals(200, r.statusCode(), r.body());
        return Json.MAPPER.readTree(r.body()).get("requests");
    }

    @Test
    void theClientsTraceGoesUpstreamUnchangedAndAMissingOrInvalidOneIsStarted() throws Exception {
        start(",\"persist\":false");
        String token = router.config().localToken();
        assertEquals(200, chat("one", token, "traceparent", CLIENT_TRACE, "tracestate", "rojo=00f067aa0ba902b7",
                "tracestate", "congo=t61rcWkgMzE").statusCode());
        assertEquals(200, chat("two", token).statusCode());
        assertEquals(200, chat("three", token, "traceparent", CLIENT_TRACE.toUpperCase(), "tracestate", "rojo=1")
                .statusCode());
        assertEquals(200, chat("four", token, "traceparent", CLIENT_TRACE, "traceparent", CLIENT_TRACE).statusCode());

        List<String> sent = provider.traceparents();
        assertEquals(CLIENT_TRACE, sent.get(0));
        assertEquals(List.of("rojo=00f067aa0ba902b7", "congo=t61rcWkgMzE"), provider.tracestates().get(0),
                "tracestate values in order");
        for (int i = 1; i < 4; i++) {
            TraceParent started = TraceParent.parse(sent.get(i));
            assertNotNull(started, "a valid trace was started: " + sent.get(i));
            assertTrue(started.header().startsWith("00-") && started.sampled(), started.header());
            assertNotEquals(TraceParent.parse(CLIENT_TRACE).traceId(), started.traceId());
            assertEquals(List.of(), provider.tracestates().get(i), "a tracestate belongs to the trace it came with");
        }
        assertEquals(4, Set.copyOf(sent).size());

        // Each is recorded with its request, newest first.
        JsonNode rows = requests("");
        assertEquals(4, rows.size());
        for (int i = 0; i < 4; i++) {
            JsonNode row = rows.get(3 - i);
            assertEquals(sent.get(i), row.get("traceparent").asText());
            assertEquals(TraceParent.parse(sent.get(i)).traceId(), row.get("trace_id").asText());
        }
    }

    @Test
    void aRetriedRequestKeepsItsTraceAndTheRowAndEventSayHowItWent() throws Exception {
        start(",\"state_dir\":\"" + dir + "\",\"max_retries\":2,\"circuit_breaker\":false");
        provider.failNext(503, 503);
        HttpResponse<String> r = chat("mail jane.doe@example.com please", router.config().localToken(),
                "traceparent", CLIENT_TRACE);
        assertEquals(200, r.statusCode(), r.body());
        assertEquals(List.of(CLIENT_TRACE, CLIENT_TRACE, CLIENT_TRACE), provider.traceparents());
        assertTrue(router.flushLedger(10_000));

        EngineEvent done = router.events(new EventQuery(null, null, Set.of("request_completed"), 10)).get(0);
        ObjectNode p = done.payload();
        assertEquals(CLIENT_TRACE, p.get("traceparent").asText());
        assertEquals("0af7651916cd43dd8448eb211c80319c", p.get("trace_id").asText());
        assertEquals(1, p.get("pii_detections").asInt(), "the email in the prompt");
        assertFalse(p.get("stream").asBoolean());
        assertEquals(3, p.get("attempts").asInt());
        assertEquals(r.headers().firstValue("x-iron-request-id").orElseThrow(), done.requestId());

        JsonNode row = requests("?limit=1").get(0);
        assertEquals(done.requestId(), row.get("request_id").asText());
        assertEquals(CLIENT_TRACE, row.get("traceparent").asText());
        assertEquals(1, row.get("pii_detections").asInt());
        assertEquals(3, row.get("attempts").asInt());
        assertEquals(1000, row.get("input_tokens").asLong());
        assertEquals(100, row.get("output_tokens").asLong());
        assertEquals(p.get("cost_picos").asLong(), row.get("cost_picos").asLong());
        assertEquals(p.get("cost").asDouble(), row.get("cost").asDouble());
        assertEquals(Set.of("request_id", "timestamp_ms", "agent_id", "provider", "model", "status", "outcome",
                "input_tokens", "cached_tokens", "output_tokens", "cost", "cost_picos", "latency_ms", "pii_detections",
                "stream", "trace_id", "traceparent", "attempts"), fieldNames(row));
        assertFalse(row.toString().contains("jane"), "no PII value");
        assertFalse(row.toString().contains(KEY));
    }

    @Test
    void theRequestsEndpointIsNewestFirstFiltersByAgentAndNamesBadParameters() throws Exception {
        start(",\"persist\":false");
        String agentToken = "iron_agent_token_agent7_0123456789";
        router.agents().register("agent_7", agentToken, io.ironruntime.cost.BudgetLedger.UNLIMITED);
        String token = router.config().localToken();
        assertEquals(200, chat("a", token).statusCode());
        assertEquals(200, chat("b", agentToken).statusCode());
        assertEquals(200, chat("c", token).statusCode());

        JsonNode all = requests("");
        assertEquals(3, all.size());
        assertTrue(all.get(0).get("timestamp_ms").asLong() >= all.get(2).get("timestamp_ms").asLong());
        assertTrue(all.get(0).get("request_id").asText().compareTo(all.get(2).get("request_id").asText()) > 0,
                "ids count up: the newest is first");
        JsonNode mine = requests("?agent_id=agent_7");
        assertEquals(1, mine.size());
        assertEquals("agent_7", mine.get(0).get("agent_id").asText());
        assertEquals(2, requests("?limit=2").size());
        assertEquals(0, requests("?agent_id=nobody").size());

        for (String bad : List.of("?limit=0", "?limit=1001", "?limit=ten", "?limit=")) {
            HttpResponse<String> r = get("/iron/api/requests" + bad, router.config().adminToken());
            assertEquals(400, r.statusCode(), bad);
            assertTrue(r.body().contains("limit must be a whole number from 1 to 1000"), r.body());
        }
        HttpResponse<String> blank = get("/iron/api/requests?agent_id=", router.config().adminToken());
        assertEquals(400, blank.statusCode());
        assertTrue(blank.body().contains("agent_id"), blank.body());
        HttpResponse<String> anonymous = get("/iron/api/requests", null);
        assertEquals(401, anonymous.statusCode());
        assertNotNull(anonymous.headers().firstValue("x-iron-request-id").orElse(null));
        assertEquals(401, get("/iron/api/requests", agentToken).statusCode(), "an agent's token is not the admin's");
    }

    @Test
    void repliesHttpCoreWritesItselfCarryARequestIdToo() throws Exception {
        start(",\"persist\":false");
        try (Socket s = new Socket("127.0.0.1", router.port())) {
            OutputStream out = s.getOutputStream();
            out.write("NOT A REQUEST LINE\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            String head = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
            assertTrue(head.startsWith("HTTP/1.1 400"), head);
            assertTrue(head.toLowerCase().contains("\r\nx-iron-request-id: req_"), head);
        }
        HttpResponse<String> health = get("/iron/health", null);
        assertEquals(200, health.statusCode());
        assertNotNull(health.headers().firstValue("x-iron-request-id").orElse(null));
    }

    private static Set<String> fieldNames(JsonNode o) {
        Set<String> names = new java.util.HashSet<>();
        o.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
