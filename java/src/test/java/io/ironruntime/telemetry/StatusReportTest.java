package io.ironruntime.telemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ironruntime.Json;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The status report as a pure function of the router's facts, its metrics JSON and its agents. */
class StatusReportTest {
    private static final StatusReport.RouterFacts RUNNING = new StatusReport.RouterFacts("direct", "127.0.0.1", 8787,
            "http://127.0.0.1:8787/v1", "openai", true, 1_000_000);

    private static ObjectNode metrics(String json) throws Exception {
        return (ObjectNode) Json.MAPPER.readTree(json);
    }

    @Test
    void aZeroBudgetIsUsedUpFromTheStart() throws Exception {
        ObjectNode s = StatusReport.of(RUNNING, metrics("{\"budget_limit\":0.0,\"budget_spent\":0.0,"
                + "\"budget_remaining\":0.0,\"budget_reserved\":0.0}"), List.of(), 1_002_500);
        assertEquals(1.0, s.get("budget").get("fraction_used").asDouble());
        assertEquals(2.5, s.get("router").get("uptime_s").asDouble());
    }

    @Test
    void circuitsBecomeAListAndAgentsAreCountedByStatus() throws Exception {
        ObjectNode m = metrics("{\"budget_limit\":null,\"budget_spent\":0.5,\"pii_action\":\"masked\","
                + "\"pii_detections\":4,\"circuits\":{\"anthropic@https://a\":{\"state\":\"open\"},"
                + "\"openai@https://o\":{\"state\":\"half_open\"}}}");
        List<JsonNode> agents = List.of(metrics("{\"status\":\"running\"}"), metrics("{\"status\":\"paused\"}"),
                metrics("{\"status\":\"running\"}"), metrics("{\"status\":\"failed\"}"));
        ObjectNode s = StatusReport.of(RUNNING, m, agents, 1_000_000);
        assertEquals("[{\"upstream\":\"anthropic@https://a\",\"state\":\"open\"},"
                + "{\"upstream\":\"openai@https://o\",\"state\":\"half_open\"}]", s.get("circuits").toString());
        assertEquals("{\"total\":4,\"running\":2,\"by_status\":{\"failed\":1,\"paused\":1,\"running\":2}}",
                s.get("agents").toString());
        assertEquals("{\"masked\":4}", s.get("pii").get("by_action").toString());
        assertTrue(s.get("budget").get("fraction_used").isNull());
    }

    @Test
    void aRouterNeverStartedHasNoStartOrUptime() throws Exception {
        StatusReport.RouterFacts fresh = new StatusReport.RouterFacts("direct", "127.0.0.1", 0,
                "http://127.0.0.1:0/v1", null, false, 0);
        JsonNode r = StatusReport.of(fresh, metrics("{}"), List.of(), 5).get("router");
        assertTrue(r.get("started_at_ms").isNull() && r.get("uptime_s").isNull() && r.get("provider").isNull());
    }
}
