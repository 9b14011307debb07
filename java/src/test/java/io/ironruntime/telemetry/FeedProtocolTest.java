package io.ironruntime.telemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ironruntime.Json;
import io.ironruntime.events.EngineEvent;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** The engine events and router state as the dashboard protocol's messages. */
class FeedProtocolTest {
    private static final long T = 1_763_719_530_123L; // 2025-11-21T10:05:30.123Z
    private static final Function<String, ObjectNode> NO_AGENTS = id -> null;

    private static ObjectNode payload(Object... kv) {
        ObjectNode o = Json.MAPPER.createObjectNode();
        for (int i = 0; i < kv.length; i += 2) {
            o.set((String) kv[i], Json.MAPPER.valueToTree(kv[i + 1]));
        }
        return o;
    }

    private static JsonNode parse(FeedMessage m) throws Exception {
        JsonNode n = Json.MAPPER.readTree(m.json());
        assertEquals(m.type(), n.get("type").asText(), "the message's type is its JSON type");
        assertFalse(m.json().contains("\n"), "one line, as SSE data needs");
        return n;
    }

    @Test
    void aCompletedRequestIsItselfThenAnLlmCall() throws Exception {
        EngineEvent e = EngineEvent.at(T, EngineEvent.REQUEST_COMPLETED, "agent_7", "req-1", payload("provider", "openai",
                "model", "gpt-4o-mini", "status", 200, "input_tokens", 1000, "cached_tokens", 0, "output_tokens", 100,
                "cost", 0.00021, "cost_picos", 210_000_000L, "latency_ms", 12));
        List<FeedMessage> out = FeedProtocol.messages(e, NO_AGENTS);
        assertEquals(List.of("request_completed", "AGENT_EVENT"), out.stream().map(FeedMessage::type).toList());
        assertEquals(Json.MAPPER.writeValueAsString(e.toJson()), out.get(0).json(), "the engine event as users see it elsewhere");
        JsonNode call = parse(out.get(1));
        assertEquals("2025-11-21T10:05:30.123Z", call.get("timestamp").asText());
        assertEquals(T, call.get("timestamp_ms").asLong());
        assertEquals("agent_7", call.get("agent_id").asText());
        assertEquals("llm_call", call.get("event").asText());
        JsonNode d = call.get("data");
        assertEquals("gpt-4o-mini", d.get("model").asText());
        assertEquals(1100, d.get("tokens").asLong());
        assertEquals(0.00021, d.get("cost_usd").asDouble());
        assertEquals("openai", d.get("provider").asText());
        assertEquals("req-1", d.get("request_id").asText());
        assertTrue(FeedProtocol.changesRouterState(e));
    }

    @Test
    void aRequestWithoutCostFieldsStillGivesValidJson() throws Exception {
        EngineEvent e = EngineEvent.at(T, EngineEvent.REQUEST_COMPLETED, null, null, payload("model", "m"));
        JsonNode call = parse(FeedProtocol.messages(e, NO_AGENTS).get(1));
        assertTrue(call.get("agent_id").isNull());
        assertTrue(call.get("data").get("cost_usd").isNull());
        assertEquals(0, call.get("data").get("tokens").asLong());
    }

    @Test
    void budgetAlertsAreWarningsBelowNinetyPercentAndCriticalFromThere() throws Exception {
        EngineEvent half = EngineEvent.at(T, EngineEvent.BUDGET_THRESHOLD_REACHED, null, "req-2",
                payload("threshold", 0.5, "budget_spent", 0.5, "budget_limit", 1.0, "budget_reserved", 0.0));
        List<FeedMessage> out = FeedProtocol.messages(half, NO_AGENTS);
        assertEquals(List.of("budget_threshold_reached", "COST_ALERT"), out.stream().map(FeedMessage::type).toList());
        JsonNode alert = parse(out.get(1));
        assertEquals("warning", alert.get("severity").asText());
        assertTrue(alert.get("agent_id").isNull(), "the router's own budget");
        JsonNode d = alert.get("data");
        assertEquals(0.5, d.get("budget_spent").asDouble());
        assertEquals(1.0, d.get("budget_limit").asDouble());
        assertEquals(50.0, d.get("percentage").asDouble());
        assertEquals(0.5, d.get("threshold").asDouble());
        assertEquals("budget_threshold_reached", d.get("alert").asText());

        EngineEvent ninety = EngineEvent.at(T, EngineEvent.BUDGET_THRESHOLD_REACHED, null, null,
                payload("threshold", 0.9, "budget_spent", 0.912345, "budget_limit", 1.0));
        JsonNode critical = parse(FeedProtocol.messages(ninety, NO_AGENTS).get(1));
        assertEquals("critical", critical.get("severity").asText());
        assertEquals(91.23, critical.get("data").get("percentage").asDouble());

        EngineEvent refused = EngineEvent.at(T, EngineEvent.BUDGET_EXCEEDED, "agent_3", "req-9", payload("scope", "agent",
                "reason", "exhausted", "budget_spent", 2.0, "budget_limit", 2.0));
        JsonNode exceeded = parse(FeedProtocol.messages(refused, NO_AGENTS).get(1));
        assertEquals("critical", exceeded.get("severity").asText());
        assertEquals("agent_3", exceeded.get("agent_id").asText());
        assertEquals(100.0, exceeded.get("data").get("percentage").asDouble());
        assertEquals("exhausted", exceeded.get("data").get("reason").asText());

        EngineEvent zero = EngineEvent.at(T, EngineEvent.BUDGET_EXCEEDED, null, null,
                payload("budget_spent", 0.0, "budget_limit", 0.0));
        assertEquals(100.0, parse(FeedProtocol.messages(zero, NO_AGENTS).get(1)).get("data").get("percentage").asDouble(),
                "a zero budget is all spent");
    }

    @Test
    void agentStatusChangesBecomeTheAgentsStateUpdate() throws Exception {
        Map<String, ObjectNode> figures = Map.of("agent_1", payload("agent_id", "agent_1", "budget_spent", 0.25,
                "requests", 3));
        Map<String, String> states = Map.of("agent_started", "running", "agent_paused", "paused", "agent_resumed",
                "running", "agent_stopped", "stopped", "agent_restarted", "running", "agent_failed", "failed",
                "agent_completed", "completed");
        for (Map.Entry<String, String> s : states.entrySet()) {
            EngineEvent e = EngineEvent.at(T, s.getKey(), "agent_1", null, payload("name", "worker"));
            List<FeedMessage> out = FeedProtocol.messages(e, figures::get);
            assertEquals(List.of(s.getKey(), "STATE_UPDATE"), out.stream().map(FeedMessage::type).toList());
            JsonNode u = parse(out.get(1));
            assertEquals("agent_1", u.get("agent_id").asText());
            assertEquals(s.getValue(), u.get("state").asText(), s.getKey());
            assertEquals(0.25, u.get("data").get("budget_spent").asDouble());
            assertEquals("worker", u.get("data").get("name").asText());
            assertEquals(s.getKey(), u.get("data").get("event").asText());
            assertFalse(FeedProtocol.changesRouterState(e));
        }
        EngineEvent unknown = EngineEvent.at(T, "agent_paused", "agent_2", null, payload());
        JsonNode u = parse(FeedProtocol.messages(unknown, figures::get).get(1));
        assertEquals(0.0, u.get("data").get("budget_spent").asDouble(), "an agent without an account spent nothing");
    }

    @Test
    void otherEventsPassAsThemselves() throws Exception {
        EngineEvent pii = EngineEvent.at(T, EngineEvent.PII_DETECTED, null, "req-3", payload("entity_type", "EMAIL"));
        List<FeedMessage> out = FeedProtocol.messages(pii, NO_AGENTS);
        assertEquals(1, out.size());
        assertEquals("pii_detected", out.get(0).type());
        assertEquals("EMAIL", parse(out.get(0)).get("entity_type").asText());
        assertFalse(FeedProtocol.changesRouterState(pii));
        for (String t : List.of(EngineEvent.ROUTER_STARTED, EngineEvent.ROUTER_STOPPED, EngineEvent.REQUEST_FAILED,
                EngineEvent.BUDGET_EXCEEDED, EngineEvent.BUDGET_THRESHOLD_REACHED)) {
            assertTrue(FeedProtocol.changesRouterState(EngineEvent.at(T, t, null, null, payload())), t);
        }
    }

    @Test
    void routerStateAndHeartbeat() throws Exception {
        JsonNode s = parse(FeedProtocol.routerState(T, true, payload("budget_spent", 0.5, "requests", 4)));
        assertEquals("STATE_UPDATE", s.get("type").asText());
        assertEquals("2025-11-21T10:05:30.123Z", s.get("timestamp").asText());
        assertTrue(s.get("agent_id").isNull(), "the router itself");
        assertEquals("running", s.get("state").asText());
        assertEquals(0.5, s.get("data").get("budget_spent").asDouble());
        assertEquals("stopped", parse(FeedProtocol.routerState(T, false, payload())).get("state").asText());
        JsonNode h = parse(FeedProtocol.heartbeat(T));
        assertEquals(T, h.get("timestamp_ms").asLong());
        assertEquals("2025-11-21T10:05:30.123Z", h.get("timestamp").asText());
        assertEquals("1970-01-01T00:00:00.000Z", FeedProtocol.isoTime(0));
    }

    @Test
    void authenticationMessages() {
        assertEquals("tok-1", FeedProtocol.authToken("tok-1"));
        assertEquals("tok-1", FeedProtocol.authToken("  tok-1\n"));
        assertEquals("tok-2", FeedProtocol.authToken("{\"type\":\"AUTH\",\"token\":\"tok-2\"}"));
        assertEquals("tok-2", FeedProtocol.authToken("{\"type\":\"auth\",\"token\":\"tok-2\"}"));
        assertNull(FeedProtocol.authToken("{\"type\":\"HELLO\",\"token\":\"tok-2\"}"));
        assertNull(FeedProtocol.authToken("{\"type\":\"AUTH\",\"token\":7}"));
        assertNull(FeedProtocol.authToken("{\"type\":\"AUTH\""), "broken JSON is no token");
        assertNull(FeedProtocol.authToken("   "));
    }
}
