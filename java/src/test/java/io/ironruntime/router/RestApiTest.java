package io.ironruntime.router;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ironruntime.AdminClient;
import io.ironruntime.FixedReplyProvider;
import io.ironruntime.Json;
import io.ironruntime.Version;
import io.ironruntime.config.RouterConfigReader;
import io.ironruntime.events.EngineEvent;
import io.ironruntime.events.EventQuery;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code /iron/api/status}, {@code /iron/api/events} and the agents endpoints without a runtime, through a real router. */
class RestApiTest {
    /** 1000 input + 100 output tokens of gpt-4o-mini: $0.00021 a call. */
    private static final String REPLY = "{\"id\":\"c\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"gpt-4o-mini\","
            + "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"hi\"},\"finish_reason\":\"stop\"}],"
            + "\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":100,\"total_tokens\":1100}}";

    @TempDir
    Path dir;
    private final FixedReplyProvider provider = new FixedReplyProvider(REPLY);
    private LlmRouter router;
    private AdminClient client;

    @AfterEach
    void stop() {
        if (router != null) {
            router.close();
        }
        provider.close();
    }

    private void start(String extra) {
        router = new LlmRouter(RouterConfigReader.fromJson("{\"provider_key\":\"sk-test\",\"openai_base_url\":\""
                + provider.origin() + "\",\"state_dir\":\"" + dir.resolve("state") + "\"" + extra + "}"));
        router.start();
        client = new AdminClient(router);
    }

    /** Metrics once every request is settled (the ledger row written), so two reads agree. */
    private ObjectNode settledMetrics(int requests) throws InterruptedException {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (true) {
            ObjectNode m = router.metrics();
            if (m.get("settled_requests").asLong() >= requests && m.get("in_flight").asLong() == 0
                    && m.get("budget_reserved").asDouble() == 0) {
                return m;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("requests not settled: " + m);
            }
            Thread.sleep(20);
        }
    }

    @Test
    void statusRegroupsWhatTheMetricsSay() throws Exception {
        start(",\"budget\":1");
        long before = System.currentTimeMillis();
        for (int i = 0; i < 3; i++) {
            assertEquals(200, client.chat("gpt-4o-mini", "mail jane.doe@example.com"));
        }
        // As JSON text and back, so numbers have the node types the reply's parse gives them.
        JsonNode m = Json.MAPPER.readTree(settledMetrics(3).toString());
        AdminClient.Reply r = client.get("/iron/api/status");
        assertEquals(200, r.status(), r.body());
        JsonNode s = r.json();

        JsonNode rt = s.get("router");
        assertEquals(Version.VERSION, rt.get("version").asText());
        assertEquals("direct", rt.get("mode").asText());
        assertEquals("127.0.0.1", rt.get("host").asText());
        assertEquals(router.port(), rt.get("port").asInt());
        assertEquals(router.baseUrl(), rt.get("base_url").asText());
        assertEquals("openai", rt.get("provider").asText());
        assertTrue(rt.get("running").asBoolean());
        assertEquals(router.startedAtMs(), rt.get("started_at_ms").asLong());
        assertTrue(router.startedAtMs() > 0 && router.startedAtMs() <= before);
        assertTrue(rt.get("uptime_s").asDouble() >= 0);

        JsonNode b = s.get("budget");
        assertEquals(1.0, b.get("limit").asDouble());
        assertEquals(0.00063, b.get("spent").asDouble(), 1e-12);
        assertEquals(m.get("budget_spent"), b.get("spent"));
        assertEquals(m.get("budget_reserved"), b.get("reserved"));
        assertEquals(m.get("budget_remaining"), b.get("remaining"));
        assertEquals(0.00063, b.get("fraction_used").asDouble(), 1e-12);
        assertEquals(630_000_000L, b.get("spent_picos").asLong());
        assertEquals(m.get("budget_id"), b.get("budget_id"));

        JsonNode t = s.get("totals");
        for (String k : List.of("requests", "proxied", "errors", "in_flight", "input_tokens", "output_tokens", "cost",
                "pii_detections", "rate_limited")) {
            assertEquals(m.get(k), t.get(k), k);
        }
        assertEquals(3, t.get("requests").asLong());
        assertEquals(3000, t.get("input_tokens").asLong());
        assertEquals(300, t.get("output_tokens").asLong());

        JsonNode pii = s.get("pii");
        assertEquals(3, pii.get("by_type").get("EMAIL").asLong(), pii.toString());
        assertEquals(3, pii.get("by_action").get("redacted").asLong(), pii.toString());
        assertEquals(1, pii.get("by_action").size());

        JsonNode circuits = s.get("circuits");
        assertEquals(1, circuits.size(), circuits.toString());
        JsonNode c = circuits.get(0);
        assertEquals("openai@" + provider.origin(), c.get("upstream").asText());
        assertEquals("openai", c.get("provider").asText());
        assertEquals("closed", c.get("state").asText());

        assertEquals(0, s.get("agents").get("total").asInt());
        assertEquals(0, s.get("agents").get("running").asInt());
        assertEquals(m.get("events_dropped"), s.get("events").get("dropped"));
        assertTrue(s.get("events").get("published").asLong() >= 1 + 3 + 3, "router_started, 3 PII, 3 completed");
    }

    @Test
    void anUnlimitedBudgetHasNoLimitRemainderOrFraction() throws Exception {
        start(",\"persist\":false,\"pii\":\"off\"");
        JsonNode s = client.get("/iron/api/status").json();
        JsonNode b = s.get("budget");
        assertTrue(b.get("limit").isNull() && b.get("remaining").isNull() && b.get("fraction_used").isNull(), b.toString());
        assertEquals(0.0, b.get("spent").asDouble());
        assertEquals(0, s.get("pii").get("by_action").size(), "PII handling is off: no action");
        assertEquals(0, s.get("circuits").size(), "no upstream called yet");
    }

    @Test
    void eventsAreTheStoredOnesWithPythonsSemantics() throws Exception {
        start("");
        for (int i = 0; i < 2; i++) {
            assertEquals(200, client.chat("gpt-4o-mini", "hello"));
        }
        settledMetrics(2);
        List<JsonNode> all = events("");
        List<String> types = new ArrayList<>();
        all.forEach(e -> types.add(e.get("type").asText()));
        assertEquals(List.of("router_started", "request_completed", "request_completed"), types);
        for (int i = 1; i < all.size(); i++) {
            assertTrue(all.get(i).get("timestamp_ms").asLong() >= all.get(i - 1).get("timestamp_ms").asLong(),
                    "oldest first");
        }
        JsonNode done = all.get(1);
        assertEquals("gpt-4o-mini", done.get("model").asText());
        assertEquals(0.00021, done.get("cost").asDouble(), 1e-12);
        assertTrue(done.get("request_id").asText().length() > 0);
        // The same as router.events() reads.
        List<String> ids = new ArrayList<>();
        for (EngineEvent e : router.events(new EventQuery(null, null, null, 1000))) {
            ids.add(e.eventId());
        }
        assertEquals(ids, ids(all));

        assertEquals(ids.subList(1, 3), ids(events("?type=request_completed")));
        assertEquals(ids, ids(events("?type=request_completed,router_started")));
        assertEquals(ids.subList(2, 3), ids(events("?limit=1")), "the newest limit events");
        assertEquals(ids.subList(1, 3), ids(events("?since=" + ids.get(0))), "an event_id: the ones after it");
        assertEquals(List.of(), ids(events("?since=" + ids.get(2))));
        long ms = all.get(1).get("timestamp_ms").asLong();
        List<String> fromMs = ids(events("?since=" + ms));
        assertTrue(fromMs.contains(ids.get(1)) && fromMs.contains(ids.get(2)), "since ms is inclusive");
        assertEquals(List.of(), ids(events("?since=" + (System.currentTimeMillis() + 60_000))));
    }

    @Test
    void eventsWithoutADatabaseComeFromMemory() throws Exception {
        start(",\"persist\":false");
        assertEquals(200, client.chat("gpt-4o-mini", "hello"));
        settledMetrics(1);
        List<String> types = new ArrayList<>();
        events("?type=request_completed,router_started").forEach(e -> types.add(e.get("type").asText()));
        assertEquals(List.of("router_started", "request_completed"), types);
    }

    @Test
    void badEventParametersAreNamed() throws Exception {
        start(",\"persist\":false");
        String[][] cases = {
            {"since=yesterday", "since"}, {"since=-5", "since"}, {"since=", "since"}, {"since=evt_", "since"},
            {"type=request_done", "type"}, {"type=", "type"}, {"type=request_completed,,pii_detected", "type"},
            {"limit=0", "limit"}, {"limit=100001", "limit"}, {"limit=ten", "limit"}, {"limit=", "limit"},
        };
        for (String[] c : cases) {
            AdminClient.Reply r = client.get("/iron/api/events?" + c[0]);
            assertEquals(400, r.status(), c[0] + ": " + r.body());
            assertEquals("invalid_request", r.errorCode());
            assertTrue(r.errorMessage().startsWith(c[1]), c[0] + ": " + r.errorMessage());
        }
        assertTrue(client.get("/iron/api/events?type=nope").errorMessage().contains("request_completed"),
                "an unknown type lists the known ones");
    }

    @Test
    void withoutARuntimeThereAreNoAgentsToControl() throws Exception {
        start("");
        AdminClient.Reply list = client.get("/iron/api/agents");
        assertEquals(200, list.status(), list.body());
        assertEquals(0, list.json().get("agents").size());
        for (String action : new String[] {"pause", "resume", "stop"}) {
            AdminClient.Reply r = client.post("/iron/api/agents/agent_nobody/" + action);
            assertEquals(404, r.status(), r.body());
            assertEquals("agent_not_found", r.errorCode());
            assertTrue(r.errorMessage().contains("agent_nobody"), r.errorMessage());
        }
        assertEquals(405, client.get("/iron/api/agents/agent_nobody/pause").status(), "actions are POSTs");
    }

    private List<JsonNode> events(String query) {
        AdminClient.Reply r = client.get("/iron/api/events" + query);
        assertEquals(200, r.status(), r.body());
        List<JsonNode> out = new ArrayList<>();
        r.json().get("events").forEach(out::add);
        return out;
    }

    private static List<String> ids(List<JsonNode> events) {
        List<String> out = new ArrayList<>();
        events.forEach(e -> out.add(e.get("event_id").asText()));
        return out;
    }
}
